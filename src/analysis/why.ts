// Why the winner wins: the gap between the current kernel's overhead and the best safe
// strategy's, split by cause (the per-cause charges add up to overhead_ns, so the split is
// exact), by CPU and by task, with the counts behind the largest causes and the cost
// parameters that move the gap most (gapSensitivity, src/replay/gap.ts). One function, so
// the report, the terminal summary and the JSON use the same words.
import { OVERHEAD_CAUSES } from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import { CURRENT_STRATEGY, validationStrategy } from '../strategies/index.ts';
import { fmtNs, inertName } from './format.ts';
import type { AnalysisInput } from './types.ts';
import type { GapSensitivity } from '../replay/gap.ts';

/** One cause of overhead under two strategies a and b (in the gap: a best, b current). */
export interface CauseDelta {
  metric: string;
  label: string;
  a: number;
  b: number;
  /** b − a (in the gap: positive when the current kernel spends more). */
  delta: number;
}

export interface CountDelta { metric: string; label: string; best: number; current: number }
export interface CpuDelta { cpu: number; a: number; b: number; delta: number }
export interface TaskDelta { tid: number; comm: string; delta: number }
/** A task's overhead under a and b. */
export interface TaskPair extends TaskDelta { a: number; b: number }

export interface Why {
  input: string;
  /** Lowest overhead among the safe strategies without coherence violations. */
  best: string;
  /** The current kernel (CURRENT_STRATEGY, else the newest kernel replayed). */
  current: string;
  bestNs: number;
  currentNs: number;
  /** currentNs − bestNs. */
  gapNs: number;
  /** Every cause whose charge differs, largest |delta| first. */
  causes: CauseDelta[];
  /** The counts that explain the causes, where they differ. */
  counts: CountDelta[];
  /** Per CPU, largest delta first (CPUs with no difference left out). */
  cpus: CpuDelta[];
  /** Per task, largest delta first (at most 10; tasks with no difference left out). */
  tasks: TaskPair[];
  /** Where the gap concentrates, in words ("on CPU 0 (+7.02 µs)", "spread over 9 tasks"). */
  where: string[];
  /** The cost parameters that move the gap most, in words, when gapSensitivity ran. */
  assumptions: string[];
  /** One sentence (task names inside are untrusted text: escape or sanitise to show). */
  sentence: string;
}

/** Counts behind each cause, named as a reader would ("2 IPIs vs 0"). */
const COUNT_OF: Record<string, [metric: string, label: string][]> = {
  initiator_wait_ns: [['ipis_sent', 'IPIs']],
  ipi_ns: [['ipis_sent', 'IPIs'], ['ipis_to_lazy', 'IPIs to lazy CPUs']],
  cr3_ns: [['cr3_writes', 'CR3 writes'], ['cr3_flushes', 'flushing CR3 writes']],
  invalidate_ns: [['full_flushes', 'full flushes'], ['page_flushes', 'page flushes']],
  refill_ns: [['tlb_misses', 'TLB misses']],
  atomic_ns: [['atomic_ops', 'atomics']],
};

/** A share of the gap that is named as where it concentrates. */
const CONCENTRATED = 0.5;
/** Two overheads this close are a tie (the report's "best within 0.5 %"). */
const TIE = 0.005;

export function signedNs(ns: number): string {
  return `${ns > 0 ? '+' : ns < 0 ? '−' : '±'}${fmtNs(Math.abs(ns))}`;
}

/** The strategy the gap is measured from: the current kernel when it was replayed, else the
 *  newest kernel among the strategies. */
export function currentOf(results: readonly RunResult[]): string | null {
  const names = results.map((r) => r.strategy.name);
  return names.includes(CURRENT_STRATEGY) ? CURRENT_STRATEGY : validationStrategy(undefined, names);
}

/** The best safe strategy: lowest overhead_ns among the strategies declared safe that had no
 *  coherence violation; `prefer` wins ties (so the current kernel is not said to lose to an
 *  equal). */
