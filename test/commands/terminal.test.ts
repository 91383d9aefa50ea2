// The replay summary at a terminal (issue 19, "Terminal"): fitted to COLUMNS without a row
// wrapping, the best safe strategy and the unsafe ones marked in colour only at a terminal
// (NO_COLOR and FORCE_COLOR respected, never in a pipe), no progress bar for short work.
// A pseudo-terminal comes from util-linux `script`; without it those tests are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { STRATEGIES } from '../../src/strategies/index.ts';
import { BIN, ROOT, tlbsim } from './run.ts';

const REAL = 'traces/real/pingpong-512/trace.txt.gz';
const ESC = '\u001b[';
const hasScript = !spawnSync('script', ['--version'], { stdio: 'ignore' }).error;
const SAFE = new Map(STRATEGIES.map((s) => [s.name, s.safe]));
const clean = { NO_COLOR: '', FORCE_COLOR: '', COLUMNS: '' };

function replay(args: string[], env: Record<string, string> = {}) {
  return tlbsim(['replay', '--no-report', ...args], { env: { ...clean, ...env } });
}

/** Run at a pseudo-terminal; `script` merges stdout and stderr and ends lines in CRLF. */
function atTerminal(args: string[], env: Record<string, string> = {}): string {
  const command = [process.execPath, BIN, ...args].join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TERM: 'xterm', ...clean, ...env } });
  return r.stdout.replace(/\r\n/g, '\n');
}

