// The event recorder: what one replay did, per CPU and in time, for the report's timeline
// and the Perfetto export. It is off unless a caller attaches one (Machine.rec); the
// machine and the simulator then pay one null check at each place they would record.
//
// Everything is kept in typed arrays allocated once, with a fixed capacity per track: a
// long trace must not grow memory. When a track fills, it is halved in place (decimation):
// two consecutive spans on one CPU become one span (the task that ran longest names it),
// two consecutive marks on one CPU become one mark that stands for both (its weight; the
// costlier of the two gives its kind and cost), and
// from then on new records are merged the same way, so the kept records stay spread over
// the whole trace instead of covering only its beginning.

/** What one mark or span is. Spans have a duration; marks have one (their cost) or 0. */
export const RecTrack = {
  /** A task ran on the CPU. a = tid. */
  run: 0,
  /** The CPU was in lazy TLB mode (is_lazy, the strategy's own flag). */
  lazy: 1,
  /** CR3 write. a = mm, b = 1 when it flushed the PCID (or no PCID); a merged record's b
   *  counts the flushing writes among those it stands for. */
  cr3: 2,
  /** A TLB flush on the CPU. a = FlushMark, b = pages (-1 full), d = its cost. */
  flush: 3,
  /** An IPI: cpu = sender, t = sent, a = target, b = arrival at the target. */
  ipi: 4,
  /** The initiator waited for acknowledgements (csd_lock_wait / TLBSYNC). d = the wait. */
  wait: 5,
  /** A cross-call handler ran on the CPU. a = sender CPU, d = its cost. */
  handler: 6,
  /** A flush request on its initiator. a = mm, b = mm_cpumask weight then, d = latency. */
  request: 7,
  /** What the recording printed: tlb:tlb_flush. a = reason, b = pages. */
  obsFlush: 8,
  /** What the recording printed: a real IPI. cpu = sender, a = target. */
  obsIpi: 9,
  /** CPUs in lazy TLB mode: a = how many, after `cpu` entered or left it. Kept apart from
   *  the lazy spans because two merged spans cover the gap between them, while a thinned
   *  counter is still exact at every sample it keeps. */
  lazyCount: 10,
} as const;
export const REC_TRACK_NAMES = ['run', 'lazy', 'cr3', 'flush', 'ipi', 'wait', 'handler', 'request', 'obsFlush', 'obsIpi', 'lazyCount'] as const;
export type RecTrackName = (typeof REC_TRACK_NAMES)[number];
const SPAN_TRACKS = new Set<number>([RecTrack.run, RecTrack.lazy]);
/** Tracks whose b is a count, added up when records merge. */
const SUM_B_TRACKS = new Set<number>([RecTrack.cr3]);

/** Kinds of flush marks (RecTrack.flush's a). */
export const FlushMark = { localFull: 0, localRanged: 1, remoteFull: 2, remoteRanged: 3, broadcast: 4 } as const;
export const FLUSH_MARK_NAMES = ['local full', 'local ranged', 'remote full', 'remote ranged', 'broadcast (INVLPGB)'] as const;

/** Records per track kept by default (memory: 44 bytes a record, 10 tracks). */
export const DEFAULT_TRACK_CAPACITY = 8192;

/** One track's kept records, trimmed to their count (plain typed arrays: structured-
 *  cloneable). w: how many events each record stands for (1 before any decimation). */
export interface TrackData {
  cpu: Int32Array; t: Float64Array; d: Float64Array; a: Float64Array; b: Float64Array; w: Float64Array;
  /** Events seen on this track, kept or merged. */
  seen: number;
  /** Each record kept now stands for up to this many events (1: nothing was merged). */
  stride: number;
}

/** A recorded replay: what a strategy did, per track. */
export interface Recording {
  strategy: string;
  safe: boolean;
  cpus: number;
  firstNs: number;
  lastNs: number;
  tracks: Record<RecTrackName, TrackData>;
}

class Track {
  readonly cap: number;
  readonly span: boolean;
  readonly sumB: boolean;
  n = 0;
  seen = 0;
  stride = 1;
  readonly cpu: Int32Array;
  readonly t: Float64Array;
  readonly d: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly w: Float64Array;
  /** Per CPU: the record new events merge into while it stands for fewer than `stride`
   *  (-1: none). The longest part of a merged span is `dom` long. */
  private readonly open: Int32Array;
  private readonly dom: Float64Array;

  constructor(cap: number, nCpu: number, span: boolean, sumB = false) {
    this.cap = Math.max(4, cap & ~1);
    this.span = span;
    this.sumB = sumB;
    this.cpu = new Int32Array(this.cap);
    this.t = new Float64Array(this.cap);
    this.d = new Float64Array(this.cap);
    this.a = new Float64Array(this.cap);
    this.b = new Float64Array(this.cap);
    this.w = new Float64Array(this.cap);
    this.dom = new Float64Array(this.cap);
    this.open = new Int32Array(nCpu).fill(-1);
  }

