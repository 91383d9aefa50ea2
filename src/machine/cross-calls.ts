// Cross-calls (kernel/smp.c smp_call_function_many_cond, csd_lock_wait, the
// call_single_queue; arch/x86/mm/tlb.c native_flush_tlb_multi): queueing a call on each
// target, the real IPIs, running the handler there, the initiator's wait for the
// acknowledgements, and the flushes of early-acknowledging strategies (Nadav Amit's 2019
// RFC) that run after their ack. A layer of the machine (see counters.ts).
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
import { bitAnyBut, bitClear, bitNext, bitSet } from './bitset.ts';
import { CPU_LINES, LINE_CSD, LINE_QUEUE } from './cache-lines.ts';
import { I_ANS, I_AOPS, I_LT, I_OVH, NM } from './counters.ts';
import { MI } from './metrics.ts';
import type { CostProfile } from './profiles.ts';
import { FlushReq } from './request.ts';
import type { Strategy } from './strategy.ts';
import { TlbRows } from './tlb-rows.ts';

/** Purposes of a cross-call. */
export const IpiPurpose = { flush: 0, ptSync: 1, mmDrop: 2 } as const;
/** How a cross-call is acknowledged. */
export const AckMode = {
  /** The target unlocks the CSD after running the handler (SCF_WAIT). */
  sync: 0,
  /** The target copies the info, unlocks, then runs the handler (Nadav Amit's 2019 RFC). */
  early: 1,
} as const;

/** Pending early-acknowledged flushes kept per target CPU (stride of the pend* arrays). */
const PEND = 4;
/** How a CSD reaches its target: a real IPI (to a busy or an idle CPU), or it joins the
 *  interrupt already pending there. */
const CSD_IPI = 0, CSD_IPI_IDLE = 1, CSD_JOINS = 2;

/** Observes what the modelled kernel would print, as it happens (validate --explain).
 *  Null on every normal replay: the hot path pays one null check per traced record. */
export interface MachineTap {
  /** A tlb:tlb_flush record the modelled kernel prints on `cpu`. */
  flush(cpu: number, reason: number, pages: number): void;
  /** A real IPI (ipi_send_cpu) from `from` to `to` for a cross-call of `purpose`. */
  ipi(from: number, to: number, purpose: number): void;
}

export abstract class CrossCalls extends TlbRows {
  /** Trace time of the earliest deferred (early-acknowledged) flush. */
  nextDue = Infinity;
  // Timing, in delayed time (trace time + the CPU's lag, Counters.cpuLag):
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
  // early-ack pending flushes, PEND per target CPU at [cpu * PEND + k]
  private readonly pendN: Int32Array;
  private readonly pendReq: FlushReq[];
  private readonly pendAck: Float64Array;
  private readonly pendDone: Float64Array;
  // initiator wait bookkeeping
  private readonly waitUntil: Float64Array;
  private readonly waitArmed: Uint8Array;
  private readonly clockBase: Float64Array;
  /** Per target, during one sendIpis: CSD_IPI, CSD_IPI_IDLE or CSD_JOINS. */
  private readonly csdKind: Uint8Array;
  /** Per CPU: the interrupt being handled there was counted in predFlushIrqs. */
  private readonly irqCounted: Uint8Array;
  // Handlers that wait for their target to run (irqWhenRun): per CPU, the CSDs in its
  // call_single_queue, their flush infos copied (the kernel's cfd slots hold them).
  /** See MachineOptions.irqWhenRun. */
  readonly irqWhenRun: boolean;
  private readonly csdQN: Int32Array;
  private readonly csdQReq: FlushReq[][];
  private readonly csdQPurpose: Int32Array[];
  private readonly csdQMm: Int32Array[];
  private readonly csdQFrom: Int32Array[];
  /** Per initiator (words each): targets holding a CSD of it not handled yet. */
  private readonly unacked: Uint32Array;
  /** Trace time of each CPU's latest event of the workload (serveBefore). */
  private readonly lastRun: Float64Array;
  /** Host cores the guest's vCPUs share. */
  private readonly hostCores: number;
  /** The recording shows when each CPU took its cross-call interrupts (irq_vectors
   *  entries): pending CSDs are handled there (serveIrqOf), not guessed from the CPU's own
   *  events or its spinning. */
  irqTimesRecorded = false;
  // From machine.ts:
  abstract strategy: Strategy;
  abstract tap: MachineTap | null;
  abstract execCpu: number;
  /** is_lazy and loaded_mm (counted per flush target), the lockless-walk slot. */
  protected abstract readonly _isLazy: Uint8Array;
  protected abstract readonly _loadedMm: Int32Array;
  protected abstract readonly _walkMm: Int32Array;

