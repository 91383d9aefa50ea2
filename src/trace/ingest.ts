// Text traces (ftrace, trace-cmd report, perf script) → raw events in an EventStore.
//
// Raw events are the canonical kinds except flush_request, whose derivation needs to know
// what the whole trace contains (see canonical.ts). Lines are split out of decoded chunks
// by indexOf('\n') and tokenized in place; a line that cannot be read is counted and
// reported with its number and the reason, and reading goes on.
import { EventKind, IpiKind, PrevState, type SkippedLine, type TraceFormat, pushEvent } from './event.ts';
import { parseFtraceHeader, parseIntactFtraceHeader, parsePerfHeader, newLineRecord, type LineRecord } from './headers.ts';
import { cursor, equalsAt, indexIn, isDigit, lastIndexIn, readHex, readInt, readNumber, readUint, skipSpaces } from './scan.ts';
import { EventStore } from './store.ts';
import { PID_LIMIT, TaskTable } from './tasks.ts';

/** Highest CPU number accepted when the trace does not say how many it has. */
export const MAX_CPUS = 4096;
/** How many skipped lines are kept with their text (all are counted). */
export const MAX_SKIPPED_KEPT = 1000;
/** Lines longer than this are reported, not parsed (a trace line is ~100-300 bytes). */
export const MAX_LINE = 64 * 1024;

/** A flat copy of a (possibly cons) string. */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const C_HASH = 35, C_NL = 10, C_CR = 13, C_LBRACK = 91, C_EQ = 61, C_COLON = 58, C_SPACE = 32, C_COMMA = 44, C_DASH = 45, C_LPAREN = 40, C_RPAREN = 41;

export interface IngestResult {
  format: TraceFormat;
  cpus: number;
  cpusFromHeader: boolean;
  lines: number;
  ignoredLines: number;
  skippedLines: number;
  skipped: SkippedLine[];
  lostEvents: number;
  lostMarkers: number;
  unusedEvents: Record<string, number>;
  rawCounts: Int32Array;
  outOfOrder: number;
  warnings: string[];
}

/** Decide the format from the first lines of a file; null when it is not a trace. */
export function sniffFormat(head: string): TraceFormat | null {
  const lines = head.split('\n', 200);
  let sawFtraceHeader = false;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('# tlbsim-trace')) return 'csv';
    if (line.startsWith('# tracer:')) sawFtraceHeader = true;
    if (/^cpus=\d+/.test(line) || /^version = \d+/.test(line)) return 'trace-cmd';
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (/^\s*CPU:?\s*\d+ \[LOST/.test(line) || /^#{5} CPU/.test(line)) continue;
    // perf: "comm tid [cpu] secs: subsys:event:"
    if (/^.*\S\s+\d+(\/\d+)?\s+\[\d+\]\s+\d+\.\d+:\s+[\w-]+:[\w-]+:/.test(line)) return 'perf';
    // ftrace/trace-cmd: "comm-pid [cpu] ..."
    if (/^.*-\d+\s+(\([\s\d-]+\)\s+)?\[\d+\]\s+/.test(line)) return sawFtraceHeader ? 'ftrace' : (/\]\s+\S{4,5}\s+\d+(\.\d+)?:/.test(line) ? 'ftrace' : 'trace-cmd');
    if (sawFtraceHeader) return 'ftrace';
    return null;
  }
  return sawFtraceHeader ? 'ftrace' : null;
}

/** Parses one text trace into `store`. */
export class TextIngest {
  readonly tasks = new TaskTable();
  readonly rawCounts = new Int32Array(32);
  private readonly rec: LineRecord = newLineRecord();
  private readonly perf: boolean;
  private lineNo = 0;
  private carry = '';
  cpus = 0;
  cpusFromHeader = false;
  private maxCpu = -1;
  ignoredLines = 0;
  skippedLines = 0;
  skipped: SkippedLine[] = [];
  lostEvents = 0;
  lostMarkers = 0;
  outOfOrder = 0;
  private lastNs = -Infinity;
  unusedEvents = new Map<string, number>();
  warnings: string[] = [];

