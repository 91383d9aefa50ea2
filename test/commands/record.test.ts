// `tlbsim record` as a user runs it. Recording needs root and tracefs: those tests skip
// (saying why) where either is missing; the refusals are tested everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { EventKind, eventsOf, openTrace } from '../../src/trace/index.ts';
import { findTracefs } from '../../src/trace/record.ts';
import { tmp } from '../helpers.ts';
import { nobodySkip, tlbsimAsNobody } from '../nobody.ts';
import { BIN, NO_STACK, ROOT, tlbsim } from './run.ts';

const isRoot = process.getuid?.() === 0;
const tracefs = findTracefs();
const canRecord = isRoot && tracefs !== null;
const SKIP = canRecord ? false : 'needs root and a mounted tracefs';
const has = (tool: string) => !spawnSync(tool, ['--version'], { stdio: 'ignore' }).error;

let n = 0;
const out = (ext: string) => join(tmp, `rec${n++}${ext}`);
const instanceOf = (pid: number | undefined) => `tlbsim-${pid}`;
const instances = () => (tracefs ? readdirSync(join(tracefs, 'instances')) : []);
const noTemporaries = () => assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('.')), [], 'no temporary files left');

function recordSync(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, 'record', ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

async function readEvents(path: string) {
  const t = await openTrace(path);
  const kinds = new Map<number, number>();
  for await (const b of t.batches()) for (const e of eventsOf([b])) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  t.close();
  return { info: t.info, kinds };
}

test('record (tracefs) writes a trace tlbsim reads, exits with the command\'s status and removes its instance', { skip: SKIP }, async () => {
  const path = out('.txt');
  const r = recordSync(['-o', path, '--', 'sh', '-c', 'for i in 1 2 3; do /bin/true; done; exit 3']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /recorded \d+ lines, .* to .*\.txt with tracefs; the command exited with status 3/);
  assert.ok(!instances().includes(instanceOf(r.pid)), 'instance removed');
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^# tracer: nop\n/);
  assert.match(text, /TASK-PID\s+TGID\s+CPU#/, 'record-tgid is on');
  assert.equal(text.match(/sched_process_exec: filename=\/bin\/true /g)?.length, 3, 'the three execs of /bin/true');
  const { info, kinds } = await readEvents(path);
  assert.equal(info.format, 'ftrace');
  assert.equal(info.skippedLines, 0, JSON.stringify(info.skipped.slice(0, 3)));
  assert.ok((kinds.get(EventKind.exec) ?? 0) >= 3);
  assert.ok((kinds.get(EventKind.fork) ?? 0) >= 3);
  assert.ok((kinds.get(EventKind.switch) ?? 0) > 0);
  assert.ok((kinds.get(EventKind.observed_flush) ?? 0) > 0, 'tlb:tlb_flush was enabled');
  noTemporaries();
});

test('record -o x.txt.gz compresses; --no-tgid leaves record-tgid off; under sudo the file is the user\'s', { skip: SKIP }, async () => {
  const path = out('.txt.gz');
  const r = recordSync(['-o', path, '--no-tgid', '--buffer-kb', '2048', '--', '/bin/true'], { SUDO_UID: '65534', SUDO_GID: '65533' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(statSync(path).uid, 65534);
  assert.equal(statSync(path).gid, 65533);
  const text = gunzipSync(readFileSync(path)).toString();
  assert.match(text, /^# tracer: nop\n/);
  assert.doesNotMatch(text, /TGID/);
  assert.match(text, /sched_process_exec: filename=\/bin\/true /);
  const { info } = await readEvents(path);
  assert.equal(info.format, 'ftrace');
  assert.ok(!instances().includes(instanceOf(r.pid)));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`record stops the command on ${signal}, keeps the trace so far and removes its instance`, { skip: SKIP }, async () => {
    const path = out('.txt');
    const child = spawn(process.execPath, [BIN, 'record', '-o', path, '--', 'sleep', '60'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the command runs under tracing: the instance exists and sleep is its child.
    let sleepPid = 0;
    for (let i = 0; i < 600 && sleepPid === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (!instances().includes(instanceOf(child.pid))) continue;
      // (tsx's esbuild service is a child too: look for the command by name.)
      for (const kid of readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')) {
        if (kid && readFileSync(`/proc/${kid}/comm`, 'utf8').trim() === 'sleep') sleepPid = Number(kid);
      }
    }
    assert.ok(sleepPid > 0, 'the command started');
    child.kill(signal);
    const code = await exited;
    assert.equal(code, signal === 'SIGINT' ? 130 : 143, stderr);
    assert.match(stderr, new RegExp(`the command was interrupted \\(${signal}\\)`));
    assert.ok(!instances().includes(instanceOf(child.pid)), 'instance removed');
    assert.throws(() => process.kill(sleepPid, 0), /ESRCH/, 'the command was stopped');
    assert.match(readFileSync(path, 'utf8'), /^# tracer: nop\n/);
    noTemporaries();
  });
}

test('record cleans up when interrupted while it sets the instance up', { skip: SKIP }, async () => {
  const path = out('.txt');
  const child = spawn(process.execPath, [BIN, 'record', '-o', path, '--', 'sleep', '60'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 3000 && !instances().includes(instanceOf(child.pid)); i++) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGINT');
  const code = await exited;
  // Before the command started: nothing recorded (1); after: it was stopped and saved (130).
  assert.ok(code === 1 || code === 130, `exit ${code}: ${stderr}`);
  if (code === 1) assert.match(stderr, /interrupted \(SIGINT\) before the command started; nothing recorded/);
  assert.ok(!instances().includes(instanceOf(child.pid)), 'instance removed');
  noTemporaries();
});

test('record: an unknown trace clock or an impossible buffer is refused in one line, nothing left behind', { skip: SKIP }, () => {
  const clock = recordSync(['--clock', 'sundial', '-o', out('.txt'), '--', '/bin/true']);
  assert.equal(clock.status, 1);
  assert.match(clock.stderr, /^tlbsim: unknown trace clock "sundial" \(this kernel has: .*\blocal\b.*\)\n$/);
  assert.ok(!instances().includes(instanceOf(clock.pid)));
  const buffer = recordSync(['--buffer-kb', '99999999999', '-o', out('.txt'), '--', '/bin/true']);
  assert.equal(buffer.status, 1);
  assert.match(buffer.stderr, /^tlbsim: the kernel cannot allocate 99999999999 KiB of ring buffer per CPU; ask for less with --buffer-kb\n$/);
  assert.ok(!instances().includes(instanceOf(buffer.pid)));
  noTemporaries();
});

test('record removes instances left by a tlbsim record that was killed (SIGKILL cannot be caught)', { skip: SKIP }, () => {
  // A pid that is certainly gone: a process that has exited and been reaped.
  const gone = spawnSync('true').pid!;
  const orphan = join(tracefs!, 'instances', `tlbsim-${gone}`);
  mkdirSync(orphan);
  try {
    const r = recordSync(['-o', out('.txt'), '--', '/bin/true']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`note: removed ${orphan}, left behind by a tlbsim record that was killed`));
    assert.ok(!existsSync(orphan));
  } finally {
    if (existsSync(orphan)) rmdirSync(orphan);
  }
});

test('record: a command that cannot be run exits 1, writes nothing and leaves no instance', { skip: SKIP }, () => {
  const path = out('.txt');
  const r = recordSync(['-o', path, '--', 'no-such-command-tlbsim', 'x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tlbsim: cannot run "no-such-command-tlbsim": command not found\n$/);
  assert.ok(!existsSync(path));
  assert.ok(!instances().includes(instanceOf(r.pid)));
  noTemporaries();
});

test('record --with perf writes perf script text tlbsim reads', { skip: SKIP || (!has('perf') && 'needs perf') }, async () => {
  const path = out('.txt');
  const r = recordSync(['--with', 'perf', '-o', path, '--', 'sh', '-c', '/bin/true; /bin/true']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /recorded \d+ lines.* with perf/);
  const { info, kinds } = await readEvents(path);
  assert.equal(info.format, 'perf');
  assert.ok((kinds.get(EventKind.exec) ?? 0) >= 2, 'execs recorded');
  noTemporaries();
});

test('record --with trace-cmd writes trace-cmd report text, or the trace.dat itself for .dat', { skip: SKIP || (!has('trace-cmd') && 'needs trace-cmd') }, async () => {
  const text = out('.txt');
  const r = recordSync(['--with', 'trace-cmd', '-o', text, '--', 'sh', '-c', '/bin/true; exit 4']);
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /recorded \d+ lines.* with trace-cmd; the command exited with status 4/);
  const fromText = await readEvents(text);
  assert.equal(fromText.info.format, 'trace-cmd');
  assert.equal(fromText.info.skippedLines, 0, JSON.stringify(fromText.info.skipped.slice(0, 3)));
  assert.ok((fromText.kinds.get(EventKind.exec) ?? 0) >= 1);
  assert.ok(!instances().includes(instanceOf(r.pid)));

  const dat = out('.dat');
  const d = recordSync(['--with', 'trace-cmd', '-o', dat, '--', '/bin/true']);
  assert.equal(d.status, 0, d.stderr);
  assert.ok(readFileSync(dat).subarray(0, 10).includes(Buffer.from('tracing')), 'a trace.dat');
  const fromDat = await readEvents(dat);
  assert.equal(fromDat.info.format, 'trace-cmd');
  assert.ok((fromDat.kinds.get(EventKind.exec) ?? 0) >= 1);
  assert.ok(!instances().includes(instanceOf(d.pid)));
  noTemporaries();
});

// uid 65534 may not be able to read the checkout (a 0700 directory): nobody.ts runs it
// from a world-readable copy then.
test('record refuses clearly without root', { skip: nobodySkip() }, () => {
  const r = tlbsimAsNobody(['record', '-o', join(tmpdir(), `tlbsim-nobody-${process.pid}.txt`), '--', '/bin/true']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^tlbsim: record needs root: tracefs at .* is not readable by this user \(run it with sudo\)\n$|^tlbsim: tracefs is not mounted and mounting it needs root/);
});

test('record: wrong usage exits 2; a missing tracefs directory or output directory exits 1; one line each', () => {
  const cases: [string[], number, RegExp][] = [
    [['record', '--', '/bin/true'], 2, /required option '-o, --output <file>'/],
    [['record', '-o', out('.txt')], 2, /missing required argument 'command'/],
    [['record', '--with', 'strace', '-o', out('.txt'), '--', '/bin/true'], 2, /--with must be one of tracefs, trace-cmd, perf, got "strace"/],
    [['record', '--buffer-kb', 'lots', '-o', out('.txt'), '--', '/bin/true'], 2, /--buffer-kb needs a positive whole number of KiB, got "lots"/],
    [['record', '--tracefs', '/no/such/tracefs', '-o', out('.txt'), '--', '/bin/true'], 1, /tracefs directory \/no\/such\/tracefs does not exist/],
    [['record', '-o', join(tmp, 'no/such/dir/t.txt'), '--', '/bin/true'], 1, /cannot write .*t\.txt: the directory .*no\/such\/dir does not exist/],
  ];
  for (const [args, status, message] of cases) {
    const r = tlbsim(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, NO_STACK);
  }
  assert.ok(statSync(tmp).isDirectory());
});