  constructor(nCpu: number, profile: CostProfile, implicitAccess: boolean, firstNs: number, lastNs: number,
    irqWhenRun: boolean, hostCores: number) {
    super(nCpu, profile, implicitAccess, firstNs, lastNs);
    const n = nCpu;
    this.irqEnd = new Float64Array(n).fill(-Infinity);
    this.queueTakenAt = new Float64Array(n).fill(-Infinity);
    this.waitFrom = new Float64Array(n);
    this.waitTo = new Float64Array(n);
    this.spinLeft = new Float64Array(n);
    this.waitTid = new Int32Array(n).fill(-1);
    this.waitBucket = new Int32Array(n);
    this.pendN = new Int32Array(n);
    this.pendReq = Array.from({ length: n * PEND }, () => new FlushReq());
    this.pendAck = new Float64Array(n * PEND);
    this.pendDone = new Float64Array(n * PEND);
    this.waitUntil = new Float64Array(n);
    this.waitArmed = new Uint8Array(n);
    this.clockBase = new Float64Array(n);
    this.csdKind = new Uint8Array(n);
    this.irqCounted = new Uint8Array(n);
    this.irqWhenRun = irqWhenRun;
    this.csdQN = new Int32Array(n);
    this.csdQReq = Array.from({ length: n }, () => []);
    this.csdQPurpose = Array.from({ length: n }, () => new Int32Array(0));
    this.csdQMm = Array.from({ length: n }, () => new Int32Array(0));
    this.csdQFrom = Array.from({ length: n }, () => new Int32Array(0));
    this.unacked = new Uint32Array(irqWhenRun ? n * this.words : 0);
    this.lastRun = new Float64Array(n).fill(-Infinity);
    this.hostCores = Math.max(1, hostCores);
  }


  /** The initiator's delayed clock during one send/wait: clockBase[cpu] + cpuOverhead(cpu).
   *  Set at the first send after a wait: now + cpuLag(cpu) - cpuOverhead(cpu), so for a
   *  task it is now + its delay, and for idle (lag 0) the work done since the send still
   *  overlaps the wait. */
  private clockOf(cpu: number): number {
    return this.clockBase[cpu] + this.perCpu[cpu * NM + I_OVH];
  }

