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

/** No task (afterSwitchPrev). */
const NO_TID = -(2 ** 31);
/** No record (an empty slot of a per-task column). */
const NONE = -1;
/** lastReq reason of a reason 4 whose local reason 3 followed (the pair is complete). */
const PAIRED = -1;

/** Per-task state of the prescan in typed columns, by a dense slot per tid: a Map entry
 *  (and an object) per record made this pass the slowest after parsing. */
class TaskSlots {
  private of = new Int32Array(1024);
  private readonly other = new Map<number, number>();
  private n = 0;
  // the record that made the task's last request, while it printed nothing else since
  reqIndex = new Float64Array(64).fill(NONE);
  reqReason = new Int32Array(64);
  reqFull = new Uint8Array(64);
  // a fork whose parent has not printed since
  forkIndex = new Float64Array(64).fill(NONE);
  forkChild = new Int32Array(64);
  forkChildMm = new Int32Array(64);
  forkParentMm = new Int32Array(64);
  // last out-of-switch reason-0 record, last exit_mmap
  actIndex = new Float64Array(64).fill(NONE);
  actTime = new Float64Array(64);
  exitIndex = new Float64Array(64).fill(NONE);
  exitTime = new Float64Array(64);
  exitMm = new Int32Array(64);

  slot(tid: number): number {
    let s: number;
    if (tid >= 0 && tid < 1 << 23) {
      if (tid >= this.of.length) {
        let m = this.of.length;
        while (m <= tid) m *= 2;
        const o = new Int32Array(m); o.set(this.of); this.of = o;
      }
      s = this.of[tid] - 1;
      if (s >= 0) return s;
      s = this.n++;
      this.of[tid] = s + 1;
    } else {
      const known = this.other.get(tid);
      if (known !== undefined) return known;
      s = this.n++;
      this.other.set(tid, s);
    }
    if (s >= this.reqIndex.length) this.grow();
    return s;
  }

  private grow(): void {
    const m = this.reqIndex.length * 2;
    const f64 = (a: Float64Array, fill: number) => { const b = new Float64Array(m).fill(fill); b.set(a); return b; };
    const i32 = (a: Int32Array) => { const b = new Int32Array(m); b.set(a); return b; };
    const u8 = (a: Uint8Array) => { const b = new Uint8Array(m); b.set(a); return b; };
    this.reqIndex = f64(this.reqIndex, NONE); this.reqReason = i32(this.reqReason); this.reqFull = u8(this.reqFull);
    this.forkIndex = f64(this.forkIndex, NONE); this.forkChild = i32(this.forkChild);
    this.forkChildMm = i32(this.forkChildMm); this.forkParentMm = i32(this.forkParentMm);
    this.actIndex = f64(this.actIndex, NONE); this.actTime = f64(this.actTime, 0);
    this.exitIndex = f64(this.exitIndex, NONE); this.exitTime = f64(this.exitTime, 0); this.exitMm = i32(this.exitMm);
  }
}

/** One pass over the raw events (before the canonical pass, so that what it finds does
 *  not depend on how the stream is cut into batches). */
export function prescan(raw: Iterable<EventBatch>): Prescan {
  const p = new Prescanner();
  for (const b of raw) p.add(b);
  return p.result();
}

/** The prescan fed one batch at a time, in order (as the reader stores them, so that the
 *  events need not be read back for it). */
export class Prescanner {
  private readonly moves = new Map<number, ExecMove>();
  private readonly forkFlushes = new Set<number>();
  // vfork: a parent whose first switch-out after the fork leaves it in D
  // (wait_for_vfork_done() is a killable, i.e. uninterruptible, wait) and switches to
  // the child. A fork()ing parent that waits for its child sleeps in S (wait4).
  private readonly vforks = new Map<number, VforkChild>();
  private readonly vforkOf = new Map<number, VforkChild>(); // child tid -> until its exec/exit
  private readonly t = new TaskSlots();
  // per CPU: the previous event was a sched_switch whose prev task is this tid (NO_TID: no)
  private readonly afterSwitchPrev = new Int32Array(1 << 16).fill(NO_TID);
  private index = 0;

  result(): Prescan {
    return { execMoves: this.moves, forkFlushes: this.forkFlushes, vforks: this.vforks };
  }

