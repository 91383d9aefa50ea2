// Issue 21, items 4 and 5: a file that cannot be read or written is one line and exit 1,
// never a stack trace; outputs are written under a temporary name and renamed, so a full
// disk leaves the previous report (or nothing), not a truncated one or an empty table.
// EACCES is produced by running as uid 65534 (skipped when not root), a full disk by
// /dev/full and by a tiny tmpfs (skipped where it cannot be mounted).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTrace } from '../../src/trace/index.ts';
import { tmp } from '../helpers.ts';
import { nobodySkip, tlbsimAsNobody, isRoot } from '../nobody.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NO_STACK = /\n\s+at .*[.:]\d+|\.ts:\d+:\d+|RangeError|TypeError/;
const TRACE = join(ROOT, 'traces/real/pingpong-0/trace.txt.gz');
const WORKLOAD = 'workload:ping-pong:iterations=50';
let n = 0;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });

function oneLine(r: { status: number | null; stderr: string }, message: RegExp, what: string): void {
  assert.equal(r.status, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, message, what);
  assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, NO_STACK, what);
}

/** A tmpfs of `kb` KiB, or null where mounting is not possible. */
const mounts: string[] = [];
function tinyDisk(kb: number): string | null {
  if (!isRoot) return null;
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'ignore' });
  if (r.status !== 0) { rmSync(dir, { recursive: true }); return null; }
  mounts.push(dir);
  return dir;
}
after(() => { for (const m of mounts) { spawnSync('umount', ['-l', m]); rmSync(m, { recursive: true, force: true }); } });
const canMount = (() => { const d = tinyDisk(64); return d === null ? 'cannot mount a tmpfs here (needs root)' : false; })();

test('an unreadable trace, as uid 65534: one line naming the file and why, in inspect, replay and validate', { skip: nobodySkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-eacces-'));
  chmodSync(dir, 0o755);
  const secret = join(dir, 'secret.txt.gz');
  copyFileSync(TRACE, secret);
  chmodSync(secret, 0o600);
  try {
    for (const args of [['inspect', secret], ['replay', '--no-report', '-s', 'linux-4.13', secret], ['validate', secret]]) {
      oneLine(tlbsimAsNobody(args), /^tlbsim: .*secret\.txt\.gz: permission denied \(tlbsim runs as uid 65534\)$/m, args[0]);
    }
    // A directory it may not enter is "permission denied" too, not "no such file".
    chmodSync(dir, 0o700);
    oneLine(tlbsimAsNobody(['inspect', secret]), /secret\.txt\.gz: permission denied/, 'inspect in a 0700 directory');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a symlink loop and a path through a file are named for what they are', () => {
  const loop = join(tmp, `loop${n++}`);
  spawnSync('ln', ['-s', loop, loop]);
  oneLine(cli(['inspect', loop]), /too many levels of symbolic links/, 'ELOOP');
  oneLine(cli(['inspect', join(TRACE, 'x')]), /a component of the path is not a directory/, 'ENOTDIR');
});

test('--csv onto an existing file or /dev/full: one line, exit 1', () => {
  const file = join(tmp, `csvfile${n++}`);
  writeFileSync(file, 'keep');
  oneLine(cli(['replay', '--no-report', '--csv', file, WORKLOAD]), /--csv .*: is a file; --csv takes a directory/, 'file');
  assert.equal(readFileSync(file, 'utf8'), 'keep');
  oneLine(cli(['replay', '--no-report', '--csv', '/dev/full', WORKLOAD]), /--csv \/dev\/full: exists and is not a directory/, '/dev/full');
});

test('-o /dev/full: "no space left", exit 1, and /dev is left alone', () => {
  const before = readdirSync('/dev').length;
  oneLine(cli(['replay', '-s', 'linux-4.13', '-o', '/dev/full', WORKLOAD]), /cannot write the report \/dev\/full: no space left on the device/, '-o /dev/full');
  assert.equal(readdirSync('/dev').length, before, 'no temporary file in /dev');
});

test('a full disk: the previous report and tables survive, nothing half-written is left', { skip: canMount }, () => {
  const disk = tinyDisk(96)!;
  const report = join(disk, 'r.html');
  writeFileSync(report, 'the previous report');
  oneLine(cli(['replay', '-s', 'linux-4.13', '-o', report, WORKLOAD]), /cannot write the report .*r\.html: no space left on the device/, 'report');
  assert.equal(readFileSync(report, 'utf8'), 'the previous report');
  assert.deepEqual(readdirSync(disk), ['r.html']);
  // CSV: fill the disk but for a few kB, so that some tables fit and others do not.
  const csv = join(disk, 'csv');
  mkdirSync(csv);
  writeFileSync(join(csv, 'ratios.csv'), 'previous');
  spawnSync('sh', ['-c', `head -c 90000 /dev/zero > ${join(disk, 'filler')}`]);
  oneLine(cli(['replay', '--no-report', '--csv', csv, WORKLOAD]), /cannot write CSV tables into .*csv: no space left on the device/, 'csv');
  assert.deepEqual(readdirSync(csv), ['ratios.csv']);
  assert.equal(readFileSync(join(csv, 'ratios.csv'), 'utf8'), 'previous');
});

test('the spill file in a full $TMPDIR (ENOSPC): one sentence saying where and what to do', { skip: canMount }, async () => {
  const disk = tinyDisk(64)!;
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = disk;
  try {
    await assert.rejects(openTrace(join(ROOT, 'traces/real/forkchurn/trace.txt.gz'), { cache: false, memoryEvents: 1000, batchSize: 500 }),
      (e: Error) => /cannot write parsed events to .*: no space left on the device; set TMPDIR to a directory with room/.test(e.message) && !e.message.includes('\n'));
  } finally {
    if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
  }
  assert.deepEqual(readdirSync(disk), [], 'the spill directory was removed');
});

test('generate and replay leave no temporary file beside their output', () => {
  const dir = join(tmp, `outs${n++}`);
  mkdirSync(dir);
  assert.equal(cli(['generate', WORKLOAD, '-o', join(dir, 'w.txt')]).status, 0);
  assert.equal(cli(['replay', '-s', 'linux-4.13', '-o', join(dir, 'r.html'), '--csv', join(dir, 'csv'), WORKLOAD]).status, 0);
  assert.deepEqual(readdirSync(dir).sort(), ['csv', 'r.html', 'w.txt']);
  assert.ok(readdirSync(join(dir, 'csv')).every((f) => f.endsWith('.csv')));
  assert.ok(existsSync(join(dir, 'csv', 'runs.csv')));
});
