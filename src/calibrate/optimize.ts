// A small derivative-free bounded optimizer for `tlbsim calibrate --fit`.
//
// Why pattern search (Hooke & Jeeves, "Direct search solution of numerical and statistical
// problems", J. ACM 8(2), 1961): every objective evaluation is a set of replays, whose
// results move in steps (counts of IPIs, refills) rather than smoothly, so finite-difference
// gradients are noise; and there are few parameters (under a dozen) with hard physical
// bounds. The search runs in log space normalised to [0, 1] per parameter (u = 0 at the lower
// bound, 1 at the upper), so a step means the same relative change for a 5 ns atomic and a
// 10 us idle exit, and clamping to [0, 1] keeps every trial inside the bounds.
// Deterministic: no randomness, coordinates tried in order, ties keep the incumbent.

export interface ParamBounds {
  lo: number;
  hi: number;
  /** The starting value (inside [lo, hi]). */
  x0: number;
}

export interface OptimizeOptions {
  /** Most objective evaluations (the start point included). */
  maxEvals: number;
  /** First step in normalised log space (default 0.25: a quarter of the log range). */
  initialStep?: number;
  /** Stop when the step falls below this (default 1/256). */
  minStep?: number;
}

export interface OptimizeResult {
  x: number[];
  f: number;
  /** Objective evaluations made (cached repeats not counted). */
  evals: number;
  /** The start point's objective. */
  f0: number;
  /** Why it stopped. */
  stop: 'converged' | 'max-evals';
}

export const toUnit = (x: number, b: ParamBounds): number =>
  b.hi === b.lo ? 0 : Math.min(1, Math.max(0, Math.log(x / b.lo) / Math.log(b.hi / b.lo)));
export const fromUnit = (u: number, b: ParamBounds): number => b.lo * Math.pow(b.hi / b.lo, Math.min(1, Math.max(0, u)));

class Budget extends Error {}

/** Minimise f over the box given by `bounds` with Hooke-Jeeves pattern search. */
export async function patternSearch(
  f: (x: number[]) => number | Promise<number>, bounds: readonly ParamBounds[], options: OptimizeOptions,
): Promise<OptimizeResult> {
  for (const b of bounds) {
    if (!(b.lo > 0 && b.hi >= b.lo && b.x0 >= b.lo && b.x0 <= b.hi)) {
      throw new RangeError(`bounds need 0 < lo <= x0 <= hi, got ${JSON.stringify(b)}`);
    }
  }
  const minStep = options.minStep ?? 1 / 256;
  let step = options.initialStep ?? 0.25;
  const cache = new Map<string, number>();
  let evals = 0;
  let best = { u: bounds.map((b) => toUnit(b.x0, b)), f: Infinity };
  const F = async (u: number[]): Promise<number> => {
    // Keys rounded well below minStep so that a point reached twice is evaluated once.
    const key = u.map((v) => v.toFixed(9)).join(',');
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    if (evals >= options.maxEvals) throw new Budget();
    evals++;
    const v = await f(u.map((ui, i) => fromUnit(ui, bounds[i])));
    const value = Number.isFinite(v) ? v : Infinity;
    cache.set(key, value);
    if (value < best.f) best = { u: [...u], f: value };
    return value;
  };
  const clamp = (u: number[]) => u.map((v) => Math.min(1, Math.max(0, v)));
  // One exploratory pass: for each coordinate, keep +step or -step if it improves.
  const explore = async (u0: number[], f0: number): Promise<{ u: number[]; f: number }> => {
    let u = [...u0], fu = f0;
    for (let i = 0; i < u.length; i++) {
      for (const dir of [1, -1]) {
        const t = [...u];
        t[i] = Math.min(1, Math.max(0, t[i] + dir * step));
        if (t[i] === u[i]) continue;
        const ft = await F(t);
        if (ft < fu) { u = t; fu = ft; break; }
      }
    }
    return { u, f: fu };
  };
  let f0 = Infinity;
  let stop: OptimizeResult['stop'] = 'converged';
  try {
    let base = best.u;
    let fb = await F(base);
    f0 = fb;
    while (step >= minStep) {
      let t = await explore(base, fb);
      if (t.f < fb) {
        // Pattern moves: keep going in the direction that worked while it keeps working.
        for (;;) {
          const pattern = clamp(t.u.map((v, i) => 2 * v - base[i]));
          base = t.u; fb = t.f;
          const next = await explore(pattern, await F(pattern));
          if (next.f < fb) t = next; else break;
        }
      } else {
        step /= 2;
      }
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stop = 'max-evals';
  }
  return { x: best.u.map((u, i) => fromUnit(u, bounds[i])), f: best.f, evals, f0, stop };
}