  constructor(readonly file: string, readonly format: TraceFormat, readonly store: EventStore) {
    this.perf = format === 'perf';
  }

  /** Feed a decoded chunk. The chunk is scanned in place: concatenating it to the
   *  previous tail would make a V8 cons string, on which charCodeAt is several times
   *  slower, so only the one line straddling two chunks is joined. */
  push(chunk: string): void {
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.carry += chunk;
        this.dropRunawayLine();
        return;
      }
      const joined = flat(this.carry + chunk.slice(0, nl));
      this.carry = '';
      this.line(joined, 0, joined.length);
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.carry = chunk.slice(start);
      this.dropRunawayLine();
    }
  }

  private inLongLine = false;

  /** Megabytes without a newline: report the line and drop what we have of it. */
  private dropRunawayLine(): void {
    if (this.carry.length <= MAX_LINE * 16) return;
    this.lineNo++;
    this.skip(`line longer than ${MAX_LINE} characters`, this.carry, 0);
    this.carry = '';
    this.inLongLine = true;
  }

  /** Call once at the end of input. */
  end(): void {
    if (this.carry.length > 0) {
      const s = this.carry;
      this.carry = '';
      this.line(s, 0, s.length);
    }
  }

  private skip(reason: string, s: string, start: number, end = Math.min(s.length, start + 200)): void {
    this.skippedLines++;
    if (this.skipped.length < MAX_SKIPPED_KEPT) {
      this.skipped.push({ file: this.file, line: this.lineNo, reason, text: s.slice(start, Math.min(end, start + 200)) });
    }
  }

  private line(s: string, start: number, end: number): void {
    this.lineNo++;
    if (this.inLongLine) { this.inLongLine = false; return; } // tail of a reported long line
    if (end > start && s.charCodeAt(end - 1) === C_CR) end--;
    if (end - start > MAX_LINE) { this.skip(`line longer than ${MAX_LINE} characters`, s, start, end); return; }
    const r = this.rec;
    // An intact ftrace line (the pid's dash at column 16) is parsed without first skipping
    // the comm's padding: the comm is trimmed only when a task is first seen. Anything
    // else, a malformed intact-looking line included, takes the general path below.
    if (!this.perf && s.charCodeAt(start) !== C_HASH && parseIntactFtraceHeader(s, start, end, r)) {
      this.eventLine(s, start, end, r);
      return;
    }
    const first = skipSpaces(s, start, end);
    if (first === end) { this.ignoredLines++; return; }
    const c0 = s.charCodeAt(first);
    if (c0 === C_HASH) { this.headerLine(s, first, end); return; }
    if (c0 === 67 /* C */ && s.startsWith('CPU', first)) { if (this.lostLine(s, first, end)) return; }
    if (!this.perf && first === start && (s.startsWith('cpus=', start) || s.startsWith('version', start))) {
      if (s.startsWith('cpus=', start)) this.setCpus(readUint(s, start + 5, end));
      this.ignoredLines++;
      return;
    }
    const err = this.perf ? parsePerfHeader(s, start, end, r, first) : parseFtraceHeader(s, start, end, r, first);
    if (err !== null) { this.skip(err, s, start, end); return; }
    this.eventLine(s, start, end, r);
  }

  /** A line whose header parsed: check it, then read the event. */
  private eventLine(s: string, start: number, end: number, r: LineRecord): void {
    if (r.pid >= PID_LIMIT) { this.skip(`pid ${r.pid} is beyond the kernel's PID limit`, s, start, end); return; }
    if (r.cpu >= (this.cpusFromHeader ? this.cpus : MAX_CPUS)) {
      this.skip(`CPU ${r.cpu} is beyond the ${this.cpusFromHeader ? `${this.cpus} CPUs the header declares` : `supported ${MAX_CPUS} CPUs`}`, s, start, end);
      return;
    }
    const problem = this.event(s, r);
    if (problem !== null) { this.skip(problem, s, start, end); return; }
    if (r.cpu > this.maxCpu) this.maxCpu = r.cpu;
    if (r.ns < this.lastNs) this.outOfOrder++; else this.lastNs = r.ns;
  }

  private setCpus(n: number): void {
    if (!Number.isNaN(n) && n > 0 && n <= MAX_CPUS && !this.cpusFromHeader) { this.cpus = n; this.cpusFromHeader = true; }
  }

  private headerLine(s: string, first: number, end: number): void {
    this.ignoredLines++;
    // "# entries-in-buffer/entries-written: 4157/4157   #P:2"
    const p = indexIn(s, '#P:', first + 1, end);
    if (p >= 0) this.setCpus(readUint(s, p + 3, end));
    // "##### CPU 1 buffer started ####" needs nothing: per-CPU order is kept by ftrace.
  }

  /** "CPU:1 [LOST 1234 EVENTS]" (ftrace) / "CPU 1 is empty" etc. */
  private lostLine(s: string, first: number, end: number): boolean {
    const lost = indexIn(s, '[LOST', first, end);
    if (lost < 0) return false;
    let p = first + 3;
    if (p < end && s.charCodeAt(p) === C_COLON) p++;
    p = skipSpaces(s, p, end);
    const cpu = readUint(s, p, end);
    const n = readUint(s, skipSpaces(s, lost + 5, end), end);
    this.lostMarkers++;
    if (!Number.isNaN(n)) this.lostEvents += n;
    if (!Number.isNaN(cpu) && cpu < MAX_CPUS) {
      pushEvent(this.store.reserve(), EventKind.lost, this.lastNs === -Infinity ? 0 : this.lastNs, cpu, 0, 0, Number.isNaN(n) ? -1 : n, 0, 0);
      this.rawCounts[EventKind.lost]++;
    }
    this.ignoredLines++;
    return true;
  }

  /** The task name in [start, end), without the right-alignment padding. */
  private comm(s: string, start: number, end: number): string {
    return s.slice(skipSpaces(s, start, end), end);
  }

  /** The current task's provisional mm, registering it on first sight. */
  private currentMm(s: string, r: LineRecord): number {
    const t = this.tasks;
    if (t.isNew(r.pid)) return t.mmOfTask(r.pid, r.tgid, this.comm(s, r.commStart, r.commEnd));
    return t.mmOfTask(r.pid, r.tgid);
  }

  private emit(kind: number, r: LineRecord, tid: number, mm: number, a: number, b: number, c: number): void {
    pushEvent(this.store.reserve(), kind, r.ns, r.cpu, tid, mm, a, b, c);
    this.rawCounts[kind]++;
  }

  /** Dispatch on the event name. Returns null or why the payload is malformed. */
  private event(s: string, r: LineRecord): string | null {
    const ns = r.nameStart, ne = r.nameEnd, ps = r.payloadStart, pe = r.payloadEnd;
    const len = ne - ns;
    switch (s.charCodeAt(ns)) {
      case 116: // t
        if (len === 9 && s.startsWith('tlb_flush', ns)) return this.tlbFlush(s, r, ps, pe);
        break;
      case 115: // s
        if (len === 12 && s.startsWith('sched_switch', ns)) return this.schedSwitch(s, r, ps, pe);
        if (s.startsWith('sys_', ns)) return this.syscall(s, r, ns, ne, ps, pe);
        if (len === 18 && s.startsWith('sched_migrate_task', ns)) return this.migrate(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_fork', ns)) return this.fork(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exec', ns)) return this.exec(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exit', ns)) return this.exit(s, r, ps, pe);
        break;
      case 105: // i
        if (len === 12 && s.startsWith('ipi_send_cpu', ns)) return this.ipiSendCpu(s, r, ps, pe);
        if (len === 16 && s.startsWith('ipi_send_cpumask', ns)) return this.ipiSendMask(s, r, ps, pe);
        break;
      case 99: // c
        if (len === 13 && s.startsWith('csd_queue_cpu', ns)) return this.csdQueue(s, r, ps, pe);
        break;
      case 101: // e
        if (len === 9 && s.startsWith('exit_mmap', ns)) {
          this.emit(EventKind.exit_mmap, r, r.pid, this.currentMm(s, r), 0, 0, 0);
          return null;
        }
        break;
    }
    // Keep the task table informed even by events we do not model.
    this.currentMm(s, r);
    const name = s.slice(ns, ne);
    this.unusedEvents.set(name, (this.unusedEvents.get(name) ?? 0) + 1);
    return null;
  }

  /** Position just after `key` followed by ':' or '=' (and spaces), searching from `from`. */
  private valueAfter(s: string, key: string, from: number, end: number): number {
    let i = from;
    for (;;) {
      i = indexIn(s, key, i, end);
      if (i < 0) return -1;
      const before = i === from ? C_SPACE : s.charCodeAt(i - 1);
      const after = s.charCodeAt(i + key.length);
      if ((before === C_SPACE || before === C_COMMA || before === C_LPAREN || i === from) && (after === C_COLON || after === C_EQ)) {
        return skipSpaces(s, i + key.length + 1, end);
      }
      i += key.length;
    }
  }

  private numberField(s: string, key: string, from: number, end: number): number {
    const v = this.valueAfter(s, key, from, end);
    if (v < 0) return NaN;
    return readNumber(s, v, end);
  }

  // tlb_flush: pages:1 reason:remote shootdown (1)      (ftrace, perf)
  // tlb_flush: pages=-1 reason=local mm shootdown (3)    (trace-cmd)
  // tlb_flush: pages:0 reason:0x5                        (6.14-6.18 before the enum export)
  private tlbFlush(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const pv = this.valueAfter(s, 'pages', ps, pe);
    if (pv < 0) return 'tlb_flush without pages';
    const pages = readInt(s, pv, pe);
    if (Number.isNaN(pages)) return 'tlb_flush pages is not a number';
    let e = pe;
    while (e > ps && s.charCodeAt(e - 1) === C_SPACE) e--;
    let reason: number;
    if (e > ps && s.charCodeAt(e - 1) === C_RPAREN) {
      const open = s.lastIndexOf('(', e - 1);
      if (open < ps) return 'tlb_flush reason has no number';
      reason = readNumber(s, open + 1, e - 1);
    } else {
      const rv = this.valueAfter(s, 'reason', ps, pe);
      if (rv < 0) return 'tlb_flush without reason';
      reason = readNumber(s, rv, pe);
    }
    if (Number.isNaN(reason) || reason < 0 || reason > 255) return 'tlb_flush reason is not a number';
    if (pages < -1) return `tlb_flush pages ${pages} is negative`;
    this.emit(EventKind.observed_flush, r, r.pid, this.currentMm(s, r), reason, pages, 0);
    return null;
  }

  // raw:       prev_comm=a b prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=c next_pid=2 next_prio=120
  // trace-cmd: a b:1 [120] S ==> c:2 [120]
  // Comms may contain anything, so fields are found from the right-hand anchors.
  private schedSwitch(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const prevMm = this.currentMm(s, r);
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
        pp = k; arrow = a; prevPid = pid; state = this.prevState(s, q + 12, a);
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
      state = this.prevState(s, close + 2, arrow);
      const pc = s.lastIndexOf(':', pb);
      if (pc < ps) return 'sched_switch without prev pid';
      prevPid = readUint(s, pc + 1, pb);
      prevCommStart = ps; prevCommEnd = pc;
    }
    if (Number.isNaN(prevPid) || Number.isNaN(nextPid)) return 'sched_switch pid is not a number';
    if (state < 0) return 'sched_switch prev_state is not a task state';
    if (prevPid >= PID_LIMIT || nextPid >= PID_LIMIT) return 'sched_switch pid beyond the kernel PID limit';
    const t = this.tasks;
    let mm = prevMm;
    if (prevPid !== r.pid) {
      mm = t.isNew(prevPid) ? t.mmOfTask(prevPid, -1, s.slice(prevCommStart, prevCommEnd)) : t.mmOfTask(prevPid, -1);
    }
    const nextMm = t.isNew(nextPid) ? t.mmOfTask(nextPid, -1, s.slice(nextCommStart, nextCommEnd)) : t.mmOfTask(nextPid, -1);
    this.emit(EventKind.switch, r, prevPid, mm, nextPid, nextMm, state);
    return null;
  }

  /** R / R+ → runnable; X / Z → dead; D → uninterruptible; any other state letters → blocked. -1 if empty. */
  private prevState(s: string, i: number, end: number): number {
    i = skipSpaces(s, i, end);
    if (i >= end) return -1;
    const c = s.charCodeAt(i);
    if (c === 82 /* R */) return PrevState.runnable;
    if (c === 88 /* X */ || c === 90 /* Z */) return PrevState.dead;
    if (c === 68 /* D */) return PrevState.uninterruptible;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return PrevState.blocked;
    return -1;
  }

  // comm=record.sh pid=19054 prio=120 orig_cpu=1 dest_cpu=0
  private migrate(s: string, r: LineRecord, ps: number, pe: number): string | null {
    this.currentMm(s, r);
    const o = lastIndexIn(s, ' orig_cpu=', ps, pe);
    const d = lastIndexIn(s, ' dest_cpu=', ps, pe);
    const p = lastIndexIn(s, ' pid=', ps, o < 0 ? pe : o);
    if (o < 0 || d < 0 || p < 0) return 'sched_migrate_task without pid/orig_cpu/dest_cpu';
    const pid = readUint(s, p + 5, pe), orig = readUint(s, o + 10, pe), dest = readUint(s, d + 10, pe);
    if (Number.isNaN(pid) || Number.isNaN(orig) || Number.isNaN(dest)) return 'sched_migrate_task field is not a number';
    if (pid >= PID_LIMIT || orig >= MAX_CPUS || dest >= MAX_CPUS) return 'sched_migrate_task field out of range';
    const t = this.tasks;
    const cs = s.startsWith('comm=', ps) ? ps + 5 : ps;
    const mm = t.isNew(pid) ? t.mmOfTask(pid, -1, s.slice(cs, p)) : t.mmOfTask(pid, -1);
    this.emit(EventKind.migrate, r, pid, mm, orig, dest, 0);
    return null;
  }

  // comm=record.sh pid=19052 child_comm=record.sh child_pid=19054
  private fork(s: string, r: LineRecord, ps: number, pe: number): string | null {
    this.currentMm(s, r);
    const cp = lastIndexIn(s, ' child_pid=', ps, pe);
    if (cp < 0) return 'sched_process_fork without child_pid';
    const cc = lastIndexIn(s, ' child_comm=', ps, cp);
    if (cc < 0) return 'sched_process_fork without child_comm';
    const pp = lastIndexIn(s, ' pid=', ps, cc);
    if (pp < 0) return 'sched_process_fork without pid';
    const parent = readUint(s, pp + 5, cc), child = readUint(s, cp + 11, pe);
    if (Number.isNaN(parent) || Number.isNaN(child)) return 'sched_process_fork pid is not a number';
    if (parent >= PID_LIMIT || child >= PID_LIMIT) return 'sched_process_fork pid beyond the kernel PID limit';
    const t = this.tasks;
    const parentMm = parent === r.pid ? t.mmOfTask(parent, r.tgid) : t.mmOfTask(parent, -1, s.slice(s.startsWith('comm=', ps) ? ps + 5 : ps, pp));
    const childMm = t.fork(parent, child, s.slice(cc + 12, cp));
    // Thread or process is settled only when the trace is complete: c is set by the reader.
    this.emit(EventKind.fork, r, parent, parentMm, child, childMm, -1);
    return null;
  }

  // filename=./forkchurn.sh pid=19054 old_pid=19054
  private exec(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const oldMm = this.currentMm(s, r);
    const op = lastIndexIn(s, ' old_pid=', ps, pe);
    const pp = lastIndexIn(s, ' pid=', ps, op < 0 ? pe : op);
    if (pp < 0) return 'sched_process_exec without pid';
    const pid = readUint(s, pp + 5, pe);
    if (Number.isNaN(pid) || pid >= PID_LIMIT) return 'sched_process_exec pid is not valid';
    // The comm after exec is the basename of the file, which the header line shows next time;
    // use the header comm when the exec'ing task is the current one.
    const newMm = this.tasks.exec(pid, pid === r.pid ? this.comm(s, r.commStart, r.commEnd) : undefined);
    this.emit(EventKind.exec, r, pid, newMm, oldMm, 0, 0);
    return null;
  }

  // comm=dirname pid=19056 prio=120 group_dead=true
  private exit(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const mm0 = this.currentMm(s, r);
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
    const mm = pid === r.pid ? mm0 : this.tasks.mmOfTask(pid, -1);
    this.emit(EventKind.exit, r, pid, mm, groupDead, 0, 0);
    this.tasks.exit(pid, groupDead);
    return null;
  }

  private ipiKind(s: string, ps: number, pe: number, key: string): number {
    const v = this.valueAfter(s, key, ps, pe);
    if (v < 0) return IpiKind.real;
    if (s.startsWith('generic_smp_call_function', v)) return IpiKind.real;
    if (s.startsWith('flush_tlb_func', v)) return IpiKind.flushCall;
    return IpiKind.otherCall;
  }

  // cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10
  private ipiSendCpu(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const mm = this.currentMm(s, r);
    const target = this.numberField(s, 'cpu', ps, pe);
    if (Number.isNaN(target) || target < 0 || target >= MAX_CPUS) return 'ipi_send_cpu without a valid cpu';
    this.noteCpu(target);
    this.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, this.ipiKind(s, ps, pe, 'callback'));
    return null;
  }

  // cpumask=0-1 ... | cpumask=00000000,00000003 ...
  private ipiSendMask(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const mm = this.currentMm(s, r);
    const v = this.valueAfter(s, 'cpumask', ps, pe);
    if (v < 0) return 'ipi_send_cpumask without cpumask';
    let e = v;
    while (e < pe && s.charCodeAt(e) !== C_SPACE) e++;
    const kind = this.ipiKind(s, ps, pe, 'callback');
    const targets = parseCpuMask(s, v, e);
    if (targets === null) return 'ipi_send_cpumask cpumask is neither a CPU list nor a hex bitmap';
    let first = 1;
    for (const cpu of targets) {
      if (cpu >= MAX_CPUS) return 'ipi_send_cpumask names a CPU beyond the supported range';
      this.noteCpu(cpu);
      this.emit(EventKind.observed_ipi, r, r.pid, mm, cpu, first, kind);
      first = 0;
    }
    return null;
  }

  // cpu=0 callsite=... func=flush_tlb_func csd=...
  private csdQueue(s: string, r: LineRecord, ps: number, pe: number): string | null {
    const mm = this.currentMm(s, r);
    const v = this.valueAfter(s, 'func', ps, pe);
    if (v < 0 || !s.startsWith('flush_tlb_func', v)) {
      this.unusedEvents.set('csd_queue_cpu', (this.unusedEvents.get('csd_queue_cpu') ?? 0) + 1);
      return null;
    }
    const target = this.numberField(s, 'cpu', ps, pe);
    if (Number.isNaN(target) || target < 0 || target >= MAX_CPUS) return 'csd_queue_cpu without a valid cpu';
    this.noteCpu(target);
    this.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, IpiKind.flushQueued);
    return null;
  }

  private noteCpu(cpu: number): void {
    if (cpu > this.maxCpu) this.maxCpu = cpu;
  }

  // sys_munmap(addr: 0x7fed01f99000, len: 0x97e7)               ftrace
  // sys_enter_munmap: addr: 0x7fed01f99000, len: 0x000097e7       trace-cmd / perf
  private syscall(s: string, r: LineRecord, ns: number, ne: number, ps: number, pe: number): string | null {
    let n = ns + 4;
    if (s.startsWith('enter_', n)) n += 6;
    else if (s.startsWith('exit_', n)) { this.currentMm(s, r); this.countUnused(s, ns, ne); return null; }
    let kind = -1, addrKey = 'addr', lenKey = 'len', extraKey = '';
    if (equalsAt(s, n, ne, 'munmap')) { kind = EventKind.munmap; }
    else if (equalsAt(s, n, ne, 'madvise')) { kind = EventKind.madvise; addrKey = 'start'; lenKey = 'len_in'; extraKey = 'behavior'; }
    else if (equalsAt(s, n, ne, 'mprotect')) { kind = EventKind.mprotect; addrKey = 'start'; extraKey = 'prot'; }
    else if (equalsAt(s, n, ne, 'mmap')) { kind = EventKind.mmap; extraKey = 'prot'; }
    if (kind < 0) { this.currentMm(s, r); this.countUnused(s, ns, ne); return null; }
    const mm = this.currentMm(s, r);
    const addr = this.numberField(s, addrKey, ps, pe);
    let len = this.numberField(s, lenKey, ps, pe);
    if (Number.isNaN(len) && lenKey === 'len_in') len = this.numberField(s, 'len', ps, pe);
    const extra = extraKey === '' ? 0 : this.numberField(s, extraKey, ps, pe);
    if (Number.isNaN(addr) || Number.isNaN(len) || Number.isNaN(extra)) return `${s.slice(ns, ne)} arguments are incomplete`;
    this.emit(kind, r, r.pid, mm, addr, len, extra);
    return null;
  }

  private countUnused(s: string, ns: number, ne: number): void {
    const name = s.slice(ns, ne);
    this.unusedEvents.set(name, (this.unusedEvents.get(name) ?? 0) + 1);
  }

  result(): IngestResult {
    const cpus = this.cpusFromHeader ? this.cpus : this.maxCpu + 1;
    if (this.outOfOrder > 0) this.warnings.push(`${this.outOfOrder} events have a timestamp earlier than the event before them`);
    return {
      format: this.format, cpus: Math.max(cpus, 1), cpusFromHeader: this.cpusFromHeader, lines: this.lineNo,
      ignoredLines: this.ignoredLines, skippedLines: this.skippedLines, skipped: this.skipped,
      lostEvents: this.lostEvents, lostMarkers: this.lostMarkers,
      unusedEvents: Object.fromEntries([...this.unusedEvents].sort((a, b) => b[1] - a[1])),
      rawCounts: this.rawCounts, outOfOrder: this.outOfOrder, warnings: this.warnings,
    };
  }
}

