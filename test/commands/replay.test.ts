// `tlbsim replay` as a user runs it: a child process, its output, files and exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES } from '../../src/machine/metrics.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENV = { ...process.env, NO_COLOR: '1' };
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'replay', ...args], { encoding: 'utf8', cwd: ROOT, env: ENV });

/** The same, without blocking: several CLI runs at once. */
function runAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'replay', ...args], { cwd: ROOT, env: ENV });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const REAL = 'traces/real/pingpong-512/trace.txt.gz';
const WORKLOAD = 'workload:ping-pong:pages=512,iterations=500';

test('--json prints exactly { runs: [ { input, strategy, metrics } ] }, and the report and CSV are written', () => {
  const out = join(tmp, 'replay-json', 'r.html');
  const csv = join(tmp, 'replay-json', 'csv');
  const r = run('--json', '-s', 'linux-4.13,linux-6.18', '-o', out, '--csv', csv, REAL, WORKLOAD);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { runs: { input: string; strategy: string; metrics: Record<string, number> }[] };
  assert.deepEqual(Object.keys(j), ['runs']);
  assert.equal(j.runs.length, 4);
  assert.deepEqual(j.runs.map((x) => [x.input, x.strategy]), [
    [REAL, 'linux-4.13'], [REAL, 'linux-6.18'], [WORKLOAD, 'linux-4.13'], [WORKLOAD, 'linux-6.18'],
  ].map(([i, s]) => [i.startsWith('workload:') ? 'workload:ping-pong:pages=512,iterations=500,cpus=2,seed=1' : i, s]));
  for (const x of j.runs) {
    assert.deepEqual(Object.keys(x), ['input', 'strategy', 'metrics']);
    assert.deepEqual(Object.keys(x.metrics).sort(), [...METRIC_NAMES].sort());
  }
  // Context switches are the trace's, whatever the strategy.
  assert.equal(j.runs[0].metrics.context_switches, j.runs[1].metrics.context_switches);
  assert.ok(j.runs[1].metrics.overhead_ns < j.runs[0].metrics.overhead_ns);

  const html = readFileSync(out, 'utf8');
  const embedded = JSON.parse(html.match(/<script type="application\/json" id="tlbsim-summary">(.*?)<\/script>/s)![1]);
  assert.deepEqual(embedded, j, 'the report embeds the same numbers');
  // The real trace gets tlbsim validate's rows; a workload among the inputs brings the
  // calibration table.
  assert.match(html, /<h3 id="[^"]+">Observed vs predicted \(linux-6\.18\) <a class="pl"[^>]*>#<\/a><\/h3>\s*<p class="note">[^<]*Rows and agreement as <code>tlbsim validate<\/code>/);
  assert.match(html, /<section class="extra" id="calibration">/);
  assert.ok(hasCalibrationRows(csv));
  assert.match(r.stderr, /report: .*r\.html/);
  const files = readdirSync(csv).sort();
  for (const f of ['runs.csv', 'ratios.csv', 'per_cpu.csv', 'latency.csv', 'timeline.csv', 'overhead_causes.csv', 'observed_predicted.csv', 'violations.csv']) assert.ok(files.includes(f), f);
  assert.equal(readFileSync(join(csv, 'runs.csv'), 'utf8').trim().split('\n').length, 1 + 4);
});

function hasCalibrationRows(dir: string): boolean {
  return readFileSync(join(dir, 'calibration.csv'), 'utf8').trim().split('\n').length > 1;
}

test('the text summary: every strategy with its ratio to linux-4.13, then the report path', () => {
  const out = join(tmp, 'replay-text', 'index.html');
  const r = run('-o', out, REAL);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^traces\/real\/pingpong-512\/trace\.txt\.gz {2}\(ftrace, 2 CPUs, .*1396 events, 612 context switches\)$/);
  assert.match(lines[1], /strategy\s+overhead\s+×base\s+wait\s+violations\s+IPIs/);
  for (const s of STRATEGY_NAMES) assert.ok(lines.some((l) => l.trimStart().startsWith(`${s} `)), s);
  assert.match(r.stdout, /^ {2}linux-4\.13\s+[\d.]+ (?:ns|µs|ms|s)\s+1\.00\s/m);
  assert.match(r.stdout, /pcid-v4-posted \(unsafe\)/);
  assert.ok(r.stdout.trimEnd().endsWith(`report: ${out}`));
  assert.ok(existsSync(out));
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
});

test('profiles and cost overrides change the numbers', async () => {
  const file = join(tmp, 'profile.json');
  writeFileSync(file, JSON.stringify({ base: 'skylake-laptop', cr3WriteNs: 1000 }));
  const o = (j: { runs: { metrics: Record<string, number> }[] }) => j.runs[0].metrics.overhead_ns;
  const results = await Promise.all([[], ['--profile', 'kvm-guest'], ['--cost', 'cr3WriteNs=1000', '--cost', 'tlbMissNs=4'], ['--profile-file', file]].map(async (extra) => {
    const r = await runAsync('--json', '--no-report', '-s', 'linux-6.18', ...extra, REAL);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }));
  const [base, kvm, cost, fromFile] = results;
  assert.ok(o(kvm) !== o(base));
  assert.ok(o(cost) > o(base));
  assert.equal(o(fromFile), o(cost));
  // Counts do not depend on costs.
  assert.equal(cost.runs[0].metrics.cr3_writes, base.runs[0].metrics.cr3_writes);
});

test('wrong usage exits 2 and a missing input exits 1, each with one line and no stack', async () => {
  const cases: [string[], number, RegExp][] = [
    [['-s', 'linux-9.99', REAL], 2, /unknown strategy "linux-9\.99"/],
    [['--profile', 'cray-1', REAL], 2, /unknown cost profile "cray-1"/],
    [['--cost', 'cr3WriteNs', REAL], 2, /--cost expects key=value/],
    [['--cost', 'warpNs=3', REAL], 2, /unknown cost key "warpNs"/],
    [['--workers', '0', REAL], 2, /--workers expects a positive integer/],
    [['workload:no-such-thing'], 2, /unknown workload "no-such-thing"/],
    [['--profile-file', 'no/such/profile.json', REAL], 1, /no\/such\/profile\.json: cannot read/],
    [['no/such/trace.txt'], 1, /no\/such\/trace\.txt: no such file/],
    [[], 2, /missing required argument 'input'/],
  ];
  const results = await Promise.all(cases.map(([args]) => runAsync('--no-report', ...args)));
  cases.forEach(([args, status, message], i) => {
    const r = results[i];
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
    assert.equal(r.stdout, '');
    // Our own messages are one line (commander adds its usage help after its own).
    if (args.length > 0) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
