// The task table of a range worker (parallel ingest, readers/ranges.ts). A worker reading
// the middle of a trace cannot know which address space a task runs in: that depends on
// every fork, exec and thread-group id before its range. So it answers the payload
// readers with tickets, and logs each question that could change the table's state (a
// task's first sight in the range, a thread-group link, fork, exec, exit). The main
// thread replays the log on the real TaskTable, in order, after the ranges before it:
// the table then evolves exactly as it would under one reader, and each ticket becomes
// the provisional mm that reader would have stored (TaskTable.replay).
//
// The log must leave out only questions that cannot change the table. A question is left
// out when the worker is sure the real table already holds the answer: a task it has
// registered (logged) itself is known to the real table, and a thread-group link it has
// logged twice is made (the first, on a task's first sight, may not link a kernel thread).
import type { TaskResolver } from '../tasks.ts';
import { EventKind, type EventBatch } from '../event.ts';

export const TaskOp = { sight: 0, link: 1, fork: 2, exec: 3, exit: 4 } as const;

/** The log as it crosses to the main thread: four integers per question (op, tid, arg,
 *  comm index or -1) and the names. */
export interface TaskLogData { ops: Int32Array; count: number; comms: string[] }

const SEEN = 1, LINKED = 2;

export class TaskLog implements TaskResolver {
  private flags = new Uint8Array(1024);
  private ticket = new Int32Array(1024);
  private ops = new Int32Array(4 * 1024);
  private count = 0;
  private readonly comms: string[] = [];
  /** Tickets are handed out in log order, by the questions that give a task a new mm
   *  (sight, fork's child, exec); 0 is NO_MM, the mm of events no task owns (lost). */
  private nextTicket = 1;

  private grow(tid: number): void {
    let n = this.flags.length;
    while (n <= tid) n *= 2;
    const f = new Uint8Array(n); f.set(this.flags); this.flags = f;
    const t = new Int32Array(n); t.set(this.ticket); this.ticket = t;
  }

  private log(op: number, tid: number, arg: number, comm: string | undefined): void {
    if (this.count * 4 === this.ops.length) { const g = new Int32Array(this.ops.length * 2); g.set(this.ops); this.ops = g; }
    const o = this.count++ * 4;
    this.ops[o] = op; this.ops[o + 1] = tid; this.ops[o + 2] = arg;
    this.ops[o + 3] = comm === undefined ? -1 : this.comms.push(comm) - 1;
  }

  private sight(tid: number, tgid: number, comm: string | undefined): void {
    if (tid >= this.flags.length) this.grow(tid);
    this.flags[tid] = SEEN;
    this.ticket[tid] = this.nextTicket++;
    this.log(TaskOp.sight, tid, tgid, comm);
  }

  /** Forget everything (what the look-behind lines before a worker's range registered). */
  clear(): void {
    this.flags.fill(0);
    this.count = 0;
    this.comms.length = 0;
    this.nextTicket = 1;
  }

  isNew(tid: number): boolean {
    return tid >= this.flags.length || (this.flags[tid] & SEEN) === 0;
  }

  mmOfTask(tid: number, tgid: number, comm?: string): number {
    if (this.isNew(tid)) { this.sight(tid, tgid, comm); return this.ticket[tid]; }
    if (tgid >= 0 && (this.flags[tid] & LINKED) === 0) {
      this.flags[tid] |= LINKED;
      this.log(TaskOp.link, tid, tgid, undefined);
    }
    return this.ticket[tid];
  }

  fork(parentTid: number, childTid: number, childComm: string): number {
    // TaskTable.fork asks for the parent's mm first (registering an unseen parent).
    if (this.isNew(parentTid)) this.sight(parentTid, -1, undefined);
    if (childTid >= this.flags.length) this.grow(childTid);
    this.log(TaskOp.fork, parentTid, childTid, childComm);
    this.flags[childTid] = SEEN; // a new task: its thread group is linked again
    this.ticket[childTid] = this.nextTicket++;
    return this.ticket[childTid];
  }

  exec(tid: number, comm: string | undefined): number {
    if (this.isNew(tid)) this.sight(tid, -1, comm);
    this.log(TaskOp.exec, tid, 0, comm);
    this.ticket[tid] = this.nextTicket++;
    return this.ticket[tid];
  }

  exit(tid: number, groupDead: number): void {
    if (this.isNew(tid)) this.sight(tid, -1, undefined);
    this.log(TaskOp.exit, tid, groupDead, undefined);
  }

  data(): TaskLogData {
    return { ops: this.ops.slice(0, this.count * 4), count: this.count, comms: this.comms };
  }
}

/** Turn the tickets in a range worker's events into provisional mms (`mmOf`, from
 *  TaskTable.replay). The fields the payload readers fill from the task table: every
 *  event's mm, and the next task's of a switch (b), the child's of a fork (b), the old
 *  one of an exec (a). */
export function redeemTickets(batch: EventBatch, mmOf: Int32Array): void {
  const kind = batch.kind, mm = batch.mm, a = batch.a, b = batch.b;
  for (let i = 0; i < batch.length; i++) {
    mm[i] = mmOf[mm[i]];
    const k = kind[i];
    if (k === EventKind.switch || k === EventKind.fork) b[i] = mmOf[b[i]];
    else if (k === EventKind.exec) a[i] = mmOf[a[i]];
  }
}
