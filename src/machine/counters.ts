// The machine's accounting: every metric counter in total and per CPU, the timeline
// buckets, the latency histogram, predicted tracepoint records, coherence violations, the
// sender x target IPI matrix, and the overhead charged to each task (its delay against the
// trace clock, plus the delay it inherited by being switched in behind a late task).
//
// Every cost goes through charge() or cost(): the overhead lands on the CPU, on the task
// running there (curTid, the scheduler's array) and on the timeline. Metrics that are not
// on the timeline are counted with add(), cost() or plain adds on the arrays in the hot
// loops (checked below at load).
//
// The machine is one object built in layers, one file each, from the bottom: Counters,
// CacheLines (cache-lines.ts), TlbRows (tlb-rows.ts), CrossCalls (cross-calls.ts), Checker
// (checker.ts), Machine (machine.ts, the face). A layer's methods call the ones below
// directly and name what they read from above as abstract members. One object, not
// objects that delegate to each other, because the replay's hot paths (a context switch,
// a flush request, a cross-call to 255 CPUs) cross every layer many times per event: a
// composed version measured ~15% slower on the 2-CPU replay.
import { wordsFor } from './bitset.ts';
import {
  LATENCY_BUCKETS, MAX_VIOLATIONS_KEPT, METRIC_COUNT, METRICS, MI, TIMELINE_BUCKETS, TIMELINE_METRICS,
} from './metrics.ts';

/** Stride of perCpu: metric m of CPU c is at [c * NM + m]. */
export const NM = METRIC_COUNT;
export const I_OVH = MI.overhead_ns;
export const I_LT = MI.line_transfers, I_AOPS = MI.atomic_ops, I_ANS = MI.atomic_ns;
/** Offset of overhead_ns's row in the timeline. */
export const TL_OVH = TIMELINE_METRICS.indexOf('overhead_ns') * TIMELINE_BUCKETS;
if (TL_OVH < 0) throw new Error('counters.ts: overhead_ns is not on the timeline; charge() must use inc()');
// The hot paths count these with add() / cost() or plain adds, which skip the timeline.
for (const name of [
  'line_transfers', 'atomic_ops', 'atomic_ns', 'ipi_ns', 'ipis_received', 'ipi_handler_ns', 'csd_queued',
  'pt_sync_ipis', 'mmdrop_ipis', 'ipis_to_lazy', 'ipis_to_stale', 'ipis_to_nonwalkers', 'ipis_to_idle',
  'initiator_wait_ns', 'tlb_misses', 'refill_ns', 'cr3_writes', 'mm_switches', 'cr3_ns', 'invalidate_ns',
  'page_flushes', 'flush_requests', 'cpumask_atomics', 'mm_count_atomics', 'ptwalk_track_ns',
] as const) {
  if (TIMELINE_METRICS.includes(name)) throw new Error(`counters.ts: ${name} is on the timeline; count it with inc()`);
}

export abstract class Counters {
  readonly nCpu: number;
  /** 32-bit words per cpumask. */
  readonly words: number;
  readonly metrics = new Float64Array(NM);
  /** metric m of CPU c at [c * NM + m]: a target CPU's counters share a few cache lines,
   *  which matters when one request reaches hundreds of CPUs. */
  readonly perCpu: Float64Array;
  readonly latency = new Float64Array(LATENCY_BUCKETS);
  readonly timeline: Float64Array;
  readonly tlFirst: number;
  readonly tlBucketNs: number;
  protected tlBucket = 0;
  /** Times known to be in bucket tlBucket (empty until the first event). */
  private tlBucketLo = Infinity;
  private tlBucketHi = -Infinity;
  /** Per metric: offset of its row in `timeline` (-1: not on the timeline). */
  private readonly tlRow = new Int32Array(NM).fill(-1);
  /** Predicted tlb:tlb_flush by reason (0..5) x class (0 full, 1 ranged, 2 none). */
  readonly predFlush = new Float64Array(6 * 3);
  readonly predFlushPages = new Float64Array(6);
  /** Predicted ipi_send_cpu / ipi_send_cpumask events (sends with >= 1 real IPI). */
  predIpiSends = 0;
  /** Predicted cross-call interrupts whose handlers printed a tlb_flush record (what a
   *  recording shows as irq_vectors:call_function*_entry followed by a flush). */
  predFlushIrqs = 0;
  /** tlb_flush records predicted so far. */
  flushRecords = 0;
  mutedFlushRecords = 0;
  violationCount = 0;
  /** Real IPIs by sender x target: [sender * nCpu + target]. */
  readonly ipiMatrix: Float64Array;
  readonly vIndex = new Float64Array(MAX_VIOLATIONS_KEPT);
  readonly vKind = new Uint8Array(MAX_VIOLATIONS_KEPT);
  readonly vCpu = new Int32Array(MAX_VIOLATIONS_KEPT);
  readonly vMm = new Int32Array(MAX_VIOLATIONS_KEPT);
  /** Overhead charged to each task (by tid). */
  protected taskOvh = new Float64Array(1024);
  /** Delay each task inherited from the CPU it was switched in on (the simulator's passDelay). */
  private taskInh = new Float64Array(1024);
  /** The scheduler's current task per CPU (machine.ts): charges go to it. */
  protected abstract readonly _curTid: Int32Array;
  /** The event being replayed (machine.ts), for the violations kept. */
  abstract eventIndex: number;

