// The event recorder on real recorded traces: attaching it changes no result, what it
// records adds up to the counters the machine keeps for the same run, and a small
// capacity keeps it bounded while every event is still accounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { recordRuns, defaultTimelinePair } from '../../src/replay/record.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { FlushMark, type Recording } from '../../src/machine/recorder.ts';
import type { RunResult } from '../../src/machine/result.ts';

const TRACES = ['traces/real/pingpong-512/trace.txt.gz', 'traces/real/madvthreads-2/trace.txt.gz'];

const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
const weightWhere = (rec: Recording, track: 'flush' | 'cr3', pick: (i: number) => boolean) => {
  const t = rec.tracks[track];
  let n = 0;
  for (let i = 0; i < t.w.length; i++) if (pick(i)) n += t.w[i];
  return n;
};

/** The recorded events, counted, next to the machine's own counters of the same run. */
function checkCounts(rec: Recording, r: RunResult, spec: string): void {
  const T = rec.tracks, m = r.metrics;
  const at = `${spec} ${r.strategy.name}`;
  assert.equal(total(T.ipi.w), m.ipis_sent, `${at}: IPIs`);
  assert.equal(total(T.cr3.w), m.cr3_writes, `${at}: CR3 writes`);
  assert.equal(total(T.cr3.b), m.cr3_flushes, `${at}: flushing CR3 writes`);
  assert.ok(total(T.flush.w) >= m.full_flushes, `${at}: flushes`);
  // A merged mark is one kind: the kinds add up only while nothing was merged.
  if (T.flush.stride === 1) assert.equal(weightWhere(rec, 'flush', (i) => T.flush.a[i] === FlushMark.localFull || T.flush.a[i] === FlushMark.remoteFull), m.full_flushes, `${at}: full flushes`);
  assert.equal(total(T.request.w), m.flush_requests, `${at}: requests`);
  // One span per switch, plus the span each CPU starts with.
  const booted = new Set(T.run.cpu).size;
  assert.equal(total(T.run.w), m.context_switches + booted, `${at}: task runs`);
  // A handler that ran inside the initiator's own wait is taken off the wait afterwards.
  assert.ok(total(T.wait.d) >= m.initiator_wait_ns - 1e-6, `${at}: waits ${total(T.wait.d)} < ${m.initiator_wait_ns}`);
  // The trace's own records: what its info counted.
  assert.equal(total(T.obsFlush.w), Object.values(r.observed.tlbFlush).reduce((a, c) => a + c.full + c.ranged + c.none, 0), `${at}: tlb_flush records`);
  assert.equal(total(T.obsIpi.w), r.observed.ipiTargets, `${at}: IPI records`);
  // The lazy-CPU counter: between 0 and the CPU count, and while nothing was merged, the
  // number of lazy spans open just after each sample.
  for (let i = 0; i < T.lazyCount.t.length; i++) assert.ok(T.lazyCount.a[i] >= 0 && T.lazyCount.a[i] <= rec.cpus, `${at}: lazy count ${T.lazyCount.a[i]}`);
  assert.equal(T.lazyCount.seen, 2 * T.lazy.seen, `${at}: each lazy period enters and leaves once`);
  if (T.lazy.stride === 1 && T.lazyCount.stride === 1) {
    for (let i = 0; i < T.lazyCount.t.length; i++) {
      const t = T.lazyCount.t[i];
      if (i + 1 < T.lazyCount.t.length && T.lazyCount.t[i + 1] === t) continue;
      let open = 0;
      for (let j = 0; j < T.lazy.t.length; j++) if (T.lazy.t[j] <= t && t < T.lazy.t[j] + T.lazy.d[j]) open++;
      assert.equal(T.lazyCount.a[i], open, `${at}: lazy CPUs at ${t}`);
    }
  }
  for (const t of Object.values(T)) {
    for (let i = 0; i < t.t.length; i++) {
      assert.ok(t.cpu[i] >= 0 && t.cpu[i] < rec.cpus, `${at}: cpu ${t.cpu[i]}`);
      assert.ok(Number.isFinite(t.t[i]) && t.d[i] >= 0, `${at}: time ${t.t[i]} length ${t.d[i]}`);
    }
  }
}

