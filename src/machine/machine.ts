// The simulated multi-CPU x86 machine: state, primitives and costs (the mechanism).
//
// One class on purpose. Its parts (counters, cache lines, TLB rows, cross-calls, checker)
// were split into files twice, as objects that delegate to each other and as layers of
// one object through subclassing; both gave identical results and replayed slower (the
// figures are in bench/RESULTS.md), because every event crosses all of them many times. The
// sections below keep them apart instead; only the cold global-ASID allocator has its own
// file (global-asids.ts). Cross-call timing: see "cross-calls".
//
// State kept here, all in typed arrays indexed by CPU, mm id or tid:
//  - per CPU, the kernel's cpu_tlbstate: loaded_mm (0 = init_mm), loaded_mm_asid, is_lazy,
//    next_asid, ctxs[TLB_NR_DYN_ASIDS] {ctx_id, tlb_gen}; the scheduler's current task,
//    its mm, active_mm and the lazy mm_count reference it holds; the lockless-walk slot;
//  - per CPU, the hardware: what CR3 holds (mm and PCID row) and a TLB model;
//  - per mm: ctx_id (global counter, never reused), tlb_gen, mm_cpumask (bitset),
//    mm_users, mm_count, global ASID, asid_transition, next_trim_cpumask;
//  - cache lines that bounce (mm_cpumask, mm_count, tlb_gen per mm, each with its last owner
//    and reader; is_lazy, cpu_tlbstate, the lockless-walk slot and call_single_queue per CPU,
//    as bitsets over the CPUs: see "cache lines").
//
// TLB model (counts, not pages): each CPU has NROWS PCID rows (0..5 = the dynamic ASIDs,
// 6..7 = the two most recently used global ASIDs). A row belongs to one address space
// (ctx_id) and caches `pages` translations of it; a CPU caches at most tlbEntries
// translations (least recently used rows give way). An access of n pages of mm M on a CPU
// whose CR3 row holds c of them costs max(0, n - c) misses (n if n > capacity): accesses
// are assumed to re-touch the task's hot set, the cached pages being part of it. INVLPG of
// k pages drops min(c, k); a full flush drops the row. Real traces carry no accesses: with
// `implicitAccess`, a user task touches `workingSetPages` pages each time it is switched
// in, and pages invalidated under a running task are refilled at once.
//
// Coherence checker ("truth" generations, independent of any strategy's tlb_gen): every
// flush request for mm M gets the next truth generation of M (a reclaim batch request, mm
// NULL, gives one to every mm loaded on some CPU); each PCID row records the
// truth generation its entries are fresh to (a full flush or a CR3 flush makes it current,
// INVLPG for request g advances it from g-1 to g). When user code of M runs on a CPU
// (switch into a user task, access, syscall events) the checker requires: CR3 holds M, the
// row belongs to M, and the row is fresh to the last *completed* request of M (requests
// complete when the initiator returns; for early-ack strategies, from the target's ack).
// When a request that freed page tables completes, every CPU still holding M's page
// tables in CR3 without running M must have flushed for it (speculative walks). When an
// mm is freed, no CPU may still have its pgd in CR3. Correct strategies report zero.
import { CpuPairs } from './cpu-pairs.ts';
import { bitAnyBut, bitClear, bitCount, bitNext, bitSet, bitTest, popcount32, wordsFor } from './bitset.ts';
import {
  LATENCY_BUCKETS, MAX_VIOLATIONS_KEPT, METRIC_COUNT, METRICS, MI, TIMELINE_BUCKETS, TIMELINE_METRICS, VK,
} from './metrics.ts';
import { GlobalAsids } from './global-asids.ts';
import type { CostProfile } from './profiles.ts';
import { FlushReq } from './request.ts';
import { RemoteFlush, type Strategy } from './strategy.ts';
import type { EventRecorder } from './recorder.ts';

export const TLB_NR_DYN_ASIDS = 6;
/** PCID rows per CPU in the TLB model. */
export const NROWS = 8;
export const INIT_MM = 0;
export { MAX_ASID_AVAILABLE } from './global-asids.ts';
/** The first of the two global-ASID rows of each CPU (rows 6 and 7). */
const GLOBAL_ROW = TLB_NR_DYN_ASIDS;
/** Pending early-acknowledged flushes kept per target CPU (stride of the deferred* arrays). */
const DEFERRED_SLOTS = 4;
/** Per-CPU cache lines, kept as bitsets over the CPUs (one `words`-word mask each, at
 *  line * words in cpuLineDirty). Only CPU c ever stores to its own is_lazy, cpu_tlbstate
 *  and walk-slot lines, and no atomic touches them, so each line's state is one bit: c holds
 *  it modified (set by c's store) or not (cleared by another CPU's read, which pays the
 *  transfer). A whole mask of CPUs is then read with a few word operations. */
/** is_lazy on its own line (5.13+ cpu_tlbstate_shared). */
const LINE_LAZY = 0;
/** cpu_tlbstate: loaded_mm, ctxs[] (and is_lazy before 5.13). */
const LINE_TLBSTATE = 1;
/** The lockless-walk slot (Lance Yang's targeted sync). */
const LINE_WALK = 2;
const CPU_LINES = 3;
// The CSD (cfd slot) an initiator fills and its target unlocks is a plain store on each
// side that nothing reads: not modelled. The call_single_queue head is: see queueTouched.
/** A line's reader slot when two or more CPUs share it unmodified. */
const SHARED_BY_SEVERAL = -2;

/** The CPU whose copy `cpu`'s write to a line nobody holds modified must take away, given
 *  the line's reader slot: -1 when no other CPU has it; `cpu` itself stands for "several"
 *  (priced as a same-socket transfer by transferNs). */
function lineSharer(reader: number, cpu: number): number {
  if (reader === SHARED_BY_SEVERAL) return cpu;
  return reader !== cpu ? reader : -1;
}

/** Cache lines per mm, at mm * MM_LINES + offset: mm_cpumask, mm_count, tlb_gen. */
const MM_LINES = 3;
const LINE_CPUMASK = 0, LINE_MM_COUNT = 1, LINE_TLB_GEN = 2;
/** How a CSD reaches its target: a real IPI (to a busy or an idle CPU), or it joins the
 *  interrupt already pending there. */
const CSD_IPI = 0, CSD_IPI_IDLE = 1, CSD_JOINS = 2;

/** Purposes of a cross-call. */
export const IpiPurpose = { flush: 0, ptSync: 1, mmDrop: 2 } as const;
/** How a cross-call is acknowledged. */
export const AckMode = {
  /** The target unlocks the CSD after running the handler (SCF_WAIT). */
  sync: 0,
  /** The target copies the info, unlocks, then runs the handler (Nadav Amit's 2019 RFC). */
  early: 1,
} as const;

/** Read-only view of a per-CPU array, for strategies. */
export interface RO { readonly [i: number]: number; readonly length: number }

// Metric indexes as module constants: no property load in the hot paths. (A load of MI.x
// there failed its map check on every call of sendIpis and creditWait, thousands of "wrong
// map" deoptimisations per 256-CPU replay, until MI got a hidden class of its own: see
// metrics.ts.)
const MI_OVERHEAD_NS = MI.overhead_ns;
const MI_LINE_TRANSFERS = MI.line_transfers, MI_ATOMIC_OPS = MI.atomic_ops, MI_ATOMIC_NS = MI.atomic_ns;
const MI_BROADCAST_FLUSHES = MI.broadcast_flushes;
const MI_COHERENCE_VIOLATIONS = MI.coherence_violations, MI_CPUMASK_ATOMICS = MI.cpumask_atomics;
const MI_CR3_FLUSHES = MI.cr3_flushes, MI_CR3_NS = MI.cr3_ns, MI_CR3_WRITES = MI.cr3_writes;
const MI_CSD_QUEUED = MI.csd_queued, MI_FLUSH_REQUESTS = MI.flush_requests;
const MI_FULL_FLUSHES = MI.full_flushes, MI_GLOBAL_ASIDS = MI.global_asids;
const MI_INITIATOR_WAIT_NS = MI.initiator_wait_ns, MI_INVALIDATE_NS = MI.invalidate_ns;
const MI_IPI_HANDLER_NS = MI.ipi_handler_ns, MI_IPI_NS = MI.ipi_ns;
const MI_IPIS_RECEIVED = MI.ipis_received, MI_IPIS_SENT = MI.ipis_sent;
const MI_IPIS_TO_IDLE = MI.ipis_to_idle, MI_IPIS_TO_LAZY = MI.ipis_to_lazy;
const MI_IPIS_TO_NONWALKERS = MI.ipis_to_nonwalkers, MI_IPIS_TO_STALE = MI.ipis_to_stale;
const MI_MM_COUNT_ATOMICS = MI.mm_count_atomics, MI_MM_FREES = MI.mm_frees;
const MI_MM_SWITCHES = MI.mm_switches, MI_MMDROP_IPIS = MI.mmdrop_ipis;
const MI_PAGE_FLUSHES = MI.page_flushes, MI_PT_SYNC_IPIS = MI.pt_sync_ipis;
const MI_PTWALK_TRACK_NS = MI.ptwalk_track_ns, MI_REFILL_NS = MI.refill_ns;
const MI_TLB_MISSES = MI.tlb_misses, MI_TLBSYNCS = MI.tlbsyncs;
/** Offset of overhead_ns's row in the timeline. */
const TIMELINE_OVERHEAD_ROW = TIMELINE_METRICS.indexOf('overhead_ns') * TIMELINE_BUCKETS;
if (TIMELINE_OVERHEAD_ROW < 0) throw new Error('machine.ts: overhead_ns is not on the timeline; charge() must use inc()');
// The hot paths count these with add() / cost() or plain adds, which skip the timeline.
for (const name of [
  'line_transfers', 'atomic_ops', 'atomic_ns', 'ipi_ns', 'ipis_received', 'ipi_handler_ns', 'csd_queued',
  'pt_sync_ipis', 'mmdrop_ipis', 'ipis_to_lazy', 'ipis_to_stale', 'ipis_to_nonwalkers', 'ipis_to_idle',
  'initiator_wait_ns', 'tlb_misses', 'refill_ns', 'cr3_writes', 'mm_switches', 'cr3_ns', 'invalidate_ns',
  'page_flushes', 'flush_requests', 'cpumask_atomics', 'mm_count_atomics', 'ptwalk_track_ns',
] as const) {
  if (TIMELINE_METRICS.includes(name)) throw new Error(`machine.ts: ${name} is on the timeline; count it with inc()`);
}

/** Observes what the modelled kernel would print, as it happens (validate --explain).
 *  Null on every normal replay: the hot path pays one null check per traced record. */
export interface MachineTap {
  /** A tlb:tlb_flush record the modelled kernel prints on `cpu`. */
  flush(cpu: number, reason: number, pages: number): void;
  /** A real IPI (ipi_send_cpu) from `from` to `to` for a cross-call of `purpose`. */
  ipi(from: number, to: number, purpose: number): void;
}

export interface MachineOptions {
  /** Treat each switch into a user task as touching profile.workingSetPages pages. */
  implicitAccess?: boolean;
  /** Trace span for the timeline buckets. */
  firstNs?: number;
  lastNs?: number;
  /** A synchronous cross-call's handler runs when its target next runs, not at once: a
   *  guest whose vCPUs outnumber the host's cores (TCG) takes an IPI only when the host
   *  schedules that vCPU, milliseconds later, so CSDs from many initiators pile up in one
   *  call_single_queue and are handled in one interrupt (serveBefore). */
  irqWhenRun?: boolean;
  /** With irqWhenRun: the host cores the vCPUs share (the recording's host_cpus). */
  hostCores?: number;
}

export class Machine {
  readonly nCpu: number;
  readonly words: number;
  readonly profile: CostProfile;
  strategy!: Strategy;
  /** CR4.PCIDE: set by the strategy (nopcid variants clear it). */
  pcid = true;
  /** is_lazy lives on its own cache line (5.13+ "Privatize cpu_tlbstate") rather than in
   *  cpu_tlbstate next to loaded_mm (4.14-5.12). */
  lazyLinePrivate = false;
  readonly implicitAccess: boolean;
  /** Every CPU is on socket 0: a line transfer never crosses sockets. */
  private readonly oneSocket: boolean;
  /** Time of the event being replayed (ns, trace clock). */
  now = 0;
  /** Index of the event being replayed in the whole stream. */
  eventIndex = 0;
  /** The CPU whose code runs now: the event's CPU, or a cross-call target while its
   *  handler runs. Only the tap reads it. */
  execCpu = 0;
  tap: MachineTap | null = null;
  /** The timeline recorder (replay --trace-out, the report's timeline); null otherwise. */
  rec: EventRecorder | null = null;

