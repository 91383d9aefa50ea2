// The headline of `replay --uncertainty`: the best strategy's ratio to the baseline with
// its interval, and the assumption that moves it most, with how far. One function, so the
// terminal summary, the report and the JSON say the same words.
import type { Interval, Sensitivity, UncertaintyResult } from '../replay/uncertainty.ts';

/** A ratio as the summary prints it (two decimals; three significant digits below 0.01). */
export function fmtRatio(v: number): string {
  return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : String(Number(v.toPrecision(2)));
}

/** "[lo–hi]" of an interval, with `fmt` for each end. */
export function fmtInterval(i: Interval, fmt: (v: number) => string = fmtRatio): string {
  return `[${fmt(i.lo)}–${fmt(i.hi)}]`;
}

/** A sweep that moves the ratio by less than this is not named as driving the result. */
const NEGLIGIBLE = 0.005;

export function sweepText(s: Sensitivity): string | null {
  if (s.ratioLo === null || s.ratioHi === null) return null;
  const a = Math.min(s.ratioLo, s.ratioHi), b = Math.max(s.ratioLo, s.ratioHi);
  // A small effect that two decimals would print as "×0.24–×0.24": three significant digits.
  const f = fmtRatio(a) === fmtRatio(b) ? (v: number) => String(Number(v.toPrecision(3))) : fmtRatio;
  return `×${f(a)}–×${f(b)} for ${s.phrase}`;
}

export function driving(u: UncertaintyResult): Sensitivity[] {
  return u.sensitivity.filter((s) => s.ratioLo !== null && s.ratioHi !== null && Math.abs(s.ratioHi - s.ratioLo) >= NEGLIGIBLE);
}

/** "linux-4.14 ×0.24 [0.07–0.46] of linux-4.13 (×0.05–×0.47 for a working set of 16–512
 *  pages)", or null when there is no headline strategy. */
export function headlineText(u: UncertaintyResult): string | null {
  if (u.headline === null) return null;
  const r = u.headline.ratio;
  const top = driving(u)[0];
  const why = top ? ` (${sweepText(top)})` : '';
  return `${u.headline.strategy} ×${fmtRatio(r.nominal)} ${fmtInterval(r)} of ${u.baseline}${why}`;
}

/** What the interval is, in one sentence. */
export function intervalNote(u: UncertaintyResult): string {
  return `[lo–hi]: min–max over ${u.draws} draws (seed ${u.seed}, the nominal profile included) with ${u.varied.length} profile numbers drawn across their ranges; the others are exact`;
}

/** The other driving assumptions, one "×a–×b for …" each (after the headline's). */
export function otherSweeps(u: UncertaintyResult): string[] {
  return driving(u).slice(1).map((s) => sweepText(s)!);
}
