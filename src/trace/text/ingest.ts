// Text traces (ftrace, trace-cmd report, perf script) → raw events in an EventStore.
//
// Raw events are the canonical kinds except flush_request, whose derivation needs to know
// what the whole trace contains (see canonical.ts). Lines come from the framer (lines.ts)
// and are tokenized in place; a line that cannot be read is counted and reported with its
// number and the reason, and reading goes on. This file reads a line's header and
// dispatches on the event name; the payloads are read in payloads/, each in a string form
// (every layout, the reports) and, for the common events, a byte form for ASCII chunks
// that either reads the line exactly as the string form would or hands it over untouched.
// The clock (clock.ts) and the CPU census (cpus.ts) judge the lines' times and CPUs.
import { EventKind, IpiKind, type RecordedMachine, type SkippedLine, type TraceFormat, pushEvent } from '../event.ts';
import { recordedMachineOf } from '../vm-header.ts';
import { EventName, parseFtraceHeader, parseIntactFtraceHeader, parseIntactFtraceHeaderBytes, parsePerfHeader, newLineRecord, type LineRecord } from './headers.ts';
import { indexInLine, literalTest, readUint, skipSpaces } from './scan.ts';
import type { EventStore } from '../store.ts';
import { PID_LIMIT, TaskTable, type TaskResolver } from '../tasks.ts';
import type { TaskLog, TaskLogData } from './task-log.ts';
import { digitsAsWritten } from '../encoding.ts';
import { Duplicates, Verdict, type LineIdentity, type RangeDuplicates } from '../duplicates.ts';
import { C_COLON, C_CR, C_HASH, C_LPAREN, C_RPAREN } from './fields.ts';
import { LineFramer, MAX_LINE } from './lines.ts';
import { TraceClock, type ClockHost, type RangeClock } from './clock.ts';
import { CpuCensus, MAX_CPUS, type RangeCensus } from './cpus.ts';
import { EventSink, MAX_UNUSED_NAMES } from './sink.ts';
import { tlbFlush, tlbFlushBytes } from './payloads/tlb-flush.ts';
import { schedSwitch, schedSwitchBytes } from './payloads/sched-switch.ts';
import { csdQueue, csdQueueBytes, ipiSendCpu, ipiSendCpuBytes, ipiSendMask } from './payloads/ipi.ts';
import { syscall, syscallBytes } from './payloads/syscalls.ts';
import { exec, execBytes, exit, exitBytes, fork, forkBytes, migrate, migrateBytes } from './payloads/process.ts';

/** How many skipped lines are kept with their text (all are counted). */
export const MAX_SKIPPED_KEPT = 1000;

const isCsdQueueCpu = literalTest('csd_queue_cpu'), isExitMmap = literalTest('exit_mmap'),
  isMigrateTask = literalTest('sched_migrate_task'), isSchedProcess = literalTest('sched_process_');

/** The task-lifetime events, which share a name length (18) and so one recognizer. */
const Lifetime = { none: 0, migrate: 1, fork: 2, exec: 3, exit: 4 } as const;

/** Which task-lifetime event b[ns, ne) names, Lifetime.none for any other name. */
function lifetimeEvent(b: Buffer, ns: number, ne: number): number {
  if (ne - ns !== 18 || b[ns] !== 115 /* s */ || b[ns + 1] !== 99 /* c */) return Lifetime.none;
  // Asked twice a line (which reader, then which event): the shared prefix is tested once.
  if (isSchedProcess(b, ns, ne)) {
    const c0 = b[ns + 14], c1 = b[ns + 15], c2 = b[ns + 16], c3 = b[ns + 17];
    if (c0 === 102 /* f */ && c1 === 111 /* o */ && c2 === 114 /* r */ && c3 === 107 /* k */) return Lifetime.fork;
    if (c0 !== 101 /* e */ || c1 !== 120 /* x */) return Lifetime.none;
    if (c2 === 101 /* e */ && c3 === 99 /* c */) return Lifetime.exec;
    if (c2 === 105 /* i */ && c3 === 116 /* t */) return Lifetime.exit;
    return Lifetime.none;
  }
  return isMigrateTask(b, ns, ne) ? Lifetime.migrate : Lifetime.none;
}

