// What a replay's state is sized by (replay() estimates its memory from it:
// estimateStateBytes): the highest tid, which indexes the per-task arrays, and the most
// address spaces alive at once, not every mm the trace names, because the simulator gives a
// freed mm's slot to a later mm (Machine.allocMm).
//
// An mm is counted alive from the first event that names it until its exit_mmap. After
// that, the records of the task that ran it (its last switch out and exit, the tlb_flush
// and IPI records of the teardown, exec's old mm) still name it: those do not make it
// alive again. A use does (a task switched in with it, a child forked with it or from it,
// a system call or page access in it): a number used again, which the simulator makes
// anew. Without exit_mmap records nothing ends, and the peak is every mm the trace names.
import { EventKind, type EventBatch, type TraceInfo } from './event.ts';
import { PID_LIMIT } from './tasks.ts';

/** mm numbers above this are not tracked: the peak is then unknown (every mm is assumed). */
const MAX_TRACKED_MM = 1 << 24;

/** Event kinds whose mm column only a task running that mm records (its system calls, page
 *  accesses, a fork from it, the mm an exec made): a use. The other records may be the last
 *  of a task whose mm has gone. */
const USES_MM = new Uint8Array(32);
for (const k of [EventKind.fork, EventKind.exec, EventKind.mmap, EventKind.munmap, EventKind.madvise, EventKind.mprotect, EventKind.access]) USES_MM[k] = 1;

export class StateCensus {
  /** Per mm number: 0 never named, 1 alive, 2 ended (exit_mmap seen). */
  private state = new Uint8Array(1024);
  private alive = 0;
  private most = 0;
  private untracked = false;
  /** The highest tid an event names (as its task, a switch's next or a fork's child). */
  maxTid = 0;

  add(batch: EventBatch): void {
    const kind = batch.kind, mm = batch.mm, tid = batch.tid, a = batch.a, b = batch.b, n = batch.length;
    let maxTid = this.maxTid;
    for (let i = 0; i < n; i++) {
      const k = kind[i];
      if (tid[i] > maxTid) maxTid = tid[i];
      if ((k === EventKind.switch || k === EventKind.fork) && a[i] > maxTid) maxTid = a[i];
      if (k === EventKind.exit_mmap) { this.end(mm[i]); continue; }
      if (USES_MM[k] === 1) this.name(mm[i]); else this.nameOld(mm[i]);
      if (k === EventKind.switch || k === EventKind.fork) this.name(b[i]);
      // exec names the mm it leaves, whose exit_mmap 6.18 prints before sched_process_exec.
      else if (k === EventKind.exec) this.nameOld(a[i]);
    }
    this.maxTid = maxTid;
  }

  /** The most mms alive at once, or undefined when the trace names mm numbers too large
   *  (or not whole) to follow. */
  get peak(): number | undefined {
    return this.untracked ? undefined : this.most;
  }

  /** Set info.peakMms and info.maxTid (info.mms already filled in). */
  into(info: TraceInfo): void {
    const peak = this.peak;
    if (peak !== undefined) info.peakMms = Math.min(peak, info.mms.length); else delete info.peakMms;
    if (this.maxTid >= 0 && this.maxTid <= PID_LIMIT && Number.isInteger(this.maxTid)) info.maxTid = this.maxTid; else delete info.maxTid;
  }

  private name(m: number): void {
    if (m <= 0) return;
    if (m >= this.state.length || (m | 0) !== m) {
      if (!(m < MAX_TRACKED_MM) || (m | 0) !== m) { this.untracked = true; return; }
      let cap = this.state.length;
      while (cap <= m) cap *= 2;
      const grown = new Uint8Array(cap); grown.set(this.state); this.state = grown;
    }
    if (this.state[m] !== 1) {
      this.state[m] = 1;
      if (++this.alive > this.most) this.most = this.alive;
    }
  }

  /** An mm named by a record of a task that ran it: alive if never seen before, not
   *  again if it ended. */
  private nameOld(m: number): void {
    if (m > 0 && m < this.state.length && this.state[m] === 2) return;
    this.name(m);
  }

  private end(m: number): void {
    if (m > 0 && m < this.state.length && this.state[m] === 1) { this.state[m] = 2; this.alive--; }
  }
}
