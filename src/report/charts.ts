// Vega-Lite specs for one input's charts. Every chart is fed aggregated rows from the
// analysis tables (per strategy, per CPU, per bucket): never per-event data.
import type { TopLevelSpec } from 'vega-lite';
import type {
  IpiMatrixRow, LatencyRow, OverheadCauseRow, PerCpuRow, RatioRow, TimelineRow,
} from '../analysis/tables.ts';
import { OVERHEAD_CAUSES, metricDecl } from '../machine/metrics.ts';
import type { StrategyInterval } from '../replay/uncertainty.ts';
import { fmtCount, fmtNs, nsExpr } from '../analysis/format.ts';

export { fmtNs } from '../analysis/format.ts';

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

/** Counts on an axis: whole numbers with thousands separators (no SI "200k"). */
const COUNT_LABEL = "format(datum.value, ',~r')";

/** Key metrics of every strategy, one small bar chart per metric. A metric that is the same
 *  under every strategy gets no panel (the caption lists it); a metric whose non-zero values
 *  span more than 100x is drawn on a log scale, so 365 next to 38,829 still shows a bar. */
export function metricBars(ratios: readonly RatioRow[], strategies: readonly string[], order: readonly string[],
  intervals?: readonly StrategyInterval[]): ChartSpec {
  const band = new Map((intervals ?? []).map((i) => [i.strategy, i.overhead_ns]));
  const skip = new Set(['context_switches']);
  const byMetric = new Map<string, number[]>();
  for (const r of ratios) if (!skip.has(r.metric)) { if (!byMetric.has(r.metric)) byMetric.set(r.metric, []); byMetric.get(r.metric)!.push(r.value); }
  const equal: string[] = [];
  const logScale = new Set<string>();
  for (const [m, vs] of byMetric) {
    if (vs.every((v) => v === vs[0])) { if (vs[0] !== 0) equal.push(m); continue; }
    const pos = vs.filter((v) => v > 0);
    if (pos.length > 0 && Math.max(...pos) / Math.min(...pos) > 100) logScale.add(m);
  }
  const shownM = order.filter((m) => byMetric.has(m) && !equal.includes(m) && !byMetric.get(m)!.every((v) => v === 0));
  const label = (m: string) => `${m}${logScale.has(m) ? ' (log)' : ''}`;
  const isNs = (m: string) => metricDecl(m)?.unit === 'ns';
  const panels = shownM.map((m) => {
    const floor = (v: number) => (logScale.has(m) ? Math.max(v, 1) : v);
    const withBand = m === 'overhead_ns' && band.size > 0;
    const values = ratios.filter((r) => r.metric === m).map((r) => {
      const b = withBand ? band.get(r.strategy) : undefined;
      return {
        strategy: r.strategy, metric: m,
        // A log scale has no 0: such a bar is drawn from 1 and its tooltip still says 0.
        value: floor(r.value), base: logScale.has(m) ? 1 : 0,
        shown: isNs(m) ? fmtNs(r.value) : fmtCount(r.value),
        ratio: r.ratio === null ? 'n/a' : `×${r.ratio.toFixed(3)}`,
        ...(b ? { lo: floor(b.lo), hi: floor(b.hi), range: `${fmtNs(b.lo)} – ${fmtNs(b.hi)}` } : {}),
      };
    });
    const tooltip = [{ field: 'strategy' }, { field: 'metric' }, { field: 'shown', title: 'value' }, { field: 'ratio', title: 'vs baseline' },
      ...(withBand ? [{ field: 'range', title: 'range over draws' }] : [])];
    // --uncertainty: the overhead panel's bars get the draws' min-max as an error bar.
    const rule = { mark: { type: 'rule' as const }, encoding: { x: { field: 'lo', type: 'quantitative' as const }, x2: { field: 'hi' }, color: { value: '#1d2430' }, tooltip } };
    return {
      data: { values },
      title: { text: label(m), fontSize: 12, fontWeight: 'bold' as const, anchor: 'start' as const },
      width: 210, height: { step: 12 },
      ...(withBand ? { layer: [{ mark: { type: 'bar' as const, tooltip: true } }, rule] } : { mark: { type: 'bar' as const, tooltip: true } }),
      encoding: {
        y: { field: 'strategy', type: 'nominal' as const, sort: [...strategies], title: null, axis: { labelFontSize: 10 } },
        x: {
          field: 'value', type: 'quantitative' as const, title: null,
          scale: logScale.has(m) ? { type: 'log' as const } : {},
          axis: {
            tickCount: 4, ...(isNs(m) ? {} : { tickMinStep: 1 }),
            // On a log axis only powers of ten are labelled (the others crowd into "2 3 4 6 8").
            labelExpr: logScale.has(m)
              ? `abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6 ? (${isNs(m) ? nsExpr('datum.value') : COUNT_LABEL}) : ''`
              : isNs(m) ? nsExpr('datum.value') : COUNT_LABEL,
          },
        },
        // A log scale has no zero to start a bar at: every bar starts at 1.
        x2: { field: 'base' },
        color: { field: 'strategy', type: 'nominal' as const, scale: strategyScale(strategies), legend: null },
        tooltip,
      },
    };
  });
  const rows: (typeof panels)[] = [];
  for (let i = 0; i < panels.length; i += 3) rows.push(panels.slice(i, i + 3));
  const eqText = equal.length ? ` The same under every strategy (no panel): ${equal.map((m) => `${m} ${isNs(m) ? fmtNs(byMetric.get(m)![0]) : fmtCount(byMetric.get(m)![0])}`).join(', ')}.` : '';
  return {
    id: 'metrics',
    title: 'Key metrics per strategy',
    caption: `Each panel is one metric (its own scale; "(log)" where the values span more than 100×); the tooltip gives the ratio to the baseline.${band.size ? ' The black lines on overhead_ns span the min–max over the --uncertainty draws.' : ''}${eqText}`,
    spec: (rows.length ? { vconcat: rows.map((r) => ({ hconcat: r })) } : { data: { values: [] }, mark: 'bar' }) as unknown as TopLevelSpec,
  };
}

