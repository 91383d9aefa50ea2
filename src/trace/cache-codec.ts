// How the trace cache stores a batch of events: each column as varints (times as deltas,
// which the time order makes non-negative), then deflated. Uncompressed, the columns are
// 43 bytes an event, several times the gzipped text they came from; most fields are small
// integers (CPUs, task and mm ids, reasons, page counts) and the rest repeat (addresses).
// Every value is kept exactly: a value that is not a safe integer (a fraction, -0, NaN, a
// huge number) is stored as its float64 bytes.
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { EventBatch } from './event.ts';

/** Bytes an encoded event can take at most: kind 1, cpu 3, tid and mm 5 each, time 9
 *  (or 8 raw), a, b and c 9 each. */
const MAX_ENCODED_EVENT = 1 + 3 + 5 + 5 + 9 + 27;
/** Integers of a float column stored as varints; larger ones as float64. */
const MAX_VARINT = 2 ** 51;
const TIME_DELTAS = 0, TIME_RAW = 1;

let scratch = new Uint8Array(0);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** The varint of integer v >= 0 (at most 2^53) at buf[p]; returns the position after it. */
function putVarint(buf: Uint8Array, p: number, v: number): number {
  // Bit operations once v fits 32 bits (% on a double is a library call).
  while (v >= 2 ** 31) { const q = Math.floor(v / 128); buf[p++] = v - q * 128 + 128; v = q; }
  while (v >= 128) { buf[p++] = (v & 127) | 128; v >>>= 7; }
  buf[p++] = v;
  return p;
}

const zigzag = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);
// `&` for the 31-bit values nearly all are (% on a double is a library call).
const unzigzag = (z: number): number => (z < 2 ** 31 ? ((z & 1) === 0 ? z >>> 1 : -((z + 1) >>> 1)) : z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** A float column value: 0 then its float64 bytes, or zigzag + 1 of a safe integer. */
function putNumber(buf: Uint8Array, p: number, v: number): number {
  if (Number.isInteger(v) && v <= MAX_VARINT && v >= -MAX_VARINT && !(v === 0 && 1 / v < 0)) return putVarint(buf, p, zigzag(v) + 1);
  buf[p++] = 0;
  f64[0] = v;
  for (let k = 0; k < 8; k++) buf[p++] = f64Bytes[k];
  return p;
}

/** Each column in a loop of its own: as one function, V8 deoptimised it at every call
 *  (each loop's first run past an on-stack-replaced one). */
function putUints(buf: Uint8Array, p: number, col: Uint16Array, n: number): number {
  for (let i = 0; i < n; i++) { const v = col[i]; if (v < 128) buf[p++] = v; else p = putVarint(buf, p, v); }
  return p;
}

function putInts(buf: Uint8Array, p: number, col: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) { const v = zigzag(col[i]); if (v < 128) buf[p++] = v; else p = putVarint(buf, p, v); }
  return p;
}

function putTimes(buf: Uint8Array, p: number, time: Float64Array, n: number): number {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const t = time[i];
    if (!(Number.isInteger(t) && t >= prev && t <= 2 ** 53)) {
      buf[p++] = TIME_RAW;
      buf.set(new Uint8Array(time.buffer, time.byteOffset, n * 8), p);
      return p + n * 8;
    }
    prev = t;
  }
  buf[p++] = TIME_DELTAS;
  prev = 0;
  for (let i = 0; i < n; i++) { const d = time[i] - prev; prev = time[i]; if (d < 128) buf[p++] = d; else p = putVarint(buf, p, d); }
  return p;
}

function putNumbers(buf: Uint8Array, p: number, col: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if ((v | 0) === v && v >= 0 && v < 63 && 1 / v > 0) buf[p++] = v * 2 + 1; /* 1 / v: not -0 */ else p = putNumber(buf, p, v);
  }
  return p;
}

/** The batch's events, encoded and deflated. */
export function encodeBatch(b: EventBatch, level = 1): Buffer {
  return deflateRawSync(encodeColumns(b), { level });
}

/** encodeBatch with the deflating done on libuv's threads (the encoded columns are copied
 *  first: the caller may reuse the batch, and this module its scratch buffer). */
