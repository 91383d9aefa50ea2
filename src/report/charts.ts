// Vega-Lite specs for one input's charts. Every chart is fed aggregated rows from the
// analysis tables (per strategy, per CPU, per bucket): never per-event data.
import type { TopLevelSpec } from 'vega-lite';
import type {
  IpiMatrixRow, LatencyRow, OverheadCauseRow, PerCpuRow, RatioRow, TimelineRow,
} from '../analysis/tables.ts';
import { OVERHEAD_CAUSES, metricDecl } from '../machine/metrics.ts';
import type { StrategyInterval } from '../replay/uncertainty.ts';

export interface ChartSpec {
  id: string;
  title: string;
  /** What the chart shows, in one sentence under its title. */
  caption: string;
  spec: TopLevelSpec;
}

/** Strategy colours: one fixed colour per strategy in replay order, across every chart. */
function strategyScale(strategies: readonly string[]) {
  return { domain: [...strategies], scheme: 'tableau20' as const };
}

/** Click a legend entry to highlight that strategy (the others fade). */
const legendPick = [{ name: 'pick', select: { type: 'point' as const, fields: ['strategy'] }, bind: 'legend' as const }];
const pickOpacity = { condition: { param: 'pick', value: 1 }, value: 0.15 };

export function fmtNs(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${(ns / 1e9).toPrecision(3)} s`;
  if (a >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (a >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${Math.round(ns)} ns`;
}

