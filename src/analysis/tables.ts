// The tables users read: built once from the replay results, written as CSV (--csv DIR) and
// drawn by the report. Every table is small (aggregated per input x strategy x CPU or
// bucket); nothing here is per event.

import type { ColumnTable } from 'arquero';
import {
  KEY_METRICS, METRIC_NAMES, OVERHEAD_CAUSES, TIMELINE_METRICS, type MetricName,
} from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import { TLB_FLUSH_REASON_NAMES } from '../trace/event.ts';
import { rowAgreement } from '../validate/rows.ts';
import { BASELINE_STRATEGY, CURRENT_STRATEGY, validationStrategy } from '../strategies/index.ts';
import { TypedTable } from './table.ts';
import type { AnalysisData, AnalysisInput, ValidationResult } from './types.ts';

type MetricColumns = { [K in MetricName]: number };

export type RunRow = { input: string; strategy: string; profile: string; cpus: number; events: number } & MetricColumns & Partial<IntervalColumns>;
/** Columns the runs table gets when --uncertainty ran (min-max over the draws). */
export type IntervalColumns = { overhead_ns_lo: number | null; overhead_ns_hi: number | null; ratio_lo: number | null; ratio_hi: number | null };
const INTERVAL_COLUMNS = ['overhead_ns_lo', 'overhead_ns_hi', 'ratio_lo', 'ratio_hi'] as const;
/** One row per input x driving assumption: the headline strategy's ratio at each end. */
export type SensitivityRow = { input: string; strategy: string; baseline: string; assumption: string; keys: string; span: string; ratio: number; ratio_lo: number | null; ratio_hi: number | null };
export type RatioRow = { input: string; strategy: string; metric: string; value: number; baseline_value: number; ratio: number | null };
export type PerCpuRow = { input: string; strategy: string; cpu: number } & MetricColumns;
export type LatencyRow = { input: string; strategy: string; lower_ns: number; upper_ns: number; requests: number };
export type TimelineRow = { input: string; strategy: string; bucket: number; start_ns: number; end_ns: number } & { [K in string]: number | string };
export type OverheadCauseRow = { input: string; strategy: string; cause: string; metric: string; ns: number; share: number };
export type IpiMatrixRow = { input: string; strategy: string; from_cpu: number; to_cpu: number; ipis: number };
export type ObservedPredictedRow = { input: string; strategy: string; what: string; observed: number; predicted: number; agreement: number | null };
export type ViolationRow = {
  input: string; strategy: string; event_index: number; kind: string; cpu: number; mm: number; what: string;
  time_ns: number | null; event: string; tid: number | null; task: string;
};
export type TaskRow = { input: string; tid: number; task: string; tgid: number; mm: number; route: string };
export type CalibrationRow = {
  benchmark: string; metric: string; strategy: string; baseline: string; published: number; simulated: number; error: number | null;
};

export interface Tables {
  runs: TypedTable<RunRow>;
  ratios: TypedTable<RatioRow>;
  per_cpu: TypedTable<PerCpuRow>;
  latency: TypedTable<LatencyRow>;
  timeline: TypedTable<TimelineRow>;
  overhead_causes: TypedTable<OverheadCauseRow>;
  ipi_matrix: TypedTable<IpiMatrixRow>;
  observed_predicted: TypedTable<ObservedPredictedRow>;
  violations: TypedTable<ViolationRow>;
  tasks: TypedTable<TaskRow>;
  calibration: TypedTable<CalibrationRow>;
  /** Only when --uncertainty ran. */
  sensitivity?: TypedTable<SensitivityRow>;
}

const ID = ['input', 'strategy'] as const;

function metricCells(m: Record<string, number>): MetricColumns {
  const out = {} as MetricColumns;
  for (const n of METRIC_NAMES) out[n] = m[n] ?? 0;
  return out;
}