  /** One event (or `wt` events already merged into one record). */
  add(cpu: number, t: number, d: number, a: number, b: number, wt = 1): void {
    this.seen += wt;
    const o = this.open[cpu];
    if (o >= 0 && this.w[o] < this.stride) {
      this.w[o] += wt;
      if (this.span) {
        // A span merges with the next one on the CPU: it now ends where that one ends.
        const end = t + d;
        this.d[o] = end - this.t[o];
        if (d > this.dom[o]) { this.dom[o] = d; this.a[o] = a; this.b[o] = b; }
      } else if (this.sumB) { this.b[o] += b; if (d > this.d[o]) { this.d[o] = d; this.a[o] = a; } }
      else if (d > this.d[o]) { this.d[o] = d; this.a[o] = a; this.b[o] = b; }
      return;
    }
    if (this.n === this.cap) this.halve();
    const i = this.n++;
    this.cpu[i] = cpu; this.t[i] = t; this.d[i] = d; this.a[i] = a; this.b[i] = b; this.w[i] = wt; this.dom[i] = d;
    this.open[cpu] = this.stride > wt ? i : -1;
  }

  /** Merge each CPU's records pairwise, in place (the write index never passes the read
   *  index), and double the stride. */
  private halve(): void {
    const open = this.open;
    open.fill(-1);
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      const c = this.cpu[i];
      const o = open[c];
      if (o >= 0) {
        open[c] = -1;
        this.w[o] += this.w[i];
        if (this.span) {
          this.d[o] = this.t[i] + this.d[i] - this.t[o];
          if (this.dom[i] > this.dom[o]) { this.dom[o] = this.dom[i]; this.a[o] = this.a[i]; this.b[o] = this.b[i]; }
        } else if (this.sumB) { this.b[o] += this.b[i]; if (this.d[i] > this.d[o]) { this.d[o] = this.d[i]; this.a[o] = this.a[i]; } }
        else if (this.d[i] > this.d[o]) { this.d[o] = this.d[i]; this.a[o] = this.a[i]; this.b[o] = this.b[i]; }
        continue;
      }
      if (w !== i) {
        this.cpu[w] = c; this.t[w] = this.t[i]; this.d[w] = this.d[i]; this.a[w] = this.a[i]; this.b[w] = this.b[i];
        this.w[w] = this.w[i]; this.dom[w] = this.dom[i];
      }
      open[c] = w++;
    }
    this.n = w;
    open.fill(-1);
    this.stride *= 2;
  }

  data(): TrackData {
    const n = this.n;
    return {
      cpu: this.cpu.slice(0, n), t: this.t.slice(0, n), d: this.d.slice(0, n), a: this.a.slice(0, n),
      b: this.b.slice(0, n), w: this.w.slice(0, n), seen: this.seen, stride: this.stride,
    };
  }
}

/** `td` with at most `max` records, merged as a full track merges them (for a view that
 *  shows fewer records than the recording keeps). */
export function thinTrack(td: TrackData, max: number, kind: number, nCpu: number): TrackData {
  if (td.t.length <= max) return td;
  const tr = new Track(max, nCpu, SPAN_TRACKS.has(kind), SUM_B_TRACKS.has(kind));
  for (let i = 0; i < td.t.length; i++) tr.add(Math.min(td.cpu[i], nCpu - 1), td.t[i], td.d[i], td.a[i], td.b[i], td.w[i]);
  const out = tr.data();
  out.seen = td.seen;
  return out;
}

export interface RecorderOptions {
  /** Records kept per track (default DEFAULT_TRACK_CAPACITY). */
  capacity?: number;
}

export class EventRecorder {
  readonly nCpu: number;
  private readonly tracks: Track[];
  /** Per CPU: the task running since runFrom (-1: not seen yet). */
  private readonly runTid: Int32Array;
  private readonly runFrom: Float64Array;
  private readonly lazyFrom: Float64Array;
  private lazyN = 0;
  /** Per CPU: inside a cross-call handler started at handlerAt (sent by handlerFrom), or -1. */
  private readonly handlerFrom: Int32Array;
  private readonly handlerAt: Float64Array;
  private lastT = 0;

  constructor(nCpu: number, opts: RecorderOptions = {}) {
    const n = Math.max(1, nCpu | 0);
    this.nCpu = n;
    const cap = opts.capacity ?? DEFAULT_TRACK_CAPACITY;
    this.tracks = REC_TRACK_NAMES.map((_, k) => new Track(cap, n, SPAN_TRACKS.has(k), SUM_B_TRACKS.has(k)));
    this.runTid = new Int32Array(n).fill(-1);
    this.runFrom = new Float64Array(n);
    this.lazyFrom = new Float64Array(n).fill(-1);
    this.handlerFrom = new Int32Array(n).fill(-1);
    this.handlerAt = new Float64Array(n);
  }

