// The replay summary table fitted to the terminal: a row never wraps. The width is
// COLUMNS when set (a positive whole number), else the terminal's width when stdout is
// one, else unlimited (a pipe or a file gets every column, as scripts expect).
//
// What gives way, in this order, until the table fits:
//  1. whole columns, lowest priority first (DROP_ORDER; metrics not listed there go
//     first), up to and including IPIs→lazy and the ratio's --uncertainty range;
//  2. the " (unsafe)" mark shrinks to " !" (with a footnote saying what "!" means);
//  3. the rest of DROP_ORDER: iteration ratio, overhead range, wait, iteration, IPIs,
//     violations; strategy, overhead and its ratio to the baseline always stay;
//  4. strategy names are cut with "…";
//  5. as a last resort each line is cut at the width with "…".
// The columns left out are named in a footnote.
import { terminalSafe } from './util.ts';
import { colourOn } from './style.ts';

/** Column keys as replay's summary builds them: metric names, plus `<metric>_ratio`
 *  (×base), `overhead_ns_band` and `overhead_ns_ratio_band` (the --uncertainty ranges). */
export const KEEP = ['strategy', 'overhead_ns', 'overhead_ns_ratio'] as const;
export const DROP_ORDER = [
  'atomic_ops', 'tlb_misses', 'flush_requests', 'page_flushes', 'full_flushes', 'cr3_writes', 'cr3_flushes',
  'ipis_to_lazy', 'overhead_ns_ratio_band', 'iteration_ns_ratio', 'overhead_ns_band', 'initiator_wait_ns',
  'iteration_ns', 'ipis_sent', 'coherence_violations',
] as const;

export interface SummaryRowMark { unsafe: boolean; best: boolean }

export interface FitOptions {
  /** Columns available (Infinity: no limit). */
  width: number;
  colour: boolean;
}

/** The width the summary may use (see the header comment). */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number {
  const env = process.env.COLUMNS;
  if (env !== undefined && /^\d+$/.test(env.trim()) && Number(env) > 0) return Number(env);
  if (stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  return Infinity;
}

export function summaryColour(stream: NodeJS.WriteStream = process.stdout): boolean {
  return colourOn(stream);
}

const INDENT = '  ';
const GAP = '  ';
const UNSAFE_LONG = ' (unsafe)';
const UNSAFE_SHORT = ' !';

function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, Math.max(width, 0)) : `${text.slice(0, width - 1)}…`;
}

/** Words of `text` in lines no longer than `width`; a word longer than that is cut unless
 *  `cutLong` is false (a path is better wrapped by the terminal than cut). */
export function wrapWords(text: string, width: number, indent = INDENT, cutLong = true): string[] {
  if (!Number.isFinite(width) || indent.length + text.length <= width) return [indent + text];
  const out: string[] = [];
  let line = '';
  // A number keeps its unit on the same line ("5.92 µs", never "5.92" / "µs").
  for (const word of text.split(/ (?!(?:ns|µs|ms|s)\b)/u).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) { out.push(indent + line); line = ''; }
    line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(indent + line);
  return cutLong ? out.map((l) => cut(l, width)) : out;
}

/**
 * Lay out the summary table. `keys[c]` names column c (see KEEP / DROP_ORDER), `rows[0]`
 * is the header, `marks[i]` belongs to rows[i + 1]. Cells are made terminal-safe here;
 * colour is added after, so the result is written as it is (not through printSafe, which
 * would turn the colour's escape into "?").
 */
