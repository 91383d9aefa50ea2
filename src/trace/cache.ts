// The parsed-trace cache: `<trace>.tlbcache` next to the trace holds its canonical events
// (the typed-array batch columns, as replay reads them) and its TraceInfo, so that opening
// the same trace again skips parsing, task resolution and canonicalisation.
//
// A cache is used only when its key matches: the trace's size, mtime and inode, the
// options that change what is parsed (format, batch size), the tlbsim version and a
// fingerprint of the reader's own source (so a fixed parser never serves results of the
// old one). A cache that does not match, is cut short or does not parse is ignored and
// rewritten. It is written to a temporary name and renamed into place, so a reader never
// sees half a file, and two processes writing the same cache do not corrupt it.
//
// Layout (little-endian):
//   [0, 8)    magic "TLBCACH1"
//   [8, 16)   float64: byte offset of the trailer (JSON)
//   [16, 24)  float64: byte length of the trailer
//   [24, ...) batches, each at an 8-byte aligned offset: time, a, b, c (float64 x n),
//             tid, mm (int32 x n), cpu (uint16 x n), kind (uint8 x n)
//   trailer   {"key": ..., "info": TraceInfo, "batches": [[offset, length], ...], "events": N}
import { createHash } from 'node:crypto';
import {
  closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyEvents, type EventBatch, type TraceInfo } from './event.ts';

export const CACHE_SUFFIX = '.tlbcache';
const MAGIC = 'TLBCACH1';
const HEADER_BYTES = 24;
const PER_EVENT = 8 * 4 + 4 * 2 + 2 + 1;

export interface CacheKey {
  tlbsim: string;
  reader: string;
  size: number;
  mtimeMs: number;
  ino: number;
  format: string | null;
  batchSize: number;
}

let fingerprint: { version: string; reader: string } | null = null;

/** tlbsim's version and a hash of the trace reader's source files. */
function readerFingerprint(): { version: string; reader: string } {
  if (fingerprint) return fingerprint;
  // The TypeScript sources whether this runs from src/trace or compiled from dist/trace,
  // so the CLI (dist/) and scripts (src/ under tsx) share one cache.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const sources = join(root, 'src', 'trace');
  let version = 'unknown';
  try { version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version; } catch { /* keep unknown */ }
  const h = createHash('sha256');
  try {
    for (const f of readdirSync(sources).filter((n) => n.endsWith('.ts')).sort()) {
      h.update(f); h.update(readFileSync(join(sources, f)));
    }
  } catch { h.update(String(Math.random())); /* unknown source: never match an old cache */ }
  fingerprint = { version, reader: h.digest('hex').slice(0, 16) };
  return fingerprint;
}

export function cacheKey(path: string, format: string | undefined, batchSize: number): CacheKey {
  const st = statSync(path);
  const fp = readerFingerprint();
  return { tlbsim: fp.version, reader: fp.reader, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, format: format ?? null, batchSize };
}

export function cachePathOf(path: string): string {
  return path + CACHE_SUFFIX;
}

const align8 = (n: number) => (n + 7) & ~7;

/** Views of batch columns laid out as in the cache, over `buf` at `off`. */
function viewsAt(buf: ArrayBuffer, off: number, n: number): EventBatch {
  const time = new Float64Array(buf, off, n); off += n * 8;
  const a = new Float64Array(buf, off, n); off += n * 8;
  const b = new Float64Array(buf, off, n); off += n * 8;
  const c = new Float64Array(buf, off, n); off += n * 8;
  const tid = new Int32Array(buf, off, n); off += n * 4;
  const mm = new Int32Array(buf, off, n); off += n * 4;
  const cpu = new Uint16Array(buf, off, n); off += n * 2;
  const kind = new Uint8Array(buf, off, n);
  return { length: n, kind, cpu, time, tid, mm, a, b, c };
}

/** A cache being written; `finish` renames it into place. Any failure leaves no file. */
export class CacheWriter {
  private fd: number;
  private pos = HEADER_BYTES;
  private readonly batches: [number, number][] = [];
  private events = 0;
  private buf = new ArrayBuffer(0);
  private failed = false;
  private readonly tmp: string;

  private constructor(readonly path: string, readonly key: CacheKey) {
    this.tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    this.fd = openSync(this.tmp, 'wx');
  }

