// The simulator: reads canonical events and drives one Machine + one Strategy. It owns
// the scheduler-side semantics (kernel/sched/core.c context_switch, exit_mm, exec_mmap,
// mmput/exit_mmap) that are the same for every strategy, and calls the strategy's hooks
// where the kernel calls the x86 code. Observed events (what the recorded kernel did) never
// reach the strategy: they are counted by ObservedCounts (observed.ts), once per trace.
import {
  EventKind, FlushFlags, FlushOrigin, IpiKind, flushOrigin, type EventBatch, type TraceInfo,
} from '../trace/event.ts';
import { Machine } from './machine.ts';
import { ObservedCounts } from './observed.ts';
import {
  LATENCY_BUCKETS, METRICS, MI, TIMELINE_BUCKETS, TIMELINE_METRICS, VIOLATION_KINDS, VIOLATION_TEXT,
} from './metrics.ts';
import type { CostProfile } from './profiles.ts';
import { TASK_OVERHEADS_KEPT, type FlushClassCounts, type ObservedRecord, type RunResult } from './result.ts';
import { metaOf, type Strategy, type StrategyDefinition, type StrategyMeta } from './strategy.ts';

export interface SimOptions {
  /** Model a working set touched at every switch into a user task (real traces carry no
   *  `access` events). Default: when the trace has no access events. */
  implicitAccess?: boolean;
  /** CR4.PCIDE of the simulated CPUs. false models a CPU without PCID (a TCG guest, a
   *  pre-Westmere CPU, `nopcid`) under any strategy: a machine property, not a policy.
   *  Default: what the trace header says (info.machine.pcid), else PCID present. */
  pcid?: boolean;
  /** See MachineOptions.irqWhenRun. Default: when the trace header says the recording ran
   *  under TCG (`accel=tcg`), whose vCPUs outnumber the host's cores in every lab run. */
  irqWhenRun?: boolean;
  /** With irqWhenRun: the host's cores (default: the header's host_cpus, else 2, the lab's). */
  hostCpus?: number;
  /** Count what the recorded kernel did (RunResult.observed) in this simulator. Default
   *  true; replay() passes false and counts it once for all its strategies. */
  countObserved?: boolean;
}


/** RunResult.observed of a simulator built with countObserved: false, until its caller
 *  fills in the counts it kept (replay()). */
const NOT_COUNTED: ObservedRecord = Object.freeze({ tlbFlush: {}, ipiSends: 0, ipiTargets: 0, ipiByKind: {} }) as ObservedRecord;

/** An upper bound on the memory one Simulator of `info` comes to hold: its per-CPU state
 *  plus, for every task the trace names and every mm slot it can need, the machine's and
 *  the simulator's arrays, which grow by doubling (so at most twice what they hold).
 *  replay() runs as many strategies at once as fit in its budget (ReplayOptions.stateBudget). */
export function estimateStateBytes(info: TraceInfo): number {
  const cpus = Math.max(1, info.cpus | 0);
  const tasks = Math.max(info.taskCount ?? 0, info.tasks.length);
  const mms = info.mms.length;
  // A freed mm's slot goes to a later mm once no CPU state or TLB row names it (allocMm):
  // the slots are the mms alive at once and the freed ones still named, at most a PCID row
  // or a pointer each per CPU (measured: 29-40 slots on forkchurn, 6-8 alive at once).
  const slots = info.peakMms === undefined ? mms : Math.min(mms, 2 * info.peakMms + cpus * 32 + 64);
  // Per tid: tidState u8 + tidMm i32. Per slot: mmLastUser, mmLastFlush, mmLastFullFlush, mmTdStart f64 +
  // preexisting u8. Per trace mm id: slotOfId i32. Per CPU: measured 1-6 KiB (256 CPUs:
  // 5.3 KiB each, rows and cpumask words included), 64 KiB besides.
  const perTid = Machine.BYTES_PER_TID + 5;
  const perSlot = Machine.bytesPerMmSlot(cpus) + 4 * 8 + 1;
  // The per-task arrays are indexed by tid, so as long as the highest; but of a few tasks
  // with high tids (pid_max is 4 M) only the pages they touch are resident: a page of each
  // of the four arrays per task at most.
  const tidBytes = info.maxTid === undefined ? tasks * perTid : Math.min((info.maxTid + 1) * perTid, tasks * 4 * 4096);
  return 2 ** 16 + cpus * 6 * 1024 + 2 * (tidBytes + slots * perSlot + mms * 4);
}

