// A against B on one input (replay --compare a,b and the report's A-vs-B section): every key
// metric and cause side by side with its delta, like `perf diff`'s delta column, then the
// per-CPU and per-task overhead deltas. The first events where the two act differently come
// from src/validate/diverge.ts (it replays; this module only reads results).
import { KEY_METRICS, metricDecl } from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import { fmtNs } from './format.ts';
import type { AnalysisInput } from './types.ts';
import { causeDeltas, cpuDeltas, signedNs, taskDeltas, type CauseDelta, type CpuDelta, type TaskPair } from './why.ts';
import type { DivergeResult } from '../validate/diverge.ts';

export interface MetricDelta {
  metric: string;
  unit: 'ns' | 'count';
  a: number;
  b: number;
  delta: number;
  /** delta ÷ a; null when a is 0 (and b is not). */
  rel: number | null;
}

export interface Comparison {
  input: string;
  a: string;
  b: string;
  metrics: MetricDelta[];
  causes: CauseDelta[];
  cpus: CpuDelta[];
  /** Largest |delta| first, at most TASKS_SHOWN. */
  tasks: TaskPair[];
  /** Tasks whose overhead differs (tasks holds the first TASKS_SHOWN of them). */
  tasksDiffering: number;
  divergence?: DivergeResult;
}

export const TASKS_SHOWN = 20;

/** Parse "a,b": two distinct names, or a one-line reason. */
export function parseCompare(spec: string, known: readonly string[]): { a: string; b: string } | string {
  const parts = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length !== 2) return `--compare expects two strategy names separated by a comma (a,b), got "${spec}"`;
  for (const p of parts) if (!known.includes(p)) return `--compare: unknown strategy "${p}" (known: ${known.join(', ')})`;
  if (parts[0] === parts[1]) return `--compare needs two different strategies, got "${parts[0]}" twice`;
  return { a: parts[0], b: parts[1] };
}

function find(inp: AnalysisInput, name: string): RunResult {
  const r = inp.results.find((x) => x.strategy.name === name);
  if (!r) throw new Error(`compare: ${name} was not replayed on ${inp.info.source}`);
  return r;
}

export function compareRuns(inp: AnalysisInput, a: string, b: string, divergence?: DivergeResult): Comparison {
  const ra = find(inp, a), rb = find(inp, b);
  const metrics: MetricDelta[] = KEY_METRICS
    .filter((m) => m !== 'iteration_ns' || ra.metrics.iteration_ns > 0 || rb.metrics.iteration_ns > 0)
    .map((m) => {
      const va = ra.metrics[m] ?? 0, vb = rb.metrics[m] ?? 0;
      return { metric: m, unit: metricDecl(m)?.unit === 'ns' ? 'ns' : 'count', a: va, b: vb, delta: vb - va, rel: va !== 0 ? (vb - va) / va : vb === 0 ? 0 : null };
    });
  const all = taskDeltas(inp, ra, rb, Infinity, true);
  return {
    input: inp.info.source, a, b, metrics, causes: causeDeltas(ra, rb), cpus: cpuDeltas(ra, rb).sort((x, y) => x.cpu - y.cpu),
    tasks: all.slice(0, TASKS_SHOWN), tasksDiffering: all.length,
    ...(divergence ? { divergence } : {}),
  };
}

const count = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1));
export function fmtValue(unit: 'ns' | 'count', v: number): string { return unit === 'ns' ? fmtNs(v) : count(v); }
export function fmtDelta(unit: 'ns' | 'count', d: number): string {
  if (unit === 'ns') return signedNs(d);
  return d === 0 ? '0' : `${d > 0 ? '+' : '−'}${count(Math.abs(d))}`;
}
export function fmtRel(rel: number | null): string {
  if (rel === null) return 'new';
  if (rel === 0) return '';
  const p = rel * 100;
  return `${p > 0 ? '+' : '−'}${Math.abs(p) >= 10 ? Math.abs(p).toFixed(0) : Math.abs(p).toFixed(1)} %`;
}

/** The comparison as text (untrusted task names inside: print with printSafe). */
export function comparisonText(c: Comparison, divergeText?: (d: DivergeResult) => string): string {
  const L: string[] = [`${c.b} against ${c.a} on ${c.input} (delta = ${c.b} − ${c.a})`];
  const table = (head: string[], rows: string[][]) => {
    const all = [head, ...rows];
    const w = head.map((_, k) => Math.max(...all.map((r) => r[k].length)));
    for (const r of all) L.push('  ' + r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join('  ').trimEnd());
  };
  table(['metric', c.a, c.b, 'delta', 'delta %'], c.metrics.map((m) => [m.metric, fmtValue(m.unit, m.a), fmtValue(m.unit, m.b), fmtDelta(m.unit, m.delta), fmtRel(m.rel)]));
  L.push('');
  if (c.causes.length) table(['overhead by cause', c.a, c.b, 'delta', 'delta %'], c.causes.map((x) => [x.label, fmtNs(x.a), fmtNs(x.b), signedNs(x.delta), fmtRel(x.a !== 0 ? x.delta / x.a : null)]));
  else L.push('  overhead by cause: no difference');
  L.push('');
  if (c.cpus.length) table(['overhead by CPU', c.a, c.b, 'delta'], c.cpus.map((x) => [`CPU ${x.cpu}`, fmtNs(x.a), fmtNs(x.b), signedNs(x.delta)]));
  else L.push('  overhead by CPU: no difference');
  L.push('');
  if (c.tasks.length) {
    table([`overhead by task${c.tasksDiffering > c.tasks.length ? ` (${c.tasks.length} of ${c.tasksDiffering})` : ''}`, c.a, c.b, 'delta'],
      c.tasks.map((t) => [`${t.comm}-${t.tid}`, fmtNs(t.a), fmtNs(t.b), signedNs(t.delta)]));
  } else L.push('  overhead by task: no difference');
  if (c.divergence && divergeText) { L.push(''); L.push(divergeText(c.divergence).split('\n').map((l) => `  ${l}`).join('\n')); }
  return L.join('\n');
}
