// Where an exec really switches address spaces.
//
// The kernel prints sched_process_exec at the end of exec_binprm(), well after
// exec_mmap() loaded the new mm (activate_mm -> switch_mm_irqs_off, which prints
// tlb_flush reason 0) and mmput() tore the old one down (its flush, then
// mmap:exit_mmap). Setting up the new stack (shift_arg_pages) flushes the new mm in
// between, and the task may even sleep and migrate before the exec is printed. Taking the
// exec at its printed place makes every one of those records look like a flush of the
// old mm on a CPU that still runs it: IPIs to CPUs that ran the old mm, local flushes
// where the kernel printed "wrong CPU", and the like.
//
// So the canonical stream moves each exec back to the moment its task loaded the new mm:
// the last tlb_flush reason 0 record printed by the exec'ing task outside a context
// switch (a switch prints its reason 0 right after the sched_switch line, on behalf of
// the previous task). Only the place of the exec is taken from that record, never its
// pages. Without such a record (the trace did not record tlb_flush at that moment), the
// exec moves to just after the exit_mmap of its old mm when that was printed, else it
// stays where it is.
import { EventKind, PrevState, TlbFlushReason, type EventBatch } from './event.ts';

/** Exec windows hold at most this long (a task that sleeps inside exec is rare). */
const MAX_WINDOW_NS = 1_000_000_000;

export interface ExecMove {
  /** Raw index of the event after which the exec is inserted. */
  at: number;
  /** Raw index of the printed sched_process_exec (dropped from the stream). */
  exec: number;
  tid: number;
  /** Provisional mm ids of the exec event (new, old). */
  newMm: number;
  oldMm: number;
  /** The old mm's exit_mmap is printed inside the window (it had no other user). */
  oldTornDown: boolean;
}

export interface Prescan {
  /** Exec moves, keyed by the raw index to insert the exec after. */
  execMoves: Map<number, ExecMove>;
  /** Raw indices of the tlb_flush records that start dup_mmap()'s flush_tlb_mm(oldmm):
   *  the parent's last full flush before its sched_process_fork. flush_tlb_mm() passes
   *  freed_tables = true, so it reaches lazy CPUs too. */
  forkFlushes: Set<number>;
  /** vfork() children (CLONE_VM): until their exec or exit they run their parent's mm,
   *  not the copy the task resolver gave them. Keyed by the raw index of the fork. */
  vforks: Map<number, VforkChild>;
}

export interface VforkChild {
  child: number;
  /** Provisional mm ids: the one the resolver gave the child, and the parent's. */
  childMm: number;
  parentMm: number;
}

/** One pass over the raw events (before the canonical pass, so that what it finds does
 *  not depend on how the stream is cut into batches). */
export function prescan(raw: Iterable<EventBatch>): Prescan {
  const moves = new Map<number, ExecMove>();
  const forkFlushes = new Set<number>();
  // vfork: a parent whose first switch-out after the fork leaves it in D
  // (wait_for_vfork_done() is a killable, i.e. uninterruptible, wait) and switches to
  // the child. A fork()ing parent that waits for its child sleeps in S (wait4).
  const vforks = new Map<number, VforkChild>();
  const forked = new Map<number, { index: number; child: number; childMm: number; parentMm: number }>();
  const vforkOf = new Map<number, VforkChild>(); // child tid -> until its exec/exit
  // per tid: the record that made its last request (reason 4, or a lone 3), while the
  // task printed nothing else since
  const lastReq = new Map<number, { index: number; reason: number; full: boolean }>();
  // per CPU: the previous event was a sched_switch whose prev task is this tid (-1: no)
  const afterSwitchPrev = new Map<number, number>();
  // per tid: last out-of-switch reason-0 record (raw index, time), last exit_mmap
  // (raw index, time, provisional mm), and the raw index from which they count (fork/exec)
  const act = new Map<number, { index: number; time: number }>();
  const exitMmap = new Map<number, { index: number; time: number; mm: number }>();
  let index = 0;
  for (const b of raw) {
    for (let i = 0; i < b.length; i++, index++) {
      const kind = b.kind[i], cpu = b.cpu[i], tid = b.tid[i], time = b.time[i];
      if (kind === EventKind.observed_flush && tid > 0) {
        const r = b.a[i], full = b.b[i] === -1;
        const prev = lastReq.get(tid);
        if (r === TlbFlushReason.remoteSendIpi) lastReq.set(tid, { index, reason: r, full });
        else if (r === TlbFlushReason.localMmShootdown && !(prev !== undefined && prev.reason === TlbFlushReason.remoteSendIpi)) {
          lastReq.set(tid, { index, reason: r, full });
        } else if (r === TlbFlushReason.localMmShootdown && prev !== undefined) prev.reason = -1; // paired
      } else if (kind !== EventKind.observed_ipi && tid > 0) {
        const q = lastReq.get(tid);
        if (kind === EventKind.fork && q !== undefined && q.full) forkFlushes.add(q.index);
        lastReq.delete(tid);
        const f = forked.get(tid);
        if (f !== undefined) {
          forked.delete(tid);
          if (kind === EventKind.switch && b.c[i] === PrevState.uninterruptible && b.a[i] === f.child) {
            const v = { child: f.child, childMm: f.childMm, parentMm: f.parentMm };
            vforks.set(f.index, v);
            vforkOf.set(f.child, v);
          }
        }
        if (kind === EventKind.fork && b.b[i] !== b.mm[i] && b.mm[i] > 0) {
          forked.set(tid, { index, child: b.a[i], childMm: b.b[i], parentMm: b.mm[i] });
        }
      }
      switch (kind) {
        case EventKind.observed_flush:
          if (b.a[i] === TlbFlushReason.taskSwitch && tid > 0 && afterSwitchPrev.get(cpu) !== tid) {
            act.set(tid, { index, time });
          }
          break;
        case EventKind.exit_mmap:
          if (tid > 0) exitMmap.set(tid, { index, time, mm: b.mm[i] });
          break;
        case EventKind.exec: {
          const v = vforkOf.get(tid);
          const oldMm = v !== undefined && b.a[i] === v.childMm ? v.parentMm : b.a[i];
          vforkOf.delete(tid);
          const a = act.get(tid), x = exitMmap.get(tid);
          const ex = x !== undefined && x.mm === oldMm && time - x.time <= MAX_WINDOW_NS ? x : undefined;
          let at = -1;
          if (a !== undefined && time - a.time <= MAX_WINDOW_NS && (ex === undefined || a.index < ex.index)) at = a.index;
          else if (ex !== undefined) at = ex.index;
          if (at >= 0) {
            moves.set(at, { at, exec: index, tid, newMm: b.mm[i], oldMm, oldTornDown: ex !== undefined && ex.index > at });
          }
          act.delete(tid); exitMmap.delete(tid);
          break;
        }
        case EventKind.fork:
          act.delete(b.a[i]); exitMmap.delete(b.a[i]);
          break;
        case EventKind.exit:
          act.delete(tid); exitMmap.delete(tid); vforkOf.delete(tid);
          break;
      }
      if (kind === EventKind.switch) afterSwitchPrev.set(cpu, tid);
      else if (kind !== EventKind.observed_ipi) afterSwitchPrev.delete(cpu);
    }
  }
  return { execMoves: moves, forkFlushes, vforks };
}
