// Task lifetimes: sched_migrate_task, sched_process_fork, sched_process_exec,
// sched_process_exit. Few next to the switches and flushes, but each read as a string of
// its own line cost four times a flush, and fork-heavy traces have many: so each has a
// byte form too, which makes the string form's searches on the bytes and hands the line
// over (untouched) wherever the string form would report it or its reading is unsure.
import { EventKind } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { lastIndexIn, literalTest, readUint, type LiteralTest } from '../scan.ts';
import { PID_LIMIT } from '../../tasks.ts';
import { MAX_CPUS } from '../cpus.ts';
import { comm, type EventSink } from '../sink.ts';
import { C_SPACE, C_TAB } from '../fields.ts';

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


const isOrigCpu = literalTest(' orig_cpu='), isDestCpu = literalTest(' dest_cpu='), isPid = literalTest(' pid='),
  isChildPid = literalTest(' child_pid='), isChildComm = literalTest(' child_comm='), isOldPid = literalTest(' old_pid='),
  isGroupDead = literalTest(' group_dead='), isComm = literalTest('comm='), isTrue = literalTest('true'), isFalse = literalTest('false');

/** lastIndexIn on bytes, for a needle of `len` bytes that is a space, the byte `second`,
 *  and what `test` checks: its last start in [from, end - len], or -1. */
function lastIndexInBytes(b: Buffer, test: LiteralTest, second: number, len: number, from: number, end: number): number {
  for (let k = end - len; k >= from; k--) {
    if (b[k] === C_SPACE && b[k + 1] === second && test(b, k, end)) return k;
  }
  return -1;
}

/** readUint on bytes: the decimal at b[i, end), NaN when there is no digit. */
function readUintBytes(b: Buffer, i: number, end: number): number {
  let v = 0, n = 0;
  for (; i < end; i++, n++) {
    const c = b[i];
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return n === 0 ? NaN : v;
}

/** The header's comm without its padding, as comm() reads it from the string. */
function headerComm(b: Buffer, r: LineRecord): string {
  let i = r.commStart;
  while (i < r.commEnd && (b[i] === C_SPACE || b[i] === C_TAB)) i++;
  return b.toString('latin1', i, r.commEnd);
}

/** Where the task name before ` pid=` starts: after `comm=`, as the string forms take it. */
function commFieldStart(b: Buffer, ps: number, pe: number): number {
  return isComm(b, ps, pe) ? ps + 5 : ps;
}

/** migrate on the bytes of an ASCII chunk: the same anchors, found the same way, and
 *  the same task-table calls in the same order. A line migrate would report returns
 *  false having done nothing, and migrate reads it. */
export function migrateBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const o = lastIndexInBytes(b, isOrigCpu, 111 /* o */, 10, ps, pe);
  const d = lastIndexInBytes(b, isDestCpu, 100 /* d */, 10, ps, pe);
  if (o < 0 || d < 0) return false;
  const p = lastIndexInBytes(b, isPid, 112 /* p */, 5, ps, o);
  if (p < 0) return false;
  const pid = readUintBytes(b, p + 5, pe), orig = readUintBytes(b, o + 10, pe), dest = readUintBytes(b, d + 10, pe);
  // NaN fails these comparisons, so a field that is not a number hands the line over too.
  if (!(pid < PID_LIMIT && orig < MAX_CPUS && dest < MAX_CPUS)) return false;
  sink.currentMmBytes(b, r);
  const t = sink.tasks;
  const mm = t.isNew(pid) ? t.mmOfTask(pid, -1, b.toString('latin1', commFieldStart(b, ps, pe), p)) : t.mmOfTask(pid, -1);
  sink.emit(EventKind.migrate, r, pid, mm, orig, dest, 0);
  return true;
}

/** fork on the bytes of an ASCII chunk (see migrateBytes). */
export function forkBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const cp = lastIndexInBytes(b, isChildPid, 99 /* c */, 11, ps, pe);
  if (cp < 0) return false;
  const cc = lastIndexInBytes(b, isChildComm, 99 /* c */, 12, ps, cp);
  if (cc < 0) return false;
  const pp = lastIndexInBytes(b, isPid, 112 /* p */, 5, ps, cc);
  if (pp < 0) return false;
  const parent = readUintBytes(b, pp + 5, cc), child = readUintBytes(b, cp + 11, pe);
  if (!(parent < PID_LIMIT && child < PID_LIMIT)) return false;
  sink.currentMmBytes(b, r);
  const t = sink.tasks;
  // The parent's name matters only on its first sight (mmOfTask ignores it otherwise).
  const parentMm = parent === r.pid ? t.mmOfTask(parent, r.tgid)
    : t.isNew(parent) ? t.mmOfTask(parent, -1, b.toString('latin1', commFieldStart(b, ps, pe), pp)) : t.mmOfTask(parent, -1);
  const childMm = t.fork(parent, child, b.toString('latin1', cc + 12, cp));
  sink.emit(EventKind.fork, r, parent, parentMm, child, childMm, -1);
  return true;
}

/** exec on the bytes of an ASCII chunk (see migrateBytes). */
export function execBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const op = lastIndexInBytes(b, isOldPid, 111 /* o */, 9, ps, pe);
  const pp = lastIndexInBytes(b, isPid, 112 /* p */, 5, ps, op < 0 ? pe : op);
  if (pp < 0) return false;
  const pid = readUintBytes(b, pp + 5, pe);
  if (!(pid < PID_LIMIT)) return false;
  const oldMm = sink.currentMmBytes(b, r);
  const newMm = sink.tasks.exec(pid, pid === r.pid ? headerComm(b, r) : undefined);
  sink.emit(EventKind.exec, r, pid, newMm, oldMm, 0, 0);
  return true;
}

/** exit on the bytes of an ASCII chunk (see migrateBytes). group_dead is taken only when
 *  its value lies wholly inside the payload: exit's string tests may look past the
 *  payload's end, so a value cut there is left to it. */
export function exitBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const gd = lastIndexInBytes(b, isGroupDead, 103 /* g */, 12, ps, pe);
  const pp = lastIndexInBytes(b, isPid, 112 /* p */, 5, ps, gd < 0 ? pe : gd);
  if (pp < 0) return false;
  const pid = readUintBytes(b, pp + 5, pe);
  if (!(pid < PID_LIMIT)) return false;
  let groupDead = -1;
  if (gd >= 0) {
    const v = gd + 12;
    if (v >= pe) return false;
    const c = b[v];
    if (c === 49 /* 1 */ || (c === 116 /* t */ && isTrue(b, v, pe))) groupDead = 1;
    else if (c === 48 /* 0 */ || (c === 102 /* f */ && isFalse(b, v, pe))) groupDead = 0;
    else return false;
  }
  const mm0 = sink.currentMmBytes(b, r);
  const mm = pid === r.pid ? mm0 : sink.tasks.mmOfTask(pid, -1);
  sink.emit(EventKind.exit, r, pid, mm, groupDead, 0, 0);
  sink.tasks.exit(pid, groupDead);
  return true;
}
