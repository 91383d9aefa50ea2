// Text traces (ftrace, trace-cmd report, perf script) → raw events in an EventStore.
//
// Raw events are the canonical kinds except flush_request, whose derivation needs to know
// what the whole trace contains (see canonical.ts). Lines are split out of each chunk by
// indexOf('\n') (on its bytes when it is ASCII, else on its decoded string) and tokenized
// in place; a line that cannot be read is counted and reported with its number and the
// reason, and reading goes on.
import { EventKind, IpiKind, PrevState, type RecordedMachine, type SkippedLine, type TraceFormat, pushEvent } from './event.ts';
import { recordedMachineOf } from './vm-header.ts';
import { EventName, parseFtraceHeader, parseIntactFtraceHeader, parseIntactFtraceHeaderBytes, parsePerfHeader, newLineRecord, type LineRecord } from './headers.ts';
import { cursor, equalsAt, indexIn, indexInLine, isDigit, lastIndexIn, literalTest, readHex, readInt, readNumber, readUint, skipSpaces } from './scan.ts';
import type { TextChunk } from './input.ts';
import { EventStore } from './store.ts';
import { REORDER_WINDOW_NS } from './reorder.ts';
import { PID_LIMIT, TaskTable } from './tasks.ts';
import { fmtNs } from '../analysis/format.ts';
import { digitsAsWritten } from './encoding.ts';
import { Duplicates, Verdict } from './duplicates.ts';

/** Highest CPU number accepted when the trace does not say how many it has. */
export const MAX_CPUS = 4096;
/** How many skipped lines are kept with their text (all are counted). */
export const MAX_SKIPPED_KEPT = 1000;
/** 4 KiB pages in a 57-bit (5-level paging) user address space: any count above it is
 *  damage, not a flush. */
export const MAX_FLUSH_PAGES = 2 ** 45;
/** Distinct names of unused events counted one by one (the rest are counted together). */
const MAX_UNUSED_NAMES = 1000;
/** Lines that must name a CPU (beyond the header's count, or far beyond the busy CPUs of a
 *  trace without a count) for it to be taken as real. */
const MIN_LINES_OF_CPU = 16;
/** ...and at least this fraction of the lines of the busiest CPU (1/64). */
const BUSY_SHARE = 64;
/** Lines in time order, all more than the reorder window behind the trace, that make a
 *  clock reset (a second recording appended) rather than damage. */
const CLOCK_RESET_LINES = 16;
/** Stretches without events longer than this are mentioned. */
const GAP_NOTE_NS = 1e9;
/** Lines longer than this are reported, not parsed (a trace line is ~100-300 bytes). */
export const MAX_LINE = 64 * 1024;

/** A flat copy of a (possibly cons) string. */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const isPrevComm = literalTest('prev_comm='), isPrevPid = literalTest(' prev_pid='), isPrevPrio = literalTest(' prev_prio='),
  isPrevState = literalTest(' prev_state='), isArrowNext = literalTest(' ==> next_comm='), isNextPid = literalTest(' next_pid=');
const isCallback = literalTest('callback'),
  isGenericSmpCallFunction = literalTest('generic_smp_call_function'),
  isFlushTlbFunc = literalTest('flush_tlb_func'),
  isMunmap = literalTest('munmap'),
  isMadvise = literalTest('madvise'),
  isMprotect = literalTest('mprotect'),
  isMmap = literalTest('mmap'),
  isStart = literalTest('start'),
  isLenIn = literalTest('len_in'),
  isBehavior = literalTest('behavior'),
  isProt = literalTest('prot'),
  isCsdQueueCpu = literalTest('csd_queue_cpu'),
  isFunc = literalTest('func');

/** `sys_` and more at b[i..end): a syscall, which the byte readers take. */
function isSysPrefix(b: Buffer, i: number, end: number): boolean {
  return end - i > 4 && b[i] === 115 /* s */ && b[i + 1] === 121 /* y */ && b[i + 2] === 115 /* s */ && b[i + 3] === 95 /* _ */;
}

/** Value of each hex digit byte, -1 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) {
  if (c >= 48 && c <= 57) HEX_VALUE[c] = c - 48;
  else if (c >= 97 && c <= 102) HEX_VALUE[c] = c - 87;
  else if (c >= 65 && c <= 70) HEX_VALUE[c] = c - 55;
}

/** Value of a hex digit byte, -1 for anything else (undefined past the end included). */
function hexValue(c: number): number {
  const v = HEX_VALUE[c];
  return v === undefined ? -1 : v;
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
  machine?: RecordedMachine;
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
    if (/^\s*CPU:?\s*\d+ \[(LOST|(\d+ )?EVENTS DROPPED)/.test(line) || /^#{5} CPU/.test(line)) continue;
    // perf: "comm tid [cpu] secs: subsys:event:"
    if (/^.*\S\s+\d+(\/\d+)?\s+\[\d+\]\s+\d+\.\d+:\s+[\w-]+:[\w-]+:/.test(line)) return 'perf';
    // ftrace/trace-cmd: "comm-pid [cpu] ..."
    if (/^.*-\d+\s+(\([\s\d-]+\)\s+)?\[\d+\]\s+/.test(line)) return sawFtraceHeader ? 'ftrace' : (/\]\s+\S{4,5}\s+\d+(\.\d+)?:/.test(line) ? 'ftrace' : 'trace-cmd');
    if (sawFtraceHeader) return 'ftrace';
    // A damaged line: decide by the next ones.
  }
  return sawFtraceHeader ? 'ftrace' : null;
}