for (const spec of TRACES) {
  test(`recorder on ${spec}: results unchanged, records add up to the counters`, async () => {
    const src = await openInput(spec);
    try {
      const plain = await replay(src, { workers: 1 });
      const recorded = await recordRuns(src, { strategies: [...STRATEGY_NAMES] });
      assert.equal(recorded.length, plain.length);
      recorded.forEach(({ result, recording }, i) => {
        assert.deepEqual(result, plain[i], `${result.strategy.name}: a recorded run gives the same result`);
        assert.equal(recording.strategy, result.strategy.name);
        checkCounts(recording, result, spec);
      });
      // The trace has IPIs under the current kernel: the recorder saw sender and target.
      const cur = recorded.find((r) => r.result.strategy.name === 'linux-7.3')!;
      assert.ok(cur.recording.tracks.ipi.t.length > 0);
      for (let i = 0; i < cur.recording.tracks.ipi.t.length; i++) {
        assert.notEqual(cur.recording.tracks.ipi.cpu[i], cur.recording.tracks.ipi.a[i], 'an IPI goes to another CPU');
        assert.ok(cur.recording.tracks.ipi.b[i] >= cur.recording.tracks.ipi.t[i], 'it arrives after it was sent');
      }
    } finally { src.close(); }
  });
}

test('a small capacity bounds every track and still accounts for every event, spread over the trace', async () => {
  const spec = TRACES[0];
  const src = await openInput(spec);
  try {
    const full = await recordRuns(src, { strategies: ['linux-7.3'] });
    const small = await recordRuns(src, { strategies: ['linux-7.3'], capacity: 64 });
    const rec = small[0].recording;
    checkCounts(rec, small[0].result, spec);
    assert.deepEqual(small[0].result, full[0].result);
    const runs = rec.tracks.run;
    assert.ok(runs.t.length <= 64 && runs.stride > 1, `${runs.t.length} records, stride ${runs.stride}`);
    assert.equal(runs.seen, full[0].recording.tracks.run.t.length);
    // Merged spans still tile each CPU's time: no gap between consecutive spans of a CPU,
    // and the last one ends where the full recording's does.
    for (let c = 0; c < rec.cpus; c++) {
      const idx = [...runs.cpu.keys()].filter((i) => runs.cpu[i] === c);
      for (let k = 1; k < idx.length; k++) {
        assert.ok(Math.abs(runs.t[idx[k]] - (runs.t[idx[k - 1]] + runs.d[idx[k - 1]])) < 1e-3, `CPU ${c}: spans ${k - 1} and ${k} meet`);
      }
    }
    const fr = full[0].recording.tracks.run;
    const lastEnd = (t: typeof fr) => Math.max(...[...t.t].map((x, i) => x + t.d[i]));
    assert.equal(lastEnd(runs), lastEnd(fr));
    const obs = rec.tracks.obsFlush;
    assert.ok(obs.t.length <= 64);
    assert.ok(obs.t[obs.t.length - 1] > rec.firstNs + 0.75 * (rec.lastNs - rec.firstNs), 'the kept records reach the end of the trace');
  } finally { src.close(); }
});

test('the default timeline pair: the best safe strategy and the current kernel; the baseline when the current kernel is best', async () => {
  const src = await openInput(TRACES[0]);
  try {
    const results = await replay(src, { workers: 1 });
    const pair = defaultTimelinePair(results);
    assert.equal(pair.length, 2);
    assert.equal(pair[1], 'linux-7.3');
    const best = results.find((r) => r.strategy.name === pair[0])!;
    assert.ok(best.strategy.safe);
    assert.equal(best.violations.count, 0);
    for (const r of results) if (r.strategy.safe && r.violations.count === 0) assert.ok(best.metrics.overhead_ns <= r.metrics.overhead_ns, r.strategy.name);
    // Without the strategies that beat it, the current kernel is the best: shown with the baseline.
    const worse = results.filter((r) => r.strategy.name === 'linux-7.3' || r.metrics.overhead_ns > results.find((x) => x.strategy.name === 'linux-7.3')!.metrics.overhead_ns);
    assert.ok(worse.some((r) => r.strategy.name === 'linux-4.13'), 'linux-4.13 costs more than linux-7.3 here');
    assert.deepEqual(defaultTimelinePair(worse), ['linux-7.3', 'linux-4.13']);
  } finally { src.close(); }
});