export class Simulator {
  readonly machine: Machine;
  readonly strategy: Strategy;
  /** The definition's metadata: a script that defines a strategy by reusing a registered
   *  class (defineStrategy({ name, ..., create: (m) => new Linux618(m) })) is reported
   *  under its own name, not the class's. */
  private readonly meta: StrategyMeta;
  readonly info: TraceInfo;
  private readonly profileName: string;
  private readonly traced: boolean;
  private readonly hasExitMmap: boolean;
  private readonly implicit: boolean;
  private readonly ws: number;
  private readonly booted: Uint8Array;
  /** Per mm slot: it existed before the recording and has not been flushed yet (traced
   *  requests only). */
  private preexisting = new Uint8Array(64);
  /** The slot of an mm whose exit_mmap was seen while the current task still ran it (exec of 6.18
   *  prints exit_mmap of the old mm before sched_process_exec): torn down at the task's
   *  exec / exit / switch. -1: none. */
  private readonly pendingTeardown: Int32Array;
  private index = 0;
  // tasks: state 0 unknown, 1 alive (counted in mm_users), 2 dead
  private tidState = new Uint8Array(1024);
  /** Per task: the trace's number of its mm (not the machine's slot, which a freed mm gives
   *  up: a task the trace shows alive after its mm was freed gets a new mm, as before). */
  private tidMm = new Int32Array(1024);
  /** The trace's mm number -> the machine's slot for it (Machine.allocMm). The per-mm
   *  arrays here and the machine's are indexed by slot, and what the strategy and the
   *  machine are given is a slot: only this map grows with the mms of the whole trace. */
  private slotOfId = new Int32Array(64);
  // Critical path of iteration_ns: a task's delay (Machine.taskDelay) = overhead charged to
  // it + the delay it inherited from the CPU it was switched in on (the task before it
  // finished late by its own delay; passDelay).
  /** Trace time at which the last non-idle task left each CPU, and that task's delay. */
  private readonly cpuFreeT: Float64Array;
  private readonly cpuFreeDelay: Float64Array;
  // per mm slot: last user-code event, last flush request, start of teardown (group-dead exit)
  private mmLastUser = new Float64Array(64).fill(-1);
  private mmLastFlush = new Float64Array(64).fill(-1);
  /** Per slot: the event index of its latest full flush request (pages -1). */
  private mmLastFullFlush = new Float64Array(64).fill(-1);
  private mmTdStart = new Float64Array(64).fill(-1);
  /** Counts of what the recorded kernel did, when this simulator keeps them itself. */
  private readonly observed: ObservedCounts | null;
  // iteration marks
  private iterTid = -1;
  private iterN = 0;
  private iterTime0 = 0;
  private iterDelay0 = 0;
  private iterTime1 = 0;
  private iterDelay1 = 0;
  private readonly notes: string[] = [];

