// Where the payload readers put what they read: events into the store (counted by kind),
// tasks into the task table, names of events no reader models into a bounded tally. One
// class, so that every payload reader's calls into it stay monomorphic.
import { pushEvent } from '../event.ts';
import type { LineRecord } from './headers.ts';
import { skipSpaces } from './scan.ts';
import type { EventStore } from '../store.ts';
import type { TaskResolver } from '../tasks.ts';
import { C_SPACE, C_TAB } from './fields.ts';

/** Distinct names of unused events counted one by one (the rest are counted together). */
export const MAX_UNUSED_NAMES = 1000;

export class EventSink {
  readonly rawCounts = new Int32Array(32);
  readonly unusedEvents = new Map<string, number>();
  /** Highest CPU an IPI was sent to (the CPU census counts it only if it is not damage). */
  maxTarget = -1;

  constructor(readonly store: EventStore, readonly tasks: TaskResolver) {}

  /** Forget what was counted (a range worker's look-behind lines, readers/ranges.ts). */
  resetCounts(): void {
    this.rawCounts.fill(0);
    this.unusedEvents.clear();
    this.maxTarget = -1;
  }

  emit(kind: number, r: LineRecord, tid: number, mm: number, a: number, b: number, c: number): void {
    pushEvent(this.store.reserve(), kind, r.ns, r.cpu, tid, mm, a, b, c);
    this.rawCounts[kind]++;
  }

  noteTarget(cpu: number): void {
    if (cpu > this.maxTarget) this.maxTarget = cpu;
  }

  /** The current task's provisional mm, registering it on first sight. */
  currentMm(s: string, r: LineRecord): number {
    const t = this.tasks;
    if (t.isNew(r.pid)) return t.mmOfTask(r.pid, r.tgid, comm(s, r.commStart, r.commEnd));
    return t.mmOfTask(r.pid, r.tgid);
  }

  /** currentMm for a line read from the bytes of an ASCII chunk. */
  currentMmBytes(b: Buffer, r: LineRecord): number {
    const t = this.tasks;
    if (!t.isNew(r.pid)) return t.mmOfTask(r.pid, r.tgid);
    let i = r.commStart;
    while (i < r.commEnd && (b[i] === C_SPACE || b[i] === C_TAB)) i++;
    return t.mmOfTask(r.pid, r.tgid, b.toString('latin1', i, r.commEnd));
  }

  /** Count an event of [ns, ne) that no reader models. */
  countUnused(s: string, ns: number, ne: number): void {
    this.countUnusedName(s.slice(ns, ne));
  }

  countUnusedName(name: string): void {
    // Names come from the file: a damaged or hostile one could make millions of them.
    if (!this.unusedEvents.has(name) && this.unusedEvents.size >= MAX_UNUSED_NAMES) name = '(other names)';
    this.unusedEvents.set(name, (this.unusedEvents.get(name) ?? 0) + 1);
  }
}

/** The task name in [start, end), without the right-alignment padding. */
export function comm(s: string, start: number, end: number): string {
  return s.slice(skipSpaces(s, start, end), end);
}