/** `sys_` and more at b[i..end): a syscall, which the byte readers take. */
function isSysPrefix(b: Buffer, i: number, end: number): boolean {
  return end - i > 4 && b[i] === 115 /* s */ && b[i + 1] === 121 /* y */ && b[i + 2] === 115 /* s */ && b[i + 3] === 95 /* _ */;
}

/** Whether the event named b[ns, ne), one the header reader does not name, is read from
 *  the bytes (the others from a string of their own line). */
function readFromBytes(b: Buffer, ns: number, ne: number): boolean {
  const len = ne - ns;
  return isSysPrefix(b, ns, ne) || (len === 13 && isCsdQueueCpu(b, ns, ne)) || (len === 9 && isExitMmap(b, ns, ne)) ||
    lifetimeEvent(b, ns, ne) !== Lifetime.none;
}

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
  machine?: RecordedMachine;
}

/** What a range worker read (parallel ingest, readers/ranges.ts): the counts and findings
 *  of its lines, numbered from 1, for the main thread's ingest to add to its own
 *  (`absorb`), and what it needs to tell whether the range joins on where it stopped. */
export interface RangeResult extends Pick<IngestResult, 'lines' | 'ignoredLines' | 'skippedLines' | 'skipped' | 'lostEvents' | 'lostMarkers' | 'rawCounts'> {
  unused: [string, number][];
  maxTarget: number;
  census: RangeCensus;
  clock: RangeClock;
  dups: RangeDuplicates;
  /** The clock's maxNs and the last checked line after the look-behind lines: one reader
   *  reaching the range's start must be at the same place. */
  startMaxNs: number;
  startPrev: LineIdentity | null;
  lastPrev: LineIdentity | null;
  tasks: TaskLogData;
  /** Why the range cannot be joined (it is then read by one reader), or null. */
  unjoinable: string | null;
}

/** Events the payload parsers read (the others are counted as unused). */
const KNOWN_EVENTS = ['tlb_flush', 'sched_switch', 'sched_migrate_task', 'sched_process_fork', 'sched_process_exec',
  'sched_process_exit', 'ipi_send_cpu', 'ipi_send_cpumask', 'csd_queue_cpu', 'exit_mmap',
  'call_function_entry', 'call_function_single_entry',
  ...['munmap', 'madvise', 'mprotect', 'mmap'].flatMap((n) => [`sys_${n}`, `sys_enter_${n}`])];

/** Parses one text trace into `store`. */
export class TextIngest extends LineFramer implements ClockHost {
  private readonly sink: EventSink;
  readonly rawCounts: Int32Array;
  private readonly rec: LineRecord = newLineRecord();
  private readonly perf: boolean;
  private readonly clock = new TraceClock(this);
  private census = new CpuCensus();
  /** A range worker's ingest: headers that start another trace or declare CPUs mid-file
   *  are left to one reader (the range is not joined). */
  private rangeMode = false;
  private unjoinable: string | null = null;
  private startMaxNs = -Infinity;
  private startPrev: LineIdentity | null = null;
  ignoredLines = 0;
  skippedLines = 0;
  skipped: SkippedLine[] = [];
  lostEvents = 0;
  lostMarkers = 0;
  warnings: string[] = [];
  /** Facts of `# tlbsim-vm:` header lines (record --vm). */
  machine: RecordedMachine | undefined = undefined;
  /** Copies of lines and repeats of the whole recording (duplicates.ts). */
  private readonly dups = new Duplicates();
  private dupReplay = false;
  private dupChecked = 0;

  /** `tasks`: a TaskLog in a range worker; by default the trace's TaskTable. */
  constructor(readonly file: string, readonly format: TraceFormat, readonly store: EventStore, private readonly resolver: TaskResolver = new TaskTable()) {
    super();
    this.perf = format === 'perf';
    this.sink = new EventSink(store, resolver);
    this.rawCounts = this.sink.rawCounts;
  }

  /** The trace's task table (not in a range worker, which logs questions instead). */
  get tasks(): TaskTable {
    if (!(this.resolver instanceof TaskTable)) throw new Error('a range worker answers tasks with a TaskLog');
    return this.resolver;
  }

  // ---- parallel ingest (readers/ranges.ts): a worker reads the lines just before its
  // range (look-behind) to reach the state one reader would be in there, then its range;
  // the main thread, having read the ranges before, checks the state matches and adds the
  // range's findings to its own.