  /** The time a mark on `cpu` is drawn at: inside a handler, the handler's start. */
  private at(cpu: number, now: number): number {
    return this.handlerFrom[cpu] >= 0 ? this.handlerAt[cpu] : now;
  }

  run(cpu: number, now: number, tid: number): void {
    if (cpu >= this.nCpu) return;
    this.lastT = now;
    const prev = this.runTid[cpu];
    if (prev === tid) return;
    if (prev >= 0 && now >= this.runFrom[cpu]) this.tracks[RecTrack.run].add(cpu, this.runFrom[cpu], now - this.runFrom[cpu], prev, 0);
    this.runTid[cpu] = tid;
    this.runFrom[cpu] = now;
  }

  lazy(cpu: number, now: number, on: boolean): void {
    if (cpu >= this.nCpu) return;
    if (on) {
      if (this.lazyFrom[cpu] >= 0) return;
      this.lazyFrom[cpu] = now;
      this.tracks[RecTrack.lazyCount].add(cpu, now, 0, ++this.lazyN, 0);
      return;
    }
    const from = this.lazyFrom[cpu];
    if (from < 0) return;
    this.lazyFrom[cpu] = -1;
    this.tracks[RecTrack.lazy].add(cpu, from, now - from, 0, 0);
    this.tracks[RecTrack.lazyCount].add(cpu, now, 0, --this.lazyN, 0);
  }

  cr3(cpu: number, now: number, mm: number, flush: boolean): void {
    this.tracks[RecTrack.cr3].add(cpu, this.at(cpu, now), 0, mm, flush ? 1 : 0);
  }

  /** A flush of `pages` (-1: the whole PCID) costing `ns` on `cpu`. */
  flush(cpu: number, now: number, pages: number, ns: number, broadcast = false): void {
    const remote = this.handlerFrom[cpu] >= 0;
    const kind = broadcast ? FlushMark.broadcast : pages < 0 ? (remote ? FlushMark.remoteFull : FlushMark.localFull) : (remote ? FlushMark.remoteRanged : FlushMark.localRanged);
    this.tracks[RecTrack.flush].add(cpu, this.at(cpu, now), ns, kind, pages);
  }

  ipi(from: number, to: number, sent: number, arrive: number): void {
    this.tracks[RecTrack.ipi].add(from, sent, arrive - sent, to, arrive);
  }

  wait(cpu: number, now: number, ns: number): void {
    this.tracks[RecTrack.wait].add(cpu, now, ns, 0, 0);
  }

  handlerBegin(cpu: number, from: number, at: number): void {
    this.handlerFrom[cpu] = from;
    this.handlerAt[cpu] = at;
  }

  handlerEnd(cpu: number, ns: number): void {
    const from = this.handlerFrom[cpu];
    if (from < 0) return;
    this.tracks[RecTrack.handler].add(cpu, this.handlerAt[cpu], ns, from, 0);
    this.handlerFrom[cpu] = -1;
  }

  request(cpu: number, now: number, mm: number, weight: number, latency: number): void {
    this.tracks[RecTrack.request].add(cpu, now, latency, mm, weight);
  }

  observedFlush(cpu: number, now: number, reason: number, pages: number): void {
    if (cpu >= this.nCpu) return;
    this.tracks[RecTrack.obsFlush].add(cpu, now, 0, reason, pages);
  }

  observedIpi(from: number, to: number, now: number): void {
    if (from >= this.nCpu) return;
    this.tracks[RecTrack.obsIpi].add(from, now, 0, to, 0);
  }

  /** The recording, with the spans still open closed at `end` (the trace's last event). */
  finish(strategy: string, safe: boolean, firstNs: number, lastNs: number): Recording {
    const end = Math.max(lastNs, this.lastT);
    for (let c = 0; c < this.nCpu; c++) {
      if (this.runTid[c] >= 0) { this.tracks[RecTrack.run].add(c, this.runFrom[c], Math.max(0, end - this.runFrom[c]), this.runTid[c], 0); this.runTid[c] = -1; }
      if (this.lazyFrom[c] >= 0) this.lazy(c, Math.max(end, this.lazyFrom[c]), false);
    }
    const tracks = {} as Record<RecTrackName, TrackData>;
    REC_TRACK_NAMES.forEach((name, k) => { tracks[name] = this.tracks[k].data(); });
    return { strategy, safe, cpus: this.nCpu, firstNs, lastNs, tracks };
  }
}