  constructor(info: TraceInfo, def: StrategyDefinition, profile: CostProfile, opts: SimOptions = {}) {
    this.info = info;
    const accesses = info.countsByKind?.access ?? 0;
    // The implicit working set stands in for the accesses a recorded trace cannot show.
    // A synthetic workload declares every access it makes (ping-pong with pages=0 touches
    // none on purpose), so it never gets one.
    this.implicit = opts.implicitAccess ?? (accesses === 0 && info.format !== 'workload' && profile.workingSetPages > 0);
    this.ws = profile.workingSetPages;
    const irqWhenRun = opts.irqWhenRun ?? info.machine?.accel === 'tcg';
    // Every lab recording ran on a 2-core host; a header that does not say is taken as one.
    const hostCores = opts.hostCpus ?? info.machine?.hostCpus ?? 2;
    this.machine = new Machine(info.cpus, profile, { implicitAccess: this.implicit, firstNs: info.firstNs, lastNs: info.lastNs, irqWhenRun, hostCores });
    // A recording with irq_vectors entries says when each CPU took its interrupts.
    if (irqWhenRun) this.machine.irqTimesRecorded = (info.observedIpis?.byKind?.received ?? 0) > 0;
    this.strategy = def.create(this.machine);
    // After the strategy's constructor, which sets CR4.PCIDE as its kernel would on a CPU
    // with PCID (linux-4.13 and linux-4.14-nopcid clear it themselves).
    const pcid = opts.pcid ?? info.machine?.pcid;
    if (pcid === false) this.machine.pcid = false;
    this.meta = metaOf(def);
    this.machine.strategy = this.strategy;
    this.profileName = profile.name;
    this.traced = info.tracedFlushRequests;
    this.hasExitMmap = (info.countsByKind?.exit_mmap ?? 0) > 0;
    this.booted = new Uint8Array(this.machine.nCpu);
    this.pendingTeardown = new Int32Array(this.machine.nCpu).fill(-1);
    this.observed = opts.countObserved === false ? null : new ObservedCounts(info);
    this.cpuFreeT = new Float64Array(this.machine.nCpu);
    this.cpuFreeDelay = new Float64Array(this.machine.nCpu);
    if (pcid === false) this.notes.push(`CPUs without PCID (${opts.pcid === false ? '--no-pcid' : 'as the trace header says'}): every switch to another mm flushes`);
    if (irqWhenRun) this.notes.push(`cross-call handlers run when their target vCPU next runs (${opts.irqWhenRun === true ? 'irqWhenRun' : 'a TCG guest, as the trace header says'}; ${hostCores} host cores${info.machine?.hostCpus === undefined ? ', assumed' : ''}): CSDs queue up and are handled in one interrupt`);
    if (this.implicit) this.notes.push(`no access events: each switch into a user task touches workingSetPages=${this.ws} pages (assumption)`);
    if (this.traced) this.notes.push('flush requests come from the recorded tlb_flush records; local-only teardown flushes (printed only as reason 0) are supplied at exit_mmap');
  }

  // ------------------------------------------------------------------ bookkeeping

  private growTid(tid: number): void {
    let cap = this.tidState.length;
    while (cap <= tid) cap *= 2;
    const state = new Uint8Array(cap); state.set(this.tidState); this.tidState = state;
    const mms = new Int32Array(cap); mms.set(this.tidMm); this.tidMm = mms;
  }

  /** How late `tid` runs against the trace clock: the overhead charged to it plus the delay
   *  it inherited by being switched in on a CPU whose previous task finished late. */
  private taskDelay(tid: number): number {
    return this.machine.taskDelay(tid);
  }

  /** CPU serialisation: a task switched in cannot start before the CPU's previous (non-idle)
   *  task has finished, and that task finished late by its own delay. The idle gap in
   *  between absorbs as much of it as it lasts. This is how overhead charged to one side
   *  of a same-CPU ping-pong lengthens the other side's round trip. */
  private passDelay(cpu: number, prev: number, next: number): void {
    const now = this.machine.now;
    if (prev > 0) { this.cpuFreeT[cpu] = now; this.cpuFreeDelay[cpu] = this.taskDelay(prev); }
    if (next <= 0) return;
    const late = this.cpuFreeDelay[cpu] - (now - this.cpuFreeT[cpu]);
    const own = this.taskDelay(next);
    if (late > own) this.machine.inheritDelay(next, late - own);
  }

  private growMmLocal(mm: number): void {
    let cap = this.mmLastUser.length;
    while (cap <= mm) cap *= 2;
    const g = (a: Float64Array) => { const b = new Float64Array(cap).fill(-1); b.set(a); return b; };
    this.mmLastUser = g(this.mmLastUser); this.mmLastFlush = g(this.mmLastFlush); this.mmTdStart = g(this.mmTdStart);
    this.mmLastFullFlush = g(this.mmLastFullFlush);
    const pre = new Uint8Array(cap); pre.set(this.preexisting); this.preexisting = pre;
  }

  /** The machine's slot for the trace's mm `id` while that mm exists (0: none, or freed). */
  slotOf(id: number): number {
    if (id <= 0 || id >= this.slotOfId.length) return 0;
    const slot = this.slotOfId[id];
    const machine = this.machine;
    return slot > 0 && machine.mmTraceId[slot] === id && machine.mmState[slot] !== 3 ? slot : 0;
  }

