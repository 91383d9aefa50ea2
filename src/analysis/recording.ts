// What the timeline views (the report's per-CPU timeline, the Perfetto export) share:
// task names made safe to show, and the words for what the recorded kernel printed.
import { TLB_FLUSH_REASON_NAMES, type TraceInfo } from '../trace/event.ts';
import { inertName } from './format.ts';

export function reasonText(r: number): string {
  return TLB_FLUSH_REASON_NAMES[r] ?? `reason ${r}`;
}

/** tid -> display name (tid 0: the idle task, named as the kernel names it). */
export function taskNames(info: TraceInfo): Map<number, string> {
  const names = new Map<number, string>();
  for (const t of info.tasks) names.set(t.tid, inertName(t.comm));
  if (!names.has(0)) names.set(0, 'swapper');
  return names;
}

export function taskLabel(names: ReadonlyMap<number, string>, tid: number): string {
  const n = names.get(tid);
  return n === undefined ? `tid ${tid}` : `${n} (${tid})`;
}
