// sched:sched_switch, which task a CPU runs and the state the previous one left in. The
// string form reads every layout the tools print; the byte form takes the raw layout when
// each anchor is where the string form's search would find it first, else hands over.
import { EventKind, PrevState } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { cursor, indexIn, lastIndexIn, literalTest, readInt, readUint, skipSpaces } from '../scan.ts';
import { PID_LIMIT } from '../../tasks.ts';
import { C_DASH, C_SPACE } from '../fields.ts';
import type { EventSink } from '../sink.ts';

const isPrevComm = literalTest('prev_comm='), isPrevPid = literalTest(' prev_pid='), isPrevPrio = literalTest(' prev_prio='),
  isPrevState = literalTest(' prev_state='), isArrowNext = literalTest(' ==> next_comm='), isNextPid = literalTest(' next_pid=');

// raw:       prev_comm=a b prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=c next_pid=2 next_prio=120
// trace-cmd: a b:1 [120] S ==> c:2 [120]
// Comms may contain anything, so fields are found from the right-hand anchors.
export function schedSwitch(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const prevMm = sink.currentMm(s, r);
  let prevPid: number, nextPid: number, state: number;
  let nextCommStart: number, nextCommEnd: number;
  let prevCommStart: number, prevCommEnd: number;
  if (s.startsWith('prev_comm=', ps)) {
    // The fields after prev_comm are rigid; the first " prev_pid=" they follow is the
    // real one, whatever the comm contains. The next comm ends at the last " next_pid=".
    let pp = -1, arrow = -1;
    state = -1; prevPid = NaN;
    for (let k = indexIn(s, ' prev_pid=', ps, pe); k >= 0; k = indexIn(s, ' prev_pid=', k + 1, pe)) {
      const pid = readUint(s, k + 10, pe);
      let q = cursor.pos;
      if (Number.isNaN(pid) || !s.startsWith(' prev_prio=', q)) continue;
      readInt(s, q + 11, pe);
      q = cursor.pos;
      if (!s.startsWith(' prev_state=', q)) continue;
      const a = indexIn(s, ' ==> next_comm=', q, pe);
      if (a < 0) continue;
      pp = k; arrow = a; prevPid = pid; state = prevState(s, q + 12, a);
      break;
    }
    if (pp < 0) return 'sched_switch without "prev_pid=N prev_prio=N prev_state=S ==> next_comm="';
    const np = lastIndexIn(s, ' next_pid=', arrow, pe);
    if (np < 0) return 'sched_switch without next_pid';
    nextPid = readUint(s, np + 10, pe);
    nextCommStart = arrow + 15; nextCommEnd = np;
    prevCommStart = ps + 10; prevCommEnd = pp;
  } else {
    // Plugin form: PREVCOMM:PREVPID [PRIO] STATE ==> NEXTCOMM:NEXTPID [PRIO]
    const arrow = lastIndexIn(s, ' ==> ', ps, pe);
    if (arrow < 0) return 'sched_switch without "==>"';
    const nb = s.lastIndexOf(' [', pe);
    if (nb < arrow) return 'sched_switch without next prio';
    const nc = s.lastIndexOf(':', nb);
    if (nc <= arrow) return 'sched_switch without next pid';
    nextPid = readUint(s, nc + 1, nb);
    nextCommStart = arrow + 5; nextCommEnd = nc;
    const pb = s.lastIndexOf(' [', arrow);
    if (pb < ps) return 'sched_switch without prev prio';
    const close = s.indexOf('] ', pb);
    if (close < 0 || close > arrow) return 'sched_switch without prev state';
    state = prevState(s, close + 2, arrow);
    const pc = s.lastIndexOf(':', pb);
    if (pc < ps) return 'sched_switch without prev pid';
    prevPid = readUint(s, pc + 1, pb);
    prevCommStart = ps; prevCommEnd = pc;
  }
  if (Number.isNaN(prevPid) || Number.isNaN(nextPid)) return 'sched_switch pid is not a number';
  if (state < 0) return 'sched_switch prev_state is not a task state';
  if (prevPid >= PID_LIMIT || nextPid >= PID_LIMIT) return 'sched_switch pid beyond the kernel PID limit';
  const t = sink.tasks;
  let mm = prevMm;
  if (prevPid !== r.pid) {
    mm = t.isNew(prevPid) ? t.mmOfTask(prevPid, -1, s.slice(prevCommStart, prevCommEnd)) : t.mmOfTask(prevPid, -1);
  }
  const nextMm = t.isNew(nextPid) ? t.mmOfTask(nextPid, -1, s.slice(nextCommStart, nextCommEnd)) : t.mmOfTask(nextPid, -1);
  sink.emit(EventKind.switch, r, prevPid, mm, nextPid, nextMm, state);
  return null;
}

