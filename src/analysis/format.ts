// Number formats shared by the report, its charts and the CLI summary, so one metric reads
// the same everywhere.

/** The one way a duration is written, in the report, its charts and the CLI summary:
 *  three significant digits, trailing zeros dropped, a space, then ns/µs/ms/s. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  const a = Math.abs(ns);
  const p = (v: number) => String(Number(v.toPrecision(3)));
  if (a >= 1e9) return `${p(ns / 1e9)} s`;
  if (a >= 1e6) return `${p(ns / 1e6)} ms`;
  if (a >= 1e3) return `${p(ns / 1e3)} µs`;
  return `${Math.round(ns)} ns`;
}

/** A count in the report and its charts: thousands separators, at most two decimals. */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** fmtNs as a Vega expression over `v`, for axis labels (so the axis and the table agree). */
export function nsExpr(v: string): string {
  const p = (d: string) => `format(${v} / ${d}, '.3~r')`;
  return `abs(${v}) >= 1e9 ? ${p('1e9')} + ' s' : abs(${v}) >= 1e6 ? ${p('1e6')} + ' ms' : abs(${v}) >= 1e3 ? ${p('1e3')} + ' µs' : format(${v}, '.3~r') + ' ns'`;
}

/** A task name (untrusted text from the trace) for display anywhere: control characters
 *  (terminal escapes) and the bidirectional overrides and isolates that reorder what
 *  follows them (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) become U+FFFD, so
 *  a name can neither run nor disguise itself or its neighbours. Markup is left to the
 *  renderer's escaping (Vega's SVG text, JSON.stringify, report/html.ts esc). */
export function inertName(comm: string): string {
  // eslint-disable-next-line no-control-regex
  return comm.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}
