// Deterministic parameter draws for `replay --uncertainty`: profiles whose numbers are taken
// across their ranges (CostProfile.ranges). Draw 0 is the nominal profile itself, so every
// interval contains the value the plain replay prints. The others are a Latin hypercube:
// each varied key's range is cut into n-1 strata and every stratum is used exactly once,
// which covers each range evenly with few draws (16 by default) where independent samples
// would leave gaps. Positive ranges are sampled log-uniformly (a cost known to ×2 is as
// likely halved as doubled); a range starting at 0 linearly.
import { COST_KEYS, type CostKey, type CostProfile, type CostRange } from '../machine/profiles.ts';

export { DEFAULT_DRAWS } from './draw-count.ts';

/** Keys whose values are counts: a draw rounds them. */
const INTEGRAL: ReadonlySet<CostKey> = new Set(['workingSetPages', 'tlbEntries', 'invlpgbMaxPages', 'cpusPerSocket', 'hz']);

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence anywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ranges a draw may vary: those of the profile whose range holds its value. A value
 *  outside its range was set on purpose (`--cost k=v`, a profile file): it stays exact. */
export function variedRanges(profile: CostProfile): [CostKey, CostRange][] {
  const out: [CostKey, CostRange][] = [];
  for (const k of COST_KEYS) {
    const r = profile.ranges?.[k];
    const v = profile[k];
    if (r === undefined || !(r.hi > r.lo) || v < r.lo || v > r.hi) continue;
    out.push([k, r]);
  }
  return out;
}

/** Value at position u in [0, 1) of a range (log-uniform when lo > 0). */
export function within(r: CostRange, u: number, key: CostKey): number {
  const v = r.lo > 0 ? r.lo * Math.pow(r.hi / r.lo, u) : r.lo + (r.hi - r.lo) * u;
  return INTEGRAL.has(key) ? Math.min(r.hi, Math.max(r.lo, Math.round(v))) : v;
}

/** n profiles: [0] the nominal one, [1..n-1] a Latin hypercube over the varied ranges,
 *  from `seed`. Each draw is named `<profile>#<i>`. */
export function drawProfiles(profile: CostProfile, n: number, seed: number): CostProfile[] {
  const out: CostProfile[] = [{ ...profile }];
  const m = n - 1;
  if (m <= 0) return out;
  const rand = mulberry32(seed);
  const varied = variedRanges(profile);
  // One shuffled stratum order per key (Fisher-Yates), drawn in COST_KEYS order so the
  // draws depend on the seed and the ranges only.
  const strata = varied.map(() => {
    const p = Array.from({ length: m }, (_, i) => i);
    for (let i = m - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j], p[i]]; }
    return p;
  });
  for (let d = 0; d < m; d++) {
    const p: CostProfile = { ...profile, name: `${profile.name}#${d + 1}` };
    varied.forEach(([k, r], i) => { p[k] = within(r, (strata[i][d] + rand()) / m, k); });
    out.push(p);
  }
  return out;
}