export function encodeBatchAsync(b: EventBatch, level = 1): Promise<Buffer> {
  const columns = Buffer.from(encodeColumns(b));
  // Output in few large pieces: each piece is a round trip to the main thread.
  return new Promise((resolve, reject) => deflateRaw(columns, { level, chunkSize: 1 << 18 }, (e, out) => (e ? reject(e) : resolve(out))));
}

/** The batch's columns encoded, in a scratch buffer valid until the next call. */
function encodeColumns(b: EventBatch): Uint8Array {
  const n = b.length;
  if (scratch.length < n * MAX_ENCODED_EVENT + 1) scratch = new Uint8Array(n * MAX_ENCODED_EVENT + 1);
  const buf = scratch;
  buf.set(b.kind.subarray(0, n), 0);
  let p = putUints(buf, n, b.cpu, n);
  p = putInts(buf, p, b.tid, n);
  p = putInts(buf, p, b.mm, n);
  p = putTimes(buf, p, b.time, n);
  p = putNumbers(buf, p, b.a, n);
  p = putNumbers(buf, p, b.b, n);
  p = putNumbers(buf, p, b.c, n);
  return buf.subarray(0, p);
}

/** Where longVarint stopped. */
let after = 0;

/** The rest of a varint whose first byte (`first`, >= 128) was read before buf[p]. Past
 *  the end of buf it stops (the caller's length check then fails). */
function longVarint(buf: Uint8Array, p: number, first: number): number {
  let v = first & 127, mul = 128, y = first;
  while (y >= 128 && mul < 2 ** 63) { y = buf[p++]; v += (y & 127) * mul; mul *= 128; }
  after = p;
  return v;
}

function getUints(buf: Uint8Array, p: number, col: Uint16Array, n: number): number {
  for (let i = 0; i < n; i++) { const x = buf[p++]; if (x < 128) col[i] = x; else { col[i] = longVarint(buf, p, x); p = after; } }
  return p;
}

function getInts(buf: Uint8Array, p: number, col: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) { const x = buf[p++]; if (x < 128) col[i] = unzigzag(x); else { col[i] = unzigzag(longVarint(buf, p, x)); p = after; } }
  return p;
}

/** -1: not a time column. */
function getTimes(buf: Uint8Array, p: number, time: Float64Array, n: number): number {
  const mode = buf[p++];
  if (mode === TIME_DELTAS) {
    let t = 0;
    for (let i = 0; i < n; i++) { const x = buf[p++]; if (x < 128) t += x; else { t += longVarint(buf, p, x); p = after; } time[i] = t; }
    return p;
  }
  if (mode !== TIME_RAW || p + n * 8 > buf.length) return -1;
  new Uint8Array(time.buffer, time.byteOffset, n * 8).set(buf.subarray(p, p + n * 8));
  return p + n * 8;
}

/** -1: a float64 cut short. */
function getNumbers(buf: Uint8Array, p: number, col: Float64Array, n: number): number {
  const len = buf.length;
  for (let i = 0; i < n; i++) {
    const x = buf[p++];
    if (x === 0) {
      if (p + 8 > len) return -1;
      for (let k = 0; k < 8; k++) f64Bytes[k] = buf[p++];
      col[i] = f64[0];
    } else if (x < 128) {
      col[i] = unzigzag(x - 1);
    } else {
      col[i] = unzigzag(longVarint(buf, p, x) - 1);
      p = after;
    }
  }
  return p;
}

/** Decode `n` events from `bytes` (as encodeBatch wrote them) into `out`'s columns; false
 *  when they do not decode (damage: the CRC says so first). */
export function decodeBatch(bytes: Uint8Array, n: number, out: EventBatch): boolean {
  let buf: Buffer;
  try {
    buf = inflateRawSync(bytes, { maxOutputLength: n * MAX_ENCODED_EVENT + 1 });
  } catch {
    return false;
  }
  if (buf.length < n) return false;
  out.kind.set(buf.subarray(0, n));
  let p = getUints(buf, n, out.cpu, n);
  p = getInts(buf, p, out.tid, n);
  p = getInts(buf, p, out.mm, n);
  p = getTimes(buf, p, out.time, n);
  if (p < 0) return false;
  for (const col of [out.a, out.b, out.c]) {
    p = getNumbers(buf, p, col, n);
    if (p < 0) return false;
  }
  // Every byte used, none missing (a read past the end gives undefined, then NaN or 0).
  return p === buf.length;
}