  /** The slot of the trace's mm `id`, made now (init_new_context) if it has none: never
   *  seen, or freed since (the number was used again). `fresh`: made by a fork or exec the
   *  trace shows. */
  private mmEnsure(id: number, fresh = false): number {
    if (id <= 0) return 0;
    const have = this.slotOf(id);
    if (have > 0) return have;
    if (id >= this.slotOfId.length) {
      let cap = this.slotOfId.length;
      while (cap <= id) cap *= 2;
      const grown = new Int32Array(cap); grown.set(this.slotOfId); this.slotOfId = grown;
    }
    const slot = this.machine.allocMm(id);
    this.slotOfId[id] = slot;
    if (slot >= this.mmLastUser.length) this.growMmLocal(slot);
    this.mmLastUser[slot] = -1; this.mmLastFlush[slot] = -1; this.mmLastFullFlush[slot] = -1; this.mmTdStart[slot] = -1;
    // Not made by a fork or exec the trace shows: it existed before the recording.
    this.preexisting[slot] = fresh || !this.traced ? 0 : 1;
    return slot;
  }

  /** A task seen using mm: count it in mm_users once. */
  private noteTask(tid: number, mm: number): void {
    if (tid <= 0) return;
    if (tid >= this.tidState.length) this.growTid(tid);
    if (this.tidState[tid] !== 0) return;
    this.tidState[tid] = 1;
    this.tidMm[tid] = mm;
    if (mm > 0) this.machine.mmUserAdd(this.mmEnsure(mm));
  }

  private taskMm(tid: number, hint: number): number {
    if (tid <= 0) return 0;
    if (tid < this.tidState.length && this.tidState[tid] === 1) return this.tidMm[tid];
    return hint;
  }

  /** Make `tid` the current task of `cpu` (first sight of the CPU, or a lost switch). */
  private ensureCurrent(cpu: number, tid: number, mmHint: number): void {
    const machine = this.machine;
    if (!this.booted[cpu]) {
      this.booted[cpu] = 1;
      const mm = this.taskMm(tid, mmHint);
      const slot = this.mmEnsure(mm);
      this.noteTask(tid, mm);
      machine.bootCpu(cpu, slot);
      machine.setCurrent(cpu, tid);
      machine.setTaskMm(cpu, slot);
      machine.setActiveMm(cpu, slot);
      return;
    }
    if (machine.curTid[cpu] === tid) return;
    machine.inc(MI.resyncs, cpu);
    // The recording lost this switch (on the recorded VM, switches out of idle are rarely
    // printed), and with it the tlb_flush record its switch_mm printed: predict none.
    machine.muteTrace(true);
    this.switchTo(cpu, tid, this.taskMm(tid, mmHint));
    machine.muteTrace(false);
  }

  // ------------------------------------------------------------------ scheduler semantics

  /** context_switch(prev = current, next = tid with mm nextMm). */
  private switchTo(cpu: number, tid: number, nextMm: number): void {
    this.contextSwitch(cpu, tid, nextMm);
    if (this.pendingTeardown[cpu] >= 0) this.finishPendingTeardown(cpu);
  }

  private finishPendingTeardown(cpu: number): void {
    const mm = this.pendingTeardown[cpu];
    this.pendingTeardown[cpu] = -1;
    this.teardown(cpu, mm);
  }

  private contextSwitch(cpu: number, tid: number, nextMm: number): void {
    const machine = this.machine, strategy = this.strategy;
    machine.inc(MI.context_switches, cpu);
    const prevUser = machine.curTaskMm[cpu] !== 0;
    this.passDelay(cpu, machine.curTid[cpu], tid);
    machine.setCurrent(cpu, tid);
    if (nextMm === 0) {
      // next is a kernel thread or idle: it borrows prev->active_mm (enter_lazy_tlb)
      const active = machine.activeMm[cpu];
      strategy.enterLazy(cpu);
      if (prevUser) {
        machine.inc(MI.lazy_entries, cpu);
        if (strategy.lazyRefcount !== 'none' && active !== 0) { machine.mmGrab(cpu, active); machine.setLazyRef(cpu, active); }
      } else if (strategy.lazyRefcount === 'pre-5.4' && machine.lazyRef[cpu] >= 0) {
        // Before 139d025cda1d (5.4) kthread->kthread did mmgrab(oldmm) for next and
        // finish_task_switch's mmdrop for prev: two atomics on the same line.
        const ref = machine.lazyRef[cpu];
        machine.mmGrab(cpu, ref);
        machine.mmDrop(cpu, ref);
      }
      machine.setTaskMm(cpu, 0);
      return;
    }
    const slot = this.mmEnsure(nextMm);
    strategy.switchMm(cpu, slot);
    machine.setActiveMm(cpu, slot);
    machine.setTaskMm(cpu, slot);
    if (!prevUser) {
      // finish_task_switch: mmdrop_lazy_tlb_sched(rq->prev_mm)
      const ref = machine.lazyRef[cpu];
      machine.setLazyRef(cpu, -1);
      if (ref >= 0) machine.mmDrop(cpu, ref);
    }
    this.userRuns(cpu, slot);
    if (this.implicit) machine.access(cpu, slot, this.ws);
  }