  /** Queue a cross-call of `purpose` to every CPU of `mask` except `cpu` and run its handler
   *  there (smp_call_function_many_cond's remote part). A real IPI goes only to targets
   *  whose call_single_queue was empty. With AckMode.sync the handler runs now and the
   *  initiator will wait for it; with AckMode.early the target acknowledges after copying
   *  the info and runs the flush handler shortly after (deferred). Call ipiWait(cpu) for
   *  the initiator's wait. Returns the number of targets. */
  sendIpis(cpu: number, mask: Uint32Array, purpose: number, req: FlushReq | null, mm: number, ack: number = AckMode.sync): number {
    const p = this.p;
    const W = this.words;
    let targets = 0, real = 0;
    // The initiator's per-target counts are whole numbers, so adding them once per call
    // gives the same totals as adding them per target.
    let toLazy = 0, toStale = 0, toNonWalkers = 0, toIdle = 0;
    const mmOf = req !== null ? req.mm : mm;
    const owner = this.cpuLineOwner, reader = this.cpuLineReader;
    const nCpu = this.nCpu;
    // Read once per call, not per target: each target's loop body below does the same
    // counting and charging as inc()/charge()/cpuOverhead() would, in the same order.
    const per = this.perCpu, tot = this.metrics, strategy = this.strategy;
    const irqEnd = this.irqEnd, takenAt = this.queueTakenAt, kind = this.csdKind;
    const flushCall = purpose === IpiPurpose.flush && req !== null;
    const deferred = ack === AckMode.early && req !== null;
    const deliverNs = p.ipiDeliverNs, idleWakeNs = p.ipiIdleWakeNs, handlerNs = p.ipiHandlerNs, csdNs = p.csdHandleNs;
    const atomicNs = p.atomicLocalNs, cpuAt = cpu * NM;
    const I_IPI = MI.ipi_ns, I_RECV = MI.ipis_received, I_HANDLER = MI.ipi_handler_ns;
    if (!this.waitArmed[cpu]) this.clockBase[cpu] = this.now + this.cpuLag(cpu) - per[cpuAt + I_OVH];
    const base = this.clockBase[cpu];
    // Whole-number counters (atomics, line transfers, handlers run) are exact in any order:
    // the ones the loop would add per target are summed here and added once after it.
    let atomics = 0, transfers = 0, initiatorAtomics = 0, initiatorTransfers = 0;
    // The initiator: fill each CSD and llist_add it to the target's queue.
    for (let c = bitNext(mask, 0, W, 0); c >= 0; c = bitNext(mask, 0, W, c + 1)) {
      if (c === cpu || c >= nCpu) continue;
      targets++;
      const line = c * CPU_LINES;
      owner[line + LINE_CSD] = cpu; reader[line + LINE_CSD] = -1; // lineStore
      // lineAtomic(owner, reader, line + LINE_QUEUE, cpu), its counts deferred
      let ns = atomicNs;
      const q = line + LINE_QUEUE;
      const o = owner[q];
      const from = o >= 0 ? (o !== cpu ? o : -1) : reader[q] !== cpu ? reader[q] : -1;
      if (from >= 0) { ns += this.transferNs(from, cpu); initiatorTransfers++; }
      owner[q] = cpu; reader[q] = -1;
      initiatorAtomics++;
      tot[I_ANS] += ns; per[cpuAt + I_ANS] += ns;
      this.charge(cpu, ns);
      if (purpose === IpiPurpose.flush) {
        if (this._isLazy[c]) toLazy++;
        if (mmOf !== 0 && this._loadedMm[c] !== mmOf) toStale++;
      } else if (purpose === IpiPurpose.ptSync) {
        if (this._walkMm[c] !== mm) toNonWalkers++;
      }
      if (this.irqWhenRun ? this.csdQN[c] > 0 : base + per[cpuAt + I_OVH] < takenAt[c]) {
        kind[c] = CSD_JOINS; // the pending interrupt there will take it
      } else {
        real++;
        if (this.tap !== null) this.tap.ipi(cpu, c, purpose);
        this.ipiMatrix[cpu * nCpu + c]++;
        if (this._curTid[c] === 0) { toIdle++; kind[c] = CSD_IPI_IDLE; } else kind[c] = CSD_IPI;
      }
    }
    if (real > 0) {
      this.predIpiSends++;
      this.cost(I_IPI, cpu, p.ipiSendNs + (real - 1) * p.ipiSendPerTargetNs);
    }
    // The targets: (interrupt entry,) llist_del_all, handler, CSD unlock.
    const sentAt = base + per[cpuAt + I_OVH];
    let lastAck = -Infinity;
    for (let c = bitNext(mask, 0, W, 0); c >= 0; c = bitNext(mask, 0, W, c + 1)) {
      if (c === cpu || c >= nCpu) continue;
      const line = c * CPU_LINES, at = c * NM;
      const k = kind[c];
      let start = irqEnd[c];
      if (k !== CSD_JOINS) {
        const arrive = sentAt + deliverNs + (k === CSD_IPI_IDLE ? idleWakeNs : 0);
        if (arrive > start) start = arrive;
        takenAt[c] = start;
      }
      const t0 = per[at + I_OVH];
      this.cost(I_IPI, c, k === CSD_JOINS ? csdNs : handlerNs);
      // lineAtomic(owner, reader, line + LINE_QUEUE, c): the target takes the queue (llist_del_all)
      let ns = atomicNs;
      const q = line + LINE_QUEUE;
      const o = owner[q];
      const from = o >= 0 ? (o !== c ? o : -1) : reader[q] !== c ? reader[q] : -1;
      if (from >= 0) { ns += this.transferNs(from, c); transfers++; per[at + I_LT]++; }
      owner[q] = c; reader[q] = -1;
      atomics++; per[at + I_AOPS]++;
      tot[I_ANS] += ns; per[at + I_ANS] += ns;
      this.charge(c, ns);
      per[at + I_RECV]++;
      let end: number, acked: number;
      if (deferred) {
        owner[line + LINE_CSD] = c; reader[line + LINE_CSD] = -1; // unlock after copy (lineStore)
        acked = start + (per[at + I_OVH] - t0);
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
        end = acked = start + (per[at + I_OVH] - t0) + (flushCall ? this.estimateFlushNs(req) : 0);
      } else {
        const exec = this.execCpu;
        this.execCpu = c;
        const records = this.flushRecords;
        if (k !== CSD_JOINS) this.irqCounted[c] = 0; // a new interrupt there
        if (flushCall) strategy.onFlushIpi(c, req);
        else strategy.onIpi(c, purpose, mm);
        if (this.flushRecords > records && this.irqCounted[c] === 0) { this.irqCounted[c] = 1; this.predFlushIrqs++; }
        this.execCpu = exec;
        owner[line + LINE_CSD] = c; reader[line + LINE_CSD] = -1; // lineStore
        end = acked = start + (per[at + I_OVH] - t0);
      }
      const handled = per[at + I_OVH] - t0;
      tot[I_HANDLER] += handled; per[at + I_HANDLER] += handled;
      irqEnd[c] = end;
      if (this.spinLeft[c] > 0) this.creditWait(c, start, start + handled);
      if (acked > lastAck) lastAck = acked;
    }
    if (targets > 0) {
      tot[I_LT] += initiatorTransfers + transfers; per[cpuAt + I_LT] += initiatorTransfers;
      tot[I_AOPS] += initiatorAtomics + atomics; per[cpuAt + I_AOPS] += initiatorAtomics;
      tot[I_RECV] += targets;
      this.add(MI.csd_queued, cpu, targets);
      if (purpose === IpiPurpose.ptSync) this.add(MI.pt_sync_ipis, cpu, targets);
      else if (purpose === IpiPurpose.mmDrop) this.add(MI.mmdrop_ipis, cpu, targets);
      if (toLazy > 0) this.add(MI.ipis_to_lazy, cpu, toLazy);
      if (toStale > 0) this.add(MI.ipis_to_stale, cpu, toStale);
      if (toNonWalkers > 0) this.add(MI.ipis_to_nonwalkers, cpu, toNonWalkers);
      if (real > 0) this.inc(MI.ipis_sent, cpu, real);
      if (toIdle > 0) this.add(MI.ipis_to_idle, cpu, toIdle);
      const until = lastAck + p.ipiAckNs;
      if (!this.waitArmed[cpu] || until > this.waitUntil[cpu]) this.waitUntil[cpu] = until;
      this.waitArmed[cpu] = 1;
    }
    return targets;
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
    this.uncharge(MI.initiator_wait_ns, cpu, this.waitTid[cpu], this.waitBucket[cpu], ns);
  }

