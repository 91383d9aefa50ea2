// `tlbsim calibrate --fit`: least-squares fit of the unsourced cost numbers (fit-params.ts)
// against the published figures (targets.ts), one profile per class for all its rows.
//
// objective(x) = Σ over the class's 'fit' targets of ln(simulated / published)²
//              + PRIOR_WEIGHT × Σ over free params of (ln(x / hand) / ln(hi / lo))²
// Log-ratio residuals treat "twice as large" and "half as large" alike and make rows of
// different units (ratios, ns, shares) comparable. The prior is weak: it only decides where
// a parameter goes when no target cares about it (it stays at its hand value). 'held-out'
// and 'reported' targets are never replayed while the objective is evaluated, so they cannot
// influence the result; they are computed once before and once after.
import { openInput, type OpenedInput } from '../inputs.ts';
import { getProfile, type CostKey, type CostProfile, type CostRange } from '../machine/profiles.ts';
import { replay } from '../replay/replay.ts';
import { FIT_CLASSES, fittedName, type FitClass } from './fit-params.ts';
import { patternSearch, toUnit, fromUnit, type ParamBounds } from './optimize.ts';
import { FIT_TARGETS, targetStrategies, targetValue, type FitTarget, type TargetRole } from './targets.ts';

/** Weight of the pull toward the hand value: a parameter moved across its whole log range
 *  costs as much as one row 10% off (ln 1.1² ≈ 0.009). */
export const PRIOR_WEIGHT = 0.01;
/** The fitted range of a parameter: where the data part of the objective stays within this
 *  of its minimum, moving that parameter alone: one row's residual growing from 0 to ~15%
 *  (ln 1.15² ≈ 0.02). */
export const RANGE_RISE = 0.02;
/** Steps of the range scan, in normalised log units (fit-params bounds = 0..1). */
const RANGE_STEP = 0.125;
export const DEFAULT_MAX_EVALS = 250;

export interface RowResult {
  id: string;
  profileClass: string;
  role: TargetRole;
  published: number;
  tolerance: number;
  /** Simulated with the sourced profile and with the fitted one. */
  before: number;
  after: number;
  /** ln(simulated / published). */
  residualBefore: number;
  residualAfter: number;
  passBefore: boolean;
  passAfter: boolean;
  target: FitTarget;
}

export interface ParamResult {
  key: CostKey;
  hand: number;
  fitted: number;
  lo: number;
  hi: number;
  /** The fitted range (RANGE_RISE), inside [lo, hi]. */
  rangeLo: number;
  rangeHi: number;
  why: string;
}

export interface Rms { before: number; after: number; n: number }

export interface ClassFit {
  cls: string;
  name: string;
  base: string;
  params: ParamResult[];
  evals: number;
  stop: string;
  objectiveBefore: number;
  objectiveAfter: number;
  rows: RowResult[];
  rms: { fit: Rms; heldOut: Rms };
  profile: CostProfile;
}

export interface FitOptions {
  /** Classes to fit (default: every class with targets). */
  classes?: readonly string[];
  targets?: readonly FitTarget[];
  maxEvals?: number;
  /** Skip the range scan (tests). */
  ranges?: boolean;
  onProgress?: (what: string) => void;
}

/** Residual of one simulated value against the published one. A value at or below zero
 *  (e.g. nothing saved) counts as a thousandth of the published value, so it stays finite. */
export function residual(simulated: number, published: number): number {
  if (!Number.isFinite(simulated)) return Math.log(1e3);
  return Math.log(Math.max(simulated, published * 1e-3) / published);
}

/** Replays the workloads of `targets` under `profile`, each input opened once per fit. */
class TargetReplayer {
  private inputs = new Map<string, Promise<OpenedInput>>();

  async values(targets: readonly FitTarget[], profile: CostProfile): Promise<Map<string, number>> {
    const byWorkload = new Map<string, Set<string>>();
    for (const t of targets) {
      const s = byWorkload.get(t.workload) ?? new Set<string>();
      for (const x of targetStrategies(t)) s.add(x);
      byWorkload.set(t.workload, s);
    }
    const metrics = new Map<string, Record<string, number>>();
    for (const [workload, strategies] of byWorkload) {
      let input = this.inputs.get(workload);
      if (!input) { input = openInput(workload); this.inputs.set(workload, input); }
      const results = await replay(await input, { strategies: [...strategies], profile, workers: 1 });
      for (const r of results) metrics.set(`${workload}\n${r.strategy.name}`, r.metrics);
    }
    return new Map(targets.map((t) => [t.id, targetValue(t, (s) => metrics.get(`${t.workload}\n${s}`))]));
  }