  /** exit_mm(): the current task drops its mm and continues as a lazy TLB user of it. */
  private exitMm(cpu: number): void {
    const machine = this.machine;
    const mm = machine.curTaskMm[cpu];
    if (mm === 0) return;
    if (this.strategy.lazyRefcount !== 'none') { machine.mmGrab(cpu, mm); machine.setLazyRef(cpu, mm); }
    machine.setTaskMm(cpu, 0);
    machine.inc(MI.lazy_entries, cpu);
    this.strategy.enterLazy(cpu);
  }

  /** exit_mmap() finished and mmput() drops the users' reference (mmdrop). */
  private teardown(cpu: number, mm: number): void {
    this.machine.serveUnacked(cpu); // the exit flush's targets acked before exit_mmap went on
    const machine = this.machine;
    if (!machine.isLive(mm)) return;
    machine.markTornDown(mm);
    machine.inc(MI.teardowns, cpu);
    machine.mmDrop(cpu, mm);
  }

  private userRuns(cpu: number, mm: number): void {
    if (mm <= 0) return;
    this.mmLastUser[mm] = this.index;
    this.machine.checkUser(cpu, mm);
  }

  /** A flush request for the trace's mm `mm` (0: a reclaim batch's, of no one mm). */
  private flush(cpu: number, mm: number, start: number, pages: number, flags: number): void {
    const machine = this.machine;
    const slot = mm > 0 ? this.mmEnsure(mm) : mm;
    if (slot > 0) {
      this.mmLastFlush[slot] = this.index;
      if (pages === -1) this.mmLastFullFlush[slot] = this.index;
      if (this.preexisting[slot]) {
        // What CPUs the mm ran on before the recording is unknown; its first recorded
        // request says whether the kernel found another CPU in its mm_cpumask then.
        this.preexisting[slot] = 0;
        if (flushOrigin(flags) === FlushOrigin.tracedRemote) this.strategy.adoptMm?.(slot);
      }
      // exit_mmap frees every page table: a request made during teardown frees them.
      if (this.mmTdStart[slot] >= 0 || machine.mmState[slot] === 2) flags |= FlushFlags.FREED_TABLES;
    }
    const t0 = machine.cpuOverhead(cpu);
    const weight = machine.rec !== null ? machine.cpumaskWeight(slot) : 0;
    const req = machine.beginRequest(cpu, slot, start, pages, flags, flushOrigin(flags));
    this.strategy.onFlushRequest(cpu, req);
    machine.endRequest(cpu, req, t0);
    if (machine.rec !== null) machine.rec.request(cpu, machine.now, mm, weight, machine.cpuOverhead(cpu) - t0);
  }

  // ------------------------------------------------------------------ the event loop