/** One row per input x strategy with every metric. */
export function runsTable(inputs: readonly AnalysisInput[]): TypedTable<RunRow> {
  const rows: RunRow[] = [];
  const banded = inputs.some((i) => i.uncertainty !== undefined);
  for (const inp of inputs) {
    for (const r of inp.results) {
      const row: RunRow = { input: inp.info.source, strategy: r.strategy.name, profile: r.profile, cpus: r.cpus, events: r.events, ...metricCells(r.metrics) };
      if (banded) {
        const b = inp.uncertainty?.strategies.find((x) => x.strategy === r.strategy.name);
        row.overhead_ns_lo = b?.overhead_ns.lo ?? null; row.overhead_ns_hi = b?.overhead_ns.hi ?? null;
        row.ratio_lo = b?.ratio?.lo ?? null; row.ratio_hi = b?.ratio?.hi ?? null;
      }
      rows.push(row);
    }
  }
  // The interval columns come last and only with --uncertainty: the columns scripts read
  // today stay where they are.
  return TypedTable.of('runs', [...ID, 'profile', 'cpus', 'events', ...METRIC_NAMES, ...(banded ? INTERVAL_COLUMNS : [])], rows);
}

/** Each metric of each run divided by the same metric of the baseline strategy on the same
 *  input (null when the baseline is 0 or was not replayed). */
export function ratiosTable(runs: TypedTable<RunRow>, baseline: string = BASELINE_STRATEGY,
  metrics: readonly MetricName[] = KEY_METRICS): TypedTable<RatioRow> {
  const long = runs.data.select(...ID, ...metrics).fold(metrics as string[], { as: ['metric', 'value'] }) as ColumnTable;
  // Expressions are strings: arquero compiles them from source, and a function would be
  // seen after tsx rewrote it (undefined becomes `void 0`, which arquero cannot parse).
  const base = long.params({ baseline }).filter('d.strategy === $.baseline')
    .select('input', 'metric', { value: 'baseline_value' }) as ColumnTable;
  const joined = long.lookup(base, [['input', 'metric'], ['input', 'metric']], 'baseline_value')
    .derive({
      baseline_value: 'd.baseline_value == null ? null : d.baseline_value',
      ratio: 'd.baseline_value == null ? null : d.baseline_value > 0 ? d.value / d.baseline_value : d.value === 0 ? 1 : null',
    }) as ColumnTable;
  return TypedTable.wrap('ratios', [...ID, 'metric', 'value', 'baseline_value', 'ratio'], joined);
}

export function perCpuTable(inputs: readonly AnalysisInput[]): TypedTable<PerCpuRow> {
  const rows: PerCpuRow[] = [];
  for (const inp of inputs) {
    for (const r of inp.results) {
      for (let c = 0; c < r.cpus; c++) {
        const m = {} as MetricColumns;
        for (const n of METRIC_NAMES) m[n] = r.perCpu[n]?.[c] ?? 0;
        rows.push({ input: inp.info.source, strategy: r.strategy.name, cpu: c, ...m });
      }
    }
  }
  return TypedTable.of('per_cpu', [...ID, 'cpu', ...METRIC_NAMES], rows);
}

/** Flush latency (initiator: local work + wait), one row per non-empty log2 bucket. */
export function latencyTable(inputs: readonly AnalysisInput[]): TypedTable<LatencyRow> {
  const rows: LatencyRow[] = [];
  for (const inp of inputs) {
    for (const r of inp.results) {
      const { lowerNs, counts } = r.latencyHistogram;
      counts.forEach((n, i) => {
        if (n > 0) rows.push({ input: inp.info.source, strategy: r.strategy.name, lower_ns: lowerNs[i], upper_ns: lowerNs[i + 1] ?? lowerNs[i] * 2, requests: n });
      });
    }
  }
  return TypedTable.of('latency', [...ID, 'lower_ns', 'upper_ns', 'requests'], rows);
}

/** Timeline buckets (fixed count across the trace), times relative to the first event. */
export function timelineTable(inputs: readonly AnalysisInput[]): TypedTable<TimelineRow> {
  const rows: TimelineRow[] = [];
  for (const inp of inputs) {
    for (const r of inp.results) {
      const tl = r.timeline;
      const n = Math.max(0, ...TIMELINE_METRICS.map((m) => tl.metrics[m]?.length ?? 0));
      for (let b = 0; b < n; b++) {
        const row: TimelineRow = { input: inp.info.source, strategy: r.strategy.name, bucket: b, start_ns: b * tl.bucketNs, end_ns: (b + 1) * tl.bucketNs };
        for (const m of TIMELINE_METRICS) row[m] = tl.metrics[m]?.[b] ?? 0;
        rows.push(row);
      }
    }
  }
  return TypedTable.of('timeline', [...ID, 'bucket', 'start_ns', 'end_ns', ...TIMELINE_METRICS], rows);
}