  // ---------------------------------------------------------------- counters
  readonly metrics = new Float64Array(METRIC_COUNT);
  /** metric m of CPU c at [m * nCpu + c]: metric-major, so that a cross-call, which walks
   *  its targets in CPU order and adds the same few metrics to each, reads each metric's
   *  row sequentially (one cache line serves 8 targets) instead of touching several lines
   *  of every target. */
  readonly perCpu: Float64Array;
  readonly latency = new Float64Array(LATENCY_BUCKETS);
  readonly timeline: Float64Array;
  readonly tlFirst: number;
  readonly tlBucketNs: number;
  private timelineBucket = 0;
  /** Times known to be in bucket timelineBucket (empty until the first event). */
  private timelineBucketLo = Infinity;
  private timelineBucketHi = -Infinity;
  /** Per metric: offset of its row in `timeline` (-1: not on the timeline). */
  private readonly timelineRow = new Int32Array(METRIC_COUNT).fill(-1);
  /** Predicted tlb:tlb_flush by reason (0..5) x class (0 full, 1 ranged, 2 none). */
  readonly predFlush = new Float64Array(6 * 3);
  readonly predFlushPages = new Float64Array(6);
  /** Predicted ipi_send_cpu / ipi_send_cpumask events (sends with >= 1 real IPI). */
  predIpiSends = 0;
  /** Predicted cross-call interrupts whose handlers printed a tlb_flush record (what a
   *  recording shows as irq_vectors:call_function*_entry followed by a flush). */
  predFlushIrqs = 0;
  /** tlb_flush records predicted so far (traceFlush). */
  private flushRecords = 0;
  /** While set (the simulator replays a context switch the recording lost), tlb_flush
   *  records are not predicted: the recording cannot show them either. */
  get traceMuted(): boolean { return this._traceMuted; }
  private _traceMuted = false;
  mutedFlushRecords = 0;
  violationCount = 0;
  /** Real IPIs by sender x target: [sender * nCpu + target]. */
  readonly ipiMatrix: CpuPairs;
  readonly vIndex = new Float64Array(MAX_VIOLATIONS_KEPT);
  readonly vKind = new Uint8Array(MAX_VIOLATIONS_KEPT);
  readonly vCpu = new Int32Array(MAX_VIOLATIONS_KEPT);
  readonly vMm = new Int32Array(MAX_VIOLATIONS_KEPT);

  // ---------------------------------------------------------------- per-CPU kernel state
  private readonly _loadedMm: Int32Array;
  private readonly _loadedAsid: Int32Array;
  private readonly _isLazy: Uint8Array;
  private readonly _nextAsid: Int32Array;
  private readonly _slotCtx: Float64Array;
  private readonly _slotGen: Float64Array;
  /** cpu_tlbstate.loaded_mm (0 = init_mm). */
  readonly loadedMm: RO;
  /** cpu_tlbstate.loaded_mm_asid (0..5 dynamic, >= 6 global). */
  readonly loadedAsid: RO;
  /** is_lazy (TLBSTATE_LAZY on 4.13). */
  readonly isLazy: RO;
  readonly nextAsid: RO;
  /** ctxs[cpu * 6 + asid].ctx_id / .tlb_gen */
  readonly slotCtx: RO;
  readonly slotGen: RO;
  // scheduler (maintained by the simulator through setCurrent & co, read by strategies)
  private readonly _curTid: Int32Array;
  private readonly _curTaskMm: Int32Array;
  private readonly _activeMm: Int32Array;
  private readonly _lazyRef: Int32Array;
  private readonly _walkMm: Int32Array;
  /** current (tid; -1 before the CPU is first seen, 0 idle). */
  readonly curTid: RO;
  /** current->mm (0 for kernel threads, idle, and a task after exit_mm). */
  readonly curTaskMm: RO;
  /** current->active_mm. */
  readonly activeMm: RO;
  /** The mm whose mm_count this CPU's lazy borrow holds (-1: none). */
  readonly lazyRef: RO;
  /** active_lockless_pt_walk_mm (0: not in a lockless walk). */
  readonly walkMm: RO;

  // ---------------------------------------------------------------- hardware
  private readonly _cr3Mm: Int32Array;
  private readonly _cr3Row: Int32Array;
  readonly cr3Mm: RO;
  private readonly rowCtx: Float64Array;
  private readonly rowMm: Int32Array;
  private readonly rowPcid: Int32Array;
  private readonly rowPages: Float64Array;
  private readonly rowFresh: Float64Array;
  private readonly rowUse: Float64Array;
  private readonly cpuPages: Float64Array;
  // cache lines per CPU (CPU_LINES, LINE_*): bit c of line L's mask = c holds it modified
  private readonly cpuLineDirty: Uint32Array;
  /** Bit c: c's call_single_queue head has been used. The initiator's llist_add and the
   *  target's llist_del_all are the only atomics on it and come in pairs, so after the first
   *  cross-call the target always owns it: each later llist_add takes the line from the
   *  target, each llist_del_all takes it back from the initiator. */
  private readonly queueTouched: Uint32Array;
  /** is_lazy of every CPU as a mask (the same values as _isLazy). */
  private readonly lazyBits: Uint32Array;
  // Cross-call timing, in *delayed time* (trace time + the CPU's lag, see cpuLag()):
  /** When the interrupt most recently started on each CPU ends (its last queued handler). */
  private readonly irqEnd: Float64Array;
  /** When that interrupt took the call_single_queue (llist_del_all): a CSD added before
   *  this joins it (no IPI); one added after finds the queue empty and sends an IPI. */
  private readonly queueTakenAt: Float64Array;
  /** The CPU's last csd_lock_wait(): its window, the spin time in it not yet overlapped by
   *  handlers, the task that waited and the timeline bucket the wait was charged to. */
  private readonly waitFrom: Float64Array;
  private readonly waitTo: Float64Array;
  private readonly spinLeft: Float64Array;
  private readonly waitTid: Int32Array;
  private readonly waitBucket: Int32Array;
  // early-ack pending flushes
  private readonly deferredCount: Int32Array;
  private readonly deferredReq: FlushReq[];
  private readonly deferredAckAt: Float64Array;
  private readonly deferredDoneAt: Float64Array;
  nextDue = Infinity;
  // initiator wait bookkeeping
  private readonly waitUntil: Float64Array;
  private readonly waitArmed: Uint8Array;
  private readonly clockBase: Float64Array;
  /** Per target, during one sendIpis: CSD_IPI, CSD_IPI_IDLE or CSD_JOINS. */
  private readonly csdKind: Uint8Array;
  /** Per target CPU, on one socket: cross-calls it received, those that joined a pending
   *  interrupt, those whose flush info it read (sendIpis counts them, settle() prices
   *  them). */
  private readonly recvCalls: Float64Array;
  private readonly recvJoins: Float64Array;
  private readonly recvInfo: Float64Array;
  /** sendIpis' own copy of its targets (the mask it is given may be a scratch mask that a
   *  handler reuses). */
  private readonly targetScratch: Uint32Array;
  /** Per CPU: the interrupt being handled there was counted in predFlushIrqs. */
  private readonly irqCounted: Uint8Array;
  // Handlers that wait for their target to run (irqWhenRun): per CPU, the CSDs in its
  // call_single_queue, their flush infos copied (the kernel's cfd slots hold them).
  /** See MachineOptions.irqWhenRun. */
  readonly irqWhenRun: boolean;
  private readonly queueLength: Int32Array;
  private readonly queuedReq: FlushReq[][];
  private readonly queuedPurpose: Int32Array[];
  private readonly queuedMm: Int32Array[];
  private readonly queuedFrom: Int32Array[];
  /** Per initiator (words each): targets holding a CSD of it not handled yet. */
  private readonly unacked: Uint32Array;
  /** Trace time of each CPU's latest event of the workload (serveBefore). */
  private readonly lastRun: Float64Array;
  /** Host cores the guest's vCPUs share. */
  private readonly hostCores: number;
  /** The recording shows when each CPU took its cross-call interrupts (irq_vectors
   *  entries): pending CSDs are handled there (serveIrq), not guessed from the CPU's own
   *  events or its spinning. */
  irqTimesRecorded = false;

  // ---------------------------------------------------------------- per mm (grown on demand)
  // Indexed by slot, not by the trace's mm number: the simulator maps each mm of the trace
  // to a slot (allocMm) and a freed mm's slot is given to a later one, so this state is as
  // large as the most mms alive at once, not as all the mms a long fork-heavy trace makes.
  // What leaves the machine (violations, the recorder) names the trace's number (mmTraceId).
  private mmCap = 0;
  /** Slots in use or freed so far (slot 0 is init_mm). */
  private mmSlots = 0;
  /** Freed slots, oldest first, that a new mm may take once nothing points at them. */
  private readonly freedSlots: number[] = [];
  /** The trace's mm number of each slot. */
  private _mmTraceId = new Int32Array(0);
  /** 0 unseen, 1 live, 2 torn down (exit_mmap done), 3 freed */
  private _mmState = new Uint8Array(0);
  private mmCtxId = new Float64Array(0);
  private mmTlbGen = new Float64Array(0);
  private mmMask = new Uint32Array(0);
  /** Per mm (words each): the CPUs whose cpu_tlbstate.loaded_mm is it, the same facts as
   *  _loadedMm (setLoadedMm keeps both), so a mask of CPUs is filtered word by word. */
  private loadedBits = new Uint32Array(0);
  private _mmUsers = new Int32Array(0);
  private _mmCount = new Int32Array(0);
  private mmGlobal = new Int32Array(0);
  private mmTransition = new Uint8Array(0);
  private mmNextTrim = new Float64Array(0);
  private truthGen = new Float64Array(0);
  private completedGen = new Float64Array(0);
  // lines per mm (MM_LINES, LINE_CPUMASK / LINE_MM_COUNT / LINE_TLB_GEN)
  private mmLineOwner = new Int32Array(0);
  private mmLineReader = new Int32Array(0);
  private lastCtxId = 1; // init_mm has ctx_id 1 (last_mm_ctx_id starts at 1)
  get mmState(): RO { return this._mmState; }
  /** The trace's mm number of each slot (0: init_mm). */
  get mmTraceId(): RO { return this._mmTraceId; }
  /** Slots ever used for mms (the most alive at once, plus freed ones still named). */
  get mmSlotsUsed(): number { return this.mmSlots; }
  /** mm_users */
  get mmUsers(): RO { return this._mmUsers; }
  /** mm_count */
  get mmCount(): RO { return this._mmCount; }

  // global ASID allocator (global-asids.ts; arch/x86/mm/tlb.c, 6.15+)
  private readonly globalAsids = new GlobalAsids(TLB_NR_DYN_ASIDS);

  // per tid
  private taskOverheadNs = new Float64Array(1024);
  /** Delay a task inherited from the CPU it was switched in on (the simulator's passDelay). */
  private taskInheritedNs = new Float64Array(1024);

  // scratch masks for strategies
  private readonly scratch: Uint32Array[];

  constructor(nCpu: number, profile: CostProfile, opts: MachineOptions = {}) {
    const n = Math.max(1, nCpu | 0);
    this.nCpu = n;
    this.words = wordsFor(n);
    this.profile = profile;
    this.implicitAccess = opts.implicitAccess ?? false;
    this.oneSocket = Math.floor((n - 1) / profile.cpusPerSocket) === 0;
    this.perCpu = new Float64Array(METRIC_COUNT * n);
    this.ipiMatrix = new CpuPairs(n);
    TIMELINE_METRICS.forEach((name, i) => { this.timelineRow[MI[name]] = i * TIMELINE_BUCKETS; });
    this.timeline = new Float64Array(TIMELINE_METRICS.length * TIMELINE_BUCKETS);
    const first = opts.firstNs ?? 0, last = opts.lastNs ?? 0;
    this.tlFirst = first;
    this.tlBucketNs = last > first ? (last - first) / TIMELINE_BUCKETS : 0;

    this._loadedMm = new Int32Array(n); this.loadedMm = this._loadedMm;
    this._loadedAsid = new Int32Array(n); this.loadedAsid = this._loadedAsid;
    this._isLazy = new Uint8Array(n); this.isLazy = this._isLazy;
    this._nextAsid = new Int32Array(n).fill(1); this.nextAsid = this._nextAsid;
    this._slotCtx = new Float64Array(n * TLB_NR_DYN_ASIDS); this.slotCtx = this._slotCtx;
    this._slotGen = new Float64Array(n * TLB_NR_DYN_ASIDS); this.slotGen = this._slotGen;
    this._curTid = new Int32Array(n).fill(-1); this.curTid = this._curTid;
    this._curTaskMm = new Int32Array(n); this.curTaskMm = this._curTaskMm;
    this._activeMm = new Int32Array(n); this.activeMm = this._activeMm;
    this._lazyRef = new Int32Array(n).fill(-1); this.lazyRef = this._lazyRef;
    this._walkMm = new Int32Array(n); this.walkMm = this._walkMm;
    this._cr3Mm = new Int32Array(n); this.cr3Mm = this._cr3Mm;
    this._cr3Row = new Int32Array(n);
    this.rowCtx = new Float64Array(n * NROWS);
    this.rowMm = new Int32Array(n * NROWS).fill(-1);
    this.rowPcid = new Int32Array(n * NROWS).fill(-1);
    this.rowPages = new Float64Array(n * NROWS);
    this.rowFresh = new Float64Array(n * NROWS);
    this.rowUse = new Float64Array(n * NROWS);
    this.cpuPages = new Float64Array(n);
    this.cpuLineDirty = new Uint32Array(CPU_LINES * this.words);
    this.queueTouched = new Uint32Array(this.words);
    this.lazyBits = new Uint32Array(this.words);
    this.irqEnd = new Float64Array(n).fill(-Infinity);
    this.queueTakenAt = new Float64Array(n).fill(-Infinity);
    this.waitFrom = new Float64Array(n);
    this.waitTo = new Float64Array(n);
    this.spinLeft = new Float64Array(n);
    this.waitTid = new Int32Array(n).fill(-1);
    this.waitBucket = new Int32Array(n);
    this.deferredCount = new Int32Array(n);
    this.deferredReq = Array.from({ length: n * DEFERRED_SLOTS }, () => new FlushReq());
    this.deferredAckAt = new Float64Array(n * DEFERRED_SLOTS);
    this.deferredDoneAt = new Float64Array(n * DEFERRED_SLOTS);
    this.waitUntil = new Float64Array(n);
    this.waitArmed = new Uint8Array(n);
    this.clockBase = new Float64Array(n);
    this.csdKind = new Uint8Array(n);
    this.targetScratch = new Uint32Array(this.words);
    this.recvCalls = new Float64Array(n);
    this.recvJoins = new Float64Array(n);
    this.recvInfo = new Float64Array(n);
    this.irqCounted = new Uint8Array(n);
    this.irqWhenRun = opts.irqWhenRun ?? false;
    this.queueLength = new Int32Array(n);
    this.queuedReq = Array.from({ length: n }, () => []);
    this.queuedPurpose = Array.from({ length: n }, () => new Int32Array(0));
    this.queuedMm = Array.from({ length: n }, () => new Int32Array(0));
    this.queuedFrom = Array.from({ length: n }, () => new Int32Array(0));
    this.unacked = new Uint32Array(this.irqWhenRun ? n * this.words : 0);
    this.lastRun = new Float64Array(n).fill(-Infinity);
    this.hostCores = Math.max(1, opts.hostCores ?? 2);
    this.batchMm = new Int32Array(n);
    this.scratch = Array.from({ length: 6 }, () => new Uint32Array(this.words));
    // Every CPU starts on init_mm with ASID 0 holding it (initialize_tlbstate_and_flush).
    for (let c = 0; c < n; c++) {
      this._slotCtx[c * TLB_NR_DYN_ASIDS] = 1;
      this.rowMm[c] = 0; this.rowCtx[c] = 1; this.rowPcid[c] = 0; // row 0 of CPU c
    }
    this.growMm(64);
    for (let c = 0; c < n; c++) bitSet(this.loadedBits, 0, c); // every CPU on init_mm
    this._mmState[0] = 1; this.mmCtxId[0] = 1; this._mmCount[0] = 1; this._mmUsers[0] = 1;
  }