  /** Replay events [from, to) of a batch (all of it by default). */
  processBatch(b: EventBatch, from = 0, to = b.length): void {
    const machine = this.machine;
    const n = to;
    const nCpu = machine.nCpu;
    const kind = b.kind, time = b.time, cpuCol = b.cpu, tidCol = b.tid, mmCol = b.mm;
    const A = b.a, B = b.b, C = b.c;
    if (this.observed !== null) this.observed.processBatch(b, from, to);
    for (let i = from; i < n; i++, this.index++) {
      const t = time[i];
      if (t >= machine.nextDue) machine.runDue(t);
      machine.setTime(t, this.index);
      const k = kind[i];
      const cpu = cpuCol[i];
      if (cpu >= nCpu) continue;
      if (machine.irqWhenRun && k !== EventKind.observed_flush && k !== EventKind.observed_ipi) machine.serveBefore(cpu);
      machine.setExecCpu(cpu);
      switch (k) {
        case EventKind.switch: {
          const prev = tidCol[i];
          this.ensureCurrent(cpu, prev, mmCol[i]);
          const next = A[i];
          // A task that passed exit_mm has no mm any more even if it is scheduled again
          // to finish do_exit: it runs like a kernel thread (lazy TLB).
          const nextMm = next > 0 && next < this.tidState.length && this.tidState[next] === 2 ? 0 : B[i];
          this.noteTask(next, nextMm);
          if (nextMm > 0) this.mmEnsure(nextMm);
          this.switchTo(cpu, next, nextMm);
          break;
        }
        case EventKind.flush_request: {
          const tid = tidCol[i], mm = mmCol[i];
          this.ensureCurrent(cpu, tid, mm);
          this.flush(cpu, mm, A[i], B[i], C[i]);
          break;
        }
        case EventKind.access: {
          const tid = tidCol[i], mm = mmCol[i];
          this.ensureCurrent(cpu, tid, mm);
          const cur = machine.curTaskMm[cpu];
          if (cur > 0) { this.userRuns(cpu, cur); machine.access(cpu, cur, B[i]); }
          break;
        }
        case EventKind.mmap: case EventKind.munmap: case EventKind.madvise: case EventKind.mprotect: {
          this.ensureCurrent(cpu, tidCol[i], mmCol[i]);
          const cur = machine.curTaskMm[cpu];
          if (cur > 0) this.userRuns(cpu, cur);
          break;
        }
        case EventKind.fork: {
          const child = A[i], childMm = B[i];
          if (childMm > 0) this.mmEnsure(childMm, true);
          if (child > 0 && child < this.tidState.length) this.tidState[child] = 0; // pid reuse
          this.noteTask(child, childMm);
          break;
        }
        case EventKind.exec: this.onExec(cpu, tidCol[i], mmCol[i], A[i]); break;
        case EventKind.exit: this.onExit(cpu, tidCol[i], mmCol[i], A[i] === 1); break;
        case EventKind.exit_mmap: this.onExitMmap(cpu, tidCol[i], mmCol[i]); break;
        case EventKind.ptwalk: {
          this.ensureCurrent(cpu, tidCol[i], mmCol[i]);
          const begin = A[i] === 1;
          this.strategy.onPtWalk(cpu, begin ? this.mmEnsure(mmCol[i]) : 0, begin);
          break;
        }
        case EventKind.pt_sync:
          this.ensureCurrent(cpu, tidCol[i], mmCol[i]);
          this.strategy.onPageTableFreeSync(cpu, this.mmEnsure(mmCol[i]), C[i]);
          break;
        case EventKind.iteration: this.onIteration(tidCol[i], t); break;
        case EventKind.observed_flush: {
          const r = A[i], p = B[i];
          // What the kernel did is never replayed. Only the scheduling context of a flush
          // handled in interrupt context (reasons 1 and 5: `current` is the interrupted
          // task) is used, as for any event, because the recordings lack most switches out
          // of idle. Reason 0 is printed inside switch_mm, where current is still the
          // previous task, so it says nothing reliable.
          if (r === 1 || r === 5) this.ensureCurrent(cpu, tidCol[i], mmCol[i]);
          if (machine.rec !== null) machine.rec.observedFlush(cpu, t, r, p);
          break;
        }
        case EventKind.observed_ipi: {
          const ipiKind = C[i];
          // On a guest whose vCPUs wait for the host's cores, the recorded interrupt entry is
          // when this CPU took its cross-call interrupt: the model's pending CSDs there are
          // handled now. Timing only, as switches are: what each handler does is the
          // strategy's (irq_vectors entries are recorded by record --vm).
          if (ipiKind === IpiKind.received) { if (machine.irqWhenRun) machine.serveIrq(cpu); }
          else if (ipiKind === IpiKind.real && machine.rec !== null) machine.rec.observedIpi(cpu, A[i], t);
          break;
        }
        default: break; // migrate, lost: nothing to do
      }
    }
  }

