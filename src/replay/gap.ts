// Which cost assumptions the headline gap hangs on: the best safe strategy and the current
// kernel replayed with each ranged cost parameter at the low and the high end of its range
// (every other number nominal), all in one pass over the events. The gap (current − best)
// at each end says how far that one assumption moves it, and whether it could close it.
//
// Unlike --uncertainty (which draws all parameters together for every strategy), this is
// 2 strategies x 2 ends x the ranged keys, so it runs by default on inputs up to
// GAP_BUDGET_EVENT_RUNS; longer ones skip it (the report says so).
import type { EventSource } from '../trace/event.ts';
import type { CostKey, CostProfile } from '../machine/profiles.ts';
import { variedRanges } from './draws.ts';
import { replay } from './replay.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';

/** Events x runs above which the sweep is skipped unless asked for: with a built-in profile
 *  (18-19 ranged keys, 72-76 runs) about 20 000 events. */
export const GAP_BUDGET_EVENT_RUNS = 1_500_000;

export interface GapAssumption {
  key: CostKey;
  lo: number;
  hi: number;
  /** current − best with the key at lo and at hi. */
  gapLo: number;
  gapHi: number;
  source?: string;
}

export interface GapSensitivity {
  best: string;
  current: string;
  nominalGap: number;
  /** Largest |gapHi − gapLo| first; keys that do not move the gap are left out. */
  assumptions: GapAssumption[];
}

export interface GapOptions {
  profile: CostProfile;
  best: string;
  current: string;
  nominalGap: number;
  pcid?: boolean;
  /** Script-defined strategies best or current may name (registered names need none). */
  definitions?: readonly StrategyDefinition[];
  /** Run even above the budget. */
  force?: boolean;
  /** Events x runs above which it does not run (default GAP_BUDGET_EVENT_RUNS). */
  budget?: number;
}

/** null when the profile has no ranges, best is current, or the input is over budget. */
export async function gapSensitivity(source: EventSource, opts: GapOptions): Promise<GapSensitivity | null> {
  if (opts.best === opts.current) return null;
  const varied = variedRanges(opts.profile);
  if (varied.length === 0) return null;
  const strategies = [opts.best, opts.current].map((n) => opts.definitions?.find((d) => d.name === n) ?? n);
  const runs = varied.length * 2 * strategies.length;
  if (!opts.force && source.info.events * runs > (opts.budget ?? GAP_BUDGET_EVENT_RUNS)) return null;
  const profiles: CostProfile[] = [];
  for (const [k, r] of varied) {
    profiles.push({ ...opts.profile, name: `${opts.profile.name}@${k}-lo`, [k]: r.lo });
    profiles.push({ ...opts.profile, name: `${opts.profile.name}@${k}-hi`, [k]: r.hi });
  }
  // One thread: the sweep is used on small inputs, where worker start-up would dominate.
  const flat = await replay(source, { strategies, profiles, workers: 1, ...(opts.pcid === undefined ? {} : { pcid: opts.pcid }) });
  const gap = (p: number) => flat[p * 2 + 1].metrics.overhead_ns - flat[p * 2].metrics.overhead_ns;
  const assumptions: GapAssumption[] = varied.map(([key, r], i) => ({
    key, lo: r.lo, hi: r.hi, gapLo: gap(2 * i), gapHi: gap(2 * i + 1), ...(r.source ? { source: r.source } : {}),
  })).filter((a) => Math.abs(a.gapHi - a.gapLo) > Math.max(1e-6, Math.abs(opts.nominalGap) * 1e-3));
  assumptions.sort((x, y) => Math.abs(y.gapHi - y.gapLo) - Math.abs(x.gapHi - x.gapLo) || x.key.localeCompare(y.key));
  return { best: opts.best, current: opts.current, nominalGap: opts.nominalGap, assumptions };
}