export function bestSafe(results: readonly RunResult[], prefer?: string): RunResult | null {
  const ok = results.filter((r) => r.strategy.safe && r.violations.count === 0);
  if (ok.length === 0) return null;
  const lo = Math.min(...ok.map((r) => r.metrics.overhead_ns));
  const tied = ok.filter((r) => r.metrics.overhead_ns <= lo * (1 + TIE));
  return tied.find((r) => r.strategy.name === prefer) ?? tied.find((r) => r.metrics.overhead_ns === lo)!;
}

export { inertName };

function taskNames(inp: AnalysisInput): Map<number, string> {
  const m = new Map<number, string>();
  for (const t of inp.info.tasks) m.set(t.tid, inertName(t.comm));
  m.set(0, '<idle>');
  return m;
}

/** Per-task overhead deltas b − a (largest first, or largest |delta| first with `byMagnitude`),
 *  from RunResult.taskOverhead. */
export function taskDeltas(inp: AnalysisInput, a: RunResult, b: RunResult, limit = Infinity, byMagnitude = false): TaskPair[] {
  const names = taskNames(inp);
  const d = new Map<number, { a: number; b: number }>();
  const at = (tid: number) => { let x = d.get(tid); if (!x) { x = { a: 0, b: 0 }; d.set(tid, x); } return x; };
  for (const t of a.taskOverhead ?? []) at(t.tid).a += t.ns;
  for (const t of b.taskOverhead ?? []) at(t.tid).b += t.ns;
  return [...d].map(([tid, v]) => ({ tid, comm: names.get(tid) ?? '?', a: v.a, b: v.b, delta: v.b - v.a }))
    .filter((t) => Math.abs(t.delta) > 1e-6)
    .sort((x, y) => (byMagnitude ? Math.abs(y.delta) - Math.abs(x.delta) : y.delta - x.delta) || x.tid - y.tid)
    .slice(0, limit);
}

/** Per-CPU overhead deltas b − a (largest first). */
export function cpuDeltas(a: RunResult, b: RunResult): CpuDelta[] {
  const pa = a.perCpu.overhead_ns ?? [], pb = b.perCpu.overhead_ns ?? [];
  const out: CpuDelta[] = [];
  for (let c = 0; c < Math.max(pa.length, pb.length); c++) {
    const delta = (pb[c] ?? 0) - (pa[c] ?? 0);
    if (Math.abs(delta) > 1e-6) out.push({ cpu: c, a: pa[c] ?? 0, b: pb[c] ?? 0, delta });
  }
  return out.sort((x, y) => y.delta - x.delta || x.cpu - y.cpu);
}

/** Per-cause deltas b − a (largest |delta| first; equal causes left out). */
export function causeDeltas(a: RunResult, b: RunResult): CauseDelta[] {
  return OVERHEAD_CAUSES.map((c) => ({ metric: c.metric, label: c.label, a: a.metrics[c.metric] ?? 0, b: b.metrics[c.metric] ?? 0 }))
    .map((c) => ({ ...c, delta: c.b - c.a }))
    .filter((c) => Math.abs(c.delta) > 1e-6)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
}

/** "CPU 0 +7.02 µs" / "pingpong-7655 +10.7 µs": the one or two parts that together hold at
 *  least half the gap, or null when it is spread wider. */
function concentration<T>(parts: readonly T[], gap: number, value: (p: T) => number, name: (p: T) => string): string | null {
  if (gap <= 0) return null;
  let sum = 0;
  const named: T[] = [];
  for (const p of parts) {
    if (value(p) <= 0 || named.length >= 2) break;
    named.push(p); sum += value(p);
    if (sum >= CONCENTRATED * gap) break;
  }
  if (sum < CONCENTRATED * gap) return null;
  return named.map((p) => `${name(p)} (${signedNs(value(p))})`).join(' and ');
}

