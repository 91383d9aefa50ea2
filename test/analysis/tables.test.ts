// The analysis tables against the results they are built from, on a real recorded trace
// and on generated workloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { buildTables, findViolationEvents, type AnalysisInput } from '../../src/analysis/index.ts';
import { METRIC_NAMES, OVERHEAD_CAUSES, TIMELINE_METRICS } from '../../src/machine/metrics.ts';
import { EVENT_KIND_NAMES } from '../../src/trace/event.ts';
import { CURRENT_STRATEGY } from '../../src/strategies/index.ts';

const REAL = 'traces/real/pingpong-512/trace.txt.gz';
const STRATEGIES = ['linux-4.13', 'pcid-v4-posted', 'linux-4.20', 'linux-6.18', CURRENT_STRATEGY];

async function analysed(spec: string, strategies = STRATEGIES): Promise<AnalysisInput> {
  const src = await openInput(spec);
  try {
    const results = await replay(src, { strategies, workers: 1 });
    return { info: src.info, results, violationEvents: await findViolationEvents(src, results) };
  } finally { src.close(); }
}

const real = analysed(REAL);
const workload = analysed('workload:madv-threads:threads=2,iterations=300');
const walkers = analysed('workload:ptwalk-sync', ['linux-6.18', 'ptsync-targeted']);

test('runs: one row per input x strategy carrying every metric of the result', async () => {
  const inputs = [await real, await workload];
  const t = buildTables({ inputs }).runs;
  assert.equal(t.numRows, inputs.length * STRATEGIES.length);
  const rows = t.rows();
  for (const inp of inputs) {
    for (const r of inp.results) {
      const row = rows.find((x) => x.input === inp.info.source && x.strategy === r.strategy.name);
      assert.ok(row, `${inp.info.source} ${r.strategy.name}`);
      for (const m of METRIC_NAMES) assert.equal(row[m], r.metrics[m], m);
      assert.equal(row.events, inp.info.events);
    }
  }
});

test('ratios divide by the baseline of the same input; without the baseline they are null', async () => {
  const inputs = [await real, await workload];
  const t = buildTables({ inputs }).ratios.rows();
  for (const inp of inputs) {
    const base = inp.results.find((r) => r.strategy.name === 'linux-4.13')!;
    for (const r of inp.results) {
      const row = t.find((x) => x.input === inp.info.source && x.strategy === r.strategy.name && x.metric === 'overhead_ns')!;
      assert.equal(row.value, r.metrics.overhead_ns);
      assert.equal(row.baseline_value, base.metrics.overhead_ns);
      assert.ok(Math.abs(row.ratio! - r.metrics.overhead_ns / base.metrics.overhead_ns) < 1e-12);
    }
  }
  // The real trace shows what PCID bought: far less overhead than the pre-PCID kernel.
  const ratio = t.find((x) => x.input === REAL && x.strategy === 'linux-6.18' && x.metric === 'overhead_ns')!.ratio!;
  assert.ok(ratio < 0.5, `linux-6.18 / linux-4.13 overhead on ping-pong 512 = ${ratio}`);

  const noBase = buildTables({ inputs, baseline: 'linux-5.13' }).ratios.rows();
  assert.ok(noBase.length > 0);
  assert.ok(noBase.every((x) => x.ratio === null && x.baseline_value === null));
});

test('overhead by cause adds up to overhead_ns for every run', async () => {
  const inputs = [await real, await workload, await walkers];
  const t = buildTables({ inputs });
  const runs = t.runs.rows();
  const causes = t.overhead_causes.rows();
  assert.equal(causes.length, runs.length * OVERHEAD_CAUSES.length);
  for (const run of runs) {
    const mine = causes.filter((c) => c.input === run.input && c.strategy === run.strategy);
    const sum = mine.reduce((a, c) => a + c.ns, 0);
    assert.ok(Math.abs(sum - run.overhead_ns) <= 1e-6 * Math.max(1, run.overhead_ns), `${run.input} ${run.strategy}: ${sum} vs ${run.overhead_ns}`);
    if (run.overhead_ns > 0) assert.ok(Math.abs(mine.reduce((a, c) => a + c.share, 0) - 1) < 1e-9);
  }
  // Each cause shows up where its mechanism is: IPIs in the shootdown workload, walk
  // tracking only under the targeted page-table sync.
  const ipi = causes.filter((c) => c.metric === 'ipi_ns' && c.input.startsWith('workload:madv-threads'));
  assert.ok(ipi.every((c) => c.ns > 0));
  const track = causes.filter((c) => c.metric === 'ptwalk_track_ns' && c.input.startsWith('workload:ptwalk-sync'));
  assert.ok(track.find((c) => c.strategy === 'ptsync-targeted')!.ns > 0);
  assert.equal(track.find((c) => c.strategy === 'linux-6.18')!.ns, 0);
});