/** overhead_ns split by cause (the causes sum to overhead_ns). */
export function overheadCausesTable(runs: TypedTable<RunRow>): TypedTable<OverheadCauseRow> {
  const metrics = OVERHEAD_CAUSES.map((c) => c.metric);
  const labels = Object.fromEntries(OVERHEAD_CAUSES.map((c) => [c.metric, c.label]));
  const t = runs.data.select(...ID, 'overhead_ns', ...metrics)
    .fold(metrics as string[], { as: ['metric', 'ns'] })
    .params({ labels })
    .derive({
      cause: '$.labels[d.metric]',
      share: 'd.overhead_ns > 0 ? d.ns / d.overhead_ns : 0',
    }) as ColumnTable;
  return TypedTable.wrap('overhead_causes', [...ID, 'cause', 'metric', 'ns', 'share'], t);
}

export function ipiMatrixTable(inputs: readonly AnalysisInput[]): TypedTable<IpiMatrixRow> {
  const rows: IpiMatrixRow[] = [];
  for (const inp of inputs) {
    for (const r of inp.results) {
      for (const c of r.ipiMatrix ?? []) rows.push({ input: inp.info.source, strategy: r.strategy.name, from_cpu: c.from, to_cpu: c.to, ipis: c.count });
    }
  }
  return TypedTable.of('ipi_matrix', [...ID, 'from_cpu', 'to_cpu', 'ipis'], rows);
}

const CLASSES = [['full', 'full flush'], ['ranged', 'ranged'], ['none', 'no flush']] as const;

/** True when the trace carries what the recorded kernel did (tlb_flush or IPI records). */
export function hasObservations(inp: AnalysisInput): boolean {
  return (inp.info.countsByKind.observed_flush ?? 0) > 0 || (inp.info.countsByKind.observed_ipi ?? 0) > 0;
}

/** Observed vs predicted for the current-kernel strategy: the validation result when one
 *  was given, else the tlb:tlb_flush counts (by reason and class) and cross-calls the
 *  replay predicted next to the ones the trace recorded. */
export function observedPredictedRows(inp: AnalysisInput, strategy: string = CURRENT_STRATEGY): { rows: ObservedPredictedRow[]; agreement: number | null; strategy: string } {
  const input = inp.info.source;
  if (inp.validation) {
    const v: ValidationResult = inp.validation;
    return {
      strategy: v.strategy,
      agreement: v.agreement,
      rows: v.rows.map((r) => ({ input, strategy: v.strategy, what: r.what, observed: r.observed, predicted: r.predicted, agreement: r.agreement ?? rowAgreement(r.observed, r.predicted) })),
    };
  }
  const r = inp.results.find((x) => x.strategy.name === strategy);
  if (!r || !hasObservations(inp)) return { rows: [], agreement: null, strategy };
  const rows: ObservedPredictedRow[] = [];
  const add = (what: string, o: number, p: number) => rows.push({ input, strategy, what, observed: o, predicted: p, agreement: rowAgreement(o, p) });
  for (let reason = 0; reason < TLB_FLUSH_REASON_NAMES.length; reason++) {
    const o = r.observed.tlbFlush[String(reason)], p = r.predicted.tlbFlush[String(reason)];
    if (!o && !p) continue;
    for (const [k, label] of CLASSES) {
      const ov = o?.[k] ?? 0, pv = p?.[k] ?? 0;
      if (ov + pv > 0) add(`tlb_flush reason ${reason} (${TLB_FLUSH_REASON_NAMES[reason]}): ${label}`, ov, pv);
    }
    const op_ = o?.pages ?? 0, pp = p?.pages ?? 0;
    if (op_ + pp > 0) add(`tlb_flush reason ${reason} (${TLB_FLUSH_REASON_NAMES[reason]}): pages`, op_, pp);
  }
  add('flush cross-calls queued (csd_queue_cpu flush_tlb_func)', r.observed.ipiByKind.flushQueued ?? 0, r.predicted.csdQueued);
  add('IPI sends (ipi_send_cpu/cpumask; observed counts every purpose, the model only TLB ones)', r.observed.ipiSends, r.predicted.ipiSends);
  // Overall: Σ min / Σ max as validateRun's, so a row of 600 switches counts more than a
  // row of 1 wrong-CPU flush.
  let lo = 0, hi = 0;
  for (const x of rows) { lo += Math.min(x.observed, x.predicted); hi += Math.max(x.observed, x.predicted); }
  return { rows, agreement: hi > 0 ? lo / hi : 1, strategy };
}