  add(b: EventBatch): void {
    const t = this.t, afterSwitchPrev = this.afterSwitchPrev;
    const bKind = b.kind, bCpu = b.cpu, bTid = b.tid, bTime = b.time, bA = b.a, bB = b.b, bC = b.c, bMm = b.mm;
    let index = this.index;
    for (let i = 0; i < b.length; i++, index++) {
      const kind = bKind[i], cpu = bCpu[i], tid = bTid[i];
      if (kind === EventKind.observed_ipi) continue; // none of the state below looks at IPIs
      const s = t.slot(tid);
      if (kind === EventKind.observed_flush) {
        if (tid > 0) {
          const r = bA[i], full = bB[i] === -1;
          const had = t.reqIndex[s] !== NONE;
          if (r === TlbFlushReason.remoteSendIpi || (r === TlbFlushReason.localMmShootdown && !(had && t.reqReason[s] === TlbFlushReason.remoteSendIpi))) {
            t.reqIndex[s] = index; t.reqReason[s] = r; t.reqFull[s] = full ? 1 : 0;
          } else if (r === TlbFlushReason.localMmShootdown && had) t.reqReason[s] = PAIRED;
          if (r === TlbFlushReason.taskSwitch && afterSwitchPrev[cpu] !== tid) {
            t.actIndex[s] = index; t.actTime[s] = bTime[i];
          }
        }
        afterSwitchPrev[cpu] = NO_TID;
        continue;
      }
      if (tid > 0) {
        if (kind === EventKind.fork && t.reqIndex[s] !== NONE && t.reqFull[s] === 1) this.forkFlushes.add(t.reqIndex[s]);
        t.reqIndex[s] = NONE;
        if (t.forkIndex[s] !== NONE) {
          if (kind === EventKind.switch && bC[i] === PrevState.uninterruptible && bA[i] === t.forkChild[s]) {
            const v = { child: t.forkChild[s], childMm: t.forkChildMm[s], parentMm: t.forkParentMm[s] };
            this.vforks.set(t.forkIndex[s], v);
            this.vforkOf.set(v.child, v);
          }
          t.forkIndex[s] = NONE;
        }
        if (kind === EventKind.fork && bB[i] !== bMm[i] && bMm[i] > 0) {
          t.forkIndex[s] = index; t.forkChild[s] = bA[i]; t.forkChildMm[s] = bB[i]; t.forkParentMm[s] = bMm[i];
        }
      }
      switch (kind) {
        case EventKind.exit_mmap:
          if (tid > 0) { t.exitIndex[s] = index; t.exitTime[s] = bTime[i]; t.exitMm[s] = bMm[i]; }
          break;
        case EventKind.exec:
          this.exec(s, tid, index, bTime[i], bA[i], bMm[i]);
          break;
        case EventKind.fork: {
          const c = t.slot(bA[i]);
          t.actIndex[c] = NONE; t.exitIndex[c] = NONE;
          break;
        }
        case EventKind.exit:
          t.actIndex[s] = NONE; t.exitIndex[s] = NONE;
          if (this.vforkOf.size > 0) this.vforkOf.delete(tid);
          break;
      }
      afterSwitchPrev[cpu] = kind === EventKind.switch ? tid : NO_TID;
    }
    this.index = index;
  }

  private exec(s: number, tid: number, index: number, time: number, printedOldMm: number, newMm: number): void {
    const t = this.t;
    const v = this.vforkOf.size > 0 ? this.vforkOf.get(tid) : undefined;
    const oldMm = v !== undefined && printedOldMm === v.childMm ? v.parentMm : printedOldMm;
    this.vforkOf.delete(tid);
    const ai = t.actIndex[s], xi = t.exitIndex[s];
    const ex = xi !== NONE && t.exitMm[s] === oldMm && time - t.exitTime[s] <= MAX_WINDOW_NS;
    let at = -1;
    if (ai !== NONE && time - t.actTime[s] <= MAX_WINDOW_NS && (!ex || ai < xi)) at = ai;
    else if (ex) at = xi;
    if (at >= 0) this.moves.set(at, { at, exec: index, tid, newMm, oldMm, oldTornDown: ex && xi > at });
    t.actIndex[s] = NONE; t.exitIndex[s] = NONE;
  }
}
