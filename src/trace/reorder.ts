// Putting slightly late events back in time order.
//
// ftrace and trace-cmd merge the per-CPU ring buffers by timestamp, so their text is in
// order; perf script can print events a little out of order when it flushes its ordering
// queue under load ("N out of order events" warnings), and hand-merged or edited files can
// too. The simulator needs time order. The readers report (and leave out) the line of an
// event more than REORDER_WINDOW_NS behind the latest one read, and count the events
// that are late by less. Only when there are some does `reorderStore` copy the events
// through a ring sorted by insertion (stable: equal timestamps keep file order) that
// releases each event once the trace has moved the window past it; traces in order pay
// nothing. What is reordered or reported depends on the input alone, never on batch
// sizes or memory limits.
import { pushEvent } from './event.ts';
import type { EventStore } from './store.ts';

/** Trace time within which late events are put back in order: 10 ms. perf prints an
 *  event late when a CPU's buffer was read after its ordering queue was flushed, which is
 *  a matter of milliseconds; a lag of seconds is a different recording or a damaged line. */
export const REORDER_WINDOW_NS = 10_000_000;
/** Events the ring holds at most (a power of two; 2^18 events = 11 MB), i.e. 26 million
 *  events per second of trace within one window. Past it the oldest is released early and
 *  an event that would have to go before it is placed right after it instead (counted). */
export const REORDER_MAX_EVENTS = 1 << 18;

export class ReorderBuffer {
  private readonly cap: number;
  private readonly mask: number;
  private readonly kind: Uint8Array;
  private readonly cpu: Uint16Array;
  private readonly time: Float64Array;
  private readonly tid: Int32Array;
  private readonly mm: Int32Array;
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  private readonly c: Float64Array;
  private head = 0;
  private count = 0;
  /** Latest timestamp accepted so far. */
  maxNs = -Infinity;
  /** Timestamp of the last event handed to the store: nothing earlier can be placed. */
  releasedNs = -Infinity;

  constructor(private readonly store: EventStore, private readonly windowNs = REORDER_WINDOW_NS, capacity = REORDER_MAX_EVENTS) {
    let cap = 1;
    while (cap < capacity) cap *= 2;
    this.cap = cap;
    this.mask = cap - 1;
    this.kind = new Uint8Array(cap); this.cpu = new Uint16Array(cap); this.time = new Float64Array(cap);
    this.tid = new Int32Array(cap); this.mm = new Int32Array(cap);
    this.a = new Float64Array(cap); this.b = new Float64Array(cap); this.c = new Float64Array(cap);
  }

  /** Whether an event at `time` is within the window and can still be put in its place. */
  accepts(time: number): boolean {
    return time >= this.releasedNs && time >= this.maxNs - this.windowNs;
  }

  /** Add an event (the caller checked `accepts(time)`). */
  push(kind: number, time: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number): void {
    if (this.count === this.cap) this.releaseOne();
    const mask = this.mask;
    let pos = this.count;
    // A late event moves the later ones up by one (few: the window is short).
    while (pos > 0 && this.time[(this.head + pos - 1) & mask] > time) {
      const from = (this.head + pos - 1) & mask, to = (this.head + pos) & mask;
      this.kind[to] = this.kind[from]; this.cpu[to] = this.cpu[from]; this.time[to] = this.time[from];
      this.tid[to] = this.tid[from]; this.mm[to] = this.mm[from];
      this.a[to] = this.a[from]; this.b[to] = this.b[from]; this.c[to] = this.c[from];
      pos--;
    }
    const i = (this.head + pos) & mask;
    this.kind[i] = kind; this.cpu[i] = cpu; this.time[i] = time; this.tid[i] = tid;
    this.mm[i] = mm; this.a[i] = a; this.b[i] = b; this.c[i] = c;
    this.count++;
    if (time > this.maxNs) {
      this.maxNs = time;
      const horizon = time - this.windowNs;
      while (this.count > 0 && this.time[this.head] < horizon) this.releaseOne();
    }
  }

  private releaseOne(): void {
    const i = this.head;
    pushEvent(this.store.reserve(), this.kind[i], this.time[i], this.cpu[i], this.tid[i], this.mm[i], this.a[i], this.b[i], this.c[i]);
    this.releasedNs = this.time[i];
    this.head = (i + 1) & this.mask;
    this.count--;
  }

  /** Release everything held (end of input). */
  flush(): void {
    while (this.count > 0) this.releaseOne();
  }
}

/** Copy `from` into `to` in time order (the readers have left out events more than the
 *  window late). Returns how many events had to be moved later in time because the ring
 *  was full (0 unless a window holds more than REORDER_MAX_EVENTS events). */
export function reorderStore(from: EventStore, to: EventStore, windowNs = REORDER_WINDOW_NS, capacity = REORDER_MAX_EVENTS): number {
  const ring = new ReorderBuffer(to, windowNs, capacity);
  let displaced = 0;
  for (const b of from.batches()) {
    for (let i = 0; i < b.length; i++) {
      let t = b.time[i];
      if (!ring.accepts(t)) { t = Math.max(ring.releasedNs, ring.maxNs - windowNs); displaced++; }
      ring.push(b.kind[i], t, b.cpu[i], b.tid[i], b.mm[i], b.a[i], b.b[i], b.c[i]);
    }
  }
  ring.flush();
  return displaced;
}