  /** The initiator waits for the acknowledgements of its cross-calls (csd_lock_wait),
   *  overlapping whatever local work it did since sending. */
  ipiWait(cpu: number): void {
    if (!this.waitArmed[cpu]) return;
    this.waitArmed[cpu] = 0;
    const from = this.clockOf(cpu);
    const w = this.waitUntil[cpu] - from;
    if (w > 0) {
      this.cost(MI.initiator_wait_ns, cpu, w);
      this.waitFrom[cpu] = from; this.waitTo[cpu] = from + w; this.spinLeft[cpu] = w;
      this.waitTid[cpu] = this._curTid[cpu]; this.waitBucket[cpu] = this.tlBucket;
    }
  }

  // ---------------------------------------------------------------- irqWhenRun queues

  private enqueueCsd(c: number, from: number, purpose: number, req: FlushReq | null, mm: number): void {
    const n = this.csdQN[c];
    if (n === this.csdQPurpose[c].length) {
      const cap = Math.max(8, n * 2);
      const grow = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
      this.csdQPurpose[c] = grow(this.csdQPurpose[c]);
      this.csdQMm[c] = grow(this.csdQMm[c]);
      this.csdQFrom[c] = grow(this.csdQFrom[c]);
      while (this.csdQReq[c].length < cap) this.csdQReq[c].push(new FlushReq());
    }
    if (req !== null) this.csdQReq[c][n].copyFrom(req);
    else this.csdQReq[c][n].mm = -1;
    this.csdQPurpose[c][n] = purpose;
    this.csdQMm[c][n] = mm;
    this.csdQFrom[c][n] = from;
    this.csdQN[c] = n + 1;
    bitSet(this.unacked, from * this.words, c);
  }