/** The strategy with the lowest overhead among the safe ones, from --json. */
function bestSafe(args: string[]): string {
  const r = tlbsim(['replay', '--no-report', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  const runs = (JSON.parse(r.stdout) as { runs: { strategy: string; metrics: { overhead_ns: number } }[] }).runs
    .filter((x) => SAFE.get(x.strategy));
  return runs.reduce((a, b) => (b.metrics.overhead_ns < a.metrics.overhead_ns ? b : a)).strategy;
}

test('in a pipe without COLUMNS: every column, no escape sequences', () => {
  const r = replay([REAL]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes(ESC));
  assert.match(r.stdout, /strategy\s+overhead\s+×base\s+wait\s+violations\s+IPIs\s+IPIs→lazy\s+CR3 writes\s+CR3 flush\s+full flush\s+INVLPG\s+requests\s+TLB miss\s+atomics\n/);
  assert.doesNotMatch(r.stdout, /not shown/);
});

test('COLUMNS: no line longer than the width, columns dropped in the documented order and named, every strategy on its own row', () => {
  const full = replay([REAL]).stdout.split('\n');
  const fullWidth = Math.max(...full.map((l) => l.length));
  for (const width of [120, 80, 60, 40, 30, 12]) {
    const r = replay([REAL], { COLUMNS: String(width) });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    // The first line names the input: a path is left for the terminal to wrap, not cut.
    for (const l of lines.slice(1)) if (!l.includes(REAL)) assert.ok(l.length <= width, `COLUMNS=${width}: ${JSON.stringify(l)} is ${l.length} long`);
    // Narrower than the three columns that always stay: each row is cut, never wrapped.
    if (width < 30) continue;
    const header = lines.find((l) => /^ {2}strategy /.test(l));
    assert.ok(header, `COLUMNS=${width}: a header`);
    // The three columns that always stay.
    assert.match(header, /strategy\s+overhead\s+×base/);
    const rowsStart = lines.indexOf(header) + 1;
    const rows = lines.slice(rowsStart, rowsStart + STRATEGIES.length);
    // One row per strategy, in order, each with an overhead and a ratio: nothing wrapped.
    rows.forEach((row, i) => {
      const name = STRATEGIES[i].name;
      const shown = row.trim().split(/\s+/)[0].replace(/…$/, '');
      assert.ok(name.startsWith(shown) && shown.length >= 4, `COLUMNS=${width}: row ${i} ${JSON.stringify(row)} is ${name}`);
      assert.match(row, /\d(?:\.\d+)? (?:ns|µs|ms|s)\s+\d+\.\d\d(?:\s|$)/, `COLUMNS=${width}: ${row}`);
      if (!SAFE.get(name)) assert.match(row, /\(unsafe\)| !/, `COLUMNS=${width}: ${name} marked unsafe`);
    });
    // What was left out is said, lowest priority first: atomics before TLB miss before ...
    const note = lines.slice(rowsStart + STRATEGIES.length).join(' ').replace(/\s+/g, ' ');
    const order = ['atomics', 'TLB miss', 'requests', 'INVLPG', 'full flush', 'CR3 writes', 'CR3 flush', 'IPIs→lazy', 'wait', 'IPIs', 'violations'];
    const dropped = order.filter((c) => !new RegExp(`\\s${c.replace('→', '.')}(\\s|$)`).test(header));
    if (width < fullWidth) {
      assert.ok(dropped.length > 0, `COLUMNS=${width}`);
      assert.ok(note.includes(`not shown at ${width} columns: ${dropped.join(', ')} `), `COLUMNS=${width}: ${note}`);
      // Drop order: the kept ones are a suffix of the order, the dropped a prefix.
      assert.deepEqual(dropped, order.slice(0, dropped.length), `COLUMNS=${width}: ${header}`);
    }
  }
  const wide = replay([REAL], { COLUMNS: String(fullWidth + 10) });
  assert.equal(wide.stdout, full.join('\n'), 'a terminal wide enough gets the whole table');
});

test('at a terminal: the best safe strategy in green, unsafe ones in red; NO_COLOR and FORCE_COLOR=0 turn it off', { skip: !hasScript && 'needs util-linux script for a pseudo-terminal' }, () => {
  const best = bestSafe([REAL]);
  const out = atTerminal(['replay', '--no-report', REAL], { COLUMNS: '200' });
  assert.ok(out.includes(`${ESC}1;32m${best}${ESC}22;39m`), `${best} in bold green:\n${out}`);
  assert.equal(out.split(`${ESC}1;32m`).length - 1, 2, 'the best row and the legend, nothing else');
  const unsafe = STRATEGIES.filter((s) => !s.safe);
  for (const s of unsafe) assert.ok(out.includes(`${s.name}${ESC}31m (unsafe)${ESC}39m`), `${s.name} marked in red`);
  assert.match(out, /green.*: the lowest overhead of the safe strategies/);
  for (const env of [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }, { TERM: 'dumb' }] as Record<string, string>[]) {
    const plain = atTerminal(['replay', '--no-report', REAL], { COLUMNS: '200', ...env });
    assert.ok(plain.includes('(unsafe)') && !plain.includes(ESC), JSON.stringify(env));
  }
});

test('FORCE_COLOR asks for colour in a pipe; NO_COLOR wins over it', () => {
  const forced = replay([REAL], { FORCE_COLOR: '1' });
  assert.ok(forced.stdout.includes(`${ESC}31m (unsafe)${ESC}39m`), forced.stdout);
  const both = replay([REAL], { FORCE_COLOR: '1', NO_COLOR: '1' });
  assert.ok(!both.stdout.includes(ESC));
});

test('at a terminal, a short replay draws no progress bar', { skip: !hasScript && 'needs util-linux script for a pseudo-terminal' }, () => {
  const out = atTerminal(['replay', '--no-report', '-s', 'linux-4.13,linux-6.18', 'workload:ping-pong:iterations=20'], { NO_COLOR: '1' });
  assert.match(out, /linux-6\.18\s+\d/, out);
  // cli-progress hides the cursor (CSI ?25l) and draws "[░░░" while a bar is up.
  assert.ok(!out.includes('\u001b[?25l') && !/replay .*\[[░█]/.test(out), out);
});

test('without COLUMNS the terminal\'s own width counts; --json never changes with the width', { skip: !hasScript && 'needs util-linux script for a pseudo-terminal' }, () => {
  const command = `stty cols 64; ${[process.execPath, BIN, 'replay', '--no-report', REAL].join(' ')}`;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TERM: 'xterm', ...clean, NO_COLOR: '1' } });
  const lines = r.stdout.replace(/\r\n/g, '\n').trimEnd().split('\n').filter((l) => !l.includes(REAL));
  assert.ok(lines.length > STRATEGIES.length, r.stdout);
  for (const l of lines) assert.ok(l.length <= 64, `${JSON.stringify(l)} is ${l.length} long`);
  assert.ok(lines.some((l) => l.includes('not shown at 64 columns')), r.stdout);

  const wide = replay(['--json', REAL]), narrow = replay(['--json', REAL], { COLUMNS: '30', FORCE_COLOR: '1' });
  assert.equal(narrow.stdout, wide.stdout);
});