  /** The look-behind lines are read: from here on, the range. `first` is the trace's first
   *  event line (read by the main thread), or null if the range before held none. */
  beginRange(first: LineIdentity | null): void {
    const clock = this.clock;
    if (first === null) this.unjoinable = 'no event line came before the range';
    else if (clock.maxNs === -Infinity) this.unjoinable = 'the lines just before the range hold no event';
    else if (!clock.quiet || this.warnings.length > 0) this.unjoinable = 'the lines just before the range leave the clock waiting or shifted';
    this.startMaxNs = clock.maxNs;
    this.startPrev = this.dups.prevLine();
    this.lineNo = 0;
    this.ignoredLines = 0; this.skippedLines = 0; this.skipped = []; this.lostEvents = 0; this.lostMarkers = 0;
    this.warnings = []; this.machine = undefined;
    this.census = new CpuCensus();
    this.sink.resetCounts();
    (this.resolver as TaskLog).clear();
    this.store.discard();
    clock.beginRange();
    if (first !== null) this.dups.beginRange(first);
    this.dupChecked = 0;
    this.rangeMode = true;
  }

  /** The range is read; `atEnd`: it ends the file (its last line may lack a newline). */
  endRange(atEnd: boolean): void {
    if (atEnd) {
      this.endLines();
      this.readBack(this.dups.interrupt());
      this.clock.settle();
    } else if (!this.clock.quiet) this.unjoinable ??= 'the range ends on a line whose time waits for the next';
  }

  rangeResult(): RangeResult {
    const dups = this.dups.rangeResult();
    let unjoinable = this.unjoinable;
    if (dups.firstAgain) unjoinable ??= "the trace's first event line appears again (a repeated recording)";
    if (dups.badCopies) unjoinable ??= 'copies of a line reported as bad';
    if (this.sink.unusedEvents.size >= MAX_UNUSED_NAMES) unjoinable ??= 'too many names of unused events';
    if (this.warnings.length > 0) unjoinable ??= this.warnings[0];
    return {
      lines: this.lineNo, ignoredLines: this.ignoredLines, skippedLines: this.skippedLines, skipped: this.skipped,
      lostEvents: this.lostEvents, lostMarkers: this.lostMarkers, rawCounts: this.rawCounts,
      unused: [...this.sink.unusedEvents], maxTarget: this.sink.maxTarget,
      census: this.census.rangeResult(), clock: this.clock.rangeResult(), dups,
      startMaxNs: this.startMaxNs, startPrev: this.startPrev, lastPrev: this.dups.prevLine(),
      tasks: (this.resolver as TaskLog).data(), unjoinable,
    };
  }

  /** The first event line read, to seed range workers (null until there is one). */
  firstEventLine(): LineIdentity | null {
    return this.dups.firstLine();
  }

  /** Why the range `r`, read by a worker from where this ingest stopped, cannot be joined
   *  to it; null when it can. */
  joinProblem(r: RangeResult): string | null {
    if (r.unjoinable !== null) return r.unjoinable;
    if (!this.clock.quiet || this.unterminated) return 'the lines before the range leave the clock waiting or shifted';
    if (!this.dups.plain) return 'the lines before the range repeat the recording';
    if (this.clock.maxNs !== r.startMaxNs) return 'the look-behind lines reach another time than the lines before the range';
    const a = this.dups.prevLine(), b = r.startPrev;
    if (a === null || b === null || a.ns !== b.ns || a.cpu !== b.cpu || a.pid !== b.pid || a.text !== b.text) return 'the look-behind lines end on another line than the lines before the range';
    if (this.sink.unusedEvents.size + r.unused.length >= MAX_UNUSED_NAMES) return 'too many names of unused events';
    return null;
  }

