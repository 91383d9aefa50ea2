// What the timeline views (the report's per-CPU timeline, the Perfetto export) share:
// task names made safe to show, and the words for what the recorded kernel printed.
import type { TraceInfo } from '../trace/event.ts';

/** tlb:tlb_flush reasons as include/trace/events/tlb.h prints them. */
export const FLUSH_REASON_TEXT: readonly string[] = [
  'flush on task switch', 'remote shootdown', 'local shootdown', 'local MM shootdown', 'remote IPI send', 'remote wrong CPU',
];

export function reasonText(r: number): string {
  return FLUSH_REASON_TEXT[r] ?? `reason ${r}`;
}

/** A task name (untrusted text from the trace) for display anywhere: control characters
 *  (terminal escapes) and the bidirectional overrides and isolates that reorder what
 *  follows them (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) become U+FFFD, so
 *  a name can neither run nor disguise itself or its neighbours. Markup is left to the
 *  renderer's escaping (Vega's SVG text, JSON.stringify). */
export function displayName(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/** tid -> display name (tid 0: the idle task, named as the kernel names it). */
export function taskNames(info: TraceInfo): Map<number, string> {
  const names = new Map<number, string>();
  for (const t of info.tasks) names.set(t.tid, displayName(t.comm));
  if (!names.has(0)) names.set(0, 'swapper');
  return names;
}

export function taskLabel(names: ReadonlyMap<number, string>, tid: number): string {
  const n = names.get(tid);
  return n === undefined ? `tid ${tid}` : `${n} (${tid})`;
}