  async close(): Promise<void> {
    for (const p of this.inputs.values()) (await p).close();
    this.inputs.clear();
  }
}

/** The class's base profile with free parameters set (tied keys follow their parameter). */
export function profileWith(cls: FitClass, x: readonly number[], name: string): CostProfile {
  const p: CostProfile = { ...getProfile(cls.base), name };
  cls.params.forEach((fp, i) => {
    p[fp.key] = x[i];
    for (const k of fp.tied ?? []) p[k] = x[i];
  });
  return p;
}

const rmsOf = (xs: readonly number[]): number => (xs.length ? Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length) : NaN);

/** Fit one class. */
export async function fitClass(clsName: string, options: FitOptions = {}): Promise<ClassFit> {
  const cls = FIT_CLASSES[clsName];
  if (!cls) throw new Error(`no fit class "${clsName}" (known: ${Object.keys(FIT_CLASSES).join(', ')})`);
  const targets = (options.targets ?? FIT_TARGETS).filter((t) => t.profileClass === clsName);
  const fitTargets = targets.filter((t) => t.role === 'fit');
  const bounds: ParamBounds[] = cls.params.map((fp) => {
    const hand = getProfile(cls.base)[fp.key];
    return { lo: fp.lo, hi: fp.hi, x0: Math.min(fp.hi, Math.max(fp.lo, hand)) };
  });
  const sim = new TargetReplayer();
  const progress = options.onProgress ?? (() => {});
  try {
    const dataObjective = async (x: readonly number[]): Promise<number> => {
      const v = await sim.values(fitTargets, profileWith(cls, x, `${clsName}-trial`));
      return fitTargets.reduce((a, t) => a + residual(v.get(t.id)!, t.published) ** 2, 0);
    };
    const prior = (x: readonly number[]): number => PRIOR_WEIGHT * bounds.reduce(
      (a, b, i) => a + (Math.log(x[i] / b.x0) / Math.log(b.hi / b.lo)) ** 2, 0);
    let n = 0;
    const opt = await patternSearch(async (x) => {
      const f = (await dataObjective(x)) + prior(x);
      if (++n % 10 === 0) progress(`${clsName}: ${n} evaluations, objective ${f.toFixed(4)}`);
      return f;
    }, bounds, { maxEvals: options.maxEvals ?? DEFAULT_MAX_EVALS });
    const name = fittedName(clsName);

    // Ranges: move one parameter at a time from the optimum until the data part of the
    // objective has risen by RANGE_RISE (or the bound is reached).
    const params: ParamResult[] = [];
    const dBest = await dataObjective(opt.x);
    for (const [i, fp] of cls.params.entries()) {
      let rangeLo = opt.x[i], rangeHi = opt.x[i];
      if (options.ranges !== false) {
        for (const dir of [-1, 1]) {
          const u0 = toUnit(opt.x[i], bounds[i]);
          let edge = opt.x[i];
          for (let k = 1; ; k++) {
            const u = Math.min(1, Math.max(0, u0 + dir * k * RANGE_STEP));
            const x = [...opt.x]; x[i] = fromUnit(u, bounds[i]);
            if ((await dataObjective(x)) - dBest > RANGE_RISE) break;
            edge = x[i];
            if (u === 0 || u === 1) break;
          }
          if (dir < 0) rangeLo = edge; else rangeHi = edge;
        }
        progress(`${clsName}: range of ${fp.key} ${rangeLo.toPrecision(3)}..${rangeHi.toPrecision(3)}`);
      }
      params.push({ key: fp.key, hand: bounds[i].x0, fitted: opt.x[i], lo: fp.lo, hi: fp.hi, rangeLo, rangeHi, why: fp.why });
    }

    // Every row of the class, sourced and fitted.
    progress(`${clsName}: replaying every row with the sourced and the fitted profile`);
    const hand = getProfile(cls.base);
    const fitted = profileWith(cls, opt.x, name);
    const before = await sim.values(targets, hand);
    const after = await sim.values(targets, fitted);
    const rows = targets.map((t): RowResult => {
      const b = before.get(t.id)!, a = after.get(t.id)!;
      const rb = residual(b, t.published), ra = residual(a, t.published);
      const pass = (v: number) => Number.isFinite(v) && Math.abs(v / t.published - 1) <= t.tolerance;
      return { id: t.id, profileClass: clsName, role: t.role, published: t.published, tolerance: t.tolerance,
        before: b, after: a, residualBefore: rb, residualAfter: ra, passBefore: pass(b), passAfter: pass(a), target: t };
    });
    const rmsFor = (role: TargetRole): Rms => {
      const rs = rows.filter((r) => r.role === role);
      return { before: rmsOf(rs.map((r) => r.residualBefore)), after: rmsOf(rs.map((r) => r.residualAfter)), n: rs.length };
    };
    const ranges: Partial<Record<CostKey, CostRange>> = {};
    for (const p of params) {
      const r: CostRange = { lo: p.rangeLo, hi: p.rangeHi,
        source: `fit interval (data objective within ${RANGE_RISE} of its minimum, this key alone); bounds ${p.lo}..${p.hi}: ${p.why}` };
      ranges[p.key] = r;
      for (const k of cls.params.find((fp) => fp.key === p.key)?.tied ?? []) ranges[k] = { ...r };
    }
    fitted.ranges = { ...(hand.ranges ?? {}), ...ranges };
    return {
      cls: clsName, name, base: cls.base, params, evals: opt.evals, stop: opt.stop,
      objectiveBefore: opt.f0, objectiveAfter: opt.f, rows,
      rms: { fit: rmsFor('fit'), heldOut: rmsFor('held-out') }, profile: fitted,
    };
  } finally {
    await sim.close();
  }
}