  // ======================================================================= accounting

  setTime(t: number, index: number): void {
    this.now = t;
    this.eventIndex = index;
    // Most events fall in the bucket of the previous one: skip the division then.
    if (t >= this.timelineBucketLo && t <= this.timelineBucketHi) return;
    if (this.tlBucketNs > 0) this.enterBucket(t);
  }

  /** The timeline bucket of t, and an interval [t, hi] that is certainly in the same
   *  bucket. The bucket floor((t - first) / bucketNs) never decreases as t grows (IEEE
   *  subtraction and division round monotonically), so every time between two times of
   *  bucket b is in bucket b: hi is a time just below the next boundary whose bucket is
   *  checked with the same formula. */
  private enterBucket(t: number): void {
    const b = this.bucketOf(t);
    this.timelineBucket = b;
    this.timelineBucketLo = t;
    if (b === TIMELINE_BUCKETS - 1) { this.timelineBucketHi = Infinity; return; }
    const hi = this.tlFirst + (b + 1 - 1e-6) * this.tlBucketNs;
    this.timelineBucketHi = hi >= t && this.bucketOf(hi) === b ? hi : t;
  }

  private bucketOf(t: number): number {
    const b = Math.floor((t - this.tlFirst) / this.tlBucketNs);
    return b < 0 ? 0 : b >= TIMELINE_BUCKETS ? TIMELINE_BUCKETS - 1 : b;
  }

  /** Count `v` of metric `mi` on `cpu`. */
  inc(mi: number, cpu: number, v = 1): void {
    this.metrics[mi] += v;
    this.perCpu[mi * this.nCpu + cpu] += v;
    const row = this.timelineRow[mi];
    if (row >= 0) this.timeline[row + this.timelineBucket] += v;
  }

  /** inc() of a metric that is not on the timeline (checked at load). */
  private add(mi: number, cpu: number, v: number): void {
    this.metrics[mi] += v;
    this.perCpu[mi * this.nCpu + cpu] += v;
  }

  /** add(cause, cpu, ns) then charge(cpu, ns), for a cause that is not on the timeline:
   *  the same additions in the same order, in one call. */
  private cost(cause: number, cpu: number, ns: number): void {
    const tot = this.metrics, per = this.perCpu, n = this.nCpu;
    tot[cause] += ns;
    per[cause * n + cpu] += ns;
    if (ns <= 0) return;
    tot[MI_OVERHEAD_NS] += ns;
    per[MI_OVERHEAD_NS * n + cpu] += ns;
    this.timeline[TIMELINE_OVERHEAD_ROW + this.timelineBucket] += ns;
    const tid = this.curTid[cpu];
    if (tid >= 0) {
      if (tid >= this.taskOverheadNs.length) this.growTasks(tid);
      this.taskOverheadNs[tid] += ns;
    }
  }

  /** Charge `ns` of overhead to `cpu` (and to the task running there). Every caller also
   *  counts the same ns under its cause (OVERHEAD_CAUSES in metrics.ts), so the report can
   *  split overhead_ns exactly. */
  charge(cpu: number, ns: number): void {
    if (ns <= 0) return;
    // inc(MI_OVERHEAD_NS, cpu, ns) written out: overhead_ns is on the timeline (checked at load).
    this.metrics[MI_OVERHEAD_NS] += ns;
    this.perCpu[MI_OVERHEAD_NS * this.nCpu + cpu] += ns;
    this.timeline[TIMELINE_OVERHEAD_ROW + this.timelineBucket] += ns;
    const tid = this.curTid[cpu];
    if (tid >= 0) {
      if (tid >= this.taskOverheadNs.length) this.growTasks(tid);
      this.taskOverheadNs[tid] += ns;
    }
  }

  /** Overhead charged so far to `cpu`. */
  cpuOverhead(cpu: number): number {
    return this.perCpu[MI_OVERHEAD_NS * this.nCpu + cpu];
  }

  /** The charged overhead of the `limit` tasks with the most (non-zero only, by tid;
   *  RunResult.taskOverhead), and how many others had some and their sum. A list of every
   *  task of a trace with 200,000 of them, per strategy, was most of a replay's memory and
   *  half its time; a report shows a few hundred. */
  taskOverheads(limit: number): { kept: { tid: number; ns: number }[]; others: { tasks: number; ns: number } } {
    const all = this.taskOverheadNs;
    let charged = 0;
    for (let t = 0; t < all.length; t++) if (all[t] !== 0) charged++;
    // Keep |ns| >= the limit-th largest |ns| (ties at the threshold kept by tid order).
    let threshold = 0;
    if (charged > limit) {
      const mags = new Float64Array(charged);
      for (let t = 0, k = 0; t < all.length; t++) if (all[t] !== 0) mags[k++] = Math.abs(all[t]);
      mags.sort();
      threshold = mags[charged - limit];
    }
    const kept: { tid: number; ns: number }[] = [];
    let othersTasks = 0, othersNs = 0;
    for (let t = 0; t < all.length; t++) {
      const ns = all[t];
      if (ns === 0) continue;
      if (kept.length < limit && Math.abs(ns) >= threshold) kept.push({ tid: t, ns });
      else { othersTasks++; othersNs += ns; }
    }
    return { kept, others: { tasks: othersTasks, ns: othersNs } };
  }

  taskOverhead(tid: number): number {
    return tid >= 0 && tid < this.taskOverheadNs.length ? this.taskOverheadNs[tid] : 0;
  }

  /** How late `tid` runs against the trace clock: the overhead charged to it plus the delay
   *  it inherited (inheritDelay). iteration_ns is built from it. */
  taskDelay(tid: number): number {
    return tid > 0 && tid < this.taskOverheadNs.length ? this.taskOverheadNs[tid] + this.taskInheritedNs[tid] : this.taskOverhead(tid);
  }

  /** `tid` starts `ns` later than its own overhead says (the CPU's previous task finished
   *  late; the simulator's CPU serialisation). */
  inheritDelay(tid: number, ns: number): void {
    if (tid <= 0 || ns <= 0) return;
    if (tid >= this.taskOverheadNs.length) this.growTasks(tid);
    this.taskInheritedNs[tid] += ns;
  }

  /** The CPU's lag: how far the work it runs now is behind the trace clock (the current
   *  task's delay; 0 for idle, whose time absorbs delay). now + cpuLag(c) is the CPU's
   *  position in delayed time, the clock the cross-calls are timed in. */
  cpuLag(cpu: number): number {
    const tid = this.curTid[cpu];
    return tid > 0 && tid < this.taskOverheadNs.length ? this.taskOverheadNs[tid] + this.taskInheritedNs[tid] : 0;
  }

  private growTasks(tid: number): void {
    let cap = this.taskOverheadNs.length;
    while (cap <= tid) cap *= 2;
    const t = new Float64Array(cap); t.set(this.taskOverheadNs); this.taskOverheadNs = t;
    const h = new Float64Array(cap); h.set(this.taskInheritedNs); this.taskInheritedNs = h;
  }

  /** A tlb:tlb_flush event the modelled kernel would emit here. */
  traceFlush(reason: number, pages: number): void {
    if (this._traceMuted) { this.mutedFlushRecords++; return; }
    if (this.tap !== null) this.tap.flush(this.execCpu, reason, pages);
    this.flushRecords++;
    const cls = pages === -1 ? 0 : pages === 0 ? 2 : 1;
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
    this.inc(MI_COHERENCE_VIOLATIONS, cpu);
    if (i < MAX_VIOLATIONS_KEPT) {
      this.vIndex[i] = this.eventIndex; this.vKind[i] = kind; this.vCpu[i] = cpu; this.vMm[i] = this._mmTraceId[mm];
    }
  }

  // ======================================================================= simulator primitives

  /** The CPU whose code runs now (the event's CPU). */
  setExecCpu(cpu: number): void { this.execCpu = cpu; }
  /** The scheduler switched `cpu` to task `tid` (current). */
  setCurrent(cpu: number, tid: number): void {
    // Every current task has its overhead slot: the cross-call loops index it unchecked.
    if (tid >= this.taskOverheadNs.length) this.growTasks(tid);
    this._curTid[cpu] = tid;
    if (this.rec !== null) this.rec.run(cpu, this.now, tid);
  }
  /** current->mm of `cpu` (0: a kernel thread, idle, or a task after exit_mm). */
  setTaskMm(cpu: number, mm: number): void { this._curTaskMm[cpu] = mm; }
  /** The mm whose mm_count `cpu`'s lazy borrow holds (-1: none). */
  setLazyRef(cpu: number, mm: number): void { this._lazyRef[cpu] = mm; }
  /** Do not predict tlb_flush records while set (a switch the recording lost). */
  muteTrace(on: boolean): void { this._traceMuted = on; }
  /** A task of mm started using it (mm_users++). */
  mmUserAdd(mm: number): void { this._mmUsers[mm]++; }
  /** A task stopped using mm (mm_users--, never below 0). */
  mmUserDrop(mm: number): void { if (this._mmUsers[mm] > 0) this._mmUsers[mm]--; }
  /** exit_mmap() is done: mm has no users left (its mm_count reference is dropped next). */
  markTornDown(mm: number): void { this._mmState[mm] = 2; this._mmUsers[mm] = 0; }

  // ======================================================================= cache lines

  private transferNs(from: number, to: number): number {
    const p = this.profile;
    if (this.oneSocket) return p.lineTransferNs;
    const same = Math.floor(from / p.cpusPerSocket) === Math.floor(to / p.cpusPerSocket);
    return same ? p.lineTransferNs : p.lineTransferNs * p.crossSocketFactor;
  }

  /** A locked RMW by `cpu` on a line: local if it owns the line, else a transfer (from the
   *  owner, from the one other reader, or, when several CPUs share it, the invalidation of
   *  their copies priced as one same-socket transfer). */
  private lineAtomic(owner: Int32Array, reader: Int32Array, idx: number, cpu: number): void {
    let ns = this.profile.atomicLocalNs;
    const o = owner[idx];
    const from = o >= 0 ? (o !== cpu ? o : -1) : lineSharer(reader[idx], cpu);
    const total = this.metrics, per = this.perCpu, n = this.nCpu;
    // None of these three is on the timeline (checked at load below): plain adds.
    if (from >= 0) { ns += this.transferNs(from, cpu); total[MI_LINE_TRANSFERS]++; per[MI_LINE_TRANSFERS * n + cpu]++; }
    owner[idx] = cpu; reader[idx] = -1;
    total[MI_ATOMIC_OPS]++; per[MI_ATOMIC_OPS * n + cpu]++;
    total[MI_ATOMIC_NS] += ns; per[MI_ATOMIC_NS * n + cpu] += ns;
    this.charge(cpu, ns);
  }

  /** A load: a transfer if another CPU holds the line modified. A second CPU reading a
   *  line another already shares marks it SHARED_BY_SEVERAL, so that the next atomic on it,
   *  by either, pays for invalidating the other's copy (with one reader slot, the last
   *  reader's own atomic looked free although the first still held the line). */
  private lineRead(owner: Int32Array, reader: Int32Array, idx: number, cpu: number): void {
    const o = owner[idx];
    if (o >= 0 && o !== cpu) {
      this.add(MI_LINE_TRANSFERS, cpu, 1);
      this.cost(MI_ATOMIC_NS, cpu, this.transferNs(o, cpu));
      owner[idx] = -1;
    }
    const r = reader[idx];
    reader[idx] = r < 0 && r !== SHARED_BY_SEVERAL || r === cpu ? cpu : SHARED_BY_SEVERAL;
  }

  // ======================================================================= mm bookkeeping

  /** Bytes of state each mm slot holds (the arrays growMm grows), and each tid
   *  (growTasks): replay() sizes its passes by them (estimateStateBytes, sim.ts). */
  static bytesPerMmSlot(nCpu: number): number {
    const words = wordsFor(Math.max(1, nCpu | 0));
    // state, transition: u8; traceId, users, count, global: i32; ctxId, tlbGen, nextTrim,
    // truthGen, completedGen: f64; mmMask and loadedBits: a word each per 32 CPUs; the
    // owner and reader of each of the MM_LINES lines: i32.
    return 2 * 1 + 4 * 4 + 5 * 8 + 2 * 4 * words + 2 * 4 * MM_LINES;
  }
  static readonly BYTES_PER_TID = 2 * 8;

