// The simulated multi-CPU x86 machine: state, primitives and costs (the mechanism). This
// class is the one face strategies see; its internals live in files named for what they
// are, layers of the same object from the bottom up (counters.ts says why one object):
//  - counters.ts     every metric (total, per CPU, timeline), latency histogram, predicted
//                    records, violations, and the overhead and delay of each task;
//  - cache-lines.ts  lines that bounce between CPUs (owner / last reader, transfers);
//  - tlb-rows.ts     the TLB model: PCID rows per CPU, CR3, INVLPG / INVLPGB effects;
//  - cross-calls.ts  call_single_queue, IPIs, handlers, csd_lock_wait, early acks;
//  - checker.ts      the coherence checker (truth generations);
// and global-asids.ts, the INVLPGB global-ASID allocator, an object of its own.
//
// State kept here, in typed arrays indexed by CPU or mm id:
//  - per CPU, the kernel's cpu_tlbstate: loaded_mm (0 = init_mm), loaded_mm_asid, is_lazy,
//    next_asid, ctxs[TLB_NR_DYN_ASIDS] {ctx_id, tlb_gen}; the scheduler's current task,
//    its mm, active_mm and the lazy mm_count reference it holds; the lockless-walk slot;
//  - per mm: ctx_id (global counter, never reused), tlb_gen, mm_cpumask (bitset),
//    mm_users, mm_count, global ASID, asid_transition, next_trim_cpumask.
// Strategies and the simulator change it only through the primitives below, each of which
// counts and charges.
import { bitAnyBut, bitClear, bitCount, bitNext, bitSet, bitTest } from './bitset.ts';
import { CPU_LINES, LINE_CPUMASK, LINE_LAZY, LINE_MM_COUNT, LINE_TLB_GEN, LINE_TLBSTATE, LINE_WALK, MM_LINES } from './cache-lines.ts';
import { Checker } from './checker.ts';
import type { MachineTap } from './cross-calls.ts';
import { GlobalAsids } from './global-asids.ts';
import { MI, VK } from './metrics.ts';
import type { CostProfile } from './profiles.ts';
import type { Strategy } from './strategy.ts';
import { TLB_NR_DYN_ASIDS } from './tlb-rows.ts';

export { AckMode, IpiPurpose, type MachineTap } from './cross-calls.ts';
export { MAX_ASID_AVAILABLE } from './global-asids.ts';
export { NROWS, TLB_NR_DYN_ASIDS } from './tlb-rows.ts';
export const INIT_MM = 0;

/** Read-only view of a per-CPU array, for strategies. */
export interface RO { readonly [i: number]: number; readonly length: number }

export interface MachineOptions {
  /** Treat each switch into a user task as touching profile.workingSetPages pages. */
  implicitAccess?: boolean;
  /** Trace span for the timeline buckets. */
  firstNs?: number;
  lastNs?: number;
  /** A synchronous cross-call's handler runs when its target next runs, not at once: a
   *  guest whose vCPUs outnumber the host's cores (TCG) takes an IPI only when the host
   *  schedules that vCPU, milliseconds later, so CSDs from many initiators pile up in one
   *  call_single_queue and are handled in one interrupt (cross-calls.ts, serveBefore). */
  irqWhenRun?: boolean;
  /** With irqWhenRun: the host cores the vCPUs share (the recording's host_cpus). */
  hostCores?: number;
}

/** mmState values (0: never seen). */
const MM_LIVE = 1, MM_TORN_DOWN = 2, MM_FREED = 3;

export class Machine extends Checker {
  strategy!: Strategy;
  /** CR4.PCIDE: set by the strategy (nopcid variants clear it). */
  pcid = true;
  /** is_lazy lives on its own cache line (5.13+ "Privatize cpu_tlbstate") rather than in
   *  cpu_tlbstate next to loaded_mm (4.14-5.12). */
  lazyLinePrivate = false;
  /** Time of the event being replayed (ns, trace clock). */
  now = 0;
  /** Index of the event being replayed in the whole stream. */
  eventIndex = 0;
  /** The CPU whose code runs now: the event's CPU, or a cross-call target while its
   *  handler runs. Only the tap reads it. */
  execCpu = 0;
  tap: MachineTap | null = null;

