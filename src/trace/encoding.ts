// Text a trace reaches tlbsim in after a trip through another tool: a UTF-8 byte-order
// mark (Windows editors), UTF-16 (PowerShell's `>` redirection, Notepad's "Unicode"), CR-only
// line ends (classic Mac tools). The kernel writes none of these; each is undone here,
// before the readers see the bytes, so that they see the trace the kernel wrote.
import { StringDecoder } from 'node:string_decoder';

/** Bytes looked at to tell UTF-16 without a byte-order mark. */
const SNIFF = 256;

type Utf16 = 'UTF-16LE' | 'UTF-16BE';

/** UTF-16 told by its byte-order mark, or by ASCII text in it: every other byte zero. */
export function utf16Of(b: Uint8Array): { encoding: Utf16; bom: boolean } | null {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { encoding: 'UTF-16LE', bom: true };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { encoding: 'UTF-16BE', bom: true };
  const n = Math.min(b.length, SNIFF) & ~1;
  if (n < 16) return null;
  let zeroEven = 0, zeroOdd = 0;
  for (let i = 0; i < n; i += 2) { if (b[i] === 0) zeroEven++; if (b[i + 1] === 0) zeroOdd++; }
  const pairs = n / 2;
  if (zeroOdd >= pairs * 0.9 && zeroEven === 0) return { encoding: 'UTF-16LE', bom: false };
  if (zeroEven >= pairs * 0.9 && zeroOdd === 0) return { encoding: 'UTF-16BE', bom: false };
  return null;
}

/** The bytes of a text input with a UTF-8 byte-order mark dropped, UTF-16 converted to
 *  UTF-8 and CR-only line ends made newlines; what was done is added to `notes`. */
export async function* normaliseText(path: string, source: AsyncIterable<Buffer>, notes: string[]): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  // Enough of the start to decide (a pipe may deliver a few bytes at a time).
  let head: Buffer = Buffer.alloc(0);
  let done = false;
  while (head.length < SNIFF) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
  }
  const u16 = utf16Of(head);
  if (u16 === null && head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
  const first = head;
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) { const r = await it.next(); if (r.done) return; yield r.value; }
  };
  let stream: AsyncIterable<Buffer> = rest();
  if (u16 !== null) {
    notes.push(`${path}: the file is ${u16.encoding} text${u16.bom ? '' : ' (without a byte-order mark)'}, not UTF-8 as the kernel writes it: it was converted while reading (iconv -f ${u16.encoding} -t UTF-8 does the same)`);
    stream = fromUtf16(stream, u16.encoding, u16.bom);
  }
  yield* crLineEnds(path, stream, notes);
}

async function* fromUtf16(source: AsyncIterable<Buffer>, encoding: Utf16, bom: boolean): AsyncGenerator<Buffer> {
  const decoder = new StringDecoder('utf16le');
  let odd: number | null = null; // a UTF-16BE byte whose pair is in the next chunk
  let first = true;
  for await (const chunk of source) {
    let b = chunk;
    if (encoding === 'UTF-16BE') {
      const joined: Buffer = odd === null ? Buffer.from(b) : Buffer.concat([Buffer.of(odd), b]);
      const even: number = joined.length & ~1;
      odd = even < joined.length ? joined[even] : null;
      b = joined.subarray(0, even);
      b.swap16();
    }
    let s = decoder.write(b);
    if (first && bom && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    first = false;
    if (s.length > 0) yield Buffer.from(s, 'utf8');
  }
  const tail = decoder.end();
  if (tail.length > 0) yield Buffer.from(tail, 'utf8');
}

/** CR-only line ends, told from the first bytes (carriage returns and no newline), become
 *  newlines. CRLF is left to the readers, which drop a CR before a newline. */
async function* crLineEnds(path: string, source: AsyncIterable<Buffer>, notes: string[]): AsyncGenerator<Buffer> {
  let crOnly: boolean | null = null;
  for await (const chunk of source) {
    if (crOnly === null && chunk.length > 0) {
      crOnly = chunk.indexOf(10) < 0 && chunk.indexOf(13) >= 0;
      if (crOnly) notes.push(`${path}: the lines end in a carriage return alone (CR-only line ends, as classic Mac tools write), not a newline: they were read as line ends`);
    }
    if (!crOnly) { yield chunk; continue; }
    const out = Buffer.from(chunk);
    for (let i = out.indexOf(13); i >= 0; i = out.indexOf(13, i + 1)) out[i] = 10;
    yield out;
  }
}

/** The digits in s[start, end) that read as `value`, as the line writes them: a number
 *  past 2^53 (a pid of 10^20) is held rounded, and printing the double would show other
 *  digits than the trace has. */
export function digitsAsWritten(value: number, s: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let j = i;
    while (j < end && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const run = s.slice(i, j);
    // Read digit by digit, a large value rounds differently from Number(): close is the same.
    const v = Number(run);
    if (v === value || (value > Number.MAX_SAFE_INTEGER && Math.abs(v - value) <= value * 1e-12)) return run.length > 24 ? `${run.slice(0, 24)}...` : run;
    i = j;
  }
  return String(value);
}