  /** null when the cache cannot be written here (read-only directory, ...). */
  static open(path: string, key: CacheKey): CacheWriter | null {
    try { return new CacheWriter(path, key); } catch { return null; }
  }

  add(batch: EventBatch): void {
    if (this.failed || batch.length === 0) return;
    const n = batch.length;
    const bytes = align8(n * PER_EVENT);
    if (this.buf.byteLength < bytes) this.buf = new ArrayBuffer(bytes);
    copyEvents(batch, 0, n, viewsAt(this.buf, 0, n));
    try {
      writeSync(this.fd, new Uint8Array(this.buf, 0, bytes), 0, bytes, this.pos);
    } catch { this.abort(); return; }
    this.batches.push([this.pos, n]);
    this.pos += bytes;
    this.events += n;
  }

  /** Write the trailer and rename into place; false when anything failed. */
  finish(info: TraceInfo): boolean {
    if (this.failed) return false;
    try {
      const trailer = Buffer.from(JSON.stringify({ key: this.key, info, batches: this.batches, events: this.events }), 'utf8');
      writeSync(this.fd, trailer, 0, trailer.length, this.pos);
      const head = Buffer.alloc(HEADER_BYTES);
      head.write(MAGIC, 0, 'latin1');
      head.writeDoubleLE(this.pos, 8);
      head.writeDoubleLE(trailer.length, 16);
      writeSync(this.fd, head, 0, HEADER_BYTES, 0);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
      return true;
    } catch {
      this.abort();
      return false;
    }
  }

  abort(): void {
    this.failed = true;
    if (this.fd >= 0) { try { closeSync(this.fd); } catch { /* ignore */ } this.fd = -1; }
    try { unlinkSync(this.tmp); } catch { /* already gone */ }
  }
}

export interface CachedTrace {
  info: TraceInfo;
  events: number;
  /** Stream the cached batches; a yielded batch is valid until the next one. */
  batches(): Generator<EventBatch>;
  /** Release the file. */
  close(): void;
}

/** The cache at `path` when it exists, is intact and matches `key`; else null. */
export function readCache(path: string, key: CacheKey): CachedTrace | null {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return null; }
  let keep = false;
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER_BYTES) return null;
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES || head.toString('latin1', 0, 8) !== MAGIC) return null;
    const tOff = head.readDoubleLE(8), tLen = head.readDoubleLE(16);
    if (!Number.isInteger(tOff) || !Number.isInteger(tLen) || tOff < HEADER_BYTES || tOff + tLen !== size) return null;
    const tbuf = Buffer.alloc(tLen);
    if (readSync(fd, tbuf, 0, tLen, tOff) !== tLen) return null;
    const t = JSON.parse(tbuf.toString('utf8')) as { key: CacheKey; info: TraceInfo; batches: [number, number][]; events: number };
    if (JSON.stringify(t.key) !== JSON.stringify(key)) return null;
    if (!t.info || typeof t.info !== 'object' || !Array.isArray(t.batches)) return null;
    // The batch table must tile the file between the header and the trailer.
    let expect = HEADER_BYTES, total = 0, maxN = 0;
    for (const e of t.batches) {
      if (!Array.isArray(e) || e[0] !== expect || !Number.isInteger(e[1]) || e[1] <= 0) return null;
      expect += align8(e[1] * PER_EVENT); total += e[1]; if (e[1] > maxN) maxN = e[1];
    }
    if (expect !== tOff || total !== t.events) return null;
    const batches = t.batches;
    // The descriptor stays open: the file renamed over this one by another process
    // cannot change what this reader sees.
    keep = true;
    let open = true;
    return {
      info: t.info,
      events: t.events,
      *batches() {
        if (!open) throw new Error(`${path}: the trace cache was closed`);
        const buf = new ArrayBuffer(align8(maxN * PER_EVENT));
        const bytes = new Uint8Array(buf);
        for (const [off, n] of batches) {
          const len = align8(n * PER_EVENT);
          if (readSync(fd, bytes, 0, len, off) !== len) throw new Error(`${path}: the trace cache was cut short while reading; delete it and open the trace again`);
          yield viewsAt(buf, 0, n);
        }
      },
      close() { if (open) { open = false; closeSync(fd); } },
    };
  } catch {
    return null;
  } finally {
    if (!keep) closeSync(fd);
  }
}