  /** c's interrupt: llist_del_all() of its call_single_queue, each CSD's handler in the
   *  order queued, then csd_unlock() (the initiator's ack). */
  private serveIrq(c: number): void {
    if (this.csdQN[c] === 0) return;
    const exec = this.execCpu;
    this.execCpu = c;
    const at = c * NM;
    const records = this.flushRecords;
    // A handler may queue more (none does today): the loop reads the count each time.
    for (let j = 0; j < this.csdQN[c]; j++) {
      const req = this.csdQReq[c][j], purpose = this.csdQPurpose[c][j];
      const t0 = this.perCpu[at + I_OVH];
      if (purpose === IpiPurpose.flush && req.mm >= 0) this.strategy.onFlushIpi(c, req);
      else this.strategy.onIpi(c, purpose, this.csdQMm[c][j]);
      const handled = this.perCpu[at + I_OVH] - t0;
      this.metrics[MI.ipi_handler_ns] += handled; this.perCpu[at + MI.ipi_handler_ns] += handled;
      const line = c * CPU_LINES;
      this.cpuLineOwner[line + LINE_CSD] = c; this.cpuLineReader[line + LINE_CSD] = -1; // csd_unlock (store)
      bitClear(this.unacked, this.csdQFrom[c][j] * this.words, c);
    }
    this.csdQN[c] = 0;
    if (this.flushRecords > records) this.predFlushIrqs++; // one interrupt took the queue
    this.execCpu = exec;
  }

  /** `cpu` runs now: it takes its pending interrupt (unless the recording says when it
   *  did), and every target of its own cross-calls has handled them (it could not go on
   *  before their acks). The simulator calls this before each event of the workload on
   *  `cpu` (never before records of what the kernel did: those must not time the model). */
  serveBefore(cpu: number): void {
    this.lastRun[cpu] = this.now;
    if (this.csdQN[cpu] !== 0 && !this.irqTimesRecorded) this.serveIrq(cpu);
    this.serveUnacked(cpu);
  }

  /** The targets of `cpu`'s cross-calls handle them (the initiator returns only then). */
  serveUnacked(cpu: number): void {
    if (!this.irqWhenRun) return;
    const W = this.words, base = cpu * W;
    for (let c = bitNext(this.unacked, base, W, 0); c >= 0; c = bitNext(this.unacked, base, W, c + 1)) this.serveIrq(c);
  }