export interface FitResult { classes: ClassFit[]; command: string; date: string }

export async function fit(options: FitOptions = {}): Promise<FitResult> {
  const targets = options.targets ?? FIT_TARGETS;
  const names = options.classes ?? Object.keys(FIT_CLASSES).filter((c) => targets.some((t) => t.profileClass === c && t.role === 'fit'));
  const classes: ClassFit[] = [];
  for (const c of names) classes.push(await fitClass(c, options));
  return { classes, command: 'tlbsim calibrate --fit', date: new Date().toISOString().slice(0, 10) };
}

// ---------------------------------------------------------------------------- output

/** What src/machine/fitted-profiles.json holds: per fitted profile, its base, the fitted
 *  numbers, their ranges and where they came from. profiles.ts builds the profiles from it. */
export interface FittedProfilesFile {
  comment: string;
  profiles: Record<string, {
    base: string;
    description: string;
    values: Partial<Record<CostKey, number>>;
    ranges: Partial<Record<CostKey, CostRange>>;
    provenance: { kind: 'fitted'; date: string; note: string };
    rms: { fit: Rms; heldOut: Rms };
    rows: { id: string; role: TargetRole; published: number; sourced: number; fitted: number }[];
  }>;
}

const r4 = (x: number): number => Number(x.toPrecision(4));