  private readonly gAsids = new GlobalAsids();

  /** While set (the simulator replays a context switch the recording lost), tlb_flush
   *  records are not predicted: the recording cannot show them either. */
  get traceMuted(): boolean { return this._traceMuted; }
  private _traceMuted = false;

  // ---------------------------------------------------------------- per-CPU kernel state
  protected readonly _loadedMm: Int32Array;
  private readonly _loadedAsid: Int32Array;
  protected readonly _isLazy: Uint8Array;
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
  /** ctxs[cpu * TLB_NR_DYN_ASIDS + asid].ctx_id / .tlb_gen */
  readonly slotCtx: RO;
  readonly slotGen: RO;
  // scheduler (maintained by the simulator through setCurrent & co, read by strategies)
  protected readonly _curTid: Int32Array;
  protected readonly _curTaskMm: Int32Array;
  private readonly _activeMm: Int32Array;
  private readonly _lazyRef: Int32Array;
  protected readonly _walkMm: Int32Array;
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
  /** What CR3 holds (tlb-rows.ts). */
  readonly cr3Mm: RO;

  // ---------------------------------------------------------------- per mm (grown on demand)
  private mmCap = 0;
  /** 0 unseen, 1 live, 2 torn down (exit_mmap done), 3 freed */
  private _mmState = new Uint8Array(0);
  protected mmCtx = new Float64Array(0);
  private mmGen = new Float64Array(0);
  private mmMask = new Uint32Array(0);
  private _mmUsers = new Int32Array(0);
  private _mmCount = new Int32Array(0);
  private mmGlobal = new Int32Array(0);
  private mmTransition = new Uint8Array(0);
  private mmNextTrim = new Float64Array(0);
  private lastCtxId = 1; // init_mm has ctx_id 1 (last_mm_ctx_id starts at 1)
  get mmState(): RO { return this._mmState; }
  /** mm_users */
  get mmUsers(): RO { return this._mmUsers; }
  /** mm_count */
  get mmCount(): RO { return this._mmCount; }

  // scratch masks for strategies
  private readonly scratch: Uint32Array[];

  constructor(nCpu: number, profile: CostProfile, opts: MachineOptions = {}) {
    const n = Math.max(1, nCpu | 0);
    super(n, profile, opts.implicitAccess ?? false, opts.firstNs ?? 0, opts.lastNs ?? 0, opts.irqWhenRun ?? false, opts.hostCores ?? 2);

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

    this.cr3Mm = this._cr3Mm;
    this.scratch = Array.from({ length: 4 }, () => new Uint32Array(this.words));
    // Every CPU starts on init_mm with ASID 0 holding it (initialize_tlbstate_and_flush).
    for (let c = 0; c < n; c++) this._slotCtx[c * TLB_NR_DYN_ASIDS] = 1;
    this.growMm(64);
    this._mmState[0] = MM_LIVE; this.mmCtx[0] = 1; this._mmCount[0] = 1; this._mmUsers[0] = 1;
  }

  // ======================================================================= accounting (counters.ts)

  setTime(t: number, index: number): void {
    this.now = t;
    this.eventIndex = index;
    this.setBucketTime(t);
  }

  /** A tlb:tlb_flush event the modelled kernel would emit here. */
  traceFlush(reason: number, pages: number): void {
    if (this._traceMuted) { this.mutedFlushRecords++; return; }
    if (this.tap !== null) this.tap.flush(this.execCpu, reason, pages);
    this.predictFlush(reason, pages);
  }

  // ======================================================================= simulator primitives

  /** The CPU whose code runs now (the event's CPU). */
  setExecCpu(cpu: number): void { this.execCpu = cpu; }
  /** The scheduler switched `cpu` to task `tid` (current). */
  setCurrent(cpu: number, tid: number): void { this._curTid[cpu] = tid; }
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
  markTornDown(mm: number): void { this._mmState[mm] = MM_TORN_DOWN; this._mmUsers[mm] = 0; }