  /** `c` takes its pending interrupt now (the recording shows it did). */
  serveIrqOf(c: number): void { this.serveIrq(c); }

  /** Every pending interrupt (the end of the trace). */
  serveAll(): void {
    for (let c = 0; c < this.nCpu; c++) this.serveIrq(c);
  }

  /** The queues holding a flush of `mm` (it is about to be freed). */
  protected serveMm(mm: number): void {
    if (!this.irqWhenRun) return;
    for (let c = 0; c < this.nCpu; c++) if (this.csdQN[c] !== 0 && this.pendingCsdGen(c, mm) !== Infinity) this.serveIrq(c);
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
  protected pendingCsdGen(cpu: number, mm: number): number {
    let g = Infinity;
    const n = this.csdQN[cpu];
    for (let j = 0; j < n; j++) {
      if (this.csdQPurpose[cpu][j] !== IpiPurpose.flush) continue;
      const q = this.csdQReq[cpu][j];
      if (q.mm === 0) return 0;
      if (q.mm === mm && q.truthGen < g) g = q.truthGen;
    }
    return g;
  }

  private estimateFlushNs(req: FlushReq): number {
    return req.full ? this.p.flushLocalNs : req.nr * this.p.invlpgNs;
  }

  /** Keep an early-acknowledged flush for `cpu` to run at `done`. */
  private defer(cpu: number, req: FlushReq, ackAt: number, done: number): void {
    if (this.pendN[cpu] >= PEND) this.runPending(cpu, 0);
    const i = cpu * PEND + this.pendN[cpu]++;
    this.pendReq[i].copyFrom(req);
    this.pendAck[i] = ackAt;
    this.pendDone[i] = done;
    if (done < this.nextDue) this.nextDue = done;
  }

  private runPending(cpu: number, k: number): void {
    const base = cpu * PEND;
    const i = base + k;
    const req = this.pendReq[i];
    const saved = this.now;
    if (this.pendDone[i] > this.now) this.now = this.pendDone[i];
    const t0 = this.cpuOverhead(cpu);
    const exec = this.execCpu;
    this.execCpu = cpu;
    this.strategy.onFlushIpi(cpu, req);
    this.execCpu = exec;
    this.inc(MI.ipi_handler_ns, cpu, this.cpuOverhead(cpu) - t0);
    this.now = saved;
    // remove k, keeping order
    const n = --this.pendN[cpu];
    for (let j = k; j < n; j++) {
      this.pendReq[base + j].copyFrom(this.pendReq[base + j + 1]);
      this.pendAck[base + j] = this.pendAck[base + j + 1];
      this.pendDone[base + j] = this.pendDone[base + j + 1];
    }
  }

  /** Run every deferred flush due at or before t (called before each event). */
  runDue(t: number): void {
    if (this.nextDue > t) return;
    // One scan per flush run: it finds the earliest pending flush, and when that one is
    // not due, it is the next due time.
    for (;;) {
      let bc = -1, bk = -1, best = Infinity;
      for (let c = 0; c < this.nCpu; c++) {
        for (let k = 0; k < this.pendN[c]; k++) {
          const d = this.pendDone[c * PEND + k];
          if (d < best) { best = d; bc = c; bk = k; }
        }
      }
      if (bc < 0) { this.nextDue = Infinity; return; }
      if (best > t) { this.nextDue = best; return; }
      this.runPending(bc, bk);
    }
  }

  /** For the checker: the truth generation `need` that user code of `mm` on `cpu` must be
   *  fresh to, lowered for an early-acknowledged flush this CPU has not acknowledged yet
   *  (the request is not complete from this CPU's point of view). */
  protected pendingNeed(cpu: number, mm: number, need: number): number {
    for (let k = 0; k < this.pendN[cpu]; k++) {
      const i = cpu * PEND + k;
      const q = this.pendReq[i];
      if (q.mm === mm && this.pendAck[i] > this.now && q.truthGen - 1 < need) need = q.truthGen - 1;
    }
    return need;
  }
}