  /** Join range `r` (joinProblem null): add its counts and findings as if its lines had
   *  been read here, and replay its task questions. Returns the provisional mm of each of
   *  its tickets, for its events (text/task-log.ts). */
  absorb(r: RangeResult): Int32Array {
    const offset = this.lineNo;
    this.lineNo += r.lines;
    this.ignoredLines += r.ignoredLines;
    this.skippedLines += r.skippedLines;
    for (const k of r.skipped) {
      if (this.skipped.length >= MAX_SKIPPED_KEPT) break;
      this.skipped.push({ ...k, line: k.line + offset });
    }
    this.lostEvents += r.lostEvents;
    this.lostMarkers += r.lostMarkers;
    for (let k = 0; k < r.rawCounts.length; k++) this.rawCounts[k] += r.rawCounts[k];
    const unused = this.sink.unusedEvents;
    for (const [name, n] of r.unused) unused.set(name, (unused.get(name) ?? 0) + n);
    if (r.maxTarget > this.sink.maxTarget) this.sink.maxTarget = r.maxTarget;
    this.census.absorb(r.census, offset);
    this.clock.absorb(r.clock, offset);
    this.dups.absorb(r.dups, offset, r.lastPrev);
    return this.tasks.replay(r.tasks);
  }

  /** Call once at the end of input. */
  end(): void {
    this.endLines();
    this.readBack(this.dups.interrupt());
    this.clock.settle();
    this.warnings.push(...this.dups.finish());
  }

  /** The kernel and the tools end every line with a newline, so a last line without one
   *  may have been cut (recording stopped mid-write, a partial copy). It is read when it
   *  is complete; a cut that shows (an event name cut short, a `sys_NAME(` without its
   *  `)`) is reported. A cut inside a number cannot be seen. */
  private cutShort(s: string, r: LineRecord): string | null {
    const name = s.slice(r.nameStart, r.nameEnd);
    const cut = 'the last line is cut short (the file does not end with a newline)';
    if (!KNOWN_EVENTS.includes(name) && KNOWN_EVENTS.some((k) => k.startsWith(name))) return cut;
    if (s.charCodeAt(r.nameEnd) === C_LPAREN && s.trimEnd().charCodeAt(s.trimEnd().length - 1) !== C_RPAREN) return cut;
    return null;
  }

  protected override chunkDone(): void {
    this.dups.detach();
  }

  protected skip(reason: string, s: string, start: number, end = Math.min(s.length, start + 200)): void {
    this.skippedLines++;
    if (this.skipped.length < MAX_SKIPPED_KEPT) {
      this.skipped.push({ file: this.file, line: this.lineNo, reason, text: s.slice(start, Math.min(end, start + 200)) });
    }
    // Copies of a reported line are reported with it, not left out as copies.
    for (const n of this.dups.reportedBad(this.lineNo)) {
      this.skippedLines++;
      if (this.skipped.length < MAX_SKIPPED_KEPT) this.skipped.push({ file: this.file, line: n, reason, text: s.slice(start, Math.min(end, start + 200)) });
    }
  }

  skipAt(lineNo: number, reason: string, text: string): void {
    const current = this.lineNo;
    this.lineNo = lineNo;
    this.skip(reason, text, 0);
    this.lineNo = current;
  }

  readAgain(text: string, lineNo: number): void {
    this.lineNo = lineNo - 1;
    this.line(text, 0, text.length);
  }

  protected line(s: string | null, start: number, end: number, b: Buffer | null = null): void {
    this.lineNo++;
    if (this.inLongLine) { this.inLongLine = false; return; } // tail of a reported long line
    if (end > start && (b !== null ? b[end - 1] : s!.charCodeAt(end - 1)) === C_CR) end--;
    if (end - start > MAX_LINE) { this.skip(`line longer than ${MAX_LINE} characters`, this.text(s), start, end); return; }
    const r = this.rec;
    // An intact ftrace line (the pid's dash at column 16) is parsed without first skipping
    // the comm's padding: the comm is trimmed only when a task is first seen. Anything
    // else, a malformed intact-looking line included, takes the general path below.
    if (!this.perf && (b !== null ? b[start] : s!.charCodeAt(start)) !== C_HASH &&
      (b !== null ? parseIntactFtraceHeaderBytes(b, start, end, r) : parseIntactFtraceHeader(s!, start, end, r))) {
      if (b !== null && r.nameId === EventName.other && !readFromBytes(b, r.nameStart, r.nameEnd)) {
        // An event without a byte reader (ipi_send_cpumask, unused events...) is read from a string of its
        // own line: decoding the whole chunk for it, as text() does, cost more than parsing
        // the chunk.
        const own = b.toString('latin1', start, end);
        if (parseIntactFtraceHeader(own, 0, own.length, r)) { this.eventLine(own, 0, own.length, r, null); return; }
        this.otherLine(own, 0, own.length, r, null);
        return;
      }
      this.eventLine(s, start, end, r, b);
      return;
    }
    this.otherLine(this.text(s), start, end, r, b);
  }