/** A line waiting for the lines after it to vouch for its timestamp (and its copies). */
interface Held { text: string; lineNos: number[]; ns: number }

/** Events the payload parsers read (the others are counted as unused). */
const KNOWN_EVENTS = ['tlb_flush', 'sched_switch', 'sched_migrate_task', 'sched_process_fork', 'sched_process_exec',
  'sched_process_exit', 'ipi_send_cpu', 'ipi_send_cpumask', 'csd_queue_cpu', 'exit_mmap',
  'call_function_entry', 'call_function_single_entry',
  ...['munmap', 'madvise', 'mprotect', 'mmap'].flatMap((n) => [`sys_${n}`, `sys_enter_${n}`])];

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
  /** Latest timestamp read. Events up to REORDER_WINDOW_NS behind it are stored as they
   *  come and counted in `late`; openTrace puts them in order (reorder.ts) when there are any. */
  private maxNs = -Infinity;
  late = 0;
  private maxLagNs = 0;
  /** The longest stretch without events, and the line that ended it. */
  private gapNs = 0;
  private gapLine = 0;
  /** A header seen again after events: the next event line starts another trace. */
  private newSegment = false;
  /** Added to every timestamp of a concatenated trace whose clock starts earlier. */
  private timeShift = 0;
  unusedEvents = new Map<string, number>();
  warnings: string[] = [];
  /** Facts of `# tlbsim-vm:` header lines (record --vm). */
  machine: RecordedMachine | undefined = undefined;

  constructor(readonly file: string, readonly format: TraceFormat, readonly store: EventStore) {
    this.perf = format === 'perf';
  }

  /** Feed a decoded chunk; `bytes`, when given, holds it one byte per character (an
   *  ASCII chunk). */
  push(chunk: string, bytes: Buffer | null = null): void {
    this.pushChunk({ text: chunk, bytes });
  }

  /** The ASCII chunk being read from its bytes (its text is decoded only if a line needs
   *  the string readers). */
  private chunk: TextChunk | null = null;

  /** The line's string: `s`, or (s null: a line read from the bytes of an ASCII chunk) the
   *  chunk's text, at the same offsets. */
  private text(s: string | null): string {
    return s !== null ? s : this.chunk!.text;
  }

  /** Feed a chunk. It is scanned in place: concatenating it to the previous tail would
   *  make a V8 cons string, on which charCodeAt is several times slower, so only the one
   *  line straddling two chunks is joined. An ASCII chunk is split and read from its
   *  bytes; its text, which most lines never need, is left to the chunk to decode when a
   *  line is read by the string readers (a fallback, a report, a new task's name...). */
  pushChunk(c: TextChunk): void {
    const b = c.bytes;
    if (b === null) { this.pushText(c.text); return; }
    let start = 0;
    if (this.carry.length > 0) {
      const nl = b.indexOf(C_NL);
      if (nl < 0) {
        this.carry += b.toString('latin1');
        this.dropRunawayLine();
        return;
      }
      const joined = flat(this.carry + b.toString('latin1', 0, nl));
      this.carry = '';
      this.line(joined, 0, joined.length);
      start = nl + 1;
    }
    this.chunk = c;
    for (;;) {
      // Buffer#indexOf is a memchr: several times faster than decoding the chunk to split
      // its string.
      const nl = b.indexOf(C_NL, start);
      if (nl < 0) break;
      this.line(null, start, nl, b);
      start = nl + 1;
    }
    this.chunk = null;
    if (start < b.length) {
      this.carry = b.toString('latin1', start);
      this.dropRunawayLine();
    }
  }

  private pushText(chunk: string): void {
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
    if (!this.inLongLine) {
      // Reported now, under the number line() gives it when its end arrives.
      this.lineNo++;
      this.skip(`line longer than ${MAX_LINE} characters`, this.carry, 0);
      this.lineNo--;
      this.inLongLine = true;
    }
    this.carry = '';
  }

  /** True while reading a last line that has no newline. */
  private unterminated = false;

  /** Call once at the end of input. */
  end(): void {
    if (this.carry.length > 0) {
      const s = this.carry;
      this.carry = '';
      this.unterminated = true;
      this.line(s, 0, s.length);
      this.unterminated = false;
    }
    this.readBack(this.dups.interrupt());
    this.flushHeld();
    if (this.lateRun.length > 0) this.reportLateRun();
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

  private skip(reason: string, s: string, start: number, end = Math.min(s.length, start + 200)): void {
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

  /** One line, [start, end) of the string s, or of the bytes b of the current chunk (s
   *  null: the string readers take text(s)). */
  private line(s: string | null, start: number, end: number, b: Buffer | null = null): void {
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
      if (b !== null && r.nameId === EventName.other && !isSysPrefix(b, r.nameStart, r.nameEnd) && !(r.nameEnd - r.nameStart === 13 && isCsdQueueCpu(b, r.nameStart, r.nameEnd))) {
        // An event without a byte reader (fork, exec, exit, csd_queue_cpu...) is read from
        // a string of its own line: decoding the whole chunk for it, as text() does, cost
        // more than parsing the chunk.
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
      if (s.startsWith('cpus=', start)) {
        this.flushHeld();
        if (this.lateRun.length > 0) this.reportLateRun();
        this.setCpus(readUint(s, start + 5, end));
        if (this.maxNs !== -Infinity) this.newSegment = true;
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
    if (!this.confirming && !this.dupReplay && this.lineNo !== this.dupChecked) {
      this.dupChecked = this.lineNo;
      const v = this.dups.check(s, b, this.chunk, start, end, r, this.lineNo);
      if (v !== Verdict.keep) {
        if (this.dups.runEnded) this.newSegment = false;
        if (v === Verdict.handBack) this.readBack(this.dups.takePending());
        return;
      }
    }
    if (this.newSegment) this.startSegment(r.ns);
    r.ns += this.timeShift;
    const ns = r.ns;
    if (!this.confirming && !this.unterminated) {
      if (this.held.length > 0 && this.sameAsHeld(this.text(s), start, end)) return;
      if (this.held.length > 0 && this.resolveHeld(ns)) {
        // Held lines were read first and used the line record: read this one again.
        this.lineNo--;
        this.line(this.text(s), start, end);
        return;
      }
      if (ns > this.maxNs + REORDER_WINDOW_NS || (this.maxNs === -Infinity && this.held.length < 2)) {
        this.held.push({ text: this.text(s).slice(start, end), lineNos: [this.lineNo], ns });
        return;
      }
    }
    if (ns < this.maxNs - REORDER_WINDOW_NS) { this.lateLine(this.text(s), start, end, ns); return; }
    if (this.lateRun.length > 0) this.reportLateRun();
    const problem = this.event(s, r, b);
    if (problem !== null) { this.skip(problem, this.text(s), start, end); return; }
    if (r.cpu > this.maxCpu) this.maxCpu = r.cpu;
    this.noteLineCpu(r.cpu, s, start, end);
    if (ns >= this.maxNs) {
      if (ns - this.maxNs > this.gapNs && this.maxNs !== -Infinity) { this.gapNs = ns - this.maxNs; this.gapLine = this.lineNo; }
      this.maxNs = ns;
    } else {
      this.late++;
      if (this.maxNs - ns > this.maxLagNs) this.maxLagNs = this.maxNs - ns;
    }
  }

  /** Copies of lines and repeats of the whole recording (duplicates.ts). */
  private readonly dups = new Duplicates();
  private dupReplay = false;
  private dupChecked = 0;

  /** Read lines the duplicate check held and handed back, under their own numbers. */
  private readBack(lines: { text: string; lineNo: number }[]): void {
    if (lines.length === 0) return;
    const lineNo = this.lineNo;
    this.dupReplay = true;
    for (const x of lines) { this.lineNo = x.lineNo - 1; this.line(x.text, 0, x.text.length); }
    this.dupReplay = false;
    this.lineNo = lineNo;
  }

  /** Lines whose timestamp is not yet vouched for. A line that jumps more than the window
   *  past every line before it waits for the next event line to show whether the trace
   *  went on from there (a gap in tracing) or carried on from before (one damaged
   *  timestamp), so that one wrong line cannot make every line after it look late. The
   *  first event line has nothing before it: it and, if they disagree, the second wait
   *  for a third to side with one of them. */
  private held: Held[] = [];
  private confirming = false;

  /** A copy of the last held line (a duplicated line) is no evidence for it: it shares
   *  its verdict. */
  private sameAsHeld(s: string, start: number, end: number): boolean {
    const h = this.held[this.held.length - 1];
    if (end - start !== h.text.length || !s.startsWith(h.text, start)) return false;
    h.lineNos.push(this.lineNo);
    return true;
  }

  /** Decide held lines by the next event's time. True when some were read as events
   *  (the caller's line record is then stale). */
  private resolveHeld(nextNs: number): boolean {
    const h = this.held;
    const W = REORDER_WINDOW_NS;
    if (nextNs >= h[0].ns - W) {
      // The next line goes on from the first held one: it stands, a second one (which
      // disagreed with it) was the damaged one.
      this.held = [];
      this.readHeld(h[0]);
      if (h.length > 1) this.refute(h[1], nextNs);
      return true;
    }
    if (h.length === 1 && this.maxNs === -Infinity) return false; // the caller holds this one too
    this.held = [];
    this.refute(h[0], nextNs);
    if (h.length > 1) { this.readHeld(h[1]); return true; }
    return false;
  }

  private refute(h: Held, nextNs: number): void {
    const lineNo = this.lineNo;
    const sec = (t: number) => (t / 1e9).toFixed(6);
    const before = this.maxNs === -Infinity ? '' : ` before it (${sec(this.maxNs)} s) and`;
    for (const n of h.lineNos) {
      this.lineNo = n;
      this.skip(`timestamp ${sec(h.ns)} s is out of line with the lines${before} after it (${sec(nextNs)} s): a damaged timestamp, left out`, h.text, 0);
    }
    this.lineNo = lineNo;
  }

  private readHeld(h: Held): void {
    const lineNo = this.lineNo;
    this.confirming = true;
    for (const n of h.lineNos) {
      this.lineNo = n - 1;
      this.line(h.text, 0, h.text.length);
    }
    this.confirming = false;
    this.lineNo = lineNo;
  }

  /** Read the held lines as events (a header or the end of input came next). */
  private flushHeld(): void {
    const h = this.held;
    this.held = [];
    for (const x of h) this.readHeld(x);
  }

  /** Event lines per CPU, and the first lines of each CPU named on few of them. `#P:` is
   *  the number of *online* CPUs (num_online_cpus()), so with CPUs offline (nosmt,
   *  hotplug) real CPU numbers exceed it, while a damaged CPU column shows on a line or
   *  two; traces without a CPU count (perf) have only the lines to go by. Which CPUs are
   *  real is decided at the end, by how many lines name them. */
  private readonly linesOnCpu = new Int32Array(MAX_CPUS);
  private readonly fewLines = new Map<number, SkippedLine[]>();
  /** Highest CPU an IPI was sent to (counted only if it is not a damaged number). */
  private maxTarget = -1;

  private noteLineCpu(cpu: number, s: string | null, start: number, end: number): void {
    const n = ++this.linesOnCpu[cpu];
    if (n >= MIN_LINES_OF_CPU) return;
    let kept = this.fewLines.get(cpu);
    if (kept === undefined) { kept = []; this.fewLines.set(cpu, kept); }
    kept.push({ file: this.file, line: this.lineNo, reason: '', text: this.text(s).slice(start, Math.min(end, start + 200)) });
  }

  /** Settle the CPU count. With a header: CPUs beyond it named on MIN_LINES_OF_CPU lines
   *  or more are real (the machine grows, a note says so), the others' lines are damage.
   *  Without: a CPU named on few lines and numbered beyond twice the busiest CPUs (and at
   *  least 8) is damage. Damaged lines are reported and their events left out (canonical.ts
   *  drops events of CPUs >= cpus). */
  private settleCpus(): void {
    let maxBusy = -1, maxLine = -1, most = 0;
    for (let c = 0; c <= this.maxCpu && c < MAX_CPUS; c++) most = Math.max(most, this.linesOnCpu[c]);
    // Busy: named on enough lines, absolutely and next to the busiest CPU (damage that
    // repeats one wrong number over a long trace still stays far below the real CPUs).
    const busyLines = Math.max(MIN_LINES_OF_CPU, most / BUSY_SHARE);
    for (let c = 0; c <= this.maxCpu && c < MAX_CPUS; c++) {
      if (this.linesOnCpu[c] >= busyLines) maxBusy = c;
      if (this.linesOnCpu[c] > 0) maxLine = c;
    }
    const declared = this.cpus;
    let limit: number;
    if (this.cpusFromHeader) {
      if (maxBusy >= declared) {
        this.cpus = maxBusy + 1;
        const extra = [];
        for (let c = declared; c <= maxBusy; c++) if (this.linesOnCpu[c] >= busyLines) extra.push(c);
        this.warnings.push(`the header declares ${declared} CPUs (#P counts the online ones) but lines name CPU ${extra.join(', ')}: simulating ${this.cpus} CPUs`);
      }
      limit = this.cpus;
    } else {
      limit = maxBusy < 0 ? Infinity : Math.max(8, 2 * (maxBusy + 1));
      let keep = -1;
      for (let c = 0; c <= maxLine; c++) if (this.linesOnCpu[c] > 0 && c < limit) keep = c;
      if (this.maxTarget < limit && this.maxTarget > keep) keep = this.maxTarget;
      this.maxCpu = keep;
    }
    for (const [cpu, kept] of this.fewLines) {
      if (cpu < limit || this.linesOnCpu[cpu] >= busyLines) continue;
      const n = this.linesOnCpu[cpu];
      this.skippedLines += n;
      for (const k of kept) {
        k.reason = this.cpusFromHeader
          ? `CPU ${cpu} is beyond the ${declared} CPUs the header declares (and only ${n} line${n === 1 ? ' names' : 's name'} it)`
          : `CPU ${cpu} is named on only ${n} line${n === 1 ? '' : 's'}, far beyond the CPUs the trace is busy on (up to CPU ${maxBusy}): a damaged CPU number`;
        this.skipped.push(k);
      }
    }
    // Lines judged late (held, outvoted, damaged CPUs) were reported out of line order.
    this.skipped.sort((a, b) => a.line - b.line);
    if (this.skipped.length > MAX_SKIPPED_KEPT) this.skipped.length = MAX_SKIPPED_KEPT;
  }

  /** Lines more than the window behind, in a row. One or a few are damage, reported when
   *  the trace carries on; a run of CLOCK_RESET_LINES lines in time order is a second
   *  recording appended without its header (`cat perf1.txt perf2.txt`): it is shifted to
   *  follow the first, like a concatenated trace with a header. */
  private lateRun: Held[] = [];

  private lateLine(s: string, start: number, end: number, ns: number): void {
    const run = this.lateRun;
    if (run.length > 0 && (ns < run[run.length - 1].ns - REORDER_WINDOW_NS || this.confirming)) this.reportLateRun();
    if (this.confirming) { this.skip(this.lateReason(ns), s, start, end); return; }
    run.push({ text: s.slice(start, end), lineNos: [this.lineNo], ns });
    if (run.length < CLOCK_RESET_LINES) return;
    this.lateRun = [];
    const back = this.maxNs - run[0].ns;
    this.timeShift += back + 1000;
    this.warnings.push(`line ${run[0].lineNos[0]}: the clock goes back ${fmtNs(back)} and the trace carries on from there: a second recording without its header (concatenated files?); its events are shifted by +${fmtNs(back + 1000)} to follow the first`);
    for (const h of run) this.readHeld(h);
  }

  private reportLateRun(): void {
    const run = this.lateRun;
    this.lateRun = [];
    const lineNo = this.lineNo;
    for (const h of run) {
      this.lineNo = h.lineNos[0];
      this.skip(this.lateReason(h.ns), h.text, 0);
    }
    this.lineNo = lineNo;
  }

  private lateReason(ns: number): string {
    const sec = (t: number) => (t / 1e9).toFixed(6);
    return `timestamp ${sec(ns)} s is ${fmtNs(this.maxNs - ns)} earlier than the trace had reached (${sec(this.maxNs)} s); ` +
      `events up to ${fmtNs(REORDER_WINDOW_NS)} late are put back in order, this one is left out`;
  }

  /** The first event after a repeated header (`cat a.txt b.txt`). A trace whose clock
   *  starts before the end of the previous one is shifted to follow it, so that both are
   *  replayed whole and in order; one that starts later is read as a continuation. */
  private startSegment(ns: number): void {
    this.newSegment = false;
    const end = this.maxNs - this.timeShift;
    const where = `line ${this.lineNo} begins another trace (its header repeats: concatenated files?)`;
    // A clock that goes back is another recording; by less than the reorder window, only
    // if a CPU it starts on was traced before (per-CPU files, cat per_cpu/cpu*/trace, cover
    // the same time on other CPUs and are read interleaved).
    if (ns + REORDER_WINDOW_NS < end || (ns < end && this.rec.cpu < MAX_CPUS && this.linesOnCpu[this.rec.cpu] > 0)) {
      this.timeShift += end - ns + 1000;
      this.warnings.push(`${where}; its clock starts ${fmtNs(end - ns)} before the end of the previous one, so its events are shifted by +${fmtNs(end - ns + 1000)} to follow them`);
    } else if (ns < end) {
      this.warnings.push(`${where}; its clock starts ${fmtNs(end - ns)} before the end of the previous one, on a CPU the previous one did not trace (per-CPU files of one recording?): the two are read interleaved, in time order`);
    } else {
      this.warnings.push(`${where}; its events follow the previous ones in time and are read as a continuation`);
    }
  }

  private setCpus(n: number): void {
    // Concatenated traces may declare different counts: the machine needs the largest.
    if (!Number.isNaN(n) && n > 0 && n <= MAX_CPUS && (!this.cpusFromHeader || n > this.cpus)) { this.cpus = n; this.cpusFromHeader = true; }
  }

  private headerLine(s: string, first: number, end: number): void {
    this.readBack(this.dups.interrupt());
    this.ignoredLines++;
    this.flushHeld();
    if (this.lateRun.length > 0) this.reportLateRun();
    if (this.maxNs !== -Infinity && s.startsWith('# tracer:', first)) this.newSegment = true;
    // "# entries-in-buffer/entries-written: 4157/4157   #P:2"
    const p = indexInLine(s, '#P:', first + 1, end);
    if (p >= 0) this.setCpus(readUint(s, p + 3, end));
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
      pushEvent(this.store.reserve(), EventKind.lost, this.maxNs === -Infinity ? 0 : this.maxNs, cpu, 0, 0, Number.isNaN(n) ? -1 : n, 0, 0);
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

  /** currentMm for a line read from the bytes of an ASCII chunk. */
  private currentMmBytes(b: Buffer, r: LineRecord): number {
    const t = this.tasks;
    if (!t.isNew(r.pid)) return t.mmOfTask(r.pid, r.tgid);
    let i = r.commStart;
    while (i < r.commEnd && (b[i] === C_SPACE || b[i] === 9)) i++;
    return t.mmOfTask(r.pid, r.tgid, b.toString('latin1', i, r.commEnd));
  }

  private emit(kind: number, r: LineRecord, tid: number, mm: number, a: number, b: number, c: number): void {
    pushEvent(this.store.reserve(), kind, r.ns, r.cpu, tid, mm, a, b, c);
    this.rawCounts[kind]++;
  }

  /** Dispatch on the event name. Returns null or why the payload is malformed. */
  private event(str: string | null, r: LineRecord, b: Buffer | null): string | null {
    const ns = r.nameStart, ne = r.nameEnd, ps = r.payloadStart, pe = r.payloadEnd;
    const len = ne - ns;
    if (b !== null) {
      // The three most common events, recognised by the byte header reader.
      switch (r.nameId) {
        case EventName.tlbFlush:
          if (this.tlbFlushBytes(b, r, ps, pe)) return null;
          return this.tlbFlush(this.text(str), r, ps, pe);
        case EventName.schedSwitch:
          if (this.schedSwitchBytes(b, r, ps, pe)) return null;
          return this.schedSwitch(this.text(str), r, ps, pe);
        case EventName.ipiSendCpu:
          if (this.ipiSendCpuBytes(b, r, ps, pe)) return null;
          return this.ipiSendCpu(this.text(str), r, ps, pe);
      }
      if (b[ns] === 115 /* s */ && b[ns + 1] === 121 /* y */ && b[ns + 2] === 115 /* s */ && b[ns + 3] === 95 /* _ */ && len > 4) {
        if (this.syscallBytes(b, r, ns, ne, ps, pe)) return null;
        return this.syscall(this.text(str), r, ns, ne, ps, pe);
      }
      if (len === 13 && isCsdQueueCpu(b, ns, ne)) {
        if (this.csdQueueBytes(b, r, ps, pe)) return null;
        return this.csdQueue(this.text(str), r, ps, pe);
      }
    }
    const s = this.text(str);
    switch (s.charCodeAt(ns)) {
      case 116: // t
        if (len === 9 && s.startsWith('tlb_flush', ns)) {
          if (b !== null && this.tlbFlushBytes(b, r, ps, pe)) return null;
          return this.tlbFlush(s, r, ps, pe);
        }
        break;
      case 115: // s
        if (len === 12 && s.startsWith('sched_switch', ns)) {
          if (b !== null && this.schedSwitchBytes(b, r, ps, pe)) return null;
          return this.schedSwitch(s, r, ps, pe);
        }
        if (s.startsWith('sys_', ns)) {
          if (b !== null && this.syscallBytes(b, r, ns, ne, ps, pe)) return null;
          return this.syscall(s, r, ns, ne, ps, pe);
        }
        if (len === 18 && s.startsWith('sched_migrate_task', ns)) return this.migrate(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_fork', ns)) return this.fork(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exec', ns)) return this.exec(s, r, ps, pe);
        if (len === 18 && s.startsWith('sched_process_exit', ns)) return this.exit(s, r, ps, pe);
        break;
      case 105: // i
        if (len === 12 && s.startsWith('ipi_send_cpu', ns)) {
          if (b !== null && this.ipiSendCpuBytes(b, r, ps, pe)) return null;
          return this.ipiSendCpu(s, r, ps, pe);
        }
        if (len === 16 && s.startsWith('ipi_send_cpumask', ns)) return this.ipiSendMask(s, r, ps, pe);
        break;
      case 99: // c
        if (len === 13 && s.startsWith('csd_queue_cpu', ns)) return this.csdQueue(s, r, ps, pe);
        // irq_vectors: "call_function_entry: vector=251" (the CPU it is printed on took it)
        if ((len === 19 && s.startsWith('call_function_entry', ns)) || (len === 26 && s.startsWith('call_function_single_entry', ns))) {
          if (r.cpu >= MAX_CPUS) return 'call_function entry on a CPU beyond the supported range';
          this.emit(EventKind.observed_ipi, r, r.pid, this.currentMm(s, r), r.cpu, 1, IpiKind.received);
          return null;
        }
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
    this.countUnused(s, ns, ne);
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
    let pages = readInt(s, pv, pe);
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
    if (pages > MAX_FLUSH_PAGES) {
      // TLB_FLUSH_ALL printed as unsigned (a tool that ignored the format's %ld).
      if (pages === 2 ** 64) pages = -1;
      else return `tlb_flush pages ${s.slice(pv, Math.min(pe, pv + 24)).split(' ')[0]} is more than a 57-bit address space holds`;
    }
    this.emit(EventKind.observed_flush, r, r.pid, this.currentMm(s, r), reason, pages, 0);
    return null;
  }

  /** tlbFlush for the common form on the bytes of an ASCII chunk: `pages:N` (or `=`)
   *  first, a decimal reason in parentheses last, both in range. Anything else returns
   *  false having emitted nothing, and tlbFlush reads the line (and reports it if bad). */
  private tlbFlushBytes(b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
    // "pages" at the payload start, then ':' or '=' and spaces: what valueAfter finds first.
    if (pe - ps < 8 || b[ps] !== 112 || b[ps + 1] !== 97 || b[ps + 2] !== 103 || b[ps + 3] !== 101 || b[ps + 4] !== 115) return false;
    const sep = b[ps + 5];
    if (sep !== C_COLON && sep !== C_EQ) return false;
    let i = ps + 6;
    while (i < pe && (b[i] === C_SPACE || b[i] === 9)) i++;
    const negative = i < pe && b[i] === C_DASH;
    if (negative) i++;
    let pages = 0, digits = 0;
    while (i < pe && b[i] >= 48 && b[i] <= 57) { pages = pages * 10 + (b[i] - 48); i++; digits++; }
    if (digits === 0) return false;
    if (negative) pages = -pages;
    if (pages < -1 || pages > MAX_FLUSH_PAGES) return false;
    // "(N)" at the end, N decimal: the reason number.
    let e = pe;
    while (e > ps && b[e - 1] === C_SPACE) e--;
    if (e <= ps || b[e - 1] !== C_RPAREN) return false;
    let reason = 0, place = 1, k = e - 2;
    while (k >= ps && b[k] >= 48 && b[k] <= 57) { reason += (b[k] - 48) * place; place *= 10; k--; }
    if (place === 1 || place > 1000 || k < ps || b[k] !== C_LPAREN || reason > 255) return false;
    this.emit(EventKind.observed_flush, r, r.pid, this.currentMmBytes(b, r), reason, pages, 0);
    return true;
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

  /** schedSwitch for the raw form on the bytes of an ASCII chunk, when every anchor is
   *  where the general path's search would first find it: `prev_comm=` at the start, the
   *  first ` prev_pid=` followed by digits, ` prev_prio=`, ` prev_state=` and a state
   *  letter, ` ==> next_comm=` at the first space after the state, and the last
   *  ` next_pid=` followed by digits. Anything else returns false with no side effect
   *  (nothing emitted, no task registered) and schedSwitch reads the line. */
  private schedSwitchBytes(b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
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
    const prevMm = this.currentMmBytes(b, r);
    const t = this.tasks;
    let mm = prevMm;
    if (prevPid !== r.pid) mm = t.isNew(prevPid) ? t.mmOfTask(prevPid, -1, b.toString('latin1', ps + 10, k)) : t.mmOfTask(prevPid, -1);
    const nextMm = t.isNew(nextPid) ? t.mmOfTask(nextPid, -1, b.toString('latin1', arrow + 15, np)) : t.mmOfTask(nextPid, -1);
    this.emit(EventKind.switch, r, prevPid, mm, nextPid, nextMm, state);
    return true;
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

  /** Where leadingCpuField's field ended (a field, not a return object: no allocation per line). */
  private cpuFieldEnd = 0;

  /** The decimal N of a payload that starts `cpu=N` (or `cpu: N`), below MAX_CPUS, with
   *  cpuFieldEnd set after it; -1 for any other form (the string path reads those). */
  private leadingCpuField(b: Buffer, ps: number, pe: number): number {
    if (pe - ps < 5 || b[ps] !== 99 /* c */ || b[ps + 1] !== 112 /* p */ || b[ps + 2] !== 117 /* u */) return -1;
    let i = ps + 3;
    if (b[i] !== C_EQ && b[i] !== C_COLON) return -1;
    i++;
    while (i < pe && (b[i] === C_SPACE || b[i] === 9)) i++;
    let target = 0, c = b[i];
    if (i >= pe || c < 48 || c > 57 || (c === 48 && (b[i + 1] === 120 || b[i + 1] === 88))) return -1;
    while (i < pe && c >= 48 && c <= 57) { target = target * 10 + (c - 48); c = b[++i]; }
    // readNumber would read a decimal run followed by a hex letter as hex.
    if (i < pe && c !== C_SPACE) return -1;
    if (target >= MAX_CPUS) return -1;
    this.cpuFieldEnd = i;
    return target;
  }

  /** ipiSendCpu on the bytes of an ASCII chunk for the common form: `cpu=N` (or `cpu:`)
   *  first with a decimal N, and the first `callback` in the payload being the field (a
   *  delimiter before it, `=` or `:` after). Otherwise false, nothing done. */
  private ipiSendCpuBytes(b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
    const target = this.leadingCpuField(b, ps, pe);
    if (target < 0) return false;
    const i = this.cpuFieldEnd;
    let kind: number = IpiKind.real;
    for (let k = i; k + 8 <= pe; k++) {
      if (b[k] !== 99 /* c */ || !isCallback(b, k, pe)) continue;
      const before = b[k - 1], after = b[k + 8];
      if (!(before === C_SPACE || before === C_COMMA || before === C_LPAREN) || !(after === C_COLON || after === C_EQ)) return false;
      let v = k + 9;
      while (v < pe && (b[v] === C_SPACE || b[v] === 9)) v++;
      // startsWith in ipiKind is not bounded by the payload end: neither is this.
      kind = isGenericSmpCallFunction(b, v, b.length) ? IpiKind.real : isFlushTlbFunc(b, v, b.length) ? IpiKind.flushCall : IpiKind.otherCall;
      break;
    }
    const mm = this.currentMmBytes(b, r);
    this.noteCpu(target);
    this.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, kind);
    return true;
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
    // Targets are ascending: check the last before emitting any, so a bad line adds nothing.
    if (targets.length > 0 && targets[targets.length - 1] >= MAX_CPUS) return 'ipi_send_cpumask names a CPU beyond the supported range';
    let first = 1;
    for (const cpu of targets) {
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

  /** csdQueue on the bytes of an ASCII chunk for the common form: `cpu=N` (or `cpu:`)
   *  first with a decimal N, and a `func` field. Otherwise false, nothing done. */
  private csdQueueBytes(b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
    const target = this.leadingCpuField(b, ps, pe);
    if (target < 0) return false;
    const i = this.cpuFieldEnd;
    // The first `func` that valueAfter takes: a delimiter (or the payload start) before
    // it, `:` or `=` after it.
    let v = -1;
    for (let k = ps; k + 4 <= pe; k++) {
      if (b[k] !== 102 /* f */ || !isFunc(b, k, pe)) continue;
      const before = k === ps ? C_SPACE : b[k - 1], after = b[k + 4];
      if ((before === C_SPACE || before === C_COMMA || before === C_LPAREN) && (after === C_COLON || after === C_EQ)) { v = k + 5; break; }
      k += 3;
    }
    const mm = this.currentMmBytes(b, r);
    if (v >= 0) while (v < pe && (b[v] === C_SPACE || b[v] === 9)) v++;
    // startsWith in csdQueue is not bounded by the payload end: neither is this.
    if (v < 0 || !isFlushTlbFunc(b, v, b.length)) {
      this.unusedEvents.set('csd_queue_cpu', (this.unusedEvents.get('csd_queue_cpu') ?? 0) + 1);
      return true;
    }
    this.noteCpu(target);
    this.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, IpiKind.flushQueued);
    return true;
  }

  private noteCpu(cpu: number): void {
    if (cpu > this.maxTarget) this.maxTarget = cpu;
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

  /** syscall on the bytes of an ASCII chunk, for munmap / madvise / mprotect / mmap whose
   *  payload is a plain list `key: number, key: number, ...` (`=` also; numbers as
   *  readNumber reads them, each ending at a comma or the payload end). The first field
   *  of each name is the one valueAfter finds, since every key then starts a field.
   *  Anything else returns false having done nothing, and syscall reads the line. */
  private syscallBytes(b: Buffer, r: LineRecord, ns: number, ne: number, ps: number, pe: number): boolean {
    let n = ns + 4;
    if (ne - n > 6 && b[n] === 101 /* e */ && b[n + 1] === 110 && b[n + 2] === 116 && b[n + 3] === 101 && b[n + 4] === 114 && b[n + 5] === 95) n += 6;
    const nameLen = ne - n;
    let kind: number;
    if (nameLen === 6 && isMunmap(b, n, ne)) kind = EventKind.munmap;
    else if (nameLen === 7 && isMadvise(b, n, ne)) kind = EventKind.madvise;
    else if (nameLen === 8 && isMprotect(b, n, ne)) kind = EventKind.mprotect;
    else if (nameLen === 4 && isMmap(b, n, ne)) kind = EventKind.mmap;
    else return false;
    // First value of each key the syscall needs (NaN: not seen).
    let addr = NaN, start = NaN, len = NaN, lenIn = NaN, behavior = NaN, prot = NaN;
    let i = ps;
    while (i < pe) {
      while (i < pe && b[i] === C_SPACE) i++;
      const ks = i;
      let c = b[i];
      while (i < pe && ((c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90))) c = b[++i];
      const ke = i;
      if (ke === ks || i >= pe || (c !== C_COLON && c !== C_EQ)) return false;
      i++;
      while (i < pe && (b[i] === C_SPACE || b[i] === 9)) i++;
      // readNumber: 0x hex, -decimal, decimal, or a decimal run followed by a hex letter read as hex.
      let v = 0, digits = 0;
      c = b[i];
      if (c === 48 && i + 1 < pe && (b[i + 1] === 120 || b[i + 1] === 88)) {
        i += 2;
        for (let d = hexValue(b[i]); i < pe && d >= 0; d = hexValue(b[++i])) { v = v * 16 + d; digits++; }
      } else {
        const negative = c === C_DASH;
        if (negative) i++;
        for (c = b[i]; i < pe && c >= 48 && c <= 57; c = b[++i]) { v = v * 10 + (c - 48); digits++; }
        if (i < pe && hexValue(c) >= 10) return false;
        if (negative) v = -v;
      }
      if (digits === 0) return false;
      while (i < pe && b[i] === C_SPACE) i++;
      if (i < pe) { if (b[i] !== C_COMMA) return false; i++; }
      const kl = ke - ks;
      if (kl === 3 && b[ks] === 108 && b[ks + 1] === 101 && b[ks + 2] === 110) { if (len !== len) len = v; }
      else if (kl === 4 && b[ks] === 97 && b[ks + 1] === 100 && b[ks + 2] === 100 && b[ks + 3] === 114) { if (addr !== addr) addr = v; }
      else if (kl === 5 && isStart(b, ks, ke)) { if (start !== start) start = v; }
      else if (kl === 6 && isLenIn(b, ks, ke)) { if (lenIn !== lenIn) lenIn = v; }
      else if (kl === 8 && isBehavior(b, ks, ke)) { if (behavior !== behavior) behavior = v; }
      else if (kl === 4 && isProt(b, ks, ke)) { if (prot !== prot) prot = v; }
    }
    let a: number, l: number, extra: number;
    if (kind === EventKind.munmap) { a = addr; l = len; extra = 0; }
    else if (kind === EventKind.madvise) { a = start; l = lenIn === lenIn ? lenIn : len; extra = behavior; }
    else if (kind === EventKind.mprotect) { a = start; l = len; extra = prot; }
    else { a = addr; l = len; extra = prot; }
    if (a !== a || l !== l || extra !== extra) return false;
    this.emit(kind, r, r.pid, this.currentMmBytes(b, r), a, l, extra);
    return true;
  }

  private countUnused(s: string, ns: number, ne: number): void {
    let name = s.slice(ns, ne);
    // Names come from the file: a damaged or hostile one could make millions of them.
    if (!this.unusedEvents.has(name) && this.unusedEvents.size >= MAX_UNUSED_NAMES) name = '(other names)';
    this.unusedEvents.set(name, (this.unusedEvents.get(name) ?? 0) + 1);
  }

  result(): IngestResult {
    this.settleCpus();
    const cpus = this.cpusFromHeader ? this.cpus : this.maxCpu + 1;
    // A trace paused for a while is normal; a first line far from the rest may also be a
    // damaged timestamp that nothing before it can refute: either way the user should know.
    if (this.gapNs > GAP_NOTE_NS) this.warnings.push(`the longest stretch without events is ${fmtNs(this.gapNs)}, before line ${this.gapLine}`);
    const late = this.late;
    if (late > 0) this.warnings.push(`${late} event${late === 1 ? '' : 's'} came up to ${fmtNs(this.maxLagNs)} late and ${late === 1 ? 'was' : 'were'} put back in time order (window ${fmtNs(REORDER_WINDOW_NS)})`);
    return {
      format: this.format, cpus: Math.max(cpus, 1), cpusFromHeader: this.cpusFromHeader, lines: this.lineNo,
      ignoredLines: this.ignoredLines, skippedLines: this.skippedLines, skipped: this.skipped,
      lostEvents: this.lostEvents, lostMarkers: this.lostMarkers,
      unusedEvents: Object.fromEntries([...this.unusedEvents].sort((a, b) => b[1] - a[1])),
      rawCounts: this.rawCounts, outOfOrder: late, warnings: this.warnings,
      ...(this.machine !== undefined ? { machine: this.machine } : {}),
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