export function whyGap(inp: AnalysisInput, sens?: GapSensitivity): Why | null {
  const currentName = currentOf(inp.results);
  if (currentName === null) return null;
  const cur = inp.results.find((r) => r.strategy.name === currentName)!;
  const best = bestSafe(inp.results, currentName);
  if (best === null) return null;
  const gapNs = cur.metrics.overhead_ns - best.metrics.overhead_ns;
  const causes = causeDeltas(best, cur);
  const counts: CountDelta[] = [];
  const seen = new Set<string>();
  for (const c of causes.slice(0, 3)) {
    for (const [metric, label] of COUNT_OF[c.metric] ?? []) {
      if (seen.has(metric)) continue;
      seen.add(metric);
      const b = best.metrics[metric] ?? 0, k = cur.metrics[metric] ?? 0;
      if (b !== k) counts.push({ metric, label, best: b, current: k });
    }
  }
  const cpus = cpuDeltas(best, cur);
  const tasks = taskDeltas(inp, best, cur, 10);
  const where = [
    [concentration(cpus, gapNs, (p) => p.delta, (p) => `CPU ${p.cpu}`), 'on', 'CPUs', cpus.length],
    [concentration(tasks, gapNs, (p) => p.delta, (p) => `${p.comm}-${p.tid}`), 'in task', 'tasks', tasks.length],
  ].flatMap(([text, prep, what, n]) => (text !== null ? [`${prep} ${text}`] : gapNs > 0 && (n as number) > 2 ? [`spread over ${n} ${what}`] : []));
  const assumptions = sens && sens.best === best.strategy.name && sens.current === currentName ? assumptionText(sens) : [];
  const out: Why = {
    input: inp.info.source, best: best.strategy.name, current: currentName,
    bestNs: best.metrics.overhead_ns, currentNs: cur.metrics.overhead_ns, gapNs,
    causes, counts, cpus, tasks, where, assumptions, sentence: '',
  };
  out.sentence = sentence(out);
  return out;
}

function fmtCountPair(c: CountDelta): string {
  const n = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1));
  return `${c.label} ${n(c.current)} vs ${n(c.best)}`;
}

function sentence(w: Why): string {
  const curName = w.current === CURRENT_STRATEGY ? `${w.current} (the current kernel)` : `${w.current} (the newest kernel replayed)`;
  if (w.best === w.current || w.gapNs <= 0) {
    return `${curName} has the lowest overhead of the safe strategies, ${fmtNs(w.currentNs)}${w.best !== w.current ? ` (tied with ${w.best})` : ''}.`;
  }
  const pct = w.bestNs > 0 ? ` (×${(w.currentNs / w.bestNs).toFixed(2)})` : '';
  const top = w.causes.slice(0, 3).map((c) => {
    const k = w.counts.filter((x) => (COUNT_OF[c.metric] ?? []).some(([m]) => m === x.metric));
    return `${signedNs(c.delta)} ${c.label}${k.length ? ` (${k.map(fmtCountPair).join(', ')})` : ''}`;
  });
  const rest = w.causes.length > 3 ? `; ${w.causes.length - 3} smaller ${w.causes.length - 3 === 1 ? 'cause' : 'causes'} ${signedNs(w.causes.slice(3).reduce((a, c) => a + c.delta, 0))}` : '';
  const where = w.where.length ? `; most of it ${w.where.join(' and ')}` : '';
  return `${curName} spends ${fmtNs(w.gapNs)} more overhead than ${w.best}${pct}, ${fmtNs(w.currentNs)} against ${fmtNs(w.bestNs)}: ${top.join(', ')}${rest}${where}.`;
}

/** The parameters that move the gap most, as "ipiDeliverNs 300–1200 ns: gap 4.1–15 µs". */
export function assumptionText(s: GapSensitivity, n = 3): string[] {
  return s.assumptions.slice(0, n).map((a) => {
    const v = (x: number) => (/Ns$/.test(a.key) ? fmtNs(x) : String(Number(x.toPrecision(3))));
    const flip = a.gapLo <= 0 || a.gapHi <= 0 ? ` (${s.current} is no worse at ${v(a.gapLo <= 0 ? a.lo : a.hi)})` : '';
    return `${a.key} ${v(a.lo)}–${v(a.hi)}: gap ${signedNs(a.gapLo)} to ${signedNs(a.gapHi)}${flip}`;
  });
}

/** The sentence in one terminal line (what `replay` prints under the table). */
export function whyLine(w: Why): string {
  return `why: ${w.sentence}${w.assumptions.length ? ` Most sensitive to ${w.assumptions.join('; ')}.` : ''}`;
}
