// Line framing: chunks of a text trace in, lines out, each as [start, end) of a string or
// of the bytes of an ASCII chunk. A subclass reads the lines (`line`); calls from here to
// it go to one class, so V8 keeps them monomorphic and inlines them as it did when both
// were one class.
import type { TextChunk } from '../input.ts';
import { C_NL } from './fields.ts';

/** Lines longer than this are reported, not parsed (a trace line is ~100-300 bytes). */
export const MAX_LINE = 64 * 1024;

/** A flat copy of a (possibly cons) string. */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

export abstract class LineFramer {
  /** Number of the line being read (1-based). */
  lineNo = 0;
  private carry = '';
  /** The ASCII chunk being read from its bytes (its text is decoded only if a line needs
   *  the string readers). */
  protected chunk: TextChunk | null = null;
  /** The next line's end is the tail of a runaway line already reported: skip it. */
  protected inLongLine = false;
  /** True while reading a last line that has no newline. */
  protected unterminated = false;

  /** One line, [start, end) of the string s, or of the bytes b of the current chunk (s
   *  null: the string readers take text(s)). */
  protected abstract line(s: string | null, start: number, end: number, b?: Buffer | null): void;
  /** The bytes of the chunk just read may be reused from now on: whatever still refers to
   *  them must copy what it needs. */
  protected chunkDone(): void {}
  /** Report the line being read as skipped. */
  protected abstract skip(reason: string, s: string, start: number, end?: number): void;

  /** The line's string: `s`, or (s null: a line read from the bytes of an ASCII chunk) the
   *  chunk's text, at the same offsets. */
  protected text(s: string | null): string {
    return s !== null ? s : this.chunk!.text;
  }

  /** Feed a decoded chunk; `bytes`, when given, holds it one byte per character (an
   *  ASCII chunk). */
  push(chunk: string, bytes: Buffer | null = null): void {
    this.pushChunk({ text: chunk, bytes });
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
    this.chunkDone();
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

  /** Read the last line if it has no newline (the end of input). */
  protected endLines(): void {
    if (this.carry.length > 0) {
      const s = this.carry;
      this.carry = '';
      this.unterminated = true;
      this.line(s, 0, s.length);
      this.unterminated = false;
    }
  }
}
