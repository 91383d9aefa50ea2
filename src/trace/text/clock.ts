// Timestamp repair: the trace's clock as the lines tell it. Lines a little late (up to the
// reorder window) are kept and put in order later (reorder.ts); a line that jumps ahead
// waits for the next to vouch for it; lines far behind are damage, or, many in a row, a
// second recording appended; a repeated header starts another trace, shifted to follow the
// first when its clock starts earlier.
import { fmtNs } from '../../analysis/format.ts';
import { REORDER_WINDOW_NS } from '../reorder.ts';

/** Lines in time order, all more than the reorder window behind the trace, that make a
 *  clock reset (a second recording appended) rather than damage. */
const CLOCK_RESET_LINES = 16;
/** Stretches without events longer than this are mentioned. */
const GAP_NOTE_NS = 1e9;

/** A line waiting for the lines after it to vouch for its timestamp (and its copies). */
export interface Held { text: string; lineNos: number[]; ns: number }

/** What the clock needs of the reader: lines read again, lines reported. */
export interface ClockHost {
  lineNo: number;
  readonly warnings: string[];
  /** Read `text` again as line `lineNo`, an event line whose time is now vouched for. */
  readAgain(text: string, lineNo: number): void;
  /** Report line `lineNo` as skipped. */
  skipAt(lineNo: number, reason: string, text: string): void;
}

const sec = (t: number) => (t / 1e9).toFixed(6);

/** What a range worker's clock found (parallel ingest), for the main thread's to add. */
export interface RangeClock { maxNs: number; late: number; maxLagNs: number; gapNs: number; gapLine: number }

export class TraceClock {
  /** Latest timestamp read. Events up to REORDER_WINDOW_NS behind it are stored as they
   *  come and counted in `late`; openTrace puts them in order when there are any. */
  maxNs = -Infinity;
  late = 0;
  private maxLagNs = 0;
  /** The longest stretch without events, and the line that ended it. */
  private gapNs = 0;
  private gapLine = 0;
  /** A header seen again after events: the next event line starts another trace. */
  newSegment = false;
  /** Added to every timestamp of a concatenated trace whose clock starts earlier. */
  timeShift = 0;
  /** Lines whose timestamp is not yet vouched for. A line that jumps more than the window
   *  past every line before it waits for the next event line to show whether the trace
   *  went on from there (a gap in tracing) or carried on from before (one damaged
   *  timestamp), so that one wrong line cannot make every line after it look late. The
   *  first event line has nothing before it: it and, if they disagree, the second wait
   *  for a third to side with one of them. */
  held: Held[] = [];
  /** True while held lines are read again. */
  confirming = false;
  /** Lines more than the window behind, in a row. One or a few are damage, reported when
   *  the trace carries on; a run of CLOCK_RESET_LINES lines in time order is a second
   *  recording appended without its header (`cat perf1.txt perf2.txt`): it is shifted to
   *  follow the first, like a concatenated trace with a header. */
  lateRun: Held[] = [];

  constructor(private readonly host: ClockHost) {}

  /** Nothing waits on a later line and no shift applies: a line read next is judged by
   *  maxNs alone, so a range worker whose look-behind reached the same maxNs judges the
   *  lines of its range as one reader would. */
  get quiet(): boolean {
    return this.held.length === 0 && this.lateRun.length === 0 && !this.newSegment && this.timeShift === 0 && !this.confirming;
  }

  /** A range worker, after its look-behind lines: keep maxNs, count afresh. */
  beginRange(): void {
    this.late = 0; this.maxLagNs = 0; this.gapNs = 0; this.gapLine = 0;
  }

  rangeResult(): RangeClock {
    return { maxNs: this.maxNs, late: this.late, maxLagNs: this.maxLagNs, gapNs: this.gapNs, gapLine: this.gapLine };
  }

  /** Add a later range's findings (its lines numbered from `offset` + 1). */
  absorb(r: RangeClock, offset: number): void {
    if (r.gapNs > this.gapNs) { this.gapNs = r.gapNs; this.gapLine = r.gapLine + offset; }
    this.late += r.late;
    if (r.maxLagNs > this.maxLagNs) this.maxLagNs = r.maxLagNs;
    if (r.maxNs > this.maxNs) this.maxNs = r.maxNs;
  }

  /** Whether a line at `ns` must wait for the next to vouch for it. */
  mustHold(ns: number): boolean {
    return ns > this.maxNs + REORDER_WINDOW_NS || (this.maxNs === -Infinity && this.held.length < 2);
  }

  hold(text: string, lineNo: number, ns: number): void {
    this.held.push({ text, lineNos: [lineNo], ns });
  }

  /** Whether `ns` is too far behind to be put back in order. */
  tooLate(ns: number): boolean {
    return ns < this.maxNs - REORDER_WINDOW_NS;
  }

  /** An event at `ns` of line `lineNo` was read. */
  advance(ns: number, lineNo: number): void {
    if (ns >= this.maxNs) {
      if (ns - this.maxNs > this.gapNs && this.maxNs !== -Infinity) { this.gapNs = ns - this.maxNs; this.gapLine = lineNo; }
      this.maxNs = ns;
    } else {
      this.late++;
      if (this.maxNs - ns > this.maxLagNs) this.maxLagNs = this.maxNs - ns;
    }
  }

