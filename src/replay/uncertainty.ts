// `replay --uncertainty`: the same events replayed with the profile's numbers drawn across
// their ranges (draws.ts), so each strategy's overhead and its ratio to the baseline come
// with an interval, plus one-at-a-time sweeps of the assumptions that drive a result (the
// working set of a trace without access events, the idle wake, the IPI costs) so a reader
// sees which assumption the headline hangs on.
//
// The interval is the min–max over the draws (nominal included): with 16 draws a 5th–95th
// percentile would be the second-lowest and second-highest draw, a distinction the draw
// count cannot support. It is the spread the ranges allow, not a confidence interval.
//
// The events are read again from the source (a parsed trace is kept in its event store;
// nothing is parsed twice) in one pass for all draws: replay() runs every draw x strategy
// side by side, in this thread for small inputs, else over its worker pool.
import type { EventSource } from '../trace/event.ts';
import type { CostKey, CostProfile } from '../machine/profiles.ts';
import type { RunResult } from '../machine/result.ts';
import { DEFAULT_DRAWS, drawProfiles, variedRanges } from './draws.ts';
import { replay } from './replay.ts';
import { fmtNs } from '../analysis/format.ts';

export { DEFAULT_DRAWS } from './draws.ts';
export const DEFAULT_SEED = 1;
/** Below this many events x runs, the draws replay in this thread. */
const IN_PROCESS_EVENT_RUNS = 20_000_000;

export interface Interval { nominal: number; lo: number; hi: number }

export interface StrategyInterval {
  strategy: string;
  overhead_ns: Interval;
  /** overhead_ns ÷ the baseline's in the same draw; null without a baseline or when it is 0. */
  ratio: Interval | null;
}

/** One assumption swept on its own (every other number nominal). */
export interface Sensitivity {
  /** Short name, e.g. "workingSetPages" or "IPI costs". */
  assumption: string;
  keys: CostKey[];
  /** What the sweep spans, for a sentence: "a working set of 16–512 pages". */
  phrase: string;
  /** The headline strategy's ratio at the low and high end (null: the baseline was 0). */
  ratioLo: number | null;
  ratioHi: number | null;
}

export interface UncertaintyResult {
  draws: number;
  seed: number;
  /** How the interval is taken: 'min-max' over the draws. */
  interval: 'min-max';
  baseline: string;
  /** Keys that varied (every other number of the profile is exact). */
  varied: CostKey[];
  strategies: StrategyInterval[];
  /** The strategy the headline is about (lowest overhead without violations), if any. */
  headline: { strategy: string; ratio: Interval } | null;
  /** Sweeps of the driving assumptions, largest effect on the headline ratio first. */
  sensitivity: Sensitivity[];
}

export interface UncertaintyOptions {
  strategies: string[];
  profile: CostProfile;
  baseline: string;
  /** The plain replay's results (the nominal draw; not replayed again). */
  nominal: RunResult[];
  draws?: number;
  seed?: number;
  pcid?: boolean;
  workers?: number | 'auto';
  /** See ReplayOptions.stateBudget and note. */
  stateBudget?: number;
  note?: (line: string) => void;
}

/** Replay `profiles` x `strategies` over `source` in one pass; results[profile][strategy]. */
async function replayAll(source: EventSource, profiles: CostProfile[], strategies: string[], opts: UncertaintyOptions): Promise<RunResult[][]> {
  if (profiles.length === 0 || strategies.length === 0) return profiles.map(() => []);
  // Worker threads cost about a second each to start (tsx and the simulator): below this
  // much work one thread finishes first, as in the replay command.
  const small = source.info.events * profiles.length * strategies.length < IN_PROCESS_EVENT_RUNS;
  const flat = await replay(source, {
    strategies, profiles, workers: small ? 1 : (opts.workers ?? 'auto'),
    ...(opts.pcid === undefined ? {} : { pcid: opts.pcid }),
    ...(opts.stateBudget === undefined ? {} : { stateBudget: opts.stateBudget }),
    ...(opts.note === undefined ? {} : { note: opts.note }),
  });
  return profiles.map((_, p) => flat.slice(p * strategies.length, (p + 1) * strategies.length));
}

const overhead = (rs: RunResult[], name: string): number | undefined => rs.find((r) => r.strategy.name === name)?.metrics.overhead_ns;

function ratioOf(v: number | undefined, b: number | undefined): number | null {
  if (v === undefined || b === undefined) return null;
  if (b > 0) return v / b;
  return v === 0 ? 1 : null;
}

function interval(values: (number | null)[]): Interval | null {
  if (values.some((v) => v === null) || values.length === 0) return null;
  const vs = values as number[];
  return { nominal: vs[0], lo: Math.min(...vs), hi: Math.max(...vs) };
}

/** The headline strategy: lowest nominal overhead among the non-baseline strategies
 *  without coherence violations (replay order breaks ties). */