  constructor(nCpu: number, firstNs: number, lastNs: number) {
    this.nCpu = nCpu;
    this.words = wordsFor(nCpu);
    this.perCpu = new Float64Array(NM * nCpu);
    this.ipiMatrix = new Float64Array(nCpu * nCpu);
    TIMELINE_METRICS.forEach((name, i) => { this.tlRow[MI[name]] = i * TIMELINE_BUCKETS; });
    this.timeline = new Float64Array(TIMELINE_METRICS.length * TIMELINE_BUCKETS);
    this.tlFirst = firstNs;
    this.tlBucketNs = lastNs > firstNs ? (lastNs - firstNs) / TIMELINE_BUCKETS : 0;
  }

  /** Enter the timeline bucket of trace time t. */
  protected setBucketTime(t: number): void {
    // Most events fall in the bucket of the previous one: skip the division then.
    if (t >= this.tlBucketLo && t <= this.tlBucketHi) return;
    if (this.tlBucketNs > 0) this.enterBucket(t);
  }

  /** The timeline bucket of t, and an interval [t, hi] that is certainly in the same
   *  bucket. The bucket floor((t - first) / bucketNs) never decreases as t grows (IEEE
   *  subtraction and division round monotonically), so every time between two times of
   *  bucket b is in bucket b: hi is a time just below the next boundary whose bucket is
   *  checked with the same formula. */
  private enterBucket(t: number): void {
    const b = this.bucketOf(t);
    this.tlBucket = b;
    this.tlBucketLo = t;
    if (b === TIMELINE_BUCKETS - 1) { this.tlBucketHi = Infinity; return; }
    const hi = this.tlFirst + (b + 1 - 1e-6) * this.tlBucketNs;
    this.tlBucketHi = hi >= t && this.bucketOf(hi) === b ? hi : t;
  }

  private bucketOf(t: number): number {
    const b = Math.floor((t - this.tlFirst) / this.tlBucketNs);
    return b < 0 ? 0 : b >= TIMELINE_BUCKETS ? TIMELINE_BUCKETS - 1 : b;
  }

  /** Count `v` of metric `mi` on `cpu`. */
  inc(mi: number, cpu: number, v = 1): void {
    this.metrics[mi] += v;
    this.perCpu[cpu * NM + mi] += v;
    const row = this.tlRow[mi];
    if (row >= 0) this.timeline[row + this.tlBucket] += v;
  }

  /** inc() of a metric that is not on the timeline (checked at load). */
  protected add(mi: number, cpu: number, v: number): void {
    this.metrics[mi] += v;
    this.perCpu[cpu * NM + mi] += v;
  }

  /** add(cause, cpu, ns) then charge(cpu, ns), for a cause that is not on the timeline:
   *  the same additions in the same order, in one call. */
  protected cost(cause: number, cpu: number, ns: number): void {
    const tot = this.metrics, per = this.perCpu, at = cpu * NM;
    tot[cause] += ns;
    per[at + cause] += ns;
    if (ns <= 0) return;
    tot[I_OVH] += ns;
    per[at + I_OVH] += ns;
    this.timeline[TL_OVH + this.tlBucket] += ns;
    const tid = this._curTid[cpu];
    if (tid >= 0) {
      if (tid >= this.taskOvh.length) this.growTasks(tid);
      this.taskOvh[tid] += ns;
    }
  }