  private growMm(need: number): void {
    let cap = Math.max(64, this.mmCap);
    while (cap <= need) cap *= 2;
    if (cap === this.mmCap) return;
    const W = this.words;
    const g8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array, fill = 0) => { const b = new Int32Array(cap).fill(fill); b.set(a); return b; };
    const g64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    this._mmState = g8(this._mmState);
    this._mmTraceId = g32(this._mmTraceId);
    this.mmCtxId = g64(this.mmCtxId);
    this.mmTlbGen = g64(this.mmTlbGen);
    const m = new Uint32Array(cap * W); m.set(this.mmMask); this.mmMask = m;
    const lb = new Uint32Array(cap * W); lb.set(this.loadedBits); this.loadedBits = lb;
    this._mmUsers = g32(this._mmUsers);
    this._mmCount = g32(this._mmCount);
    this.mmGlobal = g32(this.mmGlobal);
    this.mmTransition = g8(this.mmTransition);
    this.mmNextTrim = g64(this.mmNextTrim);
    this.truthGen = g64(this.truthGen);
    this.completedGen = g64(this.completedGen);
    const lo = new Int32Array(cap * MM_LINES).fill(-1); lo.set(this.mmLineOwner); this.mmLineOwner = lo;
    const lr = new Int32Array(cap * MM_LINES).fill(-1); lr.set(this.mmLineReader); this.mmLineReader = lr;
    this.mmCap = cap;
  }

  /** A new mm (init_new_context) for the trace's mm number `traceId`: the oldest freed slot
   *  that no CPU state, TLB row or queued request points at any more, else a new slot.
   *  Returns the slot. */
  allocMm(traceId: number): number {
    let mm = 0;
    // A few candidates: a slot a lazy CPU or a TLB row still names goes to the back, so a
    // slot pinned for long (a row on a CPU that stays idle) does not stop the others' reuse.
    for (let k = 0; k < 4 && this.freedSlots.length > 0; k++) {
      const candidate = this.freedSlots.shift()!;
      if (!this.slotReferenced(candidate)) { mm = candidate; break; }
      this.freedSlots.push(candidate);
    }
    if (mm === 0) {
      mm = ++this.mmSlots;
      if (mm >= this.mmCap) this.growMm(mm);
    }
    // init_new_context: unique ctx_id, tlb_gen 0, empty cpumask, next_trim = jiffies + HZ
    this._mmTraceId[mm] = traceId;
    this._mmState[mm] = 1;
    this.mmCtxId[mm] = ++this.lastCtxId;
    this.mmTlbGen[mm] = 0;
    this.mmMask.fill(0, mm * this.words, (mm + 1) * this.words);
    this._mmUsers[mm] = 0;
    this._mmCount[mm] = 1;
    this.mmGlobal[mm] = 0;
    this.mmTransition[mm] = 0;
    this.mmNextTrim[mm] = this.jiffies() + this.profile.hz;
    this.truthGen[mm] = 0;
    this.completedGen[mm] = 0;
    this.mmLineOwner.fill(-1, mm * MM_LINES, (mm + 1) * MM_LINES);
    this.mmLineReader.fill(-1, mm * MM_LINES, (mm + 1) * MM_LINES);
    return mm;
  }

  /** Something still names freed slot `mm`: a CPU's loaded, active, lazily borrowed,
   *  walked or current mm, its CR3, a TLB row, a queued CSD or a deferred request. */
  private slotReferenced(mm: number): boolean {
    const n = this.nCpu;
    for (let c = 0; c < n; c++) {
      if (this._loadedMm[c] === mm || this._activeMm[c] === mm || this._lazyRef[c] === mm || this._cr3Mm[c] === mm
        || this._walkMm[c] === mm || this._curTaskMm[c] === mm) return true;
      const q = this.queuedMm[c];
      for (let j = 0; j < this.queueLength[c]; j++) if (q[j] === mm) return true;
      for (let j = 0; j < this.deferredCount[c]; j++) if (this.deferredReq[c * DEFERRED_SLOTS + j].mm === mm) return true;
    }
    const rows = this.rowMm;
    for (let r = 0; r < rows.length; r++) if (rows[r] === mm) return true;
    return false;
  }

  isLive(mm: number): boolean { return mm > 0 && mm < this.mmCap && this.mmState[mm] === 1; }
  ctxId(mm: number): number { return this.mmCtxId[mm]; }
  jiffies(): number { return Math.floor(this.now * this.profile.hz / 1e9); }

  // ======================================================================= per-CPU state primitives

  // ---------------------------------------------------------------- per-CPU lines

  /** A store by `cpu` to its own per-CPU line (the transfer is not charged: stores are
   *  buffered). */
  private ownStore(line: number, cpu: number): void {
    this.cpuLineDirty[line * this.words + (cpu >>> 5)] |= 1 << (cpu & 31);
  }

  /** `cpu` reads `target`'s per-CPU line: a transfer if target holds it modified. */
  private ownRead(line: number, cpu: number, target: number): void {
    if (target === cpu) return;
    const i = line * this.words + (target >>> 5), b = 1 << (target & 31);
    if ((this.cpuLineDirty[i] & b) === 0) return;
    this.cpuLineDirty[i] &= ~b;
    this.add(MI_LINE_TRANSFERS, cpu, 1);
    this.cost(MI_ATOMIC_NS, cpu, this.transferNs(target, cpu));
  }

  /** `cpu` reads the per-CPU line of every CPU in `mask` but itself, one after the other:
   *  the ownRead of each, in a few word operations. The transfers are whole numbers and
   *  each costs the same on one socket, so they are counted, then charged once. */
  private maskRead(line: number, cpu: number, mask: Uint32Array): void {
    const W = this.words, d = this.cpuLineDirty, base = line * W;
    const sw = cpu >>> 5, sb = 1 << (cpu & 31);
    let n = 0, ns = 0;
    for (let w = 0; w < W; w++) {
      let hit = d[base + w] & mask[w];
      if (w === sw) hit &= ~sb;
      if (hit === 0) continue;
      d[base + w] &= ~hit;
      if (this.oneSocket) { n += popcount32(hit); continue; }
      while (hit !== 0) {
        const low = hit & -hit; hit ^= low;
        n++; ns += this.transferNs((w << 5) | (31 - Math.clz32(low)), cpu);
      }
    }
    if (n === 0) return;
    this.add(MI_LINE_TRANSFERS, cpu, n);
    this.cost(MI_ATOMIC_NS, cpu, this.oneSocket ? n * this.profile.lineTransferNs : ns);
  }

  private lazyLine(): number { return this.lazyLinePrivate ? LINE_LAZY : LINE_TLBSTATE; }

  /** cpu_tlbstate.loaded_mm / loaded_mm_asid store. */
  setLoaded(cpu: number, mm: number, asid: number): void {
    this.setLoadedMm(cpu, mm);
    this._loadedAsid[cpu] = asid;
    this.ownStore(LINE_TLBSTATE, cpu);
  }

  /** is_lazy store (a plain store; it makes the line dirty for remote readers). */
  setLazy(cpu: number, lazy: boolean): void {
    this._isLazy[cpu] = lazy ? 1 : 0;
    if (this.rec !== null) this.rec.lazy(cpu, this.now, lazy);
    if (lazy) this.lazyBits[cpu >>> 5] |= 1 << (cpu & 31);
    else this.lazyBits[cpu >>> 5] &= ~(1 << (cpu & 31));
    this.ownStore(this.lazyLine(), cpu);
  }

  /** cpu_tlbstate.ctxs[asid] = { ctx_id of mm, tlb_gen }. ctxs[] lives in cpu_tlbstate
   *  beside loaded_mm, so the store dirties that line; before 5.13 is_lazy was on it too,
   *  and an initiator's read of is_lazy after this CPU flushed is a line transfer: the
   *  false sharing that "x86/mm/tlb: Privatize cpu_tlbstate" (Amit, v5.13) removed ("only
   *  the variable is_lazy is shared. This causes some false-sharing when TLB flushes are
   *  performed"). */
  setSlot(cpu: number, asid: number, mm: number, gen: number): void {
    const i = cpu * TLB_NR_DYN_ASIDS + asid;
    this._slotCtx[i] = this.mmCtxId[mm];
    this._slotGen[i] = gen;
    this.ownStore(LINE_TLBSTATE, cpu);
  }

  /** cpu_tlbstate.ctxs[asid].tlb_gen = gen (the flush handler's store; see setSlot). */
  setSlotGen(cpu: number, asid: number, gen: number): void {
    this._slotGen[cpu * TLB_NR_DYN_ASIDS + asid] = gen;
    this.ownStore(LINE_TLBSTATE, cpu);
  }

  setNextAsid(cpu: number, v: number): void { this._nextAsid[cpu] = v; }

  /** Another CPU reads `target`'s is_lazy (should_flush_tlb, tlb_is_not_lazy). */
  readIsLazy(cpu: number, target: number): boolean {
    this.ownRead(this.lazyLine(), cpu, target);
    return this._isLazy[target] !== 0;
  }

  /** The CPUs of `mask` whose is_lazy `cpu` reads as false (tlb_is_not_lazy() of each, as
   *  on_each_cpu_cond_mask() evaluates it), into scratch mask k. */
  notLazyIn(cpu: number, mask: Uint32Array, k: number): Uint32Array {
    this.maskRead(this.lazyLine(), cpu, mask);
    const out = this.scratch[k], lazy = this.lazyBits;
    for (let w = 0; w < this.words; w++) out[w] = mask[w] & ~lazy[w];
    return out;
  }

  /** The CPUs of `mask` that are lazy, into scratch mask k, with no cost (for a caller that
   *  has read their is_lazy through notLazyIn). */
  lazyIn(mask: Uint32Array, k: number): Uint32Array {
    const out = this.scratch[k], lazy = this.lazyBits;
    for (let w = 0; w < this.words; w++) out[w] = mask[w] & lazy[w];
    return out;
  }

  private setLoadedMm(cpu: number, mm: number): void {
    const old = this._loadedMm[cpu];
    if (mm >= this.mmCap) this.growMm(mm);
    bitClear(this.loadedBits, old * this.words, cpu);
    bitSet(this.loadedBits, mm * this.words, cpu);
    this._loadedMm[cpu] = mm;
  }

  /** The CPUs of `mask` whose cpu_tlbstate.loaded_mm `cpu` reads as `mm`, into scratch
   *  mask k (k must not be the scratch mask `mask` is). */
  loadedIn(cpu: number, mask: Uint32Array, mm: number, k: number): Uint32Array {
    this.maskRead(LINE_TLBSTATE, cpu, mask);
    const out = this.scratch[k], W = this.words;
    if (mm < 0 || mm >= this.mmCap) { for (let w = 0; w < W; w++) out[w] = 0; return out; }
    const loaded = this.loadedBits, base = mm * W;
    for (let w = 0; w < W; w++) out[w] = mask[w] & loaded[base + w];
    return out;
  }

  /** Another CPU reads `target`'s cpu_tlbstate.loaded_mm. */
  readLoadedMm(cpu: number, target: number): number {
    this.ownRead(LINE_TLBSTATE, cpu, target);
    return this._loadedMm[target];
  }

  /** Read another CPU's lockless-walk slot (Lance Yang v4). */
  readWalkMm(cpu: number, target: number): number {
    this.ownRead(LINE_WALK, cpu, target);
    return this.walkMm[target];
  }

  /** pt_walk_lockless_start/_end: store + smp_mb on the walker's own slot. */
  setWalkMm(cpu: number, mm: number, tracked: boolean): void {
    this._walkMm[cpu] = mm;
    if (tracked) {
      this.ownStore(LINE_WALK, cpu);
      this.cost(MI_PTWALK_TRACK_NS, cpu, this.profile.ptwalkTrackNs);
    }
  }

  // ======================================================================= mm primitives

  /** atomic64_inc_return(&mm->context.tlb_gen) */
  incMmGen(cpu: number, mm: number): number {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_TLB_GEN, cpu);
    return ++this.mmTlbGen[mm];
  }

  /** atomic64_read(&mm->context.tlb_gen) */
  readMmGen(cpu: number, mm: number): number {
    this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_TLB_GEN, cpu);
    return this.mmTlbGen[mm];
  }

  /** tlb_gen without a cost (assertions and tests). */
  peekMmGen(mm: number): number { return this.mmTlbGen[mm]; }

  /** Reclaim batching (arch_tlbbatch_add_pending) bumped tlb_gen of every mm whose pages
   *  the batch unmapped; the trace does not say which, so the mms loaded on some CPU are
   *  taken. Returns the batch cpumask (CPUs with a user mm loaded) in scratch mask 3. */
  batchAddPending(cpu: number, bumpGen = true): Uint32Array {
    const mask = this.scratch[3];
    for (let w = 0; w < this.words; w++) mask[w] = 0;
    for (let c = 0; c < this.nCpu; c++) {
      const mm = this._loadedMm[c];
      if (mm !== 0) {
        bitSet(mask, 0, c);
        // the first CPU with mm loaded bumps it
        if (bumpGen && bitNext(this.loadedBits, mm * this.words, this.words, 0) === c) this.incMmGen(cpu, mm);
      }
    }
    return mask;
  }

  /** cpumask_test_cpu(bit, mm_cpumask(mm)) by `cpu` (a read of the mask's line). */
  cpumaskTest(cpu: number, mm: number, bit: number): boolean {
    this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    return bitTest(this.mmMask, mm * this.words, bit);
  }

  /** cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids */
  cpumaskAnyBut(cpu: number, mm: number): boolean {
    this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    return bitAnyBut(this.mmMask, mm * this.words, this.words, cpu);
  }

  /** cpumask_set_cpu(cpu, mm_cpumask(mm)): lock bts by `cpu` on its own bit. */
  /** cpumask_weight(mm_cpumask(mm)), for the recorder (no cache-line model: nobody reads it). */
  cpumaskWeight(mm: number): number {
    return mm > 0 && mm < this.mmCap ? bitCount(this.mmMask, mm * this.words, this.words) : 0;
  }

  cpumaskSet(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    this.add(MI_CPUMASK_ATOMICS, cpu, 1);
    bitSet(this.mmMask, mm * this.words, cpu);
  }

  /** Initial state, no cost: mm_cpumask(mm) holds every CPU. */
  presetCpumaskAll(mm: number): void {
    for (let c = 0; c < this.nCpu; c++) bitSet(this.mmMask, mm * this.words, c);
  }

  /** cpumask_clear_cpu(cpu, mm_cpumask(mm)): lock btr by `cpu` on its own bit. */
  cpumaskClear(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    this.add(MI_CPUMASK_ATOMICS, cpu, 1);
    bitClear(this.mmMask, mm * this.words, cpu);
  }

  /** Next CPU >= from in mm_cpumask(mm) (no cost: callers pay one read via cpumaskAnyBut
   *  or readMask when they start a scan). */
  maskNext(mm: number, from: number): number {
    return bitNext(this.mmMask, mm * this.words, this.words, from);
  }

  /** A read of mm_cpumask's line before scanning it. */
  readMask(cpu: number, mm: number): void {
    this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
  }

  /** Copy mm_cpumask(mm) into scratch mask k and return it. */
  maskCopy(mm: number, k: number): Uint32Array {
    const s = this.scratch[k];
    const b = mm * this.words;
    for (let w = 0; w < this.words; w++) s[w] = this.mmMask[b + w];
    return s;
  }

  /** Operations on a mask returned by maskCopy / scratchMask / batchAddPending. */
  maskTest(mask: Uint32Array, c: number): boolean { return bitTest(mask, 0, c); }
  maskSet(mask: Uint32Array, c: number): void { bitSet(mask, 0, c); }
  maskClear(mask: Uint32Array, c: number): void { bitClear(mask, 0, c); }
  maskAnyBut(mask: Uint32Array, c: number): boolean { return bitAnyBut(mask, 0, this.words, c); }
  maskNextIn(mask: Uint32Array, from: number): number { return bitNext(mask, 0, this.words, from); }
  /** dst |= src (cpumask_or); returns dst. */
  maskOr(dst: Uint32Array, src: Uint32Array): Uint32Array {
    for (let w = 0; w < this.words; w++) dst[w] |= src[w];
    return dst;
  }
  /** Number of CPUs in mm_cpumask(mm) (cpumask_weight). */
  maskWeight(mm: number): number { return bitCount(this.mmMask, mm * this.words, this.words); }

  /** The scheduler's current->active_mm (MMU_LAZY_TLB_SHOOTDOWN resets it to init_mm). */
  setActiveMm(cpu: number, mm: number): void { this._activeMm[cpu] = mm; }

  /** An empty scratch mask (k = 0..5; 3 is used by batchAddPending; by convention the
   *  flush paths use 0 for the mm_cpumask copy, 1 and 4 for should_flush_tlb's result, 2
   *  for page-table sync and mm-drop masks, 5 for a strategy's own). */
  scratchMask(k: number): Uint32Array {
    const s = this.scratch[k];
    // A loop, not fill(): a mask is a few words and the builtin call costs more than them.
    for (let w = 0; w < this.words; w++) s[w] = 0;
    return s;
  }

  /** mmgrab / mmgrab_lazy_tlb: atomic inc of mm_count. */
  mmGrab(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_MM_COUNT, cpu);
    this.add(MI_MM_COUNT_ATOMICS, cpu, 1);
    this._mmCount[mm]++;
  }

  /** mmdrop / mmdrop_lazy_tlb: atomic dec of mm_count; at zero, __mmdrop frees the mm. */
  mmDrop(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_MM_COUNT, cpu);
    this.add(MI_MM_COUNT_ATOMICS, cpu, 1);
    if (--this._mmCount[mm] <= 0 && mm !== 0) this.freeMm(cpu, mm);
  }

  private freeMm(cpu: number, mm: number): void {
    this.serveMm(mm); // a handler still queued for mm runs before it goes: its initiator waited
    this.strategy.onMmDrop(cpu, mm);
    // destroy_context: the global ASID is reusable after the next wrap-around flush.
    if (this.mmGlobal[mm] !== 0) { this.globalAsids.free(this.mmGlobal[mm]); this.mmGlobal[mm] = 0; }
    for (let c = 0; c < this.nCpu; c++) {
      if (this._cr3Mm[c] === mm) this.violation(VK.freedPgd, c, mm);
    }
    this._mmState[mm] = 3;
    this.freedSlots.push(mm);
    this.inc(MI_MM_FREES, cpu);
  }

  // ---------------------------------------------------------------- global ASIDs (INVLPGB)

  mmGlobalAsid(mm: number): number { return this.mmGlobal[mm]; }
  inAsidTransition(mm: number): boolean { return this.mmTransition[mm] !== 0; }
  setAsidTransition(mm: number, v: boolean): void { this.mmTransition[mm] = v ? 1 : 0; }

  /** use_global_asid(): allocate_global_asid() next-fit; reset_global_asid_space() on wrap
   *  (one invlpgb_flush_all_nonglobals). Returns the asid or 0. */
  assignGlobalAsid(cpu: number, mm: number): number {
    if (this.mmGlobal[mm] !== 0) return this.mmGlobal[mm];
    const g = this.globalAsids;
    if (g.available <= 0) return 0;
    if (g.needsReset()) {
      this.invlpgbFlushAllNonglobals(cpu);
      g.reset();
    }
    const asid = g.allocate();
    if (asid === 0) return 0;
    this.mmGlobal[mm] = asid;
    this.mmTransition[mm] = 1;
    this.inc(MI_GLOBAL_ASIDS, cpu);
    return asid;
  }

  // ---------------------------------------------------------------- trim deadline (6.14+)

  /** should_trim_cpumask(): once per HZ. */
  shouldTrimCpumask(mm: number): boolean {
    const j = this.jiffies();
    if (j > this.mmNextTrim[mm]) { this.mmNextTrim[mm] = j + this.profile.hz; return true; }
    return false;
  }

  // ======================================================================= TLB + CR3 primitives

  // Row k of CPU c is at k * nCpu + c (row-major): a cross-call's targets, walked in CPU
  // order, find their current rows side by side in each row array.

  private rowFor(cpu: number, asid: number): number {
    const n = this.nCpu;
    if (asid < TLB_NR_DYN_ASIDS) {
      const r = asid * n + cpu;
      if (this.rowPcid[r] !== asid) { this.dropRow(cpu, r); this.rowPcid[r] = asid; this.rowMm[r] = -1; this.rowCtx[r] = 0; }
      return r;
    }
    const r6 = GLOBAL_ROW * n + cpu, r7 = r6 + n;
    if (this.rowPcid[r6] === asid) return r6;
    if (this.rowPcid[r7] === asid) return r7;
    const r = this.rowUse[r6] <= this.rowUse[r7] ? r6 : r7;
    this.dropRow(cpu, r);
    this.rowPcid[r] = asid; this.rowMm[r] = -1; this.rowCtx[r] = 0;
    return r;
  }

  /** Drop a row's translations. Under implicit accesses, pages dropped under a running
   *  user task of that mm are refilled at once (the task keeps touching them). */
  private dropRow(cpu: number, r: number): void {
    const pages = this.rowPages[r];
    if (pages > 0) {
      this.rowPages[r] = 0;
      this.cpuPages[cpu] -= pages;
      if (this.implicitAccess && this._cr3Row[cpu] === r && this.curTaskMm[cpu] === this.rowMm[r] && this.rowMm[r] > 0) {
        this.refill(cpu, r, pages);
      }
    }
  }

  private refill(cpu: number, r: number, n: number): void {
    this.add(MI_TLB_MISSES, cpu, n);
    this.cost(MI_REFILL_NS, cpu, n * this.profile.tlbMissNs);
    this.fill(cpu, r, this.rowPages[r] + n);
  }

  private fill(cpu: number, r: number, target: number): void {
    const cap = this.profile.tlbEntries;
    if (target > cap) target = cap;
    const add = target - this.rowPages[r];
    if (add <= 0) return;
    let over = this.cpuPages[cpu] + add - cap;
    const n = this.nCpu, end = NROWS * n;
    while (over > 0) {
      let victim = -1, use = Infinity;
      for (let i = cpu; i < end; i += n) {
        if (i !== r && this.rowPages[i] > 0 && this.rowUse[i] < use) { use = this.rowUse[i]; victim = i; }
      }
      if (victim < 0) break;
      const take = Math.min(over, this.rowPages[victim]);
      this.rowPages[victim] -= take; this.cpuPages[cpu] -= take; over -= take;
    }
    this.rowPages[r] += add;
    this.cpuPages[cpu] += add;
  }

  /** Write CR3: load mm's page tables with PCID `asid` (asid+1 in hardware), flushing that
   *  PCID or not (NOFLUSH). Without PCID every write flushes all non-global entries. */
  cr3Write(cpu: number, mm: number, asid: number, flush: boolean): void {
    const p = this.profile;
    this.add(MI_CR3_WRITES, cpu, 1);
    if (this._cr3Mm[cpu] !== mm) this.add(MI_MM_SWITCHES, cpu, 1);
    if (!this.pcid) { asid = 0; flush = true; }
    const r = this.rowFor(cpu, asid);
    if (flush) {
      this.inc(MI_CR3_FLUSHES, cpu);
      this.cost(MI_CR3_NS, cpu, p.cr3WriteNs + p.cr3FlushExtraNs);
      if (!this.pcid) { for (let i = cpu; i < NROWS * this.nCpu; i += this.nCpu) this.dropRow(cpu, i); }
      else this.dropRow(cpu, r);
      this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtxId[mm]; this.rowFresh[r] = this.truthGen[mm];
    } else {
      this.cost(MI_CR3_NS, cpu, p.cr3WriteNs);
      if (this.rowCtx[r] !== this.mmCtxId[mm]) {
        if (this.rowMm[r] < 0 && this.rowPages[r] === 0) {
          // An empty PCID (a global ASID seen for the first time): trivially fresh.
          this.rowFresh[r] = this.truthGen[mm];
        } else {
          this.rowFresh[r] = -1; // entries of another address space now tagged as mm's
        }
        this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtxId[mm];
      }
    }
    this._cr3Mm[cpu] = mm;
    this._cr3Row[cpu] = r;
    this.rowUse[r] = this.now;
    if (this.rec !== null) this.rec.cr3(cpu, this.now, this._mmTraceId[mm], flush);
  }

  /** flush_tlb_local(): rewrite CR3 with its own value, flushing the current PCID. */
  flushLocalFull(cpu: number): void {
    this.inc(MI_FULL_FLUSHES, cpu);
    this.cost(MI_INVALIDATE_NS, cpu, this.profile.flushLocalNs);
    if (this.rec !== null) this.rec.flush(cpu, this.now, -1, this.profile.flushLocalNs);
    const r = this._cr3Row[cpu];
    if (!this.pcid) { for (let i = cpu; i < NROWS * this.nCpu; i += this.nCpu) this.dropRow(cpu, i); }
    else this.dropRow(cpu, r);
    const mm = this._cr3Mm[cpu];
    this.rowFresh[r] = this.truthGen[mm];
  }

  /** INVLPG x n in the current PCID, for request `req` (its truth generation advances the
   *  row only if the row was fresh up to the previous request). */
  flushPages(cpu: number, n: number, req: FlushReq): void {
    this.add(MI_PAGE_FLUSHES, cpu, n);
    this.cost(MI_INVALIDATE_NS, cpu, n * this.profile.invlpgNs);
    if (this.rec !== null) this.rec.flush(cpu, this.now, n * req.stride, n * this.profile.invlpgNs);
    const r = this._cr3Row[cpu];
    const drop = Math.min(this.rowPages[r], n * req.stride);
    if (drop > 0) {
      this.rowPages[r] -= drop; this.cpuPages[cpu] -= drop;
      if (this.implicitAccess && this.curTaskMm[cpu] === this.rowMm[r] && this.rowMm[r] > 0) this.refill(cpu, r, drop);
    }
    if (req.mm !== 0 && req.mm === this.rowMm[r] && this.rowFresh[r] >= req.truthGen - 1 && this.rowFresh[r] < req.truthGen) {
      this.rowFresh[r] = req.truthGen;
    }
  }

  /** A task touched n pages of mm on cpu (synthetic `access` events, implicit working set). */
  access(cpu: number, mm: number, n: number): void {
    if (n <= 0 || this._cr3Mm[cpu] !== mm) return;
    const r = this._cr3Row[cpu];
    const c = this.rowPages[r];
    const cap = this.profile.tlbEntries;
    const miss = n > cap ? n : (n > c ? n - c : 0);
    this.rowUse[r] = this.now;
    if (miss > 0) {
      this.add(MI_TLB_MISSES, cpu, miss);
      this.cost(MI_REFILL_NS, cpu, miss * this.profile.tlbMissNs);
      this.fill(cpu, r, n > c ? n : c);
    }
  }

  /** Pages of the current CR3 row (tests, assertions). */
  cachedPages(cpu: number): number { return this.rowPages[this._cr3Row[cpu]]; }

  // ---------------------------------------------------------------- INVLPGB / TLBSYNC

  /** broadcast_tlb_flush(): INVLPGB for PCID of global `asid` over the request's range on
   *  every CPU (no IPI, no target-side cost). */
  invlpgb(cpu: number, asid: number, req: FlushReq): void {
    const ops = req.full ? 1 : Math.max(1, Math.ceil(req.nr / this.profile.invlpgbMaxPages));
    this.inc(MI_BROADCAST_FLUSHES, cpu, ops);
    this.inc(MI_INVALIDATE_NS, cpu, ops * this.profile.invlpgbNs);
    this.charge(cpu, ops * this.profile.invlpgbNs);
    if (this.rec !== null) this.rec.flush(cpu, this.now, req.full ? -1 : req.nr * req.stride, ops * this.profile.invlpgbNs, true);
    for (let c = 0; c < this.nCpu; c++) {
      for (let r = GLOBAL_ROW * this.nCpu + c; r < NROWS * this.nCpu; r += this.nCpu) {
        if (this.rowPcid[r] !== asid) continue;
        if (req.full) {
          const pages = this.rowPages[r];
          if (pages > 0) { this.rowPages[r] = 0; this.cpuPages[c] -= pages; if (this.implicitAccess && this._cr3Row[c] === r && this.curTaskMm[c] === this.rowMm[r]) this.refill(c, r, pages); }
          this.rowFresh[r] = this.truthGen[req.mm];
        } else {
          const drop = Math.min(this.rowPages[r], req.nr * req.stride);
          if (drop > 0) { this.rowPages[r] -= drop; this.cpuPages[c] -= drop; if (this.implicitAccess && this._cr3Row[c] === r && this.curTaskMm[c] === this.rowMm[r]) this.refill(c, r, drop); }
          if (this.rowMm[r] === req.mm && this.rowFresh[r] >= req.truthGen - 1 && this.rowFresh[r] < req.truthGen) this.rowFresh[r] = req.truthGen;
        }
      }
    }
  }

  /** invlpgb_flush_all_nonglobals(): every PCID on every CPU, then TLBSYNC (the helper in
   *  arch/x86/include/asm/tlb.h, v6.15+, ends with __tlbsync()). */
  invlpgbFlushAllNonglobals(cpu: number): void {
    this.inc(MI_BROADCAST_FLUSHES, cpu);
    this.inc(MI_INVALIDATE_NS, cpu, this.profile.invlpgbNs);
    this.charge(cpu, this.profile.invlpgbNs);
    if (this.rec !== null) this.rec.flush(cpu, this.now, -1, this.profile.invlpgbNs, true);
    this.tlbsync(cpu);
    for (let c = 0; c < this.nCpu; c++) {
      for (let r = c; r < NROWS * this.nCpu; r += this.nCpu) {
        this.dropRow(c, r);
        const mm = this.rowMm[r];
        if (mm >= 0) this.rowFresh[r] = this.truthGen[mm];
      }
    }
  }

  /** TLBSYNC: the initiator waits until its broadcasts completed everywhere. */
  tlbsync(cpu: number): void {
    this.inc(MI_TLBSYNCS, cpu);
    this.inc(MI_INITIATOR_WAIT_NS, cpu, this.profile.tlbsyncNs);
    this.charge(cpu, this.profile.tlbsyncNs);
    if (this.rec !== null) this.rec.wait(cpu, this.now, this.profile.tlbsyncNs);
  }

  // ======================================================================= cross-calls
  //
  // Timing. The trace is open-loop: an event's time is the workload's own work, and what
  // the machine charges is added afterwards as each task's delay (taskDelay; iteration_ns
  // is trace time + delay). Cross-calls are timed in *delayed time* instead, the clock on
  // which CPU c is at now + cpuLag(c):
  //  - the initiator's llist_add to a target's call_single_queue happens at its own delayed
  //    time, and the IPIs are sent after the last one (send_call_function_ipi_mask);
  //  - a target's interrupt starts at max(arrival, end of the interrupt it is handling),
  //    and takes the whole queue (llist_del_all in __flush_smp_call_function_queue): a CSD
  //    added before that start joins it (no IPI, csdHandleNs instead of ipiHandlerNs) and
  //    runs after the handlers already queued there; one added after it sends a new IPI;
  //  - the initiator's csd_lock_wait() ends at its latest acknowledgement;
  //  - a CPU spinning in its own csd_lock_wait() has interrupts on and keeps serving the
  //    calls others queue for it: handler time inside that window replaces spin time, so
  //    it is taken off the wait it was charged (creditWait) instead of adding to it.
  // Slowed initiators thus send later (their lag includes their waits and the handlers
  // they served), which closes the loop the open-loop trace lacks: a target's backlog is
  // bounded by one CSD per other initiator. The previous model kept each queue's busy
  // horizon in trace time and added every arrival's handler to it, so once (N-1) handlers
  // per iteration exceeded the iteration's trace time, the horizon, and every wait, grew
  // with the length of the trace (wis-tlb-flush2 threads: 5 us -> 0.7 ms per iteration
  // from 4 to 36 CPUs). A handler's cost still lands on the target's lag when it is
  // charged, not at its delayed time: an approximation that keeps every cross-call
  // O(targets) with no event queue.

  /** The initiator's delayed clock during one send/wait: clockBase[cpu] + cpuOverhead(cpu).
   *  Set at the first send after a wait: now + cpuLag(cpu) - cpuOverhead(cpu), so for a
   *  task it is now + its delay, and for idle (lag 0) the work done since the send still
   *  overlaps the wait. */
  private clockOf(cpu: number): number {
    return this.clockBase[cpu] + this.perCpu[MI_OVERHEAD_NS * this.nCpu + cpu];
  }

  /** Queue a cross-call of `purpose` to every CPU of `mask` except `cpu` and run its handler
   *  there (smp_call_function_many_cond's remote part). A real IPI goes only to targets
   *  whose call_single_queue was empty. With AckMode.sync the handler runs now and the
   *  initiator will wait for it; with AckMode.early the target acknowledges after copying
   *  the info and runs the flush handler shortly after (deferred). Call ipiWait(cpu) for
   *  the initiator's wait. Returns the number of targets. */
  sendIpis(cpu: number, mask: Uint32Array, purpose: number, req: FlushReq | null, mm: number, ack: number = AckMode.sync): number {
    const p = this.profile;
    const W = this.words;
    const mmOf = req !== null ? req.mm : mm;
    const nCpu = this.nCpu;
    const per = this.perCpu, tot = this.metrics, strategy = this.strategy, rec = this.rec;
    const irqEnd = this.irqEnd, takenAt = this.queueTakenAt, kind = this.csdKind;
    const lazy = this.lazyBits, loaded = this._loadedMm, curTid = this._curTid, touched = this.queueTouched;
    const flushCall = purpose === IpiPurpose.flush && req !== null;
    const deferred = ack === AckMode.early && req !== null;
    // Handlers that run now, on targets in the plain state, run here (plainRemoteFlush).
    const shape = req !== null && flushCall && !deferred && !this.irqWhenRun ? strategy.remoteFlushShape(req) : RemoteFlush.handler;
    const tracedPages = req !== null && shape !== RemoteFlush.handler ? strategy.remoteFlushTracedPages(req) : 0;
    const deliverNs = p.ipiDeliverNs, idleWakeNs = p.ipiIdleWakeNs, handlerNs = p.ipiHandlerNs, csdNs = p.csdHandleNs;
    const atomicNs = p.atomicLocalNs;
    const oneSocket = this.oneSocket, lineNs = p.lineTransferNs;
    const I_IPI = MI_IPI_NS, I_RECV = MI_IPIS_RECEIVED, I_HANDLER = MI_IPI_HANDLER_NS;
    if (!this.waitArmed[cpu]) this.clockBase[cpu] = this.now + this.cpuLag(cpu) - per[MI_OVERHEAD_NS * nCpu + cpu];
    const base = this.clockBase[cpu];
    const tl = this.timeline, tlAt = TIMELINE_OVERHEAD_ROW + this.timelineBucket;
    // The targets: the mask's CPUs but the initiator, none past nCpu; walked word by word.
    const tg = this.targetScratch;
    const sw = cpu >>> 5, sb = 1 << (cpu & 31);
    const lastBits = (nCpu & 31) === 0 ? -1 : (1 << (nCpu & 31)) - 1;
    let targets = 0, real = 0;
    // Whole numbers (targets by kind, atomics, line transfers, handlers run) are exact in
    // any order: counted in the loops, added once after them.
    let toLazy = 0, toStale = 0, toNonWalkers = 0, toIdle = 0, initiatorTransfers = 0;
    // The initiator: fill each CSD and llist_add it to the target's queue. Each llist_add
    // is charged to the initiator before the next one is queued (the next target's "does it
    // join a pending interrupt" test reads the initiator's clock), so its running overhead
    // is kept in locals: the same additions in the same order as charge() would make,
    // stored once after the loop (nothing else charges the initiator meanwhile).
    const irqWhenRun = this.irqWhenRun, queueLength = this.queueLength, tap = this.tap, ipiMatrix = this.ipiMatrix;
    const walkMm = this._walkMm;
    const tid = curTid[cpu];
    // Current tasks have their slots (setCurrent), and nothing below makes a task current.
    const taskOverheadNs = this.taskOverheadNs;
    let ovh = per[MI_OVERHEAD_NS * nCpu + cpu], ansCpu = per[MI_ATOMIC_NS * nCpu + cpu], ansTot = tot[MI_ATOMIC_NS], ovhTot = tot[MI_OVERHEAD_NS], ovhTl = tl[tlAt];
    let ovhTask = tid >= 0 ? taskOverheadNs[tid] : 0;
    for (let w = 0; w < W; w++) {
      let bits = mask[w];
      if (w === sw) bits &= ~sb;
      if (w === W - 1) bits &= lastBits;
      tg[w] = bits;
      if (bits === 0) continue;
      // A queue head never used before is in no other cache: the first llist_add is local.
      const fresh = bits & ~touched[w];
      touched[w] |= bits;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const c = (w << 5) | (31 - Math.clz32(low));
        targets++;
        let ns = atomicNs;
        if ((fresh & low) === 0) { ns += oneSocket ? lineNs : this.transferNs(c, cpu); initiatorTransfers++; }
        ansTot += ns; ansCpu += ns;
        if (ns > 0) { ovhTot += ns; ovh += ns; ovhTl += ns; ovhTask += ns; }
        if (purpose === IpiPurpose.flush) {
          if ((lazy[w] & low) !== 0) toLazy++;
          if (mmOf !== 0 && loaded[c] !== mmOf) toStale++;
        } else if (purpose === IpiPurpose.ptSync) {
          if (walkMm[c] !== mm) toNonWalkers++;
        }
        if (irqWhenRun ? queueLength[c] > 0 : base + ovh < takenAt[c]) {
          kind[c] = CSD_JOINS; // the pending interrupt there will take it
        } else {
          real++;
          if (tap !== null) tap.ipi(cpu, c, purpose);
          ipiMatrix.add(cpu, c, 1);
          if (curTid[c] === 0) { toIdle++; kind[c] = CSD_IPI_IDLE; } else kind[c] = CSD_IPI;
        }
      }
    }
    if (targets === 0) return 0;
    per[MI_OVERHEAD_NS * nCpu + cpu] = ovh; per[MI_ATOMIC_NS * nCpu + cpu] = ansCpu; tot[MI_ATOMIC_NS] = ansTot; tot[MI_OVERHEAD_NS] = ovhTot; tl[tlAt] = ovhTl;
    if (tid >= 0) taskOverheadNs[tid] = ovhTask;
    if (real > 0) {
      this.predIpiSends++;
      this.cost(I_IPI, cpu, p.ipiSendNs + (real - 1) * p.ipiSendPerTargetNs);
    }
    // The targets: (interrupt entry,) llist_del_all, handler, CSD unlock. Each target's
    // own counters are added as it goes (its overhead times its interrupt); the totals of
    // the constant-priced parts (interrupt entry, the queue and info line transfers) are
    // counted and priced once after the loop.
    const sentAt = base + per[MI_OVERHEAD_NS * nCpu + cpu];
    let lastAck = -Infinity;
    let ipis = 0, joins = 0, transfers = 0, ansSum = 0, handledSum = 0;
    // flush_tlb_func() reads the initiator's flush_tlb_info (its stack before 5.4, its
    // per-CPU copy after), written for this flush: a line transfer on the target's path
    // before it can flush. The 2019 async RFC copies the info into the CSD ("inline
    // messages") for the flushes it acknowledges early, which saves this read.
    const infoRead = flushCall && !deferred;
    const recvCalls = this.recvCalls, recvJoins = this.recvJoins, recvInfo = this.recvInfo;
    const spinLeft = this.spinLeft, waitFrom = this.waitFrom, waitTo = this.waitTo;
    // A ranged flush on a target in the plain state (plainRemoteFlush) is written out in
    // the loop below: the same state changes and the same additions to that target's
    // counters, its overhead kept in a local; its totals (page_flushes, invalidate_ns, the
    // overhead and tlb_flush records) are counted and added once after the loop, which is
    // exact with whole-number costs (every built-in profile) and differs by rounding only
    // with fractional ones, as settle()'s pricing does. Without a recorder or a tap, which
    // want each flush as it happens.
    const fused = req !== null && shape !== RemoteFlush.handler && !req.full && mmOf !== 0
      && rec === null && tap === null;
    const tlbGenShape = shape === RemoteFlush.tlbGen;
    const reqGen = req !== null ? req.gen : 0, reqTruth = req !== null ? req.truthGen : 0;
    const flushNr = req !== null ? req.nr : 0, dropMax = req !== null ? req.nr * req.stride : 0;
    const invNs = flushNr * p.invlpgNs;
    const genLine = mmOf * MM_LINES + LINE_TLB_GEN, lineOwner = this.mmLineOwner, lineReader = this.mmLineReader;
    const loadedAsid = this._loadedAsid, slotGen = this._slotGen, mmTlbGen = this.mmTlbGen;
    const cr3Row = this._cr3Row, rowPages = this.rowPages, rowFresh = this.rowFresh, rowMm = this.rowMm, cpuPages = this.cpuPages;
    const dirty = this.cpuLineDirty, tlbstateLine = LINE_TLBSTATE * W, irqCounted = this.irqCounted;
    const muted = this._traceMuted, implicitAccess = this.implicitAccess;
    const I_PAGE_FLUSHES = MI_PAGE_FLUSHES, I_INVALIDATE = MI_INVALIDATE_NS;
    let plainFlushes = 0, plainNs = 0;
    for (let w = 0; w < W; w++) {
      let bits = tg[w];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const c = (w << 5) | (31 - Math.clz32(low));
        const k = kind[c];
        let start = irqEnd[c];
        if (k !== CSD_JOINS) {
          const arrive = sentAt + deliverNs + (k === CSD_IPI_IDLE ? idleWakeNs : 0);
          if (arrive > start) start = arrive;
          takenAt[c] = start;
        }
        // On the trace clock, the interrupt starts as far after now as it does after the
        // send on the initiator's delayed clock.
        if (rec !== null) {
          if (k !== CSD_JOINS) rec.ipi(cpu, c, this.now, this.now + (start - sentAt));
          if (!deferred && !this.irqWhenRun) rec.handlerBegin(c, cpu, this.now + (start - sentAt));
        }
        const ttid = curTid[c];
        // The interrupt entry (or the queued call's dispatch), then llist_del_all on the
        // queue head, which the initiator's llist_add holds (and the info's line). Their
        // prices are the same for every target on one socket: each target's count of them
        // is kept (recvCalls & co) and priced once when the results are read (settle());
        // only its overhead, which times its interrupts, is added now, in the order
        // charge() would add it.
        let entry: number;
        if (k === CSD_JOINS) { entry = csdNs; joins++; } else { entry = handlerNs; ipis++; }
        let ns = atomicNs + lineNs, tr = 1;
        if (infoRead) { ns += lineNs; tr = 2; }
        const oi = MI_OVERHEAD_NS * nCpu + c;
        const t0 = per[oi];
        let o = t0;
        if (entry > 0) { o += entry; if (ttid >= 0) taskOverheadNs[ttid] += entry; }
        if (oneSocket) {
          recvCalls[c]++;
          if (k === CSD_JOINS) recvJoins[c]++;
          if (tr === 2) recvInfo[c]++;
        } else {
          ns = atomicNs + this.transferNs(cpu, c) + (tr === 2 ? this.transferNs(cpu, c) : 0);
          per[I_IPI * nCpu + c] += entry;
          per[MI_LINE_TRANSFERS * nCpu + c] += tr; per[MI_ATOMIC_OPS * nCpu + c]++; per[MI_ATOMIC_NS * nCpu + c] += ns;
          per[I_RECV * nCpu + c]++;
        }
        if (ns > 0) { o += ns; if (ttid >= 0) taskOverheadNs[ttid] += ns; }
        let plain = false;
        if (fused && loaded[c] === mmOf && (lazy[w] & low) === 0) {
          const asid = loadedAsid[c];
          plain = !tlbGenShape || (asid < TLB_NR_DYN_ASIDS && reqGen !== 0 && mmTlbGen[mmOf] === reqGen
            && slotGen[c * TLB_NR_DYN_ASIDS + asid] === reqGen - 1);
          if (plain) {
            // readMmGen: only the first reader after the initiator's atomic pays a transfer.
            if (tlbGenShape && (lineOwner[genLine] >= 0 || lineReader[genLine] !== SHARED_BY_SEVERAL)) {
              per[oi] = o;
              this.lineRead(lineOwner, lineReader, genLine, c);
              o = per[oi];
            }
            // flushPages(c, nr, req)
            per[I_PAGE_FLUSHES * nCpu + c] += flushNr;
            per[I_INVALIDATE * nCpu + c] += invNs;
            if (invNs > 0) { o += invNs; plainNs += invNs; if (ttid >= 0) taskOverheadNs[ttid] += invNs; }
            const r = cr3Row[c];
            const cached = rowPages[r];
            const drop = cached < dropMax ? cached : dropMax;
            if (drop > 0) {
              rowPages[r] = cached - drop; cpuPages[c] -= drop;
              if (implicitAccess && this._curTaskMm[c] === rowMm[r] && rowMm[r] > 0) {
                per[oi] = o;
                this.refill(c, r, drop);
                o = per[oi];
              }
            }
            if (mmOf === rowMm[r] && rowFresh[r] >= reqTruth - 1 && rowFresh[r] < reqTruth) rowFresh[r] = reqTruth;
            // traceFlush(1, tracedPages), counted; this interrupt printed a record
            plainFlushes++;
            if (k !== CSD_JOINS) irqCounted[c] = 0;
            if (!muted && irqCounted[c] === 0) { irqCounted[c] = 1; this.predFlushIrqs++; }
            // setSlotGen(c, asid, gen)
            if (tlbGenShape) { slotGen[c * TLB_NR_DYN_ASIDS + asid] = reqGen; dirty[tlbstateLine + w] |= low; }
          }
        }
        per[oi] = o;
        transfers += tr; ansSum += ns;
        let end: number, acked: number;
        if (plain) {
          end = acked = start + (o - t0);
        } else if (deferred) {
          acked = start + (per[oi] - t0);
          const flushNs = this.estimateFlushNs(req);
          end = acked + flushNs;
          // The deferred flush runs on the trace clock: the same distance from now as on
          // the initiator's delayed clock.
          const ackAt = this.now + (acked - sentAt);
          this.defer(c, req, ackAt, ackAt + flushNs);
        } else if (this.irqWhenRun) {
          // The handler runs when c next runs (serveBefore); its entry cost is charged now,
          // its flush when it runs, and the initiator's wait is timed with the estimate.
          this.enqueueCsd(c, cpu, purpose, req, mm);
          // A target spinning in its own csd_lock_wait() has interrupts on: if the host is
          // running its vCPU now, it takes this interrupt at once (and all queued there).
          if (!this.irqTimesRecorded && bitAnyBut(this.unacked, c * W, W, -1) && this.onHostCore(c)) this.serveIrq(c);
          end = acked = start + (per[oi] - t0) + (flushCall ? this.estimateFlushNs(req) : 0);
        } else {
          const exec = this.execCpu;
          this.execCpu = c;
          const records = this.flushRecords;
          if (k !== CSD_JOINS) this.irqCounted[c] = 0; // a new interrupt there
          if (flushCall) {
            if (shape === RemoteFlush.handler || !this.plainRemoteFlush(c, req, shape, tracedPages)) strategy.onFlushIpi(c, req);
          } else strategy.onIpi(c, purpose, mm);
          if (this.flushRecords > records && this.irqCounted[c] === 0) { this.irqCounted[c] = 1; this.predFlushIrqs++; }
          this.execCpu = exec;
          end = acked = start + (per[oi] - t0);
        }
        const handled = per[oi] - t0;
        handledSum += handled; per[I_HANDLER * nCpu + c] += handled;
        if (rec !== null) rec.handlerEnd(c, handled);
        irqEnd[c] = end;
        // creditWait's own overlap test, first half, without the call.
        if (spinLeft[c] > 0 && start < waitTo[c] && start + handled > waitFrom[c]) this.creditWait(c, start, start + handled);
        if (acked > lastAck) lastAck = acked;
      }
    }
    if (plainFlushes > 0) {
      tot[I_PAGE_FLUSHES] += plainFlushes * flushNr;
      tot[I_INVALIDATE] += plainFlushes * invNs;
      tot[MI_OVERHEAD_NS] += plainNs; tl[tlAt] += plainNs;
      if (muted) this.mutedFlushRecords += plainFlushes;
      else {
        this.flushRecords += plainFlushes;
        this.predFlush[3 + (tracedPages === 0 ? 2 : 1)] += plainFlushes;
        if (tracedPages > 0) this.predFlushPages[1] += plainFlushes * tracedPages;
      }
    }
    // The targets' constant-priced parts, priced once: interrupt entries and queued calls,
    // the queue and info atomics with their transfers.
    const entryNs = ipis * handlerNs + joins * csdNs;
    tot[I_IPI] += entryNs;
    tot[MI_ATOMIC_NS] += ansSum;
    const charged = (handlerNs > 0 ? ipis * handlerNs : 0) + (csdNs > 0 ? joins * csdNs : 0) + (atomicNs + lineNs > 0 ? ansSum : 0);
    tot[MI_OVERHEAD_NS] += charged; tl[tlAt] += charged;
    tot[I_HANDLER] += handledSum;
    tot[MI_LINE_TRANSFERS] += initiatorTransfers + transfers; per[MI_LINE_TRANSFERS * nCpu + cpu] += initiatorTransfers;
    tot[MI_ATOMIC_OPS] += 2 * targets; per[MI_ATOMIC_OPS * nCpu + cpu] += targets;
    tot[I_RECV] += targets;
    this.add(MI_CSD_QUEUED, cpu, targets);
    if (purpose === IpiPurpose.ptSync) this.add(MI_PT_SYNC_IPIS, cpu, targets);
    else if (purpose === IpiPurpose.mmDrop) this.add(MI_MMDROP_IPIS, cpu, targets);
    if (toLazy > 0) this.add(MI_IPIS_TO_LAZY, cpu, toLazy);
    if (toStale > 0) this.add(MI_IPIS_TO_STALE, cpu, toStale);
    if (toNonWalkers > 0) this.add(MI_IPIS_TO_NONWALKERS, cpu, toNonWalkers);
    if (real > 0) this.inc(MI_IPIS_SENT, cpu, real);
    if (toIdle > 0) this.add(MI_IPIS_TO_IDLE, cpu, toIdle);
    const until = lastAck + p.ipiAckNs;
    if (!this.waitArmed[cpu] || until > this.waitUntil[cpu]) this.waitUntil[cpu] = until;
    this.waitArmed[cpu] = 1;
    return targets;
  }

  /** The flush handler of target `c` when it is in the plain state of `shape`
   *  (Strategy.remoteFlushShape): what the strategy's onFlushIpi does there, with the same
   *  primitives in the same order, without a call into the strategy per target. False
   *  when `c` is not in that state: the strategy's handler must run. */
  private plainRemoteFlush(c: number, req: FlushReq, shape: number, tracedPages: number): boolean {
    const mm = req.mm;
    if (mm === 0 || this._loadedMm[c] !== mm || this._isLazy[c] !== 0) return false;
    let asid = -1;
    if (shape === RemoteFlush.tlbGen) {
      asid = this._loadedAsid[c];
      // One generation behind, so flushToGen() neither returns early nor catches up on
      // older requests with a full flush.
      if (asid >= TLB_NR_DYN_ASIDS || req.gen === 0 || this.mmTlbGen[mm] !== req.gen
        || this._slotGen[c * TLB_NR_DYN_ASIDS + asid] !== req.gen - 1) return false;
      this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_TLB_GEN, c); // readMmGen
    }
    if (req.full) {
      this.flushLocalFull(c);
      this.traceFlush(1, -1);
    } else {
      this.flushPages(c, req.nr, req);
      this.traceFlush(1, tracedPages);
    }
    if (asid >= 0) this.setSlotGen(c, asid, req.gen);
    return true;
  }

  /** Handler time [from, to) on `cpu` that falls inside its own csd_lock_wait() window ran
   *  instead of spinning: take it off the wait charged there (the cause, the overhead, the
   *  task's delay and the timeline bucket the wait went to), at most the spin time left. */
  private creditWait(cpu: number, from: number, to: number): void {
    const lo = from > this.waitFrom[cpu] ? from : this.waitFrom[cpu];
    const hi = to < this.waitTo[cpu] ? to : this.waitTo[cpu];
    if (hi <= lo) return;
    let ns = hi - lo;
    if (ns > this.spinLeft[cpu]) ns = this.spinLeft[cpu];
    this.spinLeft[cpu] -= ns;
    const n = this.nCpu;
    this.metrics[MI_INITIATOR_WAIT_NS] -= ns; this.perCpu[MI_INITIATOR_WAIT_NS * n + cpu] -= ns;
    this.metrics[MI_OVERHEAD_NS] -= ns; this.perCpu[MI_OVERHEAD_NS * n + cpu] -= ns;
    this.timeline[TIMELINE_OVERHEAD_ROW + this.waitBucket[cpu]] -= ns;
    const tid = this.waitTid[cpu];
    if (tid >= 0 && tid < this.taskOverheadNs.length) this.taskOverheadNs[tid] -= ns;
  }

  /** The initiator waits for the acknowledgements of its cross-calls (csd_lock_wait),
   *  overlapping whatever local work it did since sending. */
  ipiWait(cpu: number): void {
    if (!this.waitArmed[cpu]) return;
    this.waitArmed[cpu] = 0;
    const from = this.clockOf(cpu);
    const w = this.waitUntil[cpu] - from;
    if (w > 0) {
      this.cost(MI_INITIATOR_WAIT_NS, cpu, w);
      if (this.rec !== null) this.rec.wait(cpu, this.now, w);
      this.waitFrom[cpu] = from; this.waitTo[cpu] = from + w; this.spinLeft[cpu] = w;
      this.waitTid[cpu] = this.curTid[cpu]; this.waitBucket[cpu] = this.timelineBucket;
    }
  }

  // ---------------------------------------------------------------- irqWhenRun queues

  private enqueueCsd(c: number, from: number, purpose: number, req: FlushReq | null, mm: number): void {
    const n = this.queueLength[c];
    if (n === this.queuedPurpose[c].length) {
      const cap = Math.max(8, n * 2);
      const grow = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
      this.queuedPurpose[c] = grow(this.queuedPurpose[c]);
      this.queuedMm[c] = grow(this.queuedMm[c]);
      this.queuedFrom[c] = grow(this.queuedFrom[c]);
      while (this.queuedReq[c].length < cap) this.queuedReq[c].push(new FlushReq());
    }
    if (req !== null) this.queuedReq[c][n].copyFrom(req);
    else this.queuedReq[c][n].mm = -1;
    this.queuedPurpose[c][n] = purpose;
    this.queuedMm[c][n] = mm;
    this.queuedFrom[c][n] = from;
    this.queueLength[c] = n + 1;
    bitSet(this.unacked, from * this.words, c);
  }

  /** c's interrupt: llist_del_all() of its call_single_queue, each CSD's handler in the
   *  order queued, then csd_unlock() (the initiator's ack). The simulator calls it where
   *  the recording shows c took a cross-call interrupt (irq_vectors entries). */
  serveIrq(c: number): void {
    if (this.queueLength[c] === 0) return;
    const exec = this.execCpu;
    this.execCpu = c;
    const n = this.nCpu;
    const records = this.flushRecords;
    // A handler may queue more (none does today): the loop reads the count each time.
    for (let j = 0; j < this.queueLength[c]; j++) {
      const req = this.queuedReq[c][j], purpose = this.queuedPurpose[c][j];
      const t0 = this.perCpu[MI_OVERHEAD_NS * n + c];
      if (this.rec !== null) this.rec.handlerBegin(c, this.queuedFrom[c][j], this.now);
      if (purpose === IpiPurpose.flush && req.mm >= 0) this.strategy.onFlushIpi(c, req);
      else this.strategy.onIpi(c, purpose, this.queuedMm[c][j]);
      const handled = this.perCpu[MI_OVERHEAD_NS * n + c] - t0;
      if (this.rec !== null) this.rec.handlerEnd(c, handled);
      this.metrics[MI_IPI_HANDLER_NS] += handled; this.perCpu[MI_IPI_HANDLER_NS * n + c] += handled;
      bitClear(this.unacked, this.queuedFrom[c][j] * this.words, c);
    }
    this.queueLength[c] = 0;
    if (this.flushRecords > records) this.predFlushIrqs++; // one interrupt took the queue
    this.execCpu = exec;
  }

  /** `cpu` runs now: it takes its pending interrupt (unless the recording says when it
   *  did), and every target of its own cross-calls has handled them (it could not go on
   *  before their acks). The simulator calls this before each event of the workload on
   *  `cpu` (never before records of what the kernel did: those must not time the model). */
  serveBefore(cpu: number): void {
    this.lastRun[cpu] = this.now;
    if (this.queueLength[cpu] !== 0 && !this.irqTimesRecorded) this.serveIrq(cpu);
    this.serveUnacked(cpu);
  }

  /** The targets of `cpu`'s cross-calls handle them (the initiator returns only then). */
  serveUnacked(cpu: number): void {
    if (!this.irqWhenRun) return;
    const W = this.words, base = cpu * W;
    for (let c = bitNext(this.unacked, base, W, 0); c >= 0; c = bitNext(this.unacked, base, W, c + 1)) this.serveIrq(c);
  }

  /** Every pending interrupt (the end of the trace). */
  serveAll(): void {
    for (let c = 0; c < this.nCpu; c++) this.serveIrq(c);
  }

  /** The queues holding a flush of `mm` (it is about to be freed). */
  private serveMm(mm: number): void {
    if (!this.irqWhenRun) return;
    for (let c = 0; c < this.nCpu; c++) if (this.queueLength[c] !== 0 && this.pendingCsdGen(c, mm) !== Infinity) this.serveIrq(c);
  }

  /** Whether vCPU c is on one of the host's cores now: among the hostCores CPUs whose
   *  latest event of the workload is the most recent. */
  private onHostCore(c: number): boolean {
    const mine = this.lastRun[c];
    let newer = 0;
    for (let d = 0; d < this.nCpu; d++) if (this.lastRun[d] > mine && ++newer >= this.hostCores) return false;
    return true;
  }

  /** For the checker: a flush of `mm` (or a batch flush) waits in cpu's queue, so its
   *  request has not completed from cpu's point of view. The lowest truth generation
   *  pending there (Infinity: none; 0: a batch flush, which covers every mm). */
  private pendingCsdGen(cpu: number, mm: number): number {
    let g = Infinity;
    const n = this.queueLength[cpu];
    for (let j = 0; j < n; j++) {
      if (this.queuedPurpose[cpu][j] !== IpiPurpose.flush) continue;
      const q = this.queuedReq[cpu][j];
      if (q.mm === 0) return 0;
      if (q.mm === mm && q.truthGen < g) g = q.truthGen;
    }
    return g;
  }

  private estimateFlushNs(req: FlushReq): number {
    return req.full ? this.profile.flushLocalNs : req.nr * this.profile.invlpgNs;
  }

  /** Keep an early-acknowledged flush for `cpu` to run at `done`. */
  private defer(cpu: number, req: FlushReq, ackAt: number, done: number): void {
    if (this.deferredCount[cpu] >= DEFERRED_SLOTS) this.runPending(cpu, 0);
    const i = cpu * DEFERRED_SLOTS + this.deferredCount[cpu]++;
    this.deferredReq[i].copyFrom(req);
    this.deferredAckAt[i] = ackAt;
    this.deferredDoneAt[i] = done;
    if (done < this.nextDue) this.nextDue = done;
  }

  private runPending(cpu: number, k: number): void {
    const base = cpu * DEFERRED_SLOTS;
    const i = base + k;
    const req = this.deferredReq[i];
    const saved = this.now;
    if (this.deferredDoneAt[i] > this.now) this.now = this.deferredDoneAt[i];
    const t0 = this.cpuOverhead(cpu);
    const exec = this.execCpu;
    this.execCpu = cpu;
    if (this.rec !== null) this.rec.handlerBegin(cpu, req.initiator, this.now);
    this.strategy.onFlushIpi(cpu, req);
    this.execCpu = exec;
    if (this.rec !== null) this.rec.handlerEnd(cpu, this.cpuOverhead(cpu) - t0);
    this.inc(MI_IPI_HANDLER_NS, cpu, this.cpuOverhead(cpu) - t0);
    this.now = saved;
    // remove k, keeping order; its request object goes to the freed last slot (moved, not
    // copied field by field)
    const n = --this.deferredCount[cpu];
    const reqs = this.deferredReq;
    for (let j = k; j < n; j++) {
      reqs[base + j] = reqs[base + j + 1];
      this.deferredAckAt[base + j] = this.deferredAckAt[base + j + 1];
      this.deferredDoneAt[base + j] = this.deferredDoneAt[base + j + 1];
    }
    reqs[base + n] = req;
  }

  /** Run every deferred flush due at or before t (called before each event). */
  runDue(t: number): void {
    if (this.nextDue > t) return;
    // One scan per flush run: it finds the earliest pending flush, and when that one is
    // not due, it is the next due time.
    for (;;) {
      let bc = -1, bk = -1, best = Infinity;
      for (let c = 0; c < this.nCpu; c++) {
        for (let k = 0; k < this.deferredCount[c]; k++) {
          const d = this.deferredDoneAt[c * DEFERRED_SLOTS + k];
          if (d < best) { best = d; bc = c; bk = k; }
        }
      }
      if (bc < 0) { this.nextDue = Infinity; return; }
      if (best > t) { this.nextDue = best; return; }
      this.runPending(bc, bk);
    }
  }

  // ======================================================================= requests + checker

  private readonly req = new FlushReq();
  /** The mms a reclaim batch request covers (the checker's side of batchAddPending). */
  private readonly batchMm: Int32Array;
  private batchN = 0;

  /** Start a flush request (the simulator calls this, then the strategy's hook). A batch
   *  request (mm 0) covers, for the checker, the same mms batchAddPending() takes: those
   *  loaded on some CPU now. Each gets its next truth generation here, whatever the
   *  strategy then does, so a strategy that skips part of a batch flush is caught too. */
  beginRequest(cpu: number, mm: number, start: number, pages: number, flags: number, origin: number): FlushReq {
    const r = this.req;
    r.mm = mm; r.start = start; r.pages = pages;
    r.freedTables = (flags & 1) !== 0; r.unsharedTables = (flags & 2) !== 0;
    r.stride = (flags & 4) !== 0 ? 512 : 1;
    r.full = true; r.nr = 0; r.gen = 0; r.initiator = cpu; r.trimCpumask = false; r.origin = origin;
    r.truthGen = mm !== 0 ? ++this.truthGen[mm] : 0;
    this.batchN = 0;
    if (mm === 0) {
      for (let c = 0; c < this.nCpu; c++) {
        const b = this._loadedMm[c];
        if (b === 0) continue;
        let seen = false;
        for (let k = 0; k < this.batchN; k++) if (this.batchMm[k] === b) { seen = true; break; }
        if (!seen) { this.batchMm[this.batchN++] = b; this.truthGen[b]++; }
      }
    }
    this.add(MI_FLUSH_REQUESTS, cpu, 1);
    return r;
  }

  /** The initiator returned from the request: it is complete. */
  endRequest(cpu: number, req: FlushReq, startOverhead: number): void {
    this.ipiWait(cpu);
    this.recordLatency(this.cpuOverhead(cpu) - startOverhead);
    const mm = req.mm;
    if (mm === 0) {
      for (let k = 0; k < this.batchN; k++) {
        const b = this.batchMm[k];
        if (this.truthGen[b] > this.completedGen[b]) this.completedGen[b] = this.truthGen[b];
      }
      return;
    }
    if (req.truthGen > this.completedGen[mm]) this.completedGen[mm] = req.truthGen;
    if (req.freedTables || req.unsharedTables) {
      // Speculative walks: every CPU with mm's page tables in CR3 that does not run mm's
      // user code (lazy) must have flushed for this request. A flush that is only
      // acknowledged (early ack) does not count: the initiator frees the page tables as
      // soon as it returns, while the target may still walk them until its flush runs —
      // why Nadav Amit's async RFC (v2 11/12, 2019) kept freed-tables flushes synchronous.
      for (let c = 0; c < this.nCpu; c++) {
        if (this._cr3Mm[c] !== mm || this.curTaskMm[c] === mm) continue;
        // Its flush waits in its queue (irqWhenRun): the tables are freed only after its ack.
        if (this.queueLength[c] !== 0 && this.pendingCsdGen(c, mm) <= req.truthGen) continue;
        const r = this._cr3Row[c];
        if (this.rowFresh[r] < req.truthGen) this.violation(VK.freedTablesWalk, c, mm);
      }
    }
  }

  /** User code of `mm` runs on `cpu` now. */
  checkUser(cpu: number, mm: number): void {
    if (mm <= 0) return;
    if (this._cr3Mm[cpu] !== mm) { this.violation(VK.wrongMm, cpu, mm); return; }
    const r = this._cr3Row[cpu];
    const fresh = this.rowFresh[r];
    if (fresh < 0) { this.violation(VK.pcidAlias, cpu, mm); return; }
    let need = this.completedGen[mm];
    if (fresh >= need) return;
    // An early-acknowledged flush that this CPU has not acknowledged yet: the request is
    // not complete from this CPU's point of view.
    for (let k = 0; k < this.deferredCount[cpu]; k++) {
      const i = cpu * DEFERRED_SLOTS + k;
      const q = this.deferredReq[i];
      if (q.mm === mm && this.deferredAckAt[i] > this.now && q.truthGen - 1 < need) need = q.truthGen - 1;
    }
    if (this.queueLength[cpu] !== 0) {
      // Its flush waits in its queue (irqWhenRun): the initiator is still waiting for it.
      const g = this.pendingCsdGen(cpu, mm);
      if (g === 0) return;
      if (g - 1 < need) need = g - 1;
    }
    if (fresh < need) this.violation(VK.staleTlb, cpu, mm);
  }

  /** Set the hardware + kernel state of a CPU first seen running `mm` (no cost): CR3 holds
   *  mm in ASID 0, fresh, and the CPU is in mm_cpumask. */
  bootCpu(cpu: number, mm: number): void {
    this.setLoadedMm(cpu, mm);
    this._loadedAsid[cpu] = 0;
    this._slotCtx[cpu * TLB_NR_DYN_ASIDS] = this.mmCtxId[mm];
    this._slotGen[cpu * TLB_NR_DYN_ASIDS] = this.mmTlbGen[mm];
    this._nextAsid[cpu] = 1;
    const r = cpu; // row 0 of cpu
    this.rowPcid[r] = 0; this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtxId[mm]; this.rowFresh[r] = this.truthGen[mm];
    this._cr3Mm[cpu] = mm; this._cr3Row[cpu] = r;
    if (mm !== 0) bitSet(this.mmMask, mm * this.words, cpu);
  }

  // ======================================================================= results

  /** Price the per-CPU counts the cross-calls kept (recvCalls & co) into perCpu: each
   *  received call is one ipis_received, one atomic (llist_del_all) with its line transfer,
   *  and its interrupt entry or queued-call dispatch; a flush call adds the info's line
   *  transfer. The totals were added as they happened. Call before reading perCpu; a
   *  second call adds nothing. */
  settle(): void {
    const per = this.perCpu, n = this.nCpu, p = this.profile;
    for (let c = 0; c < n; c++) {
      const calls = this.recvCalls[c];
      if (calls === 0) continue;
      const joins = this.recvJoins[c], info = this.recvInfo[c];
      per[MI_IPIS_RECEIVED * n + c] += calls;
      per[MI_ATOMIC_OPS * n + c] += calls;
      per[MI_LINE_TRANSFERS * n + c] += calls + info;
      per[MI_ATOMIC_NS * n + c] += calls * (p.atomicLocalNs + p.lineTransferNs) + info * p.lineTransferNs;
      per[MI_IPI_NS * n + c] += (calls - joins) * p.ipiHandlerNs + joins * p.csdHandleNs;
      this.recvCalls[c] = 0; this.recvJoins[c] = 0; this.recvInfo[c] = 0;
    }
  }

  /** Metric values, with names (iteration_ns is filled by the simulator). */
  metricRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    METRICS.forEach((m, i) => { out[m.name] = this.metrics[i]; });
    return out;
  }
}