test('per-CPU, latency, timeline and IPI matrix agree with the totals', async () => {
  const inputs = [await real, await workload];
  const t = buildTables({ inputs });
  for (const inp of inputs) {
    for (const r of inp.results) {
      const pc = t.per_cpu.rows().filter((x) => x.input === inp.info.source && x.strategy === r.strategy.name);
      assert.equal(pc.length, inp.info.cpus);
      for (const m of ['overhead_ns', 'ipis_sent', 'cr3_flushes', 'tlb_misses'] as const) {
        assert.ok(Math.abs(pc.reduce((a, x) => a + x[m], 0) - r.metrics[m]) < 1e-6, m);
      }
      const lat = t.latency.rows().filter((x) => x.input === inp.info.source && x.strategy === r.strategy.name);
      assert.equal(lat.reduce((a, x) => a + x.requests, 0), r.latencyHistogram.counts.reduce((a, x) => a + x, 0));
      for (const x of lat) assert.ok(x.upper_ns > x.lower_ns && x.requests > 0);
      const tl = t.timeline.rows().filter((x) => x.input === inp.info.source && x.strategy === r.strategy.name);
      for (const m of TIMELINE_METRICS) {
        assert.ok(Math.abs(tl.reduce((a, x) => a + Number(x[m]), 0) - r.metrics[m]) < 1e-6, `timeline ${m}`);
      }
      const ipis = t.ipi_matrix.rows().filter((x) => x.input === inp.info.source && x.strategy === r.strategy.name);
      assert.equal(ipis.reduce((a, x) => a + x.ipis, 0), r.metrics.ipis_sent);
      for (const x of ipis) assert.notEqual(x.from_cpu, x.to_cpu);
    }
  }
});

test('observed vs predicted: the observed column is what the trace recorded, per tlb_flush reason', async () => {
  const inp = await real;
  const rows = buildTables({ inputs: [inp] }).observed_predicted.rows();
  assert.ok(rows.length > 0);
  assert.ok(rows.every((r) => r.strategy === CURRENT_STRATEGY));
  for (const [reason, total] of Object.entries(inp.info.observedFlushByReason)) {
    const mine = rows.filter((r) => r.what.startsWith(`tlb_flush reason ${reason} `) && !r.what.endsWith(': pages'));
    assert.equal(mine.reduce((a, r) => a + r.observed, 0), total, `reason ${reason}`);
  }
  // Named as the recording kernel prints the reason (the trace's own `reason:NAME (N)`).
  const text = gunzipSync(readFileSync(REAL)).toString('utf8');
  const named = rows.filter((r) => r.what.startsWith('tlb_flush reason '));
  assert.ok(named.length > 0);
  for (const r of named) {
    const m = /^tlb_flush reason (\d) \(([^)]+)\)/.exec(r.what);
    assert.ok(m, r.what);
    if (new RegExp(`reason:[^(]*\\(${m[1]}\\)`).test(text)) assert.ok(text.includes(`reason:${m[2]} (${m[1]})`), r.what);
  }
  // Each row min / max, as validate's rows.
  for (const r of rows) assert.equal(r.agreement, Math.max(r.observed, r.predicted) === 0 ? 1 : Math.min(r.observed, r.predicted) / Math.max(r.observed, r.predicted), r.what);
  // A workload records no kernel outcomes: nothing to compare.
  assert.equal(buildTables({ inputs: [await workload] }).observed_predicted.numRows, 0);
  // A validation result, when given, is shown as it is.
  const validation = { strategy: 'linux-6.18', agreement: 0.5, rows: [{ what: 'x', observed: 2, predicted: 1 }] };
  const v = buildTables({ inputs: [{ ...inp, validation }] }).observed_predicted.rows();
  assert.deepEqual(v, [{ input: REAL, strategy: 'linux-6.18', what: 'x', observed: 2, predicted: 1, agreement: 0.5 }]);
});

test('violations carry the event where the checker fired, read back from the trace', async () => {
  const inp = await real;
  const rows = buildTables({ inputs: [inp] }).violations.rows();
  const unsafe = inp.results.find((r) => r.strategy.name === 'pcid-v4-posted')!;
  assert.ok(unsafe.violations.count > 0, 'the posted PCID series leaves a lazy CPU on freed page tables in this trace');
  assert.equal(rows.filter((r) => r.strategy === 'pcid-v4-posted').length, unsafe.violations.first.length);
  // Read the stream independently and check the events the table names.
  const src = await openInput(REAL);
  const byIndex = new Map<number, { kind: string; cpu: number; tid: number; time: number }>();
  let i = 0;
  for await (const b of src.batches()) {
    for (let k = 0; k < b.length; k++, i++) byIndex.set(i, { kind: EVENT_KIND_NAMES[b.kind[k]], cpu: b.cpu[k], tid: b.tid[k], time: b.time[k] });
  }
  src.close();
  for (const r of rows) {
    const e = byIndex.get(r.event_index)!;
    assert.equal(r.event, e.kind);
    assert.equal(r.tid, e.tid);
    assert.equal(r.time_ns, e.time - inp.info.firstNs);
    assert.equal(r.task, inp.info.tasks.find((t) => t.tid === e.tid)?.comm ?? '');
  }
});
