// Building small hand-written traces for tests.
import {
  EventKind, FLUSH_ALL, FlushFlags, FlushOrigin, batchesFromEvents, emptyTraceInfo, flushFlags, memorySource,
  type EventSource, type TraceEvent,
} from '../../src/trace/event.ts';
import { summarise } from '../../src/trace/index.ts';
import { replay, type ReplayOptions, type RunResult } from '../../src/replay/index.ts';

export const MS = 1_000_000;
export const S = 1_000_000_000;

/** A builder with a clock: every event is 1 us after the previous one unless `at` sets it. */
export class TB {
  readonly events: TraceEvent[] = [];
  t = 1000;
  constructor(readonly cpus: number) {}
  at(t: number): this { this.t = t; return this; }
  wait(ns: number): this { this.t += ns; return this; }
  private push(kind: number, cpu: number, tid: number, mm: number, a = 0, b = 0, c = 0): this {
    this.events.push({ kind: kind as TraceEvent['kind'], time: this.t, cpu, tid, mm, a, b, c });
    this.t += 1000;
    return this;
  }
  /** sched_switch on cpu: prev (tid, mm) -> next (tid, mm); mm 0 = kernel thread / idle. */
  sw(cpu: number, prev: number, prevMm: number, next: number, nextMm: number, prevState = 1): this {
    return this.push(EventKind.switch, cpu, prev, prevMm, next, nextMm, prevState);
  }
  flush(cpu: number, tid: number, mm: number, pages: number, freed = false, extra = 0): this {
    return this.push(EventKind.flush_request, cpu, tid, mm, 0x7f0000000000, pages, flushFlags(FlushOrigin.synthetic, freed, extra));
  }
  flushAll(cpu: number, tid: number, mm: number, freed = false): this { return this.flush(cpu, tid, mm, FLUSH_ALL, freed); }
  access(cpu: number, tid: number, mm: number, pages: number): this {
    return this.push(EventKind.access, cpu, tid, mm, 0x7f0000000000, pages);
  }
  fork(cpu: number, tid: number, mm: number, child: number, childMm: number): this {
    return this.push(EventKind.fork, cpu, tid, mm, child, childMm, childMm === mm ? 1 : 0);
  }
  exit(cpu: number, tid: number, mm: number, groupDead: boolean): this {
    return this.push(EventKind.exit, cpu, tid, mm, groupDead ? 1 : 0);
  }
  exitMmap(cpu: number, tid: number, mm: number): this { return this.push(EventKind.exit_mmap, cpu, tid, mm); }
  ptwalk(cpu: number, tid: number, mm: number, begin: boolean): this {
    return this.push(EventKind.ptwalk, cpu, tid, mm, begin ? 1 : 0);
  }
  ptSync(cpu: number, tid: number, mm: number): this {
    return this.push(EventKind.pt_sync, cpu, tid, mm, 0, 0, FlushFlags.FREED_TABLES);
  }
  madvise(cpu: number, tid: number, mm: number): this { return this.push(EventKind.madvise, cpu, tid, mm, 0x7f0000000000, 4096, 4); }
  iteration(cpu: number, tid: number, mm: number, n: number): this { return this.push(EventKind.iteration, cpu, tid, mm, n); }

  source(batchSize = 1 << 16): EventSource {
    const info = emptyTraceInfo('test', 'workload', this.cpus);
    const batches = batchesFromEvents(this.events, batchSize);
    summarise(info, batches);
    return memorySource(info, batches);
  }
}

/** Replay in-process (no implicit working set: hand-written traces carry their accesses). */
export async function run(tb: TB, strategies: string[] | ReplayOptions['strategies'], opts: ReplayOptions = {}): Promise<Record<string, RunResult>> {
  const res = await replay(tb.source(), { workers: 1, implicitAccess: false, ...opts, strategies });
  const out: Record<string, RunResult> = {};
  for (const r of res) out[r.strategy.name] = r;
  return out;
}

export function perCpu(r: RunResult, metric: string, cpu: number): number {
  return r.perCpu[metric][cpu];
}

/** Predicted tlb:tlb_flush records of a run, as reason -> [full, ranged, none]. */
export function reasons(r: RunResult): Record<string, [number, number, number]> {
  const t: Record<string, [number, number, number]> = {};
  for (const [k, v] of Object.entries(r.predicted.tlbFlush)) t[k] = [v.full, v.ranged, v.none];
  return t;
}