export function observedPredictedTable(inputs: readonly AnalysisInput[]): TypedTable<ObservedPredictedRow> {
  const rows = inputs.flatMap((i) => observedPredictedRows(i, validationStrategy(i.info.machine, i.results.map((r) => r.strategy.name)) ?? CURRENT_STRATEGY).rows);
  return TypedTable.of('observed_predicted', [...ID, 'what', 'observed', 'predicted', 'agreement'], rows);
}

export function violationsTable(inputs: readonly AnalysisInput[]): TypedTable<ViolationRow> {
  const rows: ViolationRow[] = [];
  for (const inp of inputs) {
    const ev = new Map((inp.violationEvents ?? []).map((e) => [e.eventIndex, e]));
    for (const r of inp.results) {
      for (const v of r.violations.first) {
        const e = ev.get(v.eventIndex);
        rows.push({
          input: inp.info.source, strategy: r.strategy.name, event_index: v.eventIndex, kind: v.kind, cpu: v.cpu, mm: v.mm, what: v.what,
          time_ns: e ? e.timeNs - inp.info.firstNs : null, event: e?.kind ?? '', tid: e?.tid ?? null, task: e?.comm ?? '',
        });
      }
    }
  }
  return TypedTable.of('violations', [...ID, 'event_index', 'kind', 'cpu', 'mm', 'what', 'time_ns', 'event', 'tid', 'task'], rows);
}

export function tasksTable(inputs: readonly AnalysisInput[]): TypedTable<TaskRow> {
  const rows: TaskRow[] = [];
  for (const inp of inputs) {
    for (const t of inp.info.tasks) rows.push({ input: inp.info.source, tid: t.tid, task: t.comm, tgid: t.tgid, mm: t.mm, route: t.route });
  }
  return TypedTable.of('tasks', ['input', 'tid', 'task', 'tgid', 'mm', 'route'], rows);
}

export function calibrationTable(data: AnalysisData): TypedTable<CalibrationRow> {
  const rows: CalibrationRow[] = (data.calibration?.rows ?? []).map((r) => ({
    ...r, error: r.published !== 0 ? r.simulated / r.published - 1 : null,
  }));
  return TypedTable.of('calibration', ['benchmark', 'metric', 'strategy', 'baseline', 'published', 'simulated', 'error'], rows);
}

export function sensitivityTable(inputs: readonly AnalysisInput[]): TypedTable<SensitivityRow> {
  const rows: SensitivityRow[] = [];
  for (const inp of inputs) {
    const u = inp.uncertainty;
    if (!u?.headline) continue;
    for (const s of u.sensitivity) {
      rows.push({ input: inp.info.source, strategy: u.headline.strategy, baseline: u.baseline, assumption: s.assumption, keys: s.keys.join(' '), span: s.phrase, ratio: u.headline.ratio.nominal, ratio_lo: s.ratioLo, ratio_hi: s.ratioHi });
    }
  }
  return TypedTable.of('sensitivity', ['input', 'strategy', 'baseline', 'assumption', 'keys', 'span', 'ratio', 'ratio_lo', 'ratio_hi'], rows);
}

/** Every table, from the replay results of one or more inputs. */
export function buildTables(data: AnalysisData): Tables {
  const runs = runsTable(data.inputs);
  return {
    runs,
    ratios: ratiosTable(runs, data.baseline ?? BASELINE_STRATEGY),
    per_cpu: perCpuTable(data.inputs),
    latency: latencyTable(data.inputs),
    timeline: timelineTable(data.inputs),
    overhead_causes: overheadCausesTable(runs),
    ipi_matrix: ipiMatrixTable(data.inputs),
    observed_predicted: observedPredictedTable(data.inputs),
    violations: violationsTable(data.inputs),
    tasks: tasksTable(data.inputs),
    calibration: calibrationTable(data),
    ...(data.inputs.some((i) => i.uncertainty !== undefined) ? { sensitivity: sensitivityTable(data.inputs) } : {}),
  };
}

/** Highest value that still counts as best (lowest) among rows, for highlighting: within
 *  0.5 % of the minimum, so strategies that read the same in the table are all marked.
 *  undefined when all are equal (nothing to choose). */
export function bestValue(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const min = Math.min(...values), max = Math.max(...values);
  if (min === max) return undefined;
  const limit = min + Math.abs(min) * 0.005;
  return limit >= max ? undefined : limit;
}