  /** sched_process_exec: `tid` now runs the trace's mm `newMm` (it ran `oldMm`). */
  private onExec(cpu: number, tid: number, newMm: number, oldMm: number): void {
    const machine = this.machine;
    this.ensureCurrent(cpu, tid, oldMm);
    const slot = this.mmEnsure(newMm, true);
    if (tid >= this.tidState.length) this.growTid(tid);
    if (this.tidState[tid] === 1) {
      const old = this.slotOf(this.tidMm[tid]);
      if (old > 0) machine.mmUserDrop(old);
    }
    this.tidState[tid] = 1;
    this.tidMm[tid] = newMm;
    if (slot > 0) machine.mmUserAdd(slot);
    if (machine.curTid[cpu] === tid && slot > 0) {
      // exec_mmap(): activate_mm(active_mm, mm) = switch_mm; a task that had no mm drops
      // its lazy reference (mmdrop_lazy_tlb(active_mm)).
      const hadMm = machine.curTaskMm[cpu] !== 0;
      this.strategy.switchMm(cpu, slot);
      machine.setActiveMm(cpu, slot);
      machine.setTaskMm(cpu, slot);
      if (!hadMm) { const ref = machine.lazyRef[cpu]; machine.setLazyRef(cpu, -1); if (ref >= 0) machine.mmDrop(cpu, ref); }
      this.userRuns(cpu, slot);
      if (this.implicit) machine.access(cpu, slot, this.ws);
    }
    if (this.pendingTeardown[cpu] >= 0) this.finishPendingTeardown(cpu);
    // mmput(old_mm): without exit_mmap records, the old mm dies here if exec took its last user.
    const oldSlot = this.slotOf(oldMm);
    if (!this.hasExitMmap && oldSlot > 0 && oldSlot !== slot && machine.isLive(oldSlot) && machine.mmUsers[oldSlot] <= 0) this.teardown(cpu, oldSlot);
  }

  /** sched_process_exit of `tid` (the trace's mm `mm`); `groupDead`: the last thread. */
  private onExit(cpu: number, tid: number, mm: number, groupDead: boolean): void {
    const machine = this.machine;
    this.ensureCurrent(cpu, tid, mm);
    const own = machine.curTid[cpu] === tid ? machine.curTaskMm[cpu] : this.slotOf(this.taskMm(tid, mm));
    if (machine.curTid[cpu] === tid) this.exitMm(cpu);
    if (own > 0 && this.pendingTeardown[cpu] === own && this.traced) {
      // Its exit_mmap was printed before sched_process_exit (6.1 and 6.12 print the exit
      // after exit_mm()): the teardown ran here, on a CPU that exit_mm() left lazy. Its
      // flush prints no request when only this CPU was in mm_cpumask (flush_tlb_func's
      // lazy branch prints reason 0 only), as onExitMmap supplies for the 6.18 order; a
      // full flush recorded since the task's last user event was that teardown's.
      if (this.mmLastFullFlush[own] <= this.mmLastUser[own]) {
        machine.inc(MI.synthesized_requests, cpu);
        this.flush(cpu, machine.mmTraceId[own], -1, -1, FlushFlags.FREED_TABLES);
      }
    }
    if (this.pendingTeardown[cpu] >= 0) this.finishPendingTeardown(cpu);
    if (tid > 0 && tid < this.tidState.length && this.tidState[tid] === 1) {
      this.tidState[tid] = 2;
      if (own > 0) machine.mmUserDrop(own);
    }
    if (groupDead && own > 0 && machine.isLive(own)) {
      this.mmTdStart[own] = this.index;
      if (!this.hasExitMmap) this.teardown(cpu, own);
    }
  }

  /** exit_mmap of the trace's mm `mm`. */
  private onExitMmap(cpu: number, tid: number, mm: number): void {
    const machine = this.machine;
    const slot = this.slotOf(mm);
    if (slot <= 0 || !machine.isLive(slot)) return;
    this.ensureCurrent(cpu, tid, mm);
    // 6.18 prints sched_process_exit (group_dead) before exit_mm, and exit_mmap at the end
    // of the teardown. exit_mmap while the task still runs mm without a group exit is the
    // old mm of an exec (activate_mm already loaded the new one, which the trace names only
    // at sched_process_exec) or an older kernel's exit order: finish at that event.
    if (machine.curTid[cpu] === tid && machine.curTaskMm[cpu] === slot && this.mmTdStart[slot] < 0) {
      if (this.pendingTeardown[cpu] >= 0 && this.pendingTeardown[cpu] !== slot) this.finishPendingTeardown(cpu);
      this.pendingTeardown[cpu] = slot;
      return;
    }
    if (this.traced) {
      // The recorded kernel's teardown flush prints no request when only the (lazy)
      // exiting CPU was in mm_cpumask: F's lazy branch prints reason 0 only. Supply it.
      const since = this.mmTdStart[slot] >= 0 ? this.mmTdStart[slot] : this.mmLastUser[slot];
      if (this.mmLastFlush[slot] <= since) {
        machine.inc(MI.synthesized_requests, cpu);
        this.flush(cpu, mm, -1, -1, FlushFlags.FREED_TABLES);
      }
    }
    this.teardown(cpu, slot);
  }