export function fitSummaryTable(keys: readonly string[], rows: readonly (readonly string[])[], marks: readonly SummaryRowMark[], opts: FitOptions): string[] {
  const names = rows.slice(1).map((r) => terminalSafe(r[0]));
  const cells = rows.map((r) => r.map((c) => terminalSafe(c)));
  let kept = keys.map((_, c) => c);
  let unsafeMark = UNSAFE_LONG;
  let nameCap = Infinity;
  const nameCell = (i: number): string => {
    const mark = marks[i]?.unsafe ? unsafeMark : '';
    return cut(names[i], Math.max(nameCap - mark.length, 1)) + mark;
  };
  const widthOf = (c: number): number => (c === 0
    ? Math.max(cells[0][0].length, ...names.map((_, i) => nameCell(i).length))
    : Math.max(...cells.map((r) => r[c].length)));
  const total = (): number => INDENT.length + kept.reduce((s, c, j) => s + widthOf(c) + (j > 0 ? GAP.length : 0), 0);

  const dropped: string[] = [];
  // In the note a ratio or range column is named with its metric ("iteration ×base").
  const label = (c: number): string => {
    const k = keys[c];
    const of = (m: string) => { const i = keys.indexOf(m); return i >= 0 ? cells[0][i] : m; };
    if (k.endsWith('_ratio_band')) return `${of(k.slice(0, -'_ratio_band'.length))} ${cells[0][c]}`;
    if (k.endsWith('_ratio') || k.endsWith('_band')) return `${of(k.replace(/_(ratio|band)$/, ''))} ${cells[0][c]}`;
    return cells[0][c];
  };
  const rank = (k: string): number => {
    const i = (DROP_ORDER as readonly string[]).indexOf(k);
    return i < 0 ? -1 : i;
  };
  const droppable = () => kept.filter((c) => !(KEEP as readonly string[]).includes(keys[c]))
    .sort((a, b) => rank(keys[a]) - rank(keys[b]) || b - a);
  const shrinkBefore = rank('iteration_ns_ratio');
  while (total() > opts.width) {
    const next = droppable()[0];
    if (next === undefined) break;
    if (unsafeMark === UNSAFE_LONG && rank(keys[next]) >= shrinkBefore && marks.some((m) => m.unsafe)) {
      unsafeMark = UNSAFE_SHORT;
      continue;
    }
    kept = kept.filter((c) => c !== next);
    // A ratio column means nothing without its metric: they go together.
    const ratio = keys.indexOf(`${keys[next]}_ratio`);
    if (ratio >= 0 && kept.includes(ratio) && !(KEEP as readonly string[]).includes(keys[ratio])) {
      kept = kept.filter((c) => c !== ratio);
      dropped.push(label(ratio));
    }
    dropped.push(label(next));
  }
  if (total() > opts.width) {
    const rest = total() - widthOf(0);
    nameCap = Math.max(opts.width - rest, cells[0][0].length, 4);
  }

  const widths = new Map(kept.map((c) => [c, widthOf(c)]));
  const lines: string[] = [];
  cells.forEach((row, r) => {
    const parts = kept.map((c) => {
      const w = widths.get(c)!;
      if (c !== 0) return row[c].padStart(w);
      if (r === 0) return row[0].padEnd(w);
      const i = r - 1;
      const mark = marks[i]?.unsafe ? unsafeMark : '';
      const name = cut(names[i], Math.max(nameCap - mark.length, 1));
      const pad = ' '.repeat(Math.max(w - name.length - mark.length, 0));
      if (!opts.colour) return name + mark + pad;
      return (marks[i]?.best ? BEST(name) : name) + (mark ? UNSAFE(mark) : '') + pad;
    });
    const plainLength = INDENT.length + kept.reduce((s, c, j) => s + widths.get(c)! + (j > 0 ? GAP.length : 0), 0);
    let line = INDENT + parts.join(GAP);
    // Still too wide after everything above: cut rather than let the terminal wrap the row.
    if (plainLength > opts.width) line = cut(stripColour(line), opts.width);
    lines.push(line);
  });
  const notes: string[] = [];
  if (unsafeMark === UNSAFE_SHORT) notes.push('! = unsafe');
  if (dropped.length > 0) notes.push(`not shown at ${opts.width} columns: ${dropped.join(', ')} (--json has all)`);
  if (opts.colour && marks.some((m) => m.best)) notes.push(`${BEST('green')}: the lowest overhead of the safe strategies.`);
  for (const n of notes) lines.push(...(opts.colour ? [INDENT + n] : wrapWords(n, opts.width)));
  return lines;
}

// style.ts decides colour per stream; here the caller has decided already (opts.colour).
const BEST = (t: string): string => `\u001b[1;32m${t}\u001b[22;39m`;
const UNSAFE = (t: string): string => `\u001b[31m${t}\u001b[39m`;

function stripColour(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[\d;]+m/g, '');
}

/** Each run's marks: unsafe by its strategy; best = the safe strategy with the lowest
 *  overhead, when there are at least two strategies to choose between. */
export function bestAndUnsafe(results: readonly { strategy: { name: string; safe: boolean }; metrics: Record<string, number> }[]): SummaryRowMark[] {
  let best = -1;
  results.forEach((r, i) => {
    if (!r.strategy.safe || !Number.isFinite(r.metrics.overhead_ns)) return;
    if (best < 0 || r.metrics.overhead_ns < results[best].metrics.overhead_ns) best = i;
  });
  return results.map((r, i) => ({ unsafe: !r.strategy.safe, best: i === best && results.length > 1 }));
}