export function headlineStrategy(nominal: readonly RunResult[], baseline: string): string | null {
  let best: RunResult | null = null;
  for (const r of nominal) {
    if (r.strategy.name === baseline || r.violations.count > 0) continue;
    if (best === null || r.metrics.overhead_ns < best.metrics.overhead_ns) best = r;
  }
  return best?.strategy.name ?? null;
}

/** The sweeps of the assumptions that drive a result, restricted to keys that vary. */
function sweeps(source: EventSource, profile: CostProfile): { assumption: string; keys: CostKey[]; phrase: string; lo: CostProfile; hi: CostProfile }[] {
  const varied = new Map(variedRanges(profile));
  const out: { assumption: string; keys: CostKey[]; phrase: string; lo: CostProfile; hi: CostProfile }[] = [];
  const add = (assumption: string, keys: CostKey[], phrase: (lo: CostProfile, hi: CostProfile) => string) => {
    const ks = keys.filter((k) => varied.has(k));
    if (ks.length === 0) return;
    const lo: CostProfile = { ...profile, name: `${profile.name}@${assumption}-lo` };
    const hi: CostProfile = { ...profile, name: `${profile.name}@${assumption}-hi` };
    for (const k of ks) { lo[k] = varied.get(k)!.lo; hi[k] = varied.get(k)!.hi; }
    out.push({ assumption, keys: ks, phrase: phrase(lo, hi), lo, hi });
  };
  // The working set matters only where the simulator assumes it (sim.ts: a trace without
  // access events; generated workloads carry their own accesses).
  const info = source.info;
  if ((info.countsByKind.access ?? 0) === 0 && info.format !== 'workload') {
    add('workingSetPages', ['workingSetPages'], (lo, hi) => `a working set of ${lo.workingSetPages}–${hi.workingSetPages} pages`);
  }
  add('ipiIdleWakeNs', ['ipiIdleWakeNs'], (lo, hi) => `an idle wake of ${fmtNs(lo.ipiIdleWakeNs)}–${fmtNs(hi.ipiIdleWakeNs)}`);
  add('IPI costs', ['ipiSendNs', 'ipiDeliverNs', 'ipiHandlerNs', 'ipiAckNs'],
    (lo, hi) => `IPI costs (send+deliver+handler+ack) of ${fmtNs(lo.ipiSendNs + lo.ipiDeliverNs + lo.ipiHandlerNs + lo.ipiAckNs)}–${fmtNs(hi.ipiSendNs + hi.ipiDeliverNs + hi.ipiHandlerNs + hi.ipiAckNs)}`);
  return out;
}

export async function runUncertainty(source: EventSource, opts: UncertaintyOptions): Promise<UncertaintyResult> {
  const n = Math.max(1, Math.floor(opts.draws ?? DEFAULT_DRAWS));
  const seed = opts.seed ?? DEFAULT_SEED;
  const profiles = drawProfiles(opts.profile, n, seed);
  const { baseline, strategies } = opts;
  const withBase = strategies.includes(baseline) ? strategies : [...strategies, baseline];
  const headName = headlineStrategy(opts.nominal, baseline);
  const sw = headName === null ? [] : sweeps(source, opts.profile);
  const swStrategies = headName === null ? [] : [...new Set([headName, baseline])];

  const drawn = await replayAll(source, profiles.slice(1), withBase, opts);
  const swept = await replayAll(source, sw.flatMap((s) => [s.lo, s.hi]), swStrategies, opts);
  const all = [opts.nominal, ...drawn];

  const rows: StrategyInterval[] = strategies.map((s) => ({
    strategy: s,
    overhead_ns: interval(all.map((rs) => overhead(rs, s) ?? null))!,
    ratio: interval(all.map((rs) => ratioOf(overhead(rs, s), overhead(rs, baseline)))),
  }));
  const headRow = rows.find((r) => r.strategy === headName);
  const sensitivity: Sensitivity[] = sw.map((s, i) => ({
    assumption: s.assumption, keys: s.keys, phrase: s.phrase,
    ratioLo: ratioOf(overhead(swept[2 * i], headName!), overhead(swept[2 * i], baseline)),
    ratioHi: ratioOf(overhead(swept[2 * i + 1], headName!), overhead(swept[2 * i + 1], baseline)),
  }));
  const spread = (s: Sensitivity) => (s.ratioLo === null || s.ratioHi === null ? 0 : Math.abs(s.ratioHi - s.ratioLo));
  sensitivity.sort((a, b) => spread(b) - spread(a));
  return {
    draws: n, seed, interval: 'min-max', baseline,
    varied: variedRanges(opts.profile).map(([k]) => k),
    strategies: rows,
    headline: headRow?.ratio ? { strategy: headRow.strategy, ratio: headRow.ratio } : null,
    sensitivity,
  };
}