export function fittedProfilesFile(result: FitResult): FittedProfilesFile {
  const profiles: FittedProfilesFile['profiles'] = {};
  for (const c of result.classes) {
    const cls = FIT_CLASSES[c.cls];
    const values: Partial<Record<CostKey, number>> = {};
    const ranges: Partial<Record<CostKey, CostRange>> = {};
    for (const p of c.params) {
      for (const k of [p.key, ...(cls.params.find((fp) => fp.key === p.key)?.tied ?? [])]) {
        values[k] = r4(p.fitted);
        const rg = c.profile.ranges?.[p.key];
        if (rg) ranges[k] = { lo: r4(rg.lo), hi: r4(rg.hi), source: rg.source };
      }
    }
    const note = `${result.command}: ${c.evals} evaluations (${c.stop}); rms of ln(simulated/published) over `
      + `${c.rms.fit.n} fit rows ${c.rms.fit.before.toFixed(3)} -> ${c.rms.fit.after.toFixed(3)}, over ${c.rms.heldOut.n} `
      + `held-out rows ${c.rms.heldOut.before.toFixed(3)} -> ${c.rms.heldOut.after.toFixed(3)}`;
    profiles[c.name] = {
      base: c.base,
      description: `${getProfile(c.base).description}; its [assume]/[recall] costs fitted to published figures (${cls.what})`,
      values, ranges,
      provenance: { kind: 'fitted', date: result.date, note },
      rms: {
        fit: { before: r4(c.rms.fit.before), after: r4(c.rms.fit.after), n: c.rms.fit.n },
        heldOut: { before: r4(c.rms.heldOut.before), after: r4(c.rms.heldOut.after), n: c.rms.heldOut.n },
      },
      rows: c.rows.map((r) => ({ id: r.id, role: r.role, published: r4(r.published), sourced: r4(r.before), fitted: r4(r.after) })),
    };
  }
  return {
    comment: 'Written by `tlbsim calibrate --fit --write src/machine/fitted-profiles.json`; do not edit by hand. '
      + 'src/machine/profiles.ts loads each entry as a named profile: its base with `values` applied.',
    profiles,
  };
}

const fmt = (x: number): string => (!Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));
const pct = (res: number): string => (Number.isFinite(res) ? `${((Math.exp(res) - 1) * 100).toFixed(0)}%` : 'n/a');

export type RowFilter = 'fit' | 'held-out' | 'all';

/** Plain-text report of a fit. */
export function fitText(result: FitResult, rows: RowFilter = 'all'): string {
  const out: string[] = [];
  for (const c of result.classes) {
    out.push(`${c.name}: ${FIT_CLASSES[c.cls].what}`,
      `  ${c.evals} evaluations (${c.stop}); objective ${c.objectiveBefore.toFixed(4)} -> ${c.objectiveAfter.toFixed(4)}`,
      `  rms ln(simulated/published): fit rows (${c.rms.fit.n}) ${c.rms.fit.before.toFixed(3)} -> ${c.rms.fit.after.toFixed(3)}; `
        + `held-out rows (${c.rms.heldOut.n}) ${c.rms.heldOut.before.toFixed(3)} -> ${c.rms.heldOut.after.toFixed(3)}`,
      '');
    const ph = ['parameter', 'hand', 'fitted', 'range', 'bounds'];
    const pb = c.params.map((p) => [p.key, fmt(p.hand), fmt(p.fitted), `${fmt(p.rangeLo)}..${fmt(p.rangeHi)}`,
      `${p.lo}..${p.hi}${p.fitted <= p.lo * 1.001 ? ' (at lower)' : p.fitted >= p.hi * 0.999 ? ' (at upper)' : ''}`]);
    out.push(...table(ph, pb).map((l) => `  ${l}`), '');
    const rh = ['target', 'role', 'published', 'sourced', 'fitted', 'resid. sourced', 'resid. fitted', ''];
    const rb = c.rows.filter((r) => rows === 'all' || r.role === rows).map((r) => [
      r.id, r.role, fmt(r.published), fmt(r.before), fmt(r.after), pct(r.residualBefore), pct(r.residualAfter),
      r.passAfter ? 'pass' : 'MISS',
    ]);
    out.push(...table(rh, rb).map((l) => `  ${l}`), '');
    const notes = c.rows.filter((r) => (rows === 'all' || r.role === rows) && r.target.note && (r.role === 'reported' || !r.passAfter));
    if (notes.length) {
      out.push('  notes:');
      for (const r of notes) out.push(`  - ${r.id}: ${r.target.note}`);
      out.push('');
    }
  }
  return out.join('\n');
}

function table(head: string[], body: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** The JSON of `tlbsim calibrate --fit --json`. */
export function fitJson(result: FitResult, rows: RowFilter = 'all'): unknown {
  return {
    command: result.command, date: result.date,
    classes: result.classes.map((c) => ({
      name: c.name, base: c.base, evals: c.evals, stop: c.stop,
      objective: { before: c.objectiveBefore, after: c.objectiveAfter }, rms: c.rms,
      params: c.params.map(({ why: _why, ...p }) => p),
      rows: c.rows.filter((r) => rows === 'all' || r.role === rows).map(({ target, ...r }) => ({ ...r, citation: target.citation })),
    })),
  };
}
