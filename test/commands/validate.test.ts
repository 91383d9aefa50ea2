// `tlbsim validate` as a user runs it: a child process, its output and exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FTRACE_HEADER, tempFile } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT });

test('validate --json has exactly the shape docs/design/cli.md promises, with the recording in the observed column', () => {
  const r = run('validate', '--json', 'traces/real/madvthreads-2/trace.txt.gz');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['agreement', 'rows', 'strategy']);
  assert.equal(j.strategy, 'linux-7.3'); // no header names the recorded kernel: the current one
  assert.ok(j.agreement >= 0.95 && j.agreement <= 1);
  for (const row of j.rows) {
    assert.deepEqual(Object.keys(row).sort(), ['agreement', 'observed', 'predicted', 'what']);
    assert.ok(row.agreement >= 0 && row.agreement <= 1);
  }
  // traces/real/madvthreads-2/counts.json: 3002 reason-4 and 2086 reason-1 records.
  assert.equal(j.rows.find((x: { what: string }) => x.what.includes('(reason 4)')).observed, 3002);
  assert.equal(j.rows.find((x: { what: string }) => x.what.includes('(reason 1)')).observed, 2086);
});

test('validate prints the table; -s picks the strategy whose predictions are checked', () => {
  const cur = run('validate', 'traces/real/pingpong-0/trace.txt.gz');
  assert.equal(cur.status, 0, cur.stderr);
  assert.match(cur.stdout, /recorded kernel vs linux-7\.3/);
  assert.match(cur.stdout, /switch, no flush \(reason 0, pages 0\)\s+4001\s+4001\s+1\.000/);
  assert.match(cur.stdout, /overall agreement\s+(0\.9\d\d|1\.000)/);
  const old = run('validate', '-s', 'linux-4.13', 'traces/real/pingpong-0/trace.txt.gz');
  assert.equal(old.status, 0, old.stderr);
  assert.match(old.stdout, /switch, flush \(reason 0, pages -1\)\s+3\s+4004\s+0\.001\s+</);
});

test('validate --explain N shows N disagreements, the events around each and the machine state', () => {
  const r = run('validate', '--explain', '2', '-s', 'linux-4.13', 'traces/real/pingpong-0/trace.txt.gz');
  assert.equal(r.status, 0, r.stderr);
  const blocks = r.stdout.split('\ndisagreement ').slice(1);
  assert.equal(blocks.length, 2);
  for (const b of blocks) {
    assert.match(b, /flush on task switch \(0\)/);
    assert.match(b, /events around it/);
    assert.match(b, /\n {4}> #\d+ /, 'the cause is marked');
    assert.match(b, /CPU 0: runs \S+ .*loaded mm \d+/);
    assert.match(b, /mm_cpumask \{[\d,]*\}/);
    assert.match(b, /tlb_gen \d+/);
  }
  const json = JSON.parse(run('validate', '--json', '--explain', '1', 'traces/real/shared-pingpong-100/trace.txt.gz').stdout);
  assert.equal(json.disagreements.length, 1);
  assert.ok(json.disagreements[0].state.length >= 2);
});

test('validate refuses what it cannot check, with the exit codes of docs/design/cli.md and no stack trace', () => {
  const workload = run('validate', 'workload:ping-pong');
  assert.equal(workload.status, 2);
  assert.match(workload.stderr, /needs a recorded trace/);
  const noFlush = run('validate', tempFile(FTRACE_HEADER
    + '            bash-100   [000] d..2.   100.000001: sched_switch: prev_comm=bash prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n'));
  assert.equal(noFlush.status, 1);
  assert.match(noFlush.stderr, /no tlb:tlb_flush records/);
  assert.doesNotMatch(noFlush.stderr, /at .*\.ts:\d+/);
  assert.equal(run('validate', '-s', 'linux-9.99', 'traces/real/pingpong-0/trace.txt.gz').status, 2);
  assert.equal(run('validate', '--explain', 'x', 'traces/real/pingpong-0/trace.txt.gz').status, 2);
  assert.equal(run('validate', 'no/such/trace.txt').status, 1);
});
