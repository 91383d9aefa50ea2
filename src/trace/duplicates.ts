// Lines a trace holds twice. ftrace prints every event once, with its own timestamp, so
//   - a line identical to the one before it (the same CPU, timestamp, task and fields) is
//     a copy: a file whose every line appears twice (written twice by a tool, `paste`d or
//     merged with itself) would otherwise replay every switch and flush twice;
//   - a run of lines that starts again with the trace's first event and goes on as the
//     trace did is the same recording again (`cat a.txt a.txt`): replayed, it would either
//     interleave with the first (a trace shorter than the reorder window) or follow it,
//     doubling every count.
// Both are left out and reported in one note each. A run that stops matching is a
// different recording after all: its held lines are handed back and read as usual.
//
// The run check compares each line's timestamp, CPU, pid and length (already parsed)
// against the first recording, hashed by blocks of BLOCK lines, so it costs a few integer
// operations per line and 4 bytes per BLOCK lines of the first recording.
import type { LineRecord } from './text/headers.ts';
import type { TextChunk } from './input.ts';

const BLOCK = 16;
/** Blocks of the first recording kept (16M lines); a longer one is not checked. */
const MAX_BLOCKS = 1 << 20;

export const Verdict = { keep: 0, drop: 1, handBack: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

interface Pending { text: string; lineNo: number }

/** An event line as the checks compare it (parallel ingest carries these across ranges). */
export interface LineIdentity { ns: number; cpu: number; pid: number; text: string }

/** What a range worker's check found, for the main thread to add to its own. */
export interface RangeDuplicates { copies: number; firstCopyLine: number; firstAgain: boolean; badCopies: boolean }

export class Duplicates {
  // The previous event line, by reference to the chunk (bytes) or string it is in.
  private prevNs = NaN;
  private prevCpu = -1;
  private prevPid = -1;
  private prevBytes: Buffer | null = null;
  private prevText: string | null = null;
  private prevStart = 0;
  private prevEnd = 0;
  private prevLineNo = 0;
  /** Line → the copies of it left out, for the last lines that had any. */
  private readonly copyLines = new Map<number, number[]>();
  /** Lines dropped as copies of the line before them. */
  copies = 0;
  private firstCopyLine = 0;

  // The first recording: its first line, and hashes of its lines by blocks.
  private firstText: string | null = null;
  /** The first line's header: a line with the same text has the same one, and comparing
   *  these first spares comparing the text of every line as long as the first. */
  private firstNs = NaN;
  private firstCpu = -1;
  private firstPid = -1;
  private firstLineNo = 0;
  private lastLineNo = 0;
  private recording = true;
  private blocks = new Int32Array(1024);
  private nBlocks = 0;
  private blockHash = 0;
  private lines = 0;
  /** The first recording's hash of its last, partial block (lines % BLOCK of them). */
  private tailHash = 0;
  private firstLines = 0;

  // A repeat of the first recording being checked.
  private inRun = false;
  private runIndex = 0;
  private runHash = 0;
  private runStart = 0;
  private pending: Pending[] = [];
  /** Set when a repeat was confirmed by the line just checked. */
  runEnded = false;
  private readonly notes: string[] = [];
  /** Line ranges of confirmed repeats. */
  private readonly repeats: string[] = [];

  // A range worker's check (readers/ranges.ts): the first recording's first line is given,
  // not hashed; seeing it again, or copies of a reported line, is left to one reader.
  private seeded = false;
  private firstAgain = false;
  private badCopies = false;

  /** Whether the event line [start, end) of `s` (or of the chunk bytes `b`), whose header
   *  is in `r`, is read (keep), left out as a copy (drop), or ends a run that turned out
   *  not to be a repeat (handBack: read takePending() as usual, this line included). */
  check(s: string | null, b: Buffer | null, chunk: TextChunk | null, start: number, end: number, r: LineRecord, lineNo: number): Verdict {
    this.runEnded = false;
    const len = end - start;
    if (r.ns === this.prevNs && r.cpu === this.prevCpu && r.pid === this.prevPid && len === this.prevEnd - this.prevStart && this.samePrev(s, b, start, end)) {
      if (this.copies++ === 0) this.firstCopyLine = lineNo;
      let a = this.copyLines.get(this.prevLineNo);
      if (a === undefined) {
        a = [];
        this.copyLines.set(this.prevLineNo, a);
        // Lines are judged within a few of their reading (held, late runs): older ones are settled.
        if (this.copyLines.size > 64) this.copyLines.delete(this.copyLines.keys().next().value!);
      }
      a.push(lineNo);
      return Verdict.drop;
    }
    this.prevNs = r.ns; this.prevCpu = r.cpu; this.prevPid = r.pid; this.prevLineNo = lineNo;
    this.prevBytes = b; this.prevText = b === null ? s : null; this.prevStart = start; this.prevEnd = end;
    const h = lineHash(r.ns, r.cpu, r.pid, len);
    if (this.inRun) return this.runLine(h, s !== null ? s : chunk!.text, start, end, lineNo);
    if (this.firstText === null) {
      this.firstText = (s !== null ? s : chunk!.text).slice(start, end);
      this.firstNs = r.ns; this.firstCpu = r.cpu; this.firstPid = r.pid;
      this.firstLineNo = lineNo;
    } else if (r.ns === this.firstNs && r.cpu === this.firstCpu && r.pid === this.firstPid && this.firstText.length === len &&
      this.nBlocks + this.lines > 0 && sameText(this.firstText, s, b, start)) {
      // The first event again.
      if (this.seeded) this.firstAgain = true;
      if (this.recording) this.freeze();
      if (this.firstLines > 0) {
        this.inRun = true;
        this.runIndex = 0; this.runHash = 0; this.runStart = lineNo;
        return this.runLine(h, s !== null ? s : chunk!.text, start, end, lineNo);
      }
    }
    if (this.recording) {
      this.blockHash = mix(this.blockHash, h);
      this.lastLineNo = lineNo;
      if (++this.lines === BLOCK) {
        if (this.nBlocks === MAX_BLOCKS) { this.recording = false; this.firstLines = 0; return Verdict.keep; }
        if (this.nBlocks === this.blocks.length) { const g = new Int32Array(this.blocks.length * 2); g.set(this.blocks); this.blocks = g; }
        this.blocks[this.nBlocks++] = this.blockHash;
        this.blockHash = 0; this.lines = 0;
      }
    }
    return Verdict.keep;
  }

  /** The line numbered `lineNo` was reported as bad (perhaps later, when a held line was
   *  judged): the copies of it left out are as bad, and reported with it. Their numbers. */
  reportedBad(lineNo: number): number[] {
    // A copy still to come is not a copy of an event either: it is read, and reported.
    if (lineNo === this.prevLineNo) this.prevNs = NaN;
    const a = this.copyLines.get(lineNo);
    if (a === undefined) return [];
    this.badCopies = true;
    this.copyLines.delete(lineNo);
    this.copies -= a.length;
    return a;
  }

  /** The chunk the previous line is in may be reused: keep a copy of the line. */
  detach(): void {
    if (this.prevBytes === null) return;
    this.prevText = this.prevBytes.toString('latin1', this.prevStart, this.prevEnd);
    this.prevBytes = null; this.prevStart = 0; this.prevEnd = this.prevText.length;
  }

  /** The line the next is compared with (the last event line checked), or null. */
  prevLine(): LineIdentity | null {
    if (Number.isNaN(this.prevNs)) return null;
    const text = this.prevBytes !== null ? this.prevBytes.toString('latin1', this.prevStart, this.prevEnd) : this.prevText!.slice(this.prevStart, this.prevEnd);
    return { ns: this.prevNs, cpu: this.prevCpu, pid: this.prevPid, text };
  }

  /** The trace's first event line, once read. */
  firstLine(): LineIdentity | null {
    return this.firstText === null ? null : { ns: this.firstNs, cpu: this.firstCpu, pid: this.firstPid, text: this.firstText };
  }

  /** Nothing pending or found that ties what comes next to what came before, beyond the
   *  previous line: no repeat being checked or found, the first recording still open. */
  get plain(): boolean {
    return !this.inRun && this.repeats.length === 0 && this.notes.length === 0 && this.firstText !== null && this.firstText !== '\n';
  }

  /** A range worker, after its look-behind lines: count afresh, and look for `first` (the
   *  trace's first event line, read by the main thread) instead of recording. */
  beginRange(first: LineIdentity): void {
    this.copyLines.clear();
    this.copies = 0; this.firstCopyLine = 0;
    this.firstText = first.text; this.firstNs = first.ns; this.firstCpu = first.cpu; this.firstPid = first.pid;
    this.recording = false; this.nBlocks = 1; this.lines = 0; this.firstLines = 0;
    this.seeded = true; this.firstAgain = false; this.badCopies = false;
  }

  rangeResult(): RangeDuplicates {
    return { copies: this.copies, firstCopyLine: this.firstCopyLine, firstAgain: this.firstAgain, badCopies: this.badCopies };
  }

  /** Add a later range's findings (its lines numbered from `offset` + 1), whose last
   *  checked line was `last`. */
  absorb(r: RangeDuplicates, offset: number, last: LineIdentity | null): void {
    if (r.copies > 0) {
      if (this.copies === 0) this.firstCopyLine = r.firstCopyLine + offset;
      this.copies += r.copies;
    }
    if (last === null) { this.prevNs = NaN; return; }
    this.prevNs = last.ns; this.prevCpu = last.cpu; this.prevPid = last.pid; this.prevLineNo = -1;
    this.prevBytes = null; this.prevText = last.text; this.prevStart = 0; this.prevEnd = last.text.length;
  }

  /** Lines held while checking a run that turned out not to be a repeat. */
  takePending(): Pending[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }

  /** A header or the end of input: a run not yet confirmed is not a repeat. */
  interrupt(): Pending[] {
    if (!this.inRun) return [];
    this.abandon('the repeat stops (a header or the end of the input) before the recording does; its last lines, too few to compare, were read');
    return this.takePending();
  }

  /** The notes, once the input has ended. */
  finish(): string[] {
    const r = this.repeats;
    if (r.length > 0) {
      this.notes.unshift(`line${r.length === 1 ? 's' : ' ranges'} ${r.join(', ')} repeat${r.length === 1 ? 's' : ''} the trace's events of lines ${this.firstLineNo}-${this.lastLineNo} exactly (the same recording ${r.length === 1 ? 'twice' : `${r.length + 1} times`}: concatenated copies of one file?): ${r.length === 1 ? 'the repeat was' : 'the repeats were'} left out, the recording is replayed once`);
    }
    if (this.copies > 0) {
      this.notes.push(`${this.copies} line${this.copies === 1 ? ' is an exact copy' : 's are exact copies'} of the line just before (the same CPU, timestamp, task and fields; the first at line ${this.firstCopyLine}): each was read once. ftrace prints every event once, so a file with every line twice was duplicated (written twice, or merged with itself)`);
    }
    return this.notes;
  }

  private freeze(): void {
    this.recording = false;
    this.firstLines = this.nBlocks * BLOCK + this.lines;
    this.tailHash = this.blockHash;
  }

  private runLine(h: number, text: string, start: number, end: number, lineNo: number): Verdict {
    this.pending.push({ text: text.slice(start, end), lineNo });
    this.runHash = mix(this.runHash, h);
    const i = ++this.runIndex;
    const full = i % BLOCK === 0;
    const last = i === this.firstLines;
    if (full || last) {
      const want = full ? this.blocks[i / BLOCK - 1] : this.tailHash;
      if (this.runHash !== want) { this.abandon('the lines after them differ and were read'); return Verdict.handBack; }
      this.runHash = 0;
      this.pending.length = 0;
    }
    if (last) {
      this.inRun = false;
      this.runEnded = true;
      this.repeats.push(`${this.runStart}-${lineNo}`);
    }
    return Verdict.drop;
  }

  /** The run stopped matching: what was dropped of it was a repeat of the first lines;
   *  the rest is read. Repeats are not looked for again (the first recording's hashes
   *  no longer describe everything read). */
  private abandon(rest: string): void {
    const dropped = this.runIndex - this.pending.length;
    if (dropped > 0) {
      this.notes.push(`lines from ${this.runStart} repeat the first ${dropped} event lines of the trace exactly and were left out; ${rest}`);
    }
    this.inRun = false;
    this.firstLines = 0;
    this.firstText = '\n'; // matches no line
  }

  private samePrev(s: string | null, b: Buffer | null, start: number, end: number): boolean {
    const pb = this.prevBytes, ps = this.prevText, p0 = this.prevStart;
    for (let i = 0; i < end - start; i++) {
      const x = b !== null ? b[start + i] : s!.charCodeAt(start + i);
      const y = pb !== null ? pb[p0 + i] : ps!.charCodeAt(p0 + i);
      if (x !== y) return false;
    }
    return true;
  }
}

function sameText(t: string, s: string | null, b: Buffer | null, start: number): boolean {
  for (let i = 0; i < t.length; i++) if ((b !== null ? b[start + i] : s!.charCodeAt(start + i)) !== t.charCodeAt(i)) return false;
  return true;
}

function lineHash(ns: number, cpu: number, pid: number, len: number): number {
  // The low 32 bits without `%` (on a double, a call to fmod: a third of this check's
  // time) and moved into int32 range, where `| 0` is one instruction, not V8's slow
  // truncation of a larger double.
  const hi = Math.trunc(ns / 0x100000000);
  let h = mix(0x811c9dc5, ns - hi * 0x100000000 - 0x80000000);
  h = mix(h, hi);
  h = mix(h, cpu);
  h = mix(h, pid);
  return mix(h, len);
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x | 0), 0x9e3779b1);
  return (h ^ (h >>> 15)) | 0;
}