/** A cpumask as the kernel prints it: a CPU list (`0-1`, `0,2-5`) or a hex bitmap in
 *  comma-separated 32-bit groups (`00000000,00000003`). Returns null when malformed. */
export function parseCpuMask(s: string, start: number, end: number): number[] | null {
  if (start >= end) return [];
  let isBitmap = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) isBitmap = true;
    else if (c === C_DASH) { isBitmap = false; break; }
    else if (!(isDigit(c) || c === C_COMMA)) return null;
  }
  // The bitmap form pads every 32-bit group but the first to 8 hex digits, so a last
  // group of 8 digits marks it even when all digits are decimal.
  const lastComma = s.lastIndexOf(',', end - 1);
  const lastGroupLen = end - (lastComma >= start ? lastComma + 1 : start);
  if (lastGroupLen === 8 && indexIn(s, '-', start, end) < 0) isBitmap = true;
  const out: number[] = [];
  if (isBitmap) {
    // Groups are most significant first.
    const groups: number[] = [];
    let i = start;
    while (i < end) {
      const v = readHex(s, i, end);
      if (Number.isNaN(v)) return null;
      groups.push(v);
      i = cursor.pos;
      if (i < end && s.charCodeAt(i) === C_COMMA) i++;
      else if (i < end) return null;
    }
    for (let g = groups.length - 1, base = 0; g >= 0; g--, base += 32) {
      const w = groups[g];
      for (let b = 0; b < 32; b++) if (Math.floor(w / 2 ** b) % 2 === 1) out.push(base + b);
    }
    return out;
  }
  let i = start;
  while (i < end) {
    const a = readUint(s, i, end);
    if (Number.isNaN(a)) return null;
    i = cursor.pos;
    let b = a;
    if (i < end && s.charCodeAt(i) === C_DASH) {
      b = readUint(s, i + 1, end);
      if (Number.isNaN(b) || b < a) return null;
      i = cursor.pos;
    }
    if (b >= MAX_CPUS) return null;
    for (let c = a; c <= b; c++) out.push(c);
    if (i < end && s.charCodeAt(i) === C_COMMA) i++;
    else if (i < end) return null;
  }
  return out;
}