  /** A line that is not an intact ftrace event line: a header, a marker, another format,
   *  or damage. */
  private otherLine(s: string, start: number, end: number, r: LineRecord, b: Buffer | null): void {
    const first = skipSpaces(s, start, end);
    if (first === end) { this.ignoredLines++; return; }
    const c0 = s.charCodeAt(first);
    if (c0 === C_HASH) { this.headerLine(s, first, end); return; }
    if (c0 === 67 /* C */ && s.startsWith('CPU', first)) { if (this.lostLine(s, first, end)) return; }
    if (!this.perf && first === start && (s.startsWith('cpus=', start) || s.startsWith('version', start))) {
      if (this.rangeMode) this.unjoinable ??= `line ${this.lineNo} of the range is a trace-cmd header`;
      if (s.startsWith('cpus=', start)) {
        this.clock.header(true);
        this.census.declare(readUint(s, start + 5, end));
      }
      this.ignoredLines++;
      return;
    }
    const err = this.perf ? parsePerfHeader(s, start, end, r, first) : parseFtraceHeader(s, start, end, r, first);
    if (err !== null) { this.skip(err, s, start, end); return; }
    this.eventLine(s, start, end, r, b);
  }

  /** A line whose header parsed: check it, then read the event. */
  private eventLine(s: string | null, start: number, end: number, r: LineRecord, b: Buffer | null): void {
    if (r.pid >= PID_LIMIT) { this.skip(`pid ${digitsAsWritten(r.pid, this.text(s), start, end)} is beyond the kernel's PID limit`, this.text(s), start, end); return; }
    if (r.cpu >= MAX_CPUS) { this.skip(`CPU ${r.cpu} is beyond the supported ${MAX_CPUS} CPUs`, this.text(s), start, end); return; }
    if (this.unterminated) {
      // Only the last line, always a string.
      const cut = this.cutShort(s!, r);
      if (cut !== null) { this.skip(cut, s!, start, end); return; }
    }
    const clock = this.clock;
    if (!clock.confirming && !this.dupReplay && this.lineNo !== this.dupChecked) {
      this.dupChecked = this.lineNo;
      const v = this.dups.check(s, b, this.chunk, start, end, r, this.lineNo);
      if (v !== Verdict.keep) {
        if (this.dups.runEnded) clock.newSegment = false;
        if (v === Verdict.handBack) this.readBack(this.dups.takePending());
        return;
      }
    }
    if (clock.newSegment) clock.startSegment(r.ns, this.lineNo, this.census.seen(r.cpu));
    r.ns += clock.timeShift;
    const ns = r.ns;
    if (!clock.confirming && !this.unterminated) {
      if (clock.held.length > 0 && clock.sameAsHeld(this.text(s), start, end, this.lineNo)) return;
      if (clock.held.length > 0 && clock.resolveHeld(ns)) {
        // Held lines were read first and used the line record: read this one again.
        this.lineNo--;
        this.line(this.text(s), start, end);
        return;
      }
      if (clock.mustHold(ns)) { clock.hold(this.text(s).slice(start, end), this.lineNo, ns); return; }
    }
    if (clock.tooLate(ns)) { clock.lateLine(this.text(s), start, end, ns, this.lineNo); return; }
    if (clock.lateRun.length > 0) clock.reportLateRun();
    const problem = this.event(s, r, b);
    if (problem !== null) { this.skip(problem, this.text(s), start, end); return; }
    if (this.census.countLine(r.cpu)) {
      this.census.keep(r.cpu, { file: this.file, line: this.lineNo, reason: '', text: this.text(s).slice(start, Math.min(end, start + 200)) });
    }
    clock.advance(ns, this.lineNo);
  }

  /** Read lines the duplicate check held and handed back, under their own numbers. */
  private readBack(lines: { text: string; lineNo: number }[]): void {
    if (lines.length === 0) return;
    const lineNo = this.lineNo;
    this.dupReplay = true;
    for (const x of lines) { this.lineNo = x.lineNo - 1; this.line(x.text, 0, x.text.length); }
    this.dupReplay = false;
    this.lineNo = lineNo;
  }

