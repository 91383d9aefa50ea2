// `validate --time`: measured against predicted time per iteration on this machine. The
// parts that need no machine (parsing a workload's time, building the base from a
// profile's micro-costs, the cross-CPU arithmetic) are tested directly; one real run of
// the smallest workload checks the whole path where root, tracefs and cc exist (skipped
// with the reason elsewhere). Nothing here asserts how fast anything is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TIME_WORKLOADS, TimeValidationError, baseNs, crossCpuCost, parseWorkloadSeconds, TIME_CAUSES } from '../../src/validate/time.ts';
import { findTracefs } from '../../src/trace/record.ts';
import { tlbsim, NO_STACK } from '../commands/run.ts';

const canRecord = process.getuid?.() === 0 && findTracefs() !== null && !spawnSync('cc', ['--version'], { stdio: 'ignore' }).error;
const SKIP = canRecord ? false : 'needs root, a mounted tracefs and cc';

test('the time a lab workload prints is read back, and a run that printed none is a clear error', () => {
  assert.equal(parseWorkloadSeconds('madvstorm: 2 threads, 0.279 s\n', 'madvstorm'), 0.279);
  assert.equal(parseWorkloadSeconds('procstorm: 4 processes, 12.5 s\n', 'procstorm'), 12.5);
  assert.throws(() => parseWorkloadSeconds('Segmentation fault\n', 'madvstorm'), (e: Error) => e instanceof TimeValidationError && /printed no time/.test(e.message));
});

test('every lab workload has a C source and a base made of micro-costs `tlbsim measure` names', () => {
  for (const w of TIME_WORKLOADS) {
    assert.ok(w.base.length > 0, w.name);
    for (const [micro] of w.base) assert.match(micro, /^[a-z0-9_]+$/, `${w.name}: ${micro}`);
  }
  const sleepwake = TIME_WORKLOADS.find((w) => w.name === 'sleepwake')!;
  const micro = { write_fault_madvise_1page: { ns: 3000, lo: 2900, hi: 3300, what: '' }, usleep_50us: { ns: 80000, lo: 70000, hi: 90000, what: '' } };
  // One fault + DONTNEED each iteration and a 50 us sleep every 8th: 3000 + 80000 / 8.
  assert.deepEqual(baseNs(sleepwake, micro), { ns: 13000, lo: 2900 + 70000 / 8, hi: 3300 + 90000 / 8 });
  assert.throws(() => baseNs(sleepwake, undefined), (e: Error) => /tlbsim measure/.test(e.message) && /write_fault_madvise_1page/.test(e.message));
});

test('the cross-CPU cost is the slowest worker\'s overhead beyond the one-CPU run, per iteration and cause', () => {
  const w = TIME_WORKLOADS.find((x) => x.name === 'madvstorm')!;
  const costs = (perCause: number[], ovh: number[]) => ({
    perCpu: Object.fromEntries([...TIME_CAUSES.map((c) => [c, c === 'initiator_wait_ns' ? perCause : perCause.map(() => 0)]), ['overhead_ns', ovh]]) as never,
  });
  // One CPU: 1000 ns of overhead over 100 iterations (10 per iteration, none of it waiting).
  const one = costs([0], [1000]);
  // Two CPUs: CPU 1 is the slower (50,000 ns of overhead, 30,000 of it waiting).
  const two = costs([20000, 30000], [40000, 50000]);
  const m = crossCpuCost(w, two, one, 2, 100);
  assert.equal(m.total, (50000 - 1000) / 100);
  assert.equal(m.initiator_wait_ns, 30000 / 100);
  // forkexec times worker 0 whatever the others do.
  const fork = TIME_WORKLOADS.find((x) => x.name === 'forkexec')!;
  assert.equal(crossCpuCost(fork, two, one, 2, 100).total, (40000 - 1000) / 100);
});

test('validate --time: a trace argument, a bad --cpus and a profile without micro-costs get one line each', () => {
  const a = tlbsim(['validate', '--time', 'traces/real/pingpong-0/trace.txt.gz']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /give no trace/);
  const b = tlbsim(['validate', '--time', '--cpus', '0']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--cpus expects whole numbers >= 1, found "0"/);
  const c = tlbsim(['validate', '--time', '--workloads', 'procstorm']);
  assert.notEqual(c.status, 0);
  assert.match(c.stderr, /tlbsim measure/);
  for (const r of [a, b, c]) assert.doesNotMatch(r.stderr, NO_STACK);
});

test('validate --time on this machine: procstorm measured untraced and traced, replayed, predicted', { skip: SKIP, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-time-test-'));
  const profile = join(dir, 'p.json');
  // A profile as `tlbsim measure` writes it, with the one micro-cost procstorm needs.
  writeFileSync(profile, JSON.stringify({ base: 'kvm-guest', name: 'test', micro: { write_fault_madvise_1page: { ns: 3000, lo: 2800, hi: 3200, what: 'test' } } }));
  const r = tlbsim(['validate', '--time', '--profile-file', profile, '--workloads', 'procstorm', '--runs', '1', '--scale', '0.1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.profile, 'test');
  assert.ok(report.rows.length >= 1);
  for (const row of report.rows) {
    assert.equal(row.workload, 'procstorm');
    assert.ok(row.measured.ns > 0 && row.measured.lo <= row.measured.ns && row.measured.ns <= row.measured.hi);
    assert.ok(row.traced.lines > 0, 'the traced run recorded events');
    assert.equal(row.base.ns, 3000);
    // Separate processes share no mm: the loop itself sends no shootdown; what the model
    // adds on 2 CPUs is the start (fork, exit) spread over the iterations, a few percent.
    // The replayed traces are real recordings: on a machine shared with other work (tests
    // run two files at a time) other tasks add or take switches and flushes, by up to ~6%
    // of the base seen so far; a model that charged the loop a shootdown would be far past 15%.
    assert.ok(Math.abs(row.model.total) < 0.15 * row.base.ns, JSON.stringify(row.model));
    assert.ok(Math.abs(row.predicted.ns - (row.base.ns + row.model.total)) < 1e-6);
    assert.equal(row.within, Math.abs(row.error) <= report.tolerance);
  }
});