/** schedSwitch for the raw form on the bytes of an ASCII chunk, when every anchor is
 *  where the general path's search would first find it: `prev_comm=` at the start, the
 *  first ` prev_pid=` followed by digits, ` prev_prio=`, ` prev_state=` and a state
 *  letter, ` ==> next_comm=` at the first space after the state, and the last
 *  ` next_pid=` followed by digits. Anything else returns false with no side effect
 *  (nothing emitted, no task registered) and schedSwitch reads the line. */
export function schedSwitchBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  if (!isPrevComm(b, ps, pe)) return false;
  let k = ps + 10;
  for (;; k++) {
    if (k + 10 > pe) return false;
    if (b[k] === C_SPACE && b[k + 1] === 112 /* p */ && isPrevPid(b, k, pe)) break;
  }
  let i = k + 10, prevPid = 0, c = b[i];
  if (i >= pe || c < 48 || c > 57) return false;
  while (i < pe && c >= 48 && c <= 57) { prevPid = prevPid * 10 + (c - 48); c = b[++i]; }
  if (!isPrevPrio(b, i, pe)) return false;
  i += 11;
  if (i < pe && b[i] === C_DASH) i++;
  while (i < pe && b[i] >= 48 && b[i] <= 57) i++;
  if (!isPrevState(b, i, pe)) return false;
  i += 12;
  c = b[i];
  if (i >= pe || !((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  const state = c === 82 /* R */ ? PrevState.runnable : c === 88 /* X */ || c === 90 /* Z */ ? PrevState.dead
    : c === 68 /* D */ ? PrevState.uninterruptible : PrevState.blocked;
  while (i < pe && b[i] !== C_SPACE) i++;
  if (!isArrowNext(b, i, pe)) return false;
  const arrow = i;
  let np = pe - 10;
  for (;; np--) {
    if (np <= arrow) return false;
    if (b[np] === C_SPACE && b[np + 1] === 110 /* n */ && isNextPid(b, np, pe)) break;
  }
  i = np + 10;
  c = b[i];
  if (i >= pe || c < 48 || c > 57) return false;
  let nextPid = 0;
  while (i < pe && c >= 48 && c <= 57) { nextPid = nextPid * 10 + (c - 48); c = b[++i]; }
  if (prevPid >= PID_LIMIT || nextPid >= PID_LIMIT) return false;
  // The same task-table calls, in the same order, as schedSwitch.
  const prevMm = sink.currentMmBytes(b, r);
  const t = sink.tasks;
  let mm = prevMm;
  if (prevPid !== r.pid) mm = t.isNew(prevPid) ? t.mmOfTask(prevPid, -1, b.toString('latin1', ps + 10, k)) : t.mmOfTask(prevPid, -1);
  const nextMm = t.isNew(nextPid) ? t.mmOfTask(nextPid, -1, b.toString('latin1', arrow + 15, np)) : t.mmOfTask(nextPid, -1);
  sink.emit(EventKind.switch, r, prevPid, mm, nextPid, nextMm, state);
  return true;
}

/** R / R+ → runnable; X / Z → dead; D → uninterruptible; any other state letters → blocked. -1 if empty. */
function prevState(s: string, i: number, end: number): number {
  i = skipSpaces(s, i, end);
  if (i >= end) return -1;
  const c = s.charCodeAt(i);
  if (c === 82 /* R */) return PrevState.runnable;
  if (c === 88 /* X */ || c === 90 /* Z */) return PrevState.dead;
  if (c === 68 /* D */) return PrevState.uninterruptible;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return PrevState.blocked;
  return -1;
}