export function overheadByCause(rows: readonly OverheadCauseRow[], strategies: readonly string[]): ChartSpec {
  const causes = OVERHEAD_CAUSES.map((c) => c.label);
  // One row per strategy and cause, so nothing is aggregated: the tooltip shows the row's
  // own preformatted strings (aggregating a string is what printed "share: NaN").
  const values = rows.filter((r) => r.ns > 0).map((r) => ({ strategy: r.strategy, cause: r.cause, ns: r.ns, time: fmtNs(r.ns), share: `${(r.share * 100).toFixed(1)} %` }));
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
        x: { field: 'ns', type: 'quantitative', title: 'overhead', stack: 'zero', axis: { labelExpr: nsExpr('datum.value') } },
        color: { field: 'cause', type: 'nominal', sort: causes, scale: { domain: causes, scheme: 'set2' }, title: 'cause', legend: { orient: 'bottom', columns: 4 } },
        order: { field: 'cause', sort: 'ascending' },
        opacity: { condition: { param: 'cause_pick', value: 1 }, value: 0.2 },
        tooltip: [{ field: 'strategy' }, { field: 'cause' }, { field: 'time' }, { field: 'share' }],
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
          color: { field: 'n', type: 'quantitative', scale: { scheme: 'orangered', type: 'sqrt', domainMin: 0 }, title: 'per slice', legend: { format: ',d', tickMinStep: 1 } },
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
  if (cpus <= 4) {
    // Four CPUs or fewer: nine 2x2 panels spent a screen on a handful of numbers. One
    // strip instead: a column per sender→target pair, a row per strategy.
    const pairs: string[] = [];
    for (let f = 0; f < cpus; f++) for (let t = 0; t < cpus; t++) if (f !== t) pairs.push(`${f}→${t}`);
    const values = [...cells.values()].map((c) => ({ strategy: c.strategy, pair: `${c.from}→${c.to}`, ipis: c.ipis }));
    for (const v of values) if (!pairs.includes(v.pair)) pairs.push(v.pair);
    return {
      id: 'ipi-heatmap',
      title: 'IPIs from CPU to CPU',
      caption: 'Real IPIs sent, one column per sender→target pair, for each strategy that sent any.',
      spec: {
        data: { values },
        width: { step: 44 }, height: { step: 16 },
        layer: [
          { mark: { type: 'rect', tooltip: true }, encoding: { color: { field: 'ipis', type: 'quantitative', scale: { scheme: 'oranges', domainMin: 0 }, title: 'IPIs', legend: null } } },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'ipis', type: 'quantitative', format: ',d' } } },
        ],
        encoding: {
          x: { field: 'pair', type: 'ordinal', sort: pairs, scale: { domain: pairs }, title: 'sender→target CPU', axis: { labelAngle: 0 } },
          y: { field: 'strategy', type: 'nominal', sort: shown, title: null },
          tooltip: [{ field: 'strategy' }, { field: 'pair', title: 'sender→target' }, { field: 'ipis', title: 'IPIs' }],
        },
      },
    };
  }
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
          color: { field: 'ipis', type: 'quantitative', scale: { scheme: 'oranges', type: 'sqrt', domainMin: 0 }, title: 'IPIs', legend: { format: ',d', tickMinStep: 1 } },
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
  // Every log2 bucket between the lowest and the highest, empty ones too: an ordinal axis
  // of only the non-empty ones put '≥ 512 ns' right next to '≥ 4.1 µs'.
  const lowers = values.map((v) => v.lower);
  const lo = Math.min(...lowers.filter((l) => l > 0)), hi = Math.max(...lowers);
  const all: number[] = lowers.includes(0) ? [0] : [];
  if (Number.isFinite(lo)) for (let l = lo; l <= hi * 1.0001; l *= 2) all.push(l);
  const order = all.map((l) => `≥ ${fmtNs(l)}`);
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
            color: { field: 'requests', type: 'quantitative', scale: { type: 'log', scheme: 'blues' }, title: 'requests', legend: { format: ',d', tickMinStep: 1 } },
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
        x: { field: 'bucket', type: 'ordinal', sort: order, scale: { domain: order }, title: 'latency on the initiator', axis: { labelAngle: -30 } },
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
    const values = rows.map((r) => ({ strategy: r.strategy, cpu: `CPU ${r.cpu}`, ns: r.overhead_ns, time: fmtNs(r.overhead_ns) }));
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
          x: { field: 'ns', type: 'quantitative', title: 'overhead', stack: 'zero', axis: { labelExpr: nsExpr('datum.value') } },
          color: { field: 'cpu', type: 'nominal', sort: cpuNames, scale: { domain: cpuNames, scheme: 'category10' }, title: null, legend: { orient: 'bottom', columns: 8 } },
          order: { field: 'cpu', sort: 'ascending' },
          opacity: { condition: { param: 'cpu_pick', value: 1 }, value: 0.2 },
          tooltip: [{ field: 'strategy' }, { field: 'cpu' }, { field: 'time', title: 'overhead' }],
        },
      },
    };
  }
  const group = Math.max(1, Math.ceil(cpus / 64));
  const cells = new Map<string, { strategy: string; cpu: number; ns: number; time: string }>();
  for (const r of rows) {
    const cpu = Math.floor(r.cpu / group) * group;
    const key = `${r.strategy}\u0000${cpu}`;
    const c = cells.get(key);
    if (c) c.ns += r.overhead_ns; else cells.set(key, { strategy: r.strategy, cpu, ns: r.overhead_ns, time: '' });
  }
  for (const c of cells.values()) c.time = fmtNs(c.ns);
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
        color: { field: 'ns', type: 'quantitative', scale: { scheme: 'purples' }, title: 'overhead', legend: { labelExpr: nsExpr('datum.value') } },
        tooltip: [{ field: 'strategy' }, { field: 'cpu' }, { field: 'time', title: 'overhead' }],
      },
    },
  };
}