  private headerLine(s: string, first: number, end: number): void {
    this.readBack(this.dups.interrupt());
    this.ignoredLines++;
    const startsTrace = s.startsWith('# tracer:', first);
    this.clock.header(startsTrace);
    // "# entries-in-buffer/entries-written: 4157/4157   #P:2"
    const p = indexInLine(s, '#P:', first + 1, end);
    if (this.rangeMode && (startsTrace || p >= 0 || s.startsWith('# tlbsim-vm:', first))) this.unjoinable ??= `line ${this.lineNo} of the range is a header that starts a trace or declares its CPUs`;
    if (p >= 0) this.census.declare(readUint(s, p + 3, end));
    // "# tlbsim-vm: kernel=6.12.57+deb12-cloud-amd64 cpus=32 pcid=0 ..." (record --vm)
    if (s.startsWith('# tlbsim-vm:', first)) {
      const facts = recordedMachineOf(s.slice(first, end));
      if (facts !== null) this.machine = { ...this.machine, ...facts };
    }
    // "##### CPU 1 buffer started ####" needs nothing: per-CPU order is kept by ftrace.
  }

  /** "CPU:1 [LOST 1234 EVENTS]" / "CPU:1 [LOST EVENTS]" (ftrace), "CPU:1 [204 EVENTS DROPPED]" /
   *  "CPU:1 [EVENTS DROPPED]" (trace-cmd report). */
  private lostLine(s: string, first: number, end: number): boolean {
    let count = indexInLine(s, '[LOST', first, end);
    if (count >= 0) count += 5;
    else {
      const dropped = indexInLine(s, 'EVENTS DROPPED]', first, end);
      if (dropped < 0) return false;
      count = s.lastIndexOf('[', dropped) + 1;
      if (count <= first) return false;
    }
    let p = first + 3;
    if (p < end && s.charCodeAt(p) === C_COLON) p++;
    p = skipSpaces(s, p, end);
    const cpu = readUint(s, p, end);
    const n = readUint(s, skipSpaces(s, count, end), end);
    this.lostMarkers++;
    if (!Number.isNaN(n)) this.lostEvents += n;
    if (!Number.isNaN(cpu) && cpu < MAX_CPUS) {
      const maxNs = this.clock.maxNs;
      pushEvent(this.store.reserve(), EventKind.lost, maxNs === -Infinity ? 0 : maxNs, cpu, 0, 0, Number.isNaN(n) ? -1 : n, 0, 0);
      this.rawCounts[EventKind.lost]++;
    }
    this.ignoredLines++;
    return true;
  }