/** Key metrics of every strategy, one small bar chart per metric. */
export function metricBars(ratios: readonly RatioRow[], strategies: readonly string[], order: readonly string[],
  intervals?: readonly StrategyInterval[]): ChartSpec {
  const band = new Map((intervals ?? []).map((i) => [i.strategy, i.overhead_ns]));
  const skip = new Set(['context_switches']);
  const label = (m: string) => `${m}${metricDecl(m)?.unit === 'ns' ? ' (ns)' : ''}`;
  // A metric that is 0 for every strategy says nothing: leave its panel out.
  const nonZero = new Set(ratios.filter((r) => r.value !== 0).map((r) => r.metric));
  const values = ratios.filter((r) => !skip.has(r.metric) && nonZero.has(r.metric)).map((r) => {
    const b = r.metric === 'overhead_ns' ? band.get(r.strategy) : undefined;
    return {
      strategy: r.strategy, metric: label(r.metric), value: r.value,
      ratio: r.ratio === null ? 'n/a' : `×${r.ratio.toFixed(3)}`,
      ...(b ? { lo: b.lo, hi: b.hi } : {}),
    };
  });
  const axes = {
    y: { field: 'strategy', type: 'nominal' as const, sort: [...strategies], title: null, axis: { labelFontSize: 10 } },
    x: { field: 'value', type: 'quantitative' as const, title: null, axis: { tickCount: 4, labelExpr: "abs(datum.value) >= 1000 ? format(datum.value, '.3~s') : format(datum.value, '~g')" } },
  };
  const bar = {
    params: legendPick,
    mark: { type: 'bar' as const, tooltip: true },
    encoding: {
      color: { field: 'strategy', type: 'nominal' as const, scale: strategyScale(strategies), legend: null },
      opacity: pickOpacity,
      tooltip: [{ field: 'strategy' }, { field: 'metric' }, { field: 'value', format: ',' }, { field: 'ratio', title: 'vs baseline' },
        ...(band.size ? [{ field: 'lo', format: ',.0f', title: 'lo' }, { field: 'hi', format: ',.0f', title: 'hi' }] : [])],
    },
  };
  // --uncertainty: the overhead panel's bars get the draws' min-max as an error bar (rows
  // of the other metrics have no lo/hi, and Vega-Lite drops a rule without its ends).
  const rule = { mark: { type: 'rule' as const, color: '#1d2430' }, encoding: { x: { field: 'lo', type: 'quantitative' as const }, x2: { field: 'hi' } } };
  return {
    id: 'metrics',
    title: 'Key metrics per strategy',
    caption: `Each panel is one metric (its own scale); the tooltip gives the ratio to the baseline.${band.size ? ' The black lines on overhead_ns span the min–max over the --uncertainty draws.' : ''}`,
    spec: {
      data: { values },
      facet: { field: 'metric', type: 'nominal', sort: order.map(label), title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
      columns: 3,
      spec: {
        width: 210, height: { step: 12 },
        // Without intervals the spec is the single bar mark it always was.
        ...(band.size ? { encoding: axes, layer: [bar, rule] } : { ...bar, encoding: { ...axes, ...bar.encoding } }),
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

export function overheadByCause(rows: readonly OverheadCauseRow[], strategies: readonly string[]): ChartSpec {
  const causes = OVERHEAD_CAUSES.map((c) => c.label);
  const values = rows.filter((r) => r.ns > 0).map((r) => ({ strategy: r.strategy, cause: r.cause, us: r.ns / 1e3, share: `${(r.share * 100).toFixed(1)} %` }));
  return {
    id: 'causes',
    title: 'Overhead by cause',
    caption: 'Simulated time charged to TLB maintenance, split by what it was spent on (the parts add up to overhead_ns).',
    spec: {
      data: { values },
      width: 640, height: { step: 18 },
      params: [{ name: 'cause_pick', select: { type: 'point', fields: ['cause'] }, bind: 'legend' }],
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'strategy', type: 'nominal', sort: [...strategies], title: null },
        x: { field: 'us', type: 'quantitative', aggregate: 'sum', title: 'overhead (µs)', stack: 'zero' },
        color: { field: 'cause', type: 'nominal', sort: causes, scale: { domain: causes, scheme: 'set2' }, title: 'cause', legend: { orient: 'bottom', columns: 4 } },
        order: { field: 'cause', sort: 'ascending' },
        opacity: { condition: { param: 'cause_pick', value: 1 }, value: 0.2 },
        tooltip: [{ field: 'strategy' }, { field: 'cause' }, { field: 'us', aggregate: 'sum', title: 'µs', format: ',.1f' }, { field: 'share', aggregate: 'min', title: 'share' }],
      },
    },
  };
}

/** IPIs and flushes over time: one strip per strategy (colour = count in the bucket), the
 *  timeline buckets merged to at most 100. Strips rather than lines: eleven strategies'
 *  lines lie on top of each other, strips can be compared row by row. */
export function overTime(rows: readonly TimelineRow[], strategies: readonly string[]): ChartSpec {
  const MAX = 100;
  const byStrategy = new Map<string, TimelineRow[]>();
  for (const r of rows) { const s = String(r.strategy); if (!byStrategy.has(s)) byStrategy.set(s, []); byStrategy.get(s)!.push(r); }
  const values: { strategy: string; ms: number; ms2: number; series: string; n: number }[] = [];
  for (const [s, rs] of byStrategy) {
    const k = Math.max(1, Math.ceil(rs.length / MAX));
    for (let i = 0; i < rs.length; i += k) {
      let ipis = 0, flushes = 0;
      const last = Math.min(rs.length, i + k) - 1;
      for (let j = i; j <= last; j++) {
        ipis += Number(rs[j].ipis_sent ?? 0);
        flushes += Number(rs[j].cr3_flushes ?? 0) + Number(rs[j].full_flushes ?? 0);
      }
      const ms = Number(rs[i].start_ns) / 1e6, ms2 = Number(rs[last].end_ns) / 1e6;
      if (ipis > 0) values.push({ strategy: s, ms, ms2, series: 'IPIs sent', n: ipis });
      if (flushes > 0) values.push({ strategy: s, ms, ms2, series: 'full flushes', n: flushes });
    }
  }
  const end = Math.max(0, ...rows.map((r) => Number(r.end_ns) / 1e6));
  return {
    id: 'time',
    title: 'IPIs and flushes over time',
    caption: 'One strip per strategy: darker is more in that slice of the trace (time from its first event; empty where there were none). Full flushes are CR3 writes without NOFLUSH plus flush_tlb_local.',
    spec: {
      data: { values },
      facet: { row: { field: 'series', type: 'nominal', title: null, sort: 'ascending', header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold' } } },
      spec: {
        width: 640, height: { step: 14 },
        // One mark per slice: per-mark aria-labels would triple the SVG; the table and CSV
        // carry the numbers.
        mark: { type: 'rect', tooltip: true, aria: false },
        encoding: {
          x: { field: 'ms', type: 'quantitative', title: 'time (ms)', scale: { domain: [0, end], nice: false } },
          x2: { field: 'ms2' },
          y: { field: 'strategy', type: 'nominal', sort: [...strategies], title: null, scale: { domain: [...strategies] } },
          color: { field: 'n', type: 'quantitative', scale: { scheme: 'orangered', type: 'sqrt', domainMin: 0 }, title: 'per slice', legend: { format: ',d', tickCount: 3 } },
          tooltip: [{ field: 'strategy' }, { field: 'series' }, { field: 'ms', format: ',.3f', title: 'from ms' }, { field: 'ms2', format: ',.3f', title: 'to ms' }, { field: 'n', title: 'count' }],
        },
      },
      resolve: { scale: { color: 'independent' } },
    },
  };
}

/** Sender x target IPI counts per strategy; CPUs are grouped when there are more than 32. */
export function ipiHeatmap(rows: readonly IpiMatrixRow[], strategies: readonly string[], cpus: number): ChartSpec | null {
  if (rows.length === 0) return null;
  const group = Math.max(1, Math.ceil(cpus / 32));
  const cells = new Map<string, { strategy: string; from: number; to: number; ipis: number }>();
  for (const r of rows) {
    const from = Math.floor(r.from_cpu / group) * group, to = Math.floor(r.to_cpu / group) * group;
    const key = `${r.strategy}\u0000${from}\u0000${to}`;
    const c = cells.get(key);
    if (c) c.ipis += r.ipis; else cells.set(key, { strategy: r.strategy, from, to, ipis: r.ipis });
  }
  const shown = strategies.filter((s) => rows.some((r) => r.strategy === s));
  const label = group > 1 ? `CPUs (groups of ${group})` : 'CPU';
  const domain: number[] = [];
  for (let c = 0; c < cpus; c += group) domain.push(c);
  const side = Math.min(160, Math.max(60, Math.ceil(cpus / group) * 14));
  return {
    id: 'ipi-heatmap',
    title: 'IPIs from CPU to CPU',
    caption: `Real IPIs sent (sender row, target column) for each strategy that sent any${group > 1 ? `; CPUs grouped by ${group}` : ''}.`,
    spec: {
      data: { values: [...cells.values()] },
      facet: { field: 'strategy', type: 'nominal', sort: shown, title: null, header: { labelFontWeight: 'bold' } },
      columns: 4,
      spec: {
        width: side, height: side,
        mark: { type: 'rect', tooltip: true, aria: false },
        encoding: {
          x: { field: 'to', type: 'ordinal', title: `target ${label}`, scale: { domain }, axis: { labelAngle: 0, labelOverlap: 'greedy', labelFontSize: 9 } },
          y: { field: 'from', type: 'ordinal', title: `sender ${label}`, scale: { domain }, axis: { labelOverlap: 'greedy', labelFontSize: 9 } },
          color: { field: 'ipis', type: 'quantitative', scale: { scheme: 'oranges', type: 'sqrt', domainMin: 0 }, title: 'IPIs', legend: { format: ',d', tickCount: 3 } },
          tooltip: [{ field: 'strategy' }, { field: 'from', title: 'sender' }, { field: 'to', title: 'target' }, { field: 'ipis', title: 'IPIs' }],
        },
      },
      // Axes on every panel: a shared axis under an empty grid cell reads as a broken chart.
      resolve: { axis: { x: 'independent', y: 'independent' } },
    },
  };
}

export function latencyHeatmap(rows: readonly LatencyRow[], strategies: readonly string[]): ChartSpec | null {
  if (rows.length === 0) return null;
  const values = rows.map((r) => ({ strategy: r.strategy, bucket: `≥ ${fmtNs(r.lower_ns)}`, lower: r.lower_ns, range: `${fmtNs(r.lower_ns)} – ${fmtNs(r.upper_ns)}`, requests: r.requests }));
  const order = [...new Map(values.sort((a, b) => a.lower - b.lower).map((v) => [v.bucket, v])).keys()];
  return {
    id: 'latency',
    title: 'Flush latency distribution',
    caption: 'Flush requests by how long the initiator spent on them (local work plus waiting for remote CPUs), in power-of-two buckets.',
    spec: {
      data: { values },
      width: { step: 56 }, height: { step: 18 },
      layer: [
        {
          mark: { type: 'rect', tooltip: true },
          encoding: {
            color: { field: 'requests', type: 'quantitative', scale: { type: 'log', scheme: 'blues' }, title: 'requests', legend: { format: ',d', tickCount: 3 } },
            tooltip: [{ field: 'strategy' }, { field: 'range', title: 'latency' }, { field: 'requests' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 9 },
          encoding: {
            text: { field: 'requests', type: 'quantitative', format: '~s' },
            color: { condition: { test: 'datum.requests > 1000', value: 'white' }, value: 'black' },
          },
        },
      ],
      encoding: {
        x: { field: 'bucket', type: 'ordinal', sort: order, title: 'latency on the initiator', axis: { labelAngle: -30 } },
        y: { field: 'strategy', type: 'nominal', sort: [...strategies], title: null },
      },
    },
  };
}

/** Overhead per CPU: grouped bars for a few CPUs, a heatmap for many. */
export function perCpuOverhead(rows: readonly PerCpuRow[], strategies: readonly string[], cpus: number): ChartSpec {
  const base = {
    id: 'per-cpu',
    title: 'Overhead per CPU',
    caption: 'Simulated overhead charged to each CPU (initiators pay for waiting, targets for handling IPIs).',
  };
  if (cpus <= 16) {
    const values = rows.map((r) => ({ strategy: r.strategy, cpu: `CPU ${r.cpu}`, us: r.overhead_ns / 1e3 }));
    const cpuNames = Array.from({ length: cpus }, (_, c) => `CPU ${c}`);
    return {
      ...base,
      caption: `${base.caption} Each bar is a strategy's total, split by CPU.`,
      spec: {
        data: { values },
        width: 640, height: { step: 18 },
        params: [{ name: 'cpu_pick', select: { type: 'point', fields: ['cpu'] }, bind: 'legend' }],
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'strategy', type: 'nominal', sort: [...strategies], title: null },
          x: { field: 'us', type: 'quantitative', title: 'overhead (µs)', stack: 'zero' },
          color: { field: 'cpu', type: 'nominal', sort: cpuNames, scale: { domain: cpuNames, scheme: 'category10' }, title: null, legend: { orient: 'bottom', columns: 8 } },
          order: { field: 'cpu', sort: 'ascending' },
          opacity: { condition: { param: 'cpu_pick', value: 1 }, value: 0.2 },
          tooltip: [{ field: 'strategy' }, { field: 'cpu' }, { field: 'us', title: 'µs', format: ',.1f' }],
        },
      },
    };
  }
  const group = Math.max(1, Math.ceil(cpus / 64));
  const cells = new Map<string, { strategy: string; cpu: number; us: number }>();
  for (const r of rows) {
    const cpu = Math.floor(r.cpu / group) * group;
    const key = `${r.strategy}\u0000${cpu}`;
    const c = cells.get(key);
    if (c) c.us += r.overhead_ns / 1e3; else cells.set(key, { strategy: r.strategy, cpu, us: r.overhead_ns / 1e3 });
  }
  return {
    ...base,
    caption: `${base.caption}${group > 1 ? ` CPUs grouped by ${group}.` : ''}`,
    spec: {
      data: { values: [...cells.values()] },
      width: 640, height: { step: 16 },
      mark: { type: 'rect', tooltip: true },
      encoding: {
        x: { field: 'cpu', type: 'ordinal', title: group > 1 ? `CPU (groups of ${group})` : 'CPU', axis: { labelAngle: 0, labelOverlap: true } },
        y: { field: 'strategy', type: 'nominal', sort: [...strategies], title: null },
        color: { field: 'us', type: 'quantitative', scale: { scheme: 'purples' }, title: 'µs' },
        tooltip: [{ field: 'strategy' }, { field: 'cpu' }, { field: 'us', title: 'µs', format: ',.1f' }],
      },
    },
  };
}
