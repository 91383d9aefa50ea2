// `tlbsim inspect` as a user runs it: a child process, its output and exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempFile } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT });

test('inspect prints a summary of a real trace', () => {
  const r = run('inspect', 'traces/real/madvthreads-2/trace.txt.gz');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /format\s+ftrace/);
  assert.match(r.stdout, /CPUs\s+2/);
  assert.match(r.stdout, /madvise\s+3001/);
  assert.match(r.stdout, /4 remote IPI send\s+3002/);
  assert.match(r.stdout, /skipped lines\s+0/);
});

test('inspect --json has the shape docs/design/cli.md promises', () => {
  const r = run('inspect', '--json', 'traces/real/pingpong-0/trace.txt.gz');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['format', 'cpus', 'spanNs', 'tasks', 'mms', 'events', 'skippedLines', 'lostEvents', 'observedFlushByReason']) assert.ok(k in j, k);
  assert.equal(j.events.switch, 4006);
  assert.deepEqual(j.observedFlushByReason, { 0: 4004, 3: 56 });
  for (const k of ['switch', 'fork', 'exec', 'exit', 'migrate', 'mmap', 'munmap', 'madvise', 'mprotect', 'flush_request', 'access', 'observed_flush', 'observed_ipi']) assert.ok(k in j.events, k);
});

test('a missing file, an unknown file and wrong usage: a message and the exit codes of docs/design/cli.md', () => {
  const missing = run('inspect', 'no/such/trace.txt');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no\/such\/trace.txt: no such file/);
  assert.doesNotMatch(missing.stderr, /at .*\.ts:\d+/);
  const unknown = run('inspect', tempFile('just some text\n'));
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /not a trace tlbsim knows/);
  assert.equal(run('inspect').status, 2);
  assert.equal(run('inspect', '--format', 'xml', 'traces/real/pingpong-0/trace.txt.gz').status, 2);
  assert.equal(run('no-such-command').status, 2);
});

test('--verbose lists every skipped line with its number', () => {
  const bad = Array.from({ length: 8 }, (_, i) => `not a line ${i}`).join('\n');
  const path = tempFile('# tracer: nop\n#P:2\n' + bad + '\n            bash-2039    [000] d..1. 3154.048926: tlb_flush: pages:-1 reason:local MM shootdown (3)\n');
  const brief = run('inspect', path);
  assert.equal(brief.status, 0, brief.stderr);
  assert.match(brief.stdout, /skipped lines\s+8/);
  assert.match(brief.stdout, /3 more \(--verbose/);
  const verbose = run('inspect', '--verbose', path);
  for (let line = 3; line <= 10; line++) assert.match(verbose.stdout, new RegExp(`:${line}: not a trace event line`));
});

test('inspect writes the parsed-trace cache, reads it back identically, and --no-cache leaves none', async () => {
  const { copyFileSync, existsSync } = await import('node:fs');
  const trace = tempFile('', '.txt.gz');
  copyFileSync(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz'), trace);
  const env = { ...process.env };
  delete env.TLBSIM_CACHE;
  const go = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT, env });
  const plain = go('inspect', '--json', '--no-cache', trace);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(existsSync(`${trace}.tlbcache`), false);
  const first = go('inspect', '--json', trace);
  assert.equal(existsSync(`${trace}.tlbcache`), true);
  const second = go('inspect', '--json', trace);
  assert.equal(first.stdout, plain.stdout);
  assert.equal(second.stdout, plain.stdout);
});

test('the tlb_flush table keeps every count in its own column, however large', async () => {
  // A real recording replicated to 200 MB printed "2738" no-flush records and 1019498 pages
  // as "27381019498" under fixed-width columns.
  const { inspectText } = await import('../../src/commands/inspect.ts');
  const { emptyTraceInfo } = await import('../../src/trace/event.ts');
  const info = emptyTraceInfo('big.txt', 'ftrace', 2);
  info.observedFlushByReason = { 0: 188700, 3: 668664 };
  info.observedFlushPages = { 0: { full: 77922, ranged: 0, none: 110778, pages: 0 }, 3: { full: 54094, ranged: 611832, none: 2738, pages: 1019498 } };
  info.countsByKind = { switch: 12345678901, observed_flush: 857364 };
  info.flushRequestsByOrigin = { tracedLocal: 664002, tracedRemote: 5550 };
  const lines = inspectText(info, false).split('\n');
  const head = lines.findIndex((l) => l.includes('observed tlb_flush by reason'));
  assert.deepEqual(lines[head].trim().split(/\s{2,}/), ['observed tlb_flush by reason', 'total', 'full', 'ranged', 'no-flush', 'pages']);
  assert.deepEqual(lines[head + 2].trim().split(/\s{2,}/), ['3 local MM shootdown', '668664', '54094', '611832', '2738', '1019498']);
  // Right-aligned under their headings.
  assert.equal(lines[head + 2].length, lines[head].length);
  assert.ok(lines.some((l) => /^ {4}switch\s{2,}12345678901$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^ {4}tracedRemote\s{2,}5550$/.test(l)));
});
