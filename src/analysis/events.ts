// The events behind coherence violations: the machine keeps only their stream index (no
// per-event data is stored during a replay), so they are looked up by reading the source
// again after the replay, which touches each batch once and keeps nothing else.
import { EVENT_KIND_NAMES, type EventSource } from '../trace/event.ts';
import type { RunResult } from '../machine/result.ts';
import type { ViolationEvent } from './types.ts';

export async function findViolationEvents(source: EventSource, results: readonly RunResult[]): Promise<ViolationEvent[]> {
  const wanted = [...new Set(results.flatMap((r) => r.violations.first.map((v) => v.eventIndex)))].sort((a, b) => a - b);
  if (wanted.length === 0) return [];
  const comm = new Map(source.info.tasks.map((t) => [t.tid, t.comm]));
  const out: ViolationEvent[] = [];
  let base = 0, k = 0;
  for await (const b of source.batches()) {
    while (k < wanted.length && wanted[k] < base + b.length) {
      const i = wanted[k] - base;
      const tid = b.tid[i];
      out.push({ eventIndex: wanted[k], timeNs: b.time[i], cpu: b.cpu[i], kind: EVENT_KIND_NAMES[b.kind[i]] ?? String(b.kind[i]), tid, comm: comm.get(tid) ?? '' });
      k++;
    }
    base += b.length;
    if (k >= wanted.length) break;
  }
  return out;
}