  /** A copy of the last held line (a duplicated line) is no evidence for it: it shares
   *  its verdict. */
  sameAsHeld(s: string, start: number, end: number, lineNo: number): boolean {
    const h = this.held[this.held.length - 1];
    if (end - start !== h.text.length || !s.startsWith(h.text, start)) return false;
    h.lineNos.push(lineNo);
    return true;
  }

  /** Decide held lines by the next event's time. True when some were read as events
   *  (the caller's line record is then stale). */
  resolveHeld(nextNs: number): boolean {
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
    const before = this.maxNs === -Infinity ? '' : ` before it (${sec(this.maxNs)} s) and`;
    for (const n of h.lineNos) {
      this.host.skipAt(n, `timestamp ${sec(h.ns)} s is out of line with the lines${before} after it (${sec(nextNs)} s): a damaged timestamp, left out`, h.text);
    }
  }

  private readHeld(h: Held): void {
    const host = this.host;
    const lineNo = host.lineNo;
    this.confirming = true;
    for (const n of h.lineNos) host.readAgain(h.text, n);
    this.confirming = false;
    host.lineNo = lineNo;
  }

  /** Read the held lines as events, and report a pending late run (a header or the end
   *  of input came next). */
  settle(): void {
    const h = this.held;
    this.held = [];
    for (const x of h) this.readHeld(x);
    if (this.lateRun.length > 0) this.reportLateRun();
  }

  /** A line at `ns`, too late to be put in order (tooLate). */
  lateLine(s: string, start: number, end: number, ns: number, lineNo: number): void {
    const run = this.lateRun;
    if (run.length > 0 && (ns < run[run.length - 1].ns - REORDER_WINDOW_NS || this.confirming)) this.reportLateRun();
    if (this.confirming) { this.host.skipAt(lineNo, this.lateReason(ns), s.slice(start, end)); return; }
    run.push({ text: s.slice(start, end), lineNos: [lineNo], ns });
    if (run.length < CLOCK_RESET_LINES) return;
    this.lateRun = [];
    const back = this.maxNs - run[0].ns;
    this.timeShift += back + 1000;
    this.host.warnings.push(`line ${run[0].lineNos[0]}: the clock goes back ${fmtNs(back)} and the trace carries on from there: a second recording without its header (concatenated files?); its events are shifted by +${fmtNs(back + 1000)} to follow the first`);
    for (const h of run) this.readHeld(h);
  }

  reportLateRun(): void {
    const run = this.lateRun;
    this.lateRun = [];
    for (const h of run) this.host.skipAt(h.lineNos[0], this.lateReason(h.ns), h.text);
  }

  private lateReason(ns: number): string {
    return `timestamp ${sec(ns)} s is ${fmtNs(this.maxNs - ns)} earlier than the trace had reached (${sec(this.maxNs)} s); ` +
      `events up to ${fmtNs(REORDER_WINDOW_NS)} late are put back in order, this one is left out`;
  }

  /** A header line: after events, a `# tracer:` or `cpus=` one starts another trace. */
  header(startsTrace: boolean): void {
    this.settle();
    if (startsTrace && this.maxNs !== -Infinity) this.newSegment = true;
  }

  /** The first event after a repeated header (`cat a.txt b.txt`), at `ns` on a CPU the
   *  trace did or did not trace before (`cpuSeen`). A trace whose clock starts before the
   *  end of the previous one is shifted to follow it, so that both are replayed whole and
   *  in order; one that starts later is read as a continuation. */
  startSegment(ns: number, lineNo: number, cpuSeen: boolean): void {
    this.newSegment = false;
    const end = this.maxNs - this.timeShift;
    const where = `line ${lineNo} begins another trace (its header repeats: concatenated files?)`;
    const warnings = this.host.warnings;
    // A clock that goes back is another recording; by less than the reorder window, only
    // if a CPU it starts on was traced before (per-CPU files, cat per_cpu/cpu*/trace, cover
    // the same time on other CPUs and are read interleaved).
    if (ns + REORDER_WINDOW_NS < end || (ns < end && cpuSeen)) {
      this.timeShift += end - ns + 1000;
      warnings.push(`${where}; its clock starts ${fmtNs(end - ns)} before the end of the previous one, so its events are shifted by +${fmtNs(end - ns + 1000)} to follow them`);
    } else if (ns < end) {
      warnings.push(`${where}; its clock starts ${fmtNs(end - ns)} before the end of the previous one, on a CPU the previous one did not trace (per-CPU files of one recording?): the two are read interleaved, in time order`);
    } else {
      warnings.push(`${where}; its events follow the previous ones in time and are read as a continuation`);
    }
  }

  /** The notes the clock leaves at the end: the longest gap, the late events. */
  notes(warnings: string[]): void {
    // A trace paused for a while is normal; a first line far from the rest may also be a
    // damaged timestamp that nothing before it can refute: either way the user should know.
    if (this.gapNs > GAP_NOTE_NS) warnings.push(`the longest stretch without events is ${fmtNs(this.gapNs)}, before line ${this.gapLine}`);
    const late = this.late;
    if (late > 0) warnings.push(`${late} event${late === 1 ? '' : 's'} came up to ${fmtNs(this.maxLagNs)} late and ${late === 1 ? 'was' : 'were'} put back in time order (window ${fmtNs(REORDER_WINDOW_NS)})`);
  }
}