  /** Charge `ns` of overhead to `cpu` (and to the task running there). Every caller also
   *  counts the same ns under its cause (OVERHEAD_CAUSES in metrics.ts), so the report can
   *  split overhead_ns exactly. */
  charge(cpu: number, ns: number): void {
    if (ns <= 0) return;
    // inc(I_OVH, cpu, ns) written out: overhead_ns is on the timeline (checked at load).
    this.metrics[I_OVH] += ns;
    this.perCpu[cpu * NM + I_OVH] += ns;
    this.timeline[TL_OVH + this.tlBucket] += ns;
    const tid = this._curTid[cpu];
    if (tid >= 0) {
      if (tid >= this.taskOvh.length) this.growTasks(tid);
      this.taskOvh[tid] += ns;
    }
  }

  /** Take back `ns` of cause `cause` charged earlier to `cpu`, task `tid`, in timeline
   *  bucket `bucket` (spin time a cross-call handler ran in instead). */
  protected uncharge(cause: number, cpu: number, tid: number, bucket: number, ns: number): void {
    const at = cpu * NM;
    this.metrics[cause] -= ns; this.perCpu[at + cause] -= ns;
    this.metrics[I_OVH] -= ns; this.perCpu[at + I_OVH] -= ns;
    this.timeline[TL_OVH + bucket] -= ns;
    if (tid >= 0 && tid < this.taskOvh.length) this.taskOvh[tid] -= ns;
  }

  /** Overhead charged so far to `cpu`. */
  cpuOverhead(cpu: number): number {
    return this.perCpu[cpu * NM + I_OVH];
  }

  taskOverhead(tid: number): number {
    return tid >= 0 && tid < this.taskOvh.length ? this.taskOvh[tid] : 0;
  }

  /** How late `tid` runs against the trace clock: the overhead charged to it plus the delay
   *  it inherited (inheritDelay). iteration_ns is built from it. */
  taskDelay(tid: number): number {
    return tid > 0 && tid < this.taskOvh.length ? this.taskOvh[tid] + this.taskInh[tid] : this.taskOverhead(tid);
  }

  /** `tid` starts `ns` later than its own overhead says (the CPU's previous task finished
   *  late; the simulator's CPU serialisation). */
  inheritDelay(tid: number, ns: number): void {
    if (tid <= 0 || ns <= 0) return;
    if (tid >= this.taskOvh.length) this.growTasks(tid);
    this.taskInh[tid] += ns;
  }

  /** The CPU's lag: how far the work it runs now is behind the trace clock (the current
   *  task's delay; 0 for idle, whose time absorbs delay). now + cpuLag(c) is the CPU's
   *  position in delayed time, the clock the cross-calls are timed in. */
  cpuLag(cpu: number): number {
    const tid = this._curTid[cpu];
    return tid > 0 && tid < this.taskOvh.length ? this.taskOvh[tid] + this.taskInh[tid] : 0;
  }

  private growTasks(tid: number): void {
    let cap = this.taskOvh.length;
    while (cap <= tid) cap *= 2;
    const t = new Float64Array(cap); t.set(this.taskOvh); this.taskOvh = t;
    const h = new Float64Array(cap); h.set(this.taskInh); this.taskInh = h;
  }

  /** Count a predicted tlb:tlb_flush record. */
  protected predictFlush(reason: number, pages: number): void {
    const cls = pages === -1 ? 0 : pages === 0 ? 2 : 1;
    this.flushRecords++;
    this.predFlush[reason * 3 + cls]++;
    if (pages > 0) this.predFlushPages[reason] += pages;
  }

  recordLatency(ns: number): void {
    // floor(log2(ns)) of an integer below 2^31 is the index of its top bit.
    let b = ns < 1 ? 0 : (ns | 0) === ns ? 32 - Math.clz32(ns) : Math.floor(Math.log2(ns)) + 1;
    if (b >= LATENCY_BUCKETS) b = LATENCY_BUCKETS - 1;
    this.latency[b]++;
  }

  violation(kind: number, cpu: number, mm: number): void {
    const i = this.violationCount++;
    this.inc(MI.coherence_violations, cpu);
    if (i < MAX_VIOLATIONS_KEPT) {
      this.vIndex[i] = this.eventIndex; this.vKind[i] = kind; this.vCpu[i] = cpu; this.vMm[i] = mm;
    }
  }

  /** Metric values, with names (iteration_ns is filled by the simulator). */
  metricRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    METRICS.forEach((m, i) => { out[m.name] = this.metrics[i]; });
    return out;
  }
}