  private onIteration(tid: number, t: number): void {
    if (this.iterTid < 0) this.iterTid = tid;
    if (tid !== this.iterTid) return;
    const o = this.taskDelay(tid);
    if (this.iterN === 0) { this.iterTime0 = t; this.iterDelay0 = o; }
    this.iterTime1 = t; this.iterDelay1 = o;
    this.iterN++;
  }

  /** Run the deferred work left at the end of the trace. */
  drain(): void {
    this.machine.runDue(Infinity);
    if (this.machine.irqWhenRun) this.machine.serveAll();
  }

  // ------------------------------------------------------------------ results

  result(): RunResult {
    this.drain();
    const machine = this.machine;
    machine.settle();
    const metrics = machine.metricRecord();
    const tasks = machine.taskOverheads(TASK_OVERHEADS_KEPT);
    metrics.iteration_ns = this.iterN >= 2 ? ((this.iterTime1 - this.iterTime0) + (this.iterDelay1 - this.iterDelay0)) / (this.iterN - 1) : 0;
    const perCpu: Record<string, number[]> = {};
    METRICS.forEach((d, i) => {
      const row = new Array<number>(machine.nCpu);
      for (let c = 0; c < machine.nCpu; c++) row[c] = machine.perCpu[i * machine.nCpu + c];
      perCpu[d.name] = row;
    });
    const lowerNs: number[] = [];
    for (let i = 0; i < LATENCY_BUCKETS; i++) lowerNs.push(i === 0 ? 0 : 2 ** (i - 1));
    const tl: Record<string, number[]> = {};
    TIMELINE_METRICS.forEach((name, i) => { tl[name] = Array.from(machine.timeline.subarray(i * TIMELINE_BUCKETS, (i + 1) * TIMELINE_BUCKETS)); });
    const first = [];
    for (let i = 0; i < Math.min(machine.violationCount, machine.vIndex.length); i++) {
      const k = machine.vKind[i];
      first.push({ eventIndex: machine.vIndex[i], kind: VIOLATION_KINDS[k], cpu: machine.vCpu[i], mm: machine.vMm[i], what: VIOLATION_TEXT[k] });
    }
    const tlbFlush: Record<string, FlushClassCounts> = {};
    for (let r = 0; r < 6; r++) {
      const full = machine.predFlush[r * 3], ranged = machine.predFlush[r * 3 + 1], none = machine.predFlush[r * 3 + 2];
      if (full + ranged + none > 0) tlbFlush[String(r)] = { full, ranged, none, pages: machine.predFlushPages[r] };
    }
    return {
      strategy: this.meta,
      profile: this.profileName,
      input: this.info.source,
      cpus: machine.nCpu,
      events: this.index,
      metrics,
      perCpu,
      latencyHistogram: { lowerNs, counts: Array.from(machine.latency) },
      ipiMatrix: machine.ipiMatrix.cells().map((x) => ({ from: x.from, to: x.to, count: x.value })),
      timeline: { startNs: machine.tlFirst, bucketNs: machine.tlBucketNs, metrics: tl },
      taskOverhead: tasks.kept,
      ...(tasks.others.tasks > 0 ? { taskOverheadOthers: tasks.others } : {}),
      violations: { count: machine.violationCount, first },
      predicted: { tlbFlush, ipiSends: machine.predIpiSends, ipiTargets: metrics.ipis_sent, csdQueued: metrics.csd_queued, flushIrqs: machine.predFlushIrqs },
      observed: this.observed !== null ? this.observed.result() : NOT_COUNTED,
      notes: machine.mutedFlushRecords > 0
        ? [...this.notes, `${metrics.resyncs} context switches missing from the trace were inferred from the next event (not lost events: the ring buffer reported none for them); ${machine.mutedFlushRecords} tlb_flush records inside them are not predicted`]
        : [...this.notes],
    };
  }
}