  // ======================================================================= mm bookkeeping

  private growMm(need: number): void {
    let cap = Math.max(64, this.mmCap);
    while (cap <= need) cap *= 2;
    if (cap === this.mmCap) return;
    const W = this.words;
    const g8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array, fill = 0) => { const b = new Int32Array(cap).fill(fill); b.set(a); return b; };
    const g64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    this._mmState = g8(this._mmState);
    this.mmCtx = g64(this.mmCtx);
    this.mmGen = g64(this.mmGen);
    const m = new Uint32Array(cap * W); m.set(this.mmMask); this.mmMask = m;
    this._mmUsers = g32(this._mmUsers);
    this._mmCount = g32(this._mmCount);
    this.mmGlobal = g32(this.mmGlobal);
    this.mmTransition = g8(this.mmTransition);
    this.mmNextTrim = g64(this.mmNextTrim);
    this.growTruth(cap);
    this.growMmLines(cap);
    this.mmCap = cap;
  }

  /** Make sure mm exists (a new one if never seen or freed before). Returns true if new. */
  ensureMm(mm: number): boolean {
    if (mm <= 0) return false;
    if (mm >= this.mmCap) this.growMm(mm);
    const s = this._mmState[mm];
    if (s === MM_LIVE || s === MM_TORN_DOWN) return false;
    // init_new_context: unique ctx_id, tlb_gen 0, empty cpumask, next_trim = jiffies + HZ
    this._mmState[mm] = MM_LIVE;
    this.mmCtx[mm] = ++this.lastCtxId;
    this.mmGen[mm] = 0;
    this.mmMask.fill(0, mm * this.words, (mm + 1) * this.words);
    this._mmUsers[mm] = 0;
    this._mmCount[mm] = 1;
    this.mmGlobal[mm] = 0;
    this.mmTransition[mm] = 0;
    this.mmNextTrim[mm] = this.jiffies() + this.p.hz;
    this.resetTruth(mm);
    return true;
  }

  isLive(mm: number): boolean { return mm > 0 && mm < this.mmCap && this._mmState[mm] === MM_LIVE; }
  ctxId(mm: number): number { return this.mmCtx[mm]; }
  jiffies(): number { return Math.floor(this.now * this.p.hz / 1e9); }

  // ======================================================================= per-CPU state primitives

  /** cpu_tlbstate.loaded_mm / loaded_mm_asid store. */
  setLoaded(cpu: number, mm: number, asid: number): void {
    this._loadedMm[cpu] = mm;
    this._loadedAsid[cpu] = asid;
    this.lineStore(this.cpuLineOwner, this.cpuLineReader, cpu * CPU_LINES + LINE_TLBSTATE, cpu);
  }

  /** The line is_lazy lives on. */
  private lazyLine(cpu: number): number {
    return cpu * CPU_LINES + (this.lazyLinePrivate ? LINE_LAZY : LINE_TLBSTATE);
  }

  /** is_lazy store (a plain store; it makes the line dirty for remote readers). */
  setLazy(cpu: number, lazy: boolean): void {
    this._isLazy[cpu] = lazy ? 1 : 0;
    this.lineStore(this.cpuLineOwner, this.cpuLineReader, this.lazyLine(cpu), cpu);
  }

  /** cpu_tlbstate.ctxs[asid] = { ctx_id of mm, tlb_gen } */
  setSlot(cpu: number, asid: number, mm: number, gen: number): void {
    const i = cpu * TLB_NR_DYN_ASIDS + asid;
    this._slotCtx[i] = this.mmCtx[mm];
    this._slotGen[i] = gen;
  }

  setSlotGen(cpu: number, asid: number, gen: number): void {
    this._slotGen[cpu * TLB_NR_DYN_ASIDS + asid] = gen;
  }

  setNextAsid(cpu: number, v: number): void { this._nextAsid[cpu] = v; }

  /** Another CPU reads `target`'s is_lazy (should_flush_tlb, tlb_is_not_lazy). */
  readIsLazy(cpu: number, target: number): boolean {
    this.lineRead(this.cpuLineOwner, this.cpuLineReader, this.lazyLine(target), cpu);
    return this._isLazy[target] !== 0;
  }

  /** Another CPU reads `target`'s cpu_tlbstate.loaded_mm. */
  readLoadedMm(cpu: number, target: number): number {
    this.lineRead(this.cpuLineOwner, this.cpuLineReader, target * CPU_LINES + LINE_TLBSTATE, cpu);
    return this._loadedMm[target];
  }

  /** Read another CPU's lockless-walk slot (Lance Yang v4). */
  readWalkMm(cpu: number, target: number): number {
    this.lineRead(this.cpuLineOwner, this.cpuLineReader, target * CPU_LINES + LINE_WALK, cpu);
    return this._walkMm[target];
  }

  /** pt_walk_lockless_start/_end: store + smp_mb on the walker's own slot. */
  setWalkMm(cpu: number, mm: number, tracked: boolean): void {
    this._walkMm[cpu] = mm;
    if (tracked) {
      this.lineStore(this.cpuLineOwner, this.cpuLineReader, cpu * CPU_LINES + LINE_WALK, cpu);
      this.cost(MI.ptwalk_track_ns, cpu, this.p.ptwalkTrackNs);
    }
  }

  // ======================================================================= mm primitives

  /** atomic64_inc_return(&mm->context.tlb_gen) */
  incMmGen(cpu: number, mm: number): number {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_TLB_GEN, cpu);
    return ++this.mmGen[mm];
  }

  /** atomic64_read(&mm->context.tlb_gen) */
  readMmGen(cpu: number, mm: number): number {
    this.lineRead(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_TLB_GEN, cpu);
    return this.mmGen[mm];
  }

  /** tlb_gen without a cost (assertions and tests). */
  peekMmGen(mm: number): number { return this.mmGen[mm]; }

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
        let seen = false;
        for (let d = 0; d < c; d++) if (this._loadedMm[d] === mm) { seen = true; break; }
        if (!seen && bumpGen) this.incMmGen(cpu, mm);
      }
    }
    return mask;
  }

  /** cpumask_test_cpu(bit, mm_cpumask(mm)) by `cpu` (a read of the mask's line). */
  cpumaskTest(cpu: number, mm: number, bit: number): boolean {
    this.readMask(cpu, mm);
    return bitTest(this.mmMask, mm * this.words, bit);
  }

  /** cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids */
  cpumaskAnyBut(cpu: number, mm: number): boolean {
    this.readMask(cpu, mm);
    return bitAnyBut(this.mmMask, mm * this.words, this.words, cpu);
  }

  /** cpumask_set_cpu(cpu, mm_cpumask(mm)): lock bts by `cpu` on its own bit. */
  cpumaskSet(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    this.add(MI.cpumask_atomics, cpu, 1);
    bitSet(this.mmMask, mm * this.words, cpu);
  }

  /** Initial state, no cost: mm_cpumask(mm) holds every CPU. */
  presetCpumaskAll(mm: number): void {
    for (let c = 0; c < this.nCpu; c++) bitSet(this.mmMask, mm * this.words, c);
  }

  /** cpumask_clear_cpu(cpu, mm_cpumask(mm)): lock btr by `cpu` on its own bit. */
  cpumaskClear(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_CPUMASK, cpu);
    this.add(MI.cpumask_atomics, cpu, 1);
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
  /** Number of CPUs in mm_cpumask(mm) (cpumask_weight). */
  maskWeight(mm: number): number { return bitCount(this.mmMask, mm * this.words, this.words); }

  /** The scheduler's current->active_mm (MMU_LAZY_TLB_SHOOTDOWN resets it to init_mm). */
  setActiveMm(cpu: number, mm: number): void { this._activeMm[cpu] = mm; }

  /** An empty scratch mask (k = 0..2; 3 is used by batchAddPending). */
  scratchMask(k: number): Uint32Array {
    const s = this.scratch[k];
    // A loop, not fill(): a mask is a few words and the builtin call costs more than them.
    for (let w = 0; w < this.words; w++) s[w] = 0;
    return s;
  }

  /** mmgrab / mmgrab_lazy_tlb: atomic inc of mm_count. */
  mmGrab(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_MM_COUNT, cpu);
    this.add(MI.mm_count_atomics, cpu, 1);
    this._mmCount[mm]++;
  }

  /** mmdrop / mmdrop_lazy_tlb: atomic dec of mm_count; at zero, __mmdrop frees the mm. */
  mmDrop(cpu: number, mm: number): void {
    this.lineAtomic(this.mmLineOwner, this.mmLineReader, mm * MM_LINES + LINE_MM_COUNT, cpu);
    this.add(MI.mm_count_atomics, cpu, 1);
    if (--this._mmCount[mm] <= 0 && mm !== 0) this.freeMm(cpu, mm);
  }

  private freeMm(cpu: number, mm: number): void {
    this.serveMm(mm); // a handler still queued for mm runs before it goes: its initiator waited
    this.strategy.onMmDrop(cpu, mm);
    // destroy_context: the global ASID is reusable after the next wrap-around flush.
    if (this.mmGlobal[mm] !== 0) { this.gAsids.free(this.mmGlobal[mm]); this.mmGlobal[mm] = 0; }
    const cr3 = this._cr3Mm;
    for (let c = 0; c < this.nCpu; c++) {
      if (cr3[c] === mm) this.violation(VK.freedPgd, c, mm);
    }
    this._mmState[mm] = MM_FREED;
    this.inc(MI.mm_frees, cpu);
  }

  // ---------------------------------------------------------------- global ASIDs (INVLPGB)

  mmGlobalAsid(mm: number): number { return this.mmGlobal[mm]; }
  inAsidTransition(mm: number): boolean { return this.mmTransition[mm] !== 0; }
  setAsidTransition(mm: number, v: boolean): void { this.mmTransition[mm] = v ? 1 : 0; }

  /** use_global_asid(): allocate_global_asid() next-fit; reset_global_asid_space() on wrap
   *  (one invlpgb_flush_all_nonglobals). Returns the asid or 0. */
  assignGlobalAsid(cpu: number, mm: number): number {
    if (this.mmGlobal[mm] !== 0) return this.mmGlobal[mm];
    const g = this.gAsids;
    if (g.available <= 0) return 0;
    if (g.needsReset()) {
      this.invlpgbFlushAllNonglobals(cpu);
      g.reset();
    }
    const asid = g.allocate();
    if (asid === 0) return 0;
    this.mmGlobal[mm] = asid;
    this.mmTransition[mm] = 1;
    this.inc(MI.global_asids, cpu);
    return asid;
  }

  // ---------------------------------------------------------------- trim deadline (6.14+)

  /** should_trim_cpumask(): once per HZ. */
  shouldTrimCpumask(mm: number): boolean {
    const j = this.jiffies();
    if (j > this.mmNextTrim[mm]) { this.mmNextTrim[mm] = j + this.p.hz; return true; }
    return false;
  }

  // ======================================================================= hardware, cross-calls, checker

  // TLB + CR3 (cr3Write, flushLocalFull, flushPages, access, cachedPages, invlpgb,
  // invlpgbFlushAllNonglobals, tlbsync): tlb-rows.ts. Cross-calls (sendIpis, ipiWait,
  // runDue): cross-calls.ts. Requests and the checker (beginRequest, endRequest,
  // checkUser): checker.ts.

  /** Set the hardware + kernel state of a CPU first seen running `mm` (no cost): CR3 holds
   *  mm in ASID 0, fresh, and the CPU is in mm_cpumask. */
  bootCpu(cpu: number, mm: number): void {
    this._loadedMm[cpu] = mm;
    this._loadedAsid[cpu] = 0;
    this._slotCtx[cpu * TLB_NR_DYN_ASIDS] = this.mmCtx[mm];
    this._slotGen[cpu * TLB_NR_DYN_ASIDS] = this.mmGen[mm];
    this._nextAsid[cpu] = 1;
    this.bootRows(cpu, mm);
    if (mm !== 0) bitSet(this.mmMask, mm * this.words, cpu);
  }
}