  /** Dispatch on the event name. Returns null or why the payload is malformed. */
  private event(str: string | null, r: LineRecord, b: Buffer | null): string | null {
    const sink = this.sink;
    const ns = r.nameStart, ne = r.nameEnd, ps = r.payloadStart, pe = r.payloadEnd;
    const len = ne - ns;
    if (b !== null) {
      // The three most common events, recognised by the byte header reader.
      switch (r.nameId) {
        case EventName.tlbFlush:
          if (tlbFlushBytes(sink, b, r, ps, pe)) return null;
          return tlbFlush(sink, this.text(str), r, ps, pe);
        case EventName.schedSwitch:
          if (schedSwitchBytes(sink, b, r, ps, pe)) return null;
          return schedSwitch(sink, this.text(str), r, ps, pe);
        case EventName.ipiSendCpu:
          if (ipiSendCpuBytes(sink, b, r, ps, pe)) return null;
          return ipiSendCpu(sink, this.text(str), r, ps, pe);
      }
      if (b[ns] === 115 /* s */ && b[ns + 1] === 121 /* y */ && b[ns + 2] === 115 /* s */ && b[ns + 3] === 95 /* _ */ && len > 4) {
        if (syscallBytes(sink, b, r, ns, ne, ps, pe)) return null;
        return syscall(sink, this.text(str), r, ns, ne, ps, pe);
      }
      if (len === 13 && isCsdQueueCpu(b, ns, ne)) {
        if (csdQueueBytes(sink, b, r, ps, pe)) return null;
        return csdQueue(sink, this.text(str), r, ps, pe);
      }
      if (len === 9 && isExitMmap(b, ns, ne)) {
        sink.emit(EventKind.exit_mmap, r, r.pid, sink.currentMmBytes(b, r), 0, 0, 0);
        return null;
      }
      switch (lifetimeEvent(b, ns, ne)) {
        case Lifetime.fork:
          if (forkBytes(sink, b, r, ps, pe)) return null;
          return fork(sink, this.text(str), r, ps, pe);
        case Lifetime.exec:
          if (execBytes(sink, b, r, ps, pe)) return null;
          return exec(sink, this.text(str), r, ps, pe);
        case Lifetime.exit:
          if (exitBytes(sink, b, r, ps, pe)) return null;
          return exit(sink, this.text(str), r, ps, pe);
        case Lifetime.migrate:
          if (migrateBytes(sink, b, r, ps, pe)) return null;
          return migrate(sink, this.text(str), r, ps, pe);
      }
    }
    const s = this.text(str);
    switch (s.charCodeAt(ns)) {
      case 116: // t
        if (len === 9 && s.startsWith('tlb_flush', ns)) {
          if (b !== null && tlbFlushBytes(sink, b, r, ps, pe)) return null;
          return tlbFlush(sink, s, r, ps, pe);
        }
        break;
      case 115: // s
        if (len === 12 && s.startsWith('sched_switch', ns)) {
          if (b !== null && schedSwitchBytes(sink, b, r, ps, pe)) return null;
          return schedSwitch(sink, s, r, ps, pe);
        }
        if (s.startsWith('sys_', ns)) {
          if (b !== null && syscallBytes(sink, b, r, ns, ne, ps, pe)) return null;
          return syscall(sink, s, r, ns, ne, ps, pe);
        }
        if (len === 18 && s.startsWith('sched_migrate_task', ns)) return migrate(sink, s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_fork', ns)) return fork(sink, s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exec', ns)) return exec(sink, s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exit', ns)) return exit(sink, s, r, ps, pe);
        break;
      case 105: // i
        if (len === 12 && s.startsWith('ipi_send_cpu', ns)) {
          if (b !== null && ipiSendCpuBytes(sink, b, r, ps, pe)) return null;
          return ipiSendCpu(sink, s, r, ps, pe);
        }
        if (len === 16 && s.startsWith('ipi_send_cpumask', ns)) return ipiSendMask(sink, s, r, ps, pe);
        break;
      case 99: // c
        if (len === 13 && s.startsWith('csd_queue_cpu', ns)) return csdQueue(sink, s, r, ps, pe);
        // irq_vectors: "call_function_entry: vector=251" (the CPU it is printed on took it)
        if ((len === 19 && s.startsWith('call_function_entry', ns)) || (len === 26 && s.startsWith('call_function_single_entry', ns))) {
          if (r.cpu >= MAX_CPUS) return 'call_function entry on a CPU beyond the supported range';
          sink.emit(EventKind.observed_ipi, r, r.pid, sink.currentMm(s, r), r.cpu, 1, IpiKind.received);
          return null;
        }
        break;
      case 101: // e
        if (len === 9 && s.startsWith('exit_mmap', ns)) {
          sink.emit(EventKind.exit_mmap, r, r.pid, sink.currentMm(s, r), 0, 0, 0);
          return null;
        }
        break;
    }
    // Keep the task table informed even by events we do not model.
    sink.currentMm(s, r);
    sink.countUnused(s, ns, ne);
    return null;
  }

  result(): IngestResult {
    const census = this.census;
    this.skippedLines += census.settle(this.sink.maxTarget, this.skipped, this.warnings);
    // Lines judged late (held, outvoted, damaged CPUs) were reported out of line order.
    this.skipped.sort((a, b) => a.line - b.line);
    if (this.skipped.length > MAX_SKIPPED_KEPT) this.skipped.length = MAX_SKIPPED_KEPT;
    this.clock.notes(this.warnings);
    return {
      format: this.format, cpus: census.count, cpusFromHeader: census.cpusFromHeader, lines: this.lineNo,
      ignoredLines: this.ignoredLines, skippedLines: this.skippedLines, skipped: this.skipped,
      lostEvents: this.lostEvents, lostMarkers: this.lostMarkers,
      unusedEvents: Object.fromEntries([...this.sink.unusedEvents].sort((a, b) => b[1] - a[1])),
      rawCounts: this.rawCounts, outOfOrder: this.clock.late, warnings: this.warnings,
      ...(this.machine !== undefined ? { machine: this.machine } : {}),
    };
  }
}
