// Task lifetimes: sched_migrate_task, sched_process_fork, sched_process_exec,
// sched_process_exit. Rare next to the switches and flushes, so only their string form
// exists; the byte path hands these lines over as strings of their own.
import { EventKind } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { lastIndexIn, readUint } from '../scan.ts';
import { PID_LIMIT } from '../../tasks.ts';
import { MAX_CPUS } from '../cpus.ts';
import { comm, type EventSink } from '../sink.ts';

// comm=record.sh pid=19054 prio=120 orig_cpu=1 dest_cpu=0
export function migrate(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  sink.currentMm(s, r);
  const o = lastIndexIn(s, ' orig_cpu=', ps, pe);
  const d = lastIndexIn(s, ' dest_cpu=', ps, pe);
  const p = lastIndexIn(s, ' pid=', ps, o < 0 ? pe : o);
  if (o < 0 || d < 0 || p < 0) return 'sched_migrate_task without pid/orig_cpu/dest_cpu';
  const pid = readUint(s, p + 5, pe), orig = readUint(s, o + 10, pe), dest = readUint(s, d + 10, pe);
  if (Number.isNaN(pid) || Number.isNaN(orig) || Number.isNaN(dest)) return 'sched_migrate_task field is not a number';
  if (pid >= PID_LIMIT || orig >= MAX_CPUS || dest >= MAX_CPUS) return 'sched_migrate_task field out of range';
  const t = sink.tasks;
  const cs = s.startsWith('comm=', ps) ? ps + 5 : ps;
  const mm = t.isNew(pid) ? t.mmOfTask(pid, -1, s.slice(cs, p)) : t.mmOfTask(pid, -1);
  sink.emit(EventKind.migrate, r, pid, mm, orig, dest, 0);
  return null;
}

// comm=record.sh pid=19052 child_comm=record.sh child_pid=19054
export function fork(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  sink.currentMm(s, r);
  const cp = lastIndexIn(s, ' child_pid=', ps, pe);
  if (cp < 0) return 'sched_process_fork without child_pid';
  const cc = lastIndexIn(s, ' child_comm=', ps, cp);
  if (cc < 0) return 'sched_process_fork without child_comm';
  const pp = lastIndexIn(s, ' pid=', ps, cc);
  if (pp < 0) return 'sched_process_fork without pid';
  const parent = readUint(s, pp + 5, cc), child = readUint(s, cp + 11, pe);
  if (Number.isNaN(parent) || Number.isNaN(child)) return 'sched_process_fork pid is not a number';
  if (parent >= PID_LIMIT || child >= PID_LIMIT) return 'sched_process_fork pid beyond the kernel PID limit';
  const t = sink.tasks;
  const parentMm = parent === r.pid ? t.mmOfTask(parent, r.tgid) : t.mmOfTask(parent, -1, s.slice(s.startsWith('comm=', ps) ? ps + 5 : ps, pp));
  const childMm = t.fork(parent, child, s.slice(cc + 12, cp));
  // Thread or process is settled only when the trace is complete: c is set by the reader.
  sink.emit(EventKind.fork, r, parent, parentMm, child, childMm, -1);
  return null;
}

// filename=./forkchurn.sh pid=19054 old_pid=19054
export function exec(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const oldMm = sink.currentMm(s, r);
  const op = lastIndexIn(s, ' old_pid=', ps, pe);
  const pp = lastIndexIn(s, ' pid=', ps, op < 0 ? pe : op);
  if (pp < 0) return 'sched_process_exec without pid';
  const pid = readUint(s, pp + 5, pe);
  if (Number.isNaN(pid) || pid >= PID_LIMIT) return 'sched_process_exec pid is not valid';
  // The comm after exec is the basename of the file, which the header line shows next time;
  // use the header comm when the exec'ing task is the current one.
  const newMm = sink.tasks.exec(pid, pid === r.pid ? comm(s, r.commStart, r.commEnd) : undefined);
  sink.emit(EventKind.exec, r, pid, newMm, oldMm, 0, 0);
  return null;
}

// comm=dirname pid=19056 prio=120 group_dead=true
export function exit(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const mm0 = sink.currentMm(s, r);
  const gd = lastIndexIn(s, ' group_dead=', ps, pe);
  const pp = lastIndexIn(s, ' pid=', ps, gd < 0 ? pe : gd);
  if (pp < 0) return 'sched_process_exit without pid';
  const pid = readUint(s, pp + 5, pe);
  if (Number.isNaN(pid) || pid >= PID_LIMIT) return 'sched_process_exit pid is not valid';
  let groupDead = -1;
  if (gd >= 0) {
    if (s.startsWith('true', gd + 12) || s.charCodeAt(gd + 12) === 49) groupDead = 1;
    else if (s.startsWith('false', gd + 12) || s.charCodeAt(gd + 12) === 48) groupDead = 0;
    else return 'sched_process_exit group_dead is neither true nor false';
  }
  const mm = pid === r.pid ? mm0 : sink.tasks.mmOfTask(pid, -1);
  sink.emit(EventKind.exit, r, pid, mm, groupDead, 0, 0);
  sink.tasks.exit(pid, groupDead);
  return null;
}

