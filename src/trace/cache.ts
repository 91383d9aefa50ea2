// The parsed-trace cache: `<trace>.tlbcache` holds a trace's canonical events (the
// typed-array batch columns, as replay reads them) and its TraceInfo, so that opening the
// same trace again skips parsing, task resolution and canonicalisation.
//
// A cache is used only when its key matches: the trace's size, mtime and inode, the
// options that change what is parsed (format, batch size), the tlbsim version and a
// fingerprint of the reader's own source (so a fixed parser never serves results of the
// old one). It is written to a temporary name and renamed into place, so a reader never
// sees half a file, and two processes writing the same cache do not corrupt it.
//
// Threat model (README, "The trace cache"). The cache is input that tlbsim wrote itself,
// but anything on disk can be damaged or replaced, so it is trusted no more than the trace:
//   - where: beside the trace only when the trace's directory belongs to the user and no
//     one else may write to it; otherwise (/tmp, a shared or read-only directory, another
//     user's home) in the user's own `$XDG_CACHE_HOME/tlbsim/traces` (~/.cache by default),
//     which must be the user's and not group- or world-writable;
//   - who: a cache file is read only when it is a regular file (opened with O_NONBLOCK and
//     O_NOFOLLOW, so a FIFO or a symlink planted under its name neither hangs nor redirects
//     the read) owned by the user or root and writable by no one else;
//   - what: a CRC-32 over the header, every event byte and the trailer catches damage;
//     every field of the trailer and every event column is range-checked as strictly as
//     the CSV reader checks a hand-made trace, so a crafted cache fails like a bad trace
//     would, and a cache that fails any check is ignored (with a note) and rewritten;
//   - how big: a cache larger than CACHE_SIZE_FACTOR x the trace + CACHE_SIZE_SLACK is not
//     written (a small gzip of one repeated line can expand to hundreds of MB of events).
// The CRC is no signature: someone who may write the cache may also recompute it; the
// ownership checks are what keep other users out.
//
// Layout (little-endian):
//   [0, 8)    magic "TLBCACH3"
//   [8, 16)   float64: byte offset of the trailer (deflated JSON)
//   [16, 24)  float64: byte length of the trailer
//   [24, 28)  uint32: CRC-32 of the batches, then the trailer, then bytes [8, 24)
//   [28, 32)  zero
//   [32, ...) batches, one after the other, each encoded by cache-codec.ts (varint
//             columns, deflated)
//   trailer   {"key": ..., "info": TraceInfo, "batches": [[offset, events, bytes], ...], "events": N}
import { createHash } from 'node:crypto';
import {
  closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, realpathSync, renameSync,
  statSync, unlinkSync, writeSync, accessSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRaw, inflateRawSync } from 'node:zlib';
import {
  createBatch, EVENT_KIND_NAMES, EventKind, TASK_ROUTES, TRACE_FORMATS, type EventBatch, type TraceInfo,
} from './event.ts';
import { removeLater, release, sweepStale } from './cleanup.ts';
import { decodeBatch, encodeBatchAsync } from './cache-codec.ts';

export const CACHE_SUFFIX = '.tlbcache';
const MAGIC = 'TLBCACH3';
const HEADER_BYTES = 32;
/** A cache may be this many times the trace's size on disk (plus CACHE_SIZE_SLACK). Real
 *  traces give 0.4x (plain text) to 11x (the most repetitive gzipped recording bundled). */
export const CACHE_SIZE_FACTOR = 20;
export const CACHE_SIZE_SLACK = 8 << 20;
/** Bounds on what a cache may hold, as the CSV reader bounds a hand-made trace (csv.ts). */
const MAX_TID = 4 * 1024 * 1024;
const MAX_CPUS = 4096;
const MAX_PAGES = 2 ** 45;
const UNDECLARED_MMS = 65535;
/** Batches deflated at once while a cache is written (each ~1 MB before deflating). */
const MAX_PENDING = 8;
/** Largest trailer read (inflated), so that a crafted one cannot exhaust memory. */
const MAX_TRAILER = 1 << 29;

export interface CacheKey {
  tlbsim: string;
  reader: string;
  size: number;
  mtimeMs: number;
  ino: number;
  format: string | null;
  batchSize: number;
}

/** The reader's source files under `dir` (src/trace), its subdirectories included (the
 *  line readers and payload parsers live in text/ and text/payloads/), as sorted relative
 *  paths with '/' separators. */
export function readerSources(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => f.split(sep).join('/'))
    .filter((f) => f.endsWith('.ts'))
    .sort();
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
    for (const f of readerSources(sources)) { h.update(f); h.update(readFileSync(join(sources, f))); }
  } catch { h.update(String(Math.random())); /* unknown source: never match an old cache */ }
  fingerprint = { version, reader: h.digest('hex').slice(0, 16) };
  return fingerprint;
}

export function cacheKey(path: string, format: string | undefined, batchSize: number): CacheKey {
  const st = statSync(path);
  const fp = readerFingerprint();
  return { tlbsim: fp.version, reader: fp.reader, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, format: format ?? null, batchSize };
}

const euid = (): number => process.geteuid?.() ?? -1;

/** A directory only this user (or root) can write into. */
function privateDir(dir: string): boolean {
  try {
    const st = statSync(dir);
    const uid = euid();
    return st.isDirectory() && (st.uid === uid || uid === -1) && (st.mode & 0o022) === 0;
  } catch { return false; }
}

/** Where the user's caches go when the trace's directory is not a private one. */
export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'tlbsim', 'traces');
}

/** Where the cache of the trace at `path` lives: beside it when its directory is the
 *  user's alone and writable, else in the user's cache directory under a name made from
 *  the trace's real path. */
export function cachePathOf(path: string): string {
  const dir = dirname(resolve(path));
  let writable = false;
  try { accessSync(dir, constants.W_OK); writable = true; } catch { /* read-only */ }
  if (writable && privateDir(dir)) return path + CACHE_SUFFIX;
  let real = resolve(path);
  try { real = realpathSync(path); } catch { /* keep the resolved path */ }
  const id = createHash('sha256').update(real).digest('hex').slice(0, 24);
  const name = basename(real).replace(/[^\w.+-]/g, '_').slice(0, 60);
  return join(userCacheDir(), `${name}-${id}${CACHE_SUFFIX}`);
}

/** The pid in the name of a cache's temporary file (`X.tlbcache.<pid>.<rand>.tmp`). */
function tmpPid(name: string): number | null {
  const m = /\.tlbcache\.(\d+)\.[a-z0-9]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** A cache being written; `finish` renames it into place. Any failure leaves no file. */
export class CacheWriter {
  private fd: number;
  private pos = HEADER_BYTES;
  private readonly batches: [number, number, number][] = [];
  private events = 0;
  private failed = false;
  private crc = 0;
  private readonly tmp: string;
  /** Why the cache was not written, when it was refused rather than failed. */
  refused: string | null = null;

  private constructor(readonly path: string, readonly key: CacheKey, private readonly maxBytes: number) {
    const dir = dirname(path);
    if (dir === userCacheDir()) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDir(dir)) throw new Error('not a private directory');
    // Leftovers of writers that died without cleaning up (SIGKILL, a heap OOM).
    sweepStale(dir, (n) => n.startsWith(basename(path)) ? tmpPid(n) : null);
    this.tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    this.fd = openSync(this.tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    removeLater(this.tmp);
  }

  /** null when the cache cannot be written here (read-only directory, ...). `traceBytes`
   *  (the trace's size on disk) bounds the cache's size. */
  static open(path: string, key: CacheKey, traceBytes: number = key.size): CacheWriter | null {
    try { return new CacheWriter(path, key, CACHE_SIZE_FACTOR * traceBytes + CACHE_SIZE_SLACK); } catch { return null; }
  }

  /** Batches being deflated (on libuv's threads), in order. */
  private pending: { n: number; bytes: Promise<Buffer> }[] = [];

  /** Queue a batch (it may be reused once this returns). The promise waits only while
   *  MAX_PENDING batches are being deflated, so memory stays bounded. */
  async add(batch: EventBatch): Promise<void> {
    if (this.failed || batch.length === 0) return;
    const bytes = encodeBatchAsync(batch);
    bytes.catch(() => { /* seen by write() */ });
    this.pending.push({ n: batch.length, bytes });
    if (this.pending.length > MAX_PENDING) await this.writeNext();
  }

  /** Write the oldest queued batch. */
  private async writeNext(): Promise<void> {
    const next = this.pending.shift()!;
    let view: Buffer;
    try { view = await next.bytes; } catch { this.abort(); return; }
    if (this.failed) return;
    const bytes = view.length;
    if (this.pos + bytes > this.maxBytes) {
      this.refused = `not cached: the cache would exceed ${Math.round(this.maxBytes / 2 ** 20)} MB (${CACHE_SIZE_FACTOR}x the trace's ${formatMb(this.key.size)} + ${CACHE_SIZE_SLACK >> 20} MB)`;
      this.abort();
      return;
    }
    try {
      writeSync(this.fd, view, 0, bytes, this.pos);
    } catch { this.abort(); return; }
    this.crc = crc32(view, this.crc);
    this.batches.push([this.pos, next.n, bytes]);
    this.pos += bytes;
    this.events += next.n;
  }

  /** Write the queued batches and the trailer, and rename into place; false when anything
   *  failed. */
  async finish(info: TraceInfo): Promise<boolean> {
    while (this.pending.length > 0 && !this.failed) await this.writeNext();
    this.pending = [];
    if (this.failed) return false;
    try {
      // Deflated: the task and address-space tables of a fork-heavy trace outweigh its events.
      const json = JSON.stringify({ key: this.key, info, batches: this.batches, events: this.events });
      const trailer = await new Promise<Buffer>((resolve, reject) => deflateRaw(json, { chunkSize: 1 << 18 }, (e, out) => (e ? reject(e) : resolve(out))));
      if (this.failed) return false;
      writeSync(this.fd, trailer, 0, trailer.length, this.pos);
      const head = Buffer.alloc(HEADER_BYTES);
      head.write(MAGIC, 0, 'latin1');
      head.writeDoubleLE(this.pos, 8);
      head.writeDoubleLE(trailer.length, 16);
      head.writeUInt32LE(crc32(head.subarray(8, 24), crc32(trailer, this.crc)), 24);
      writeSync(this.fd, head, 0, HEADER_BYTES, 0);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
      release(this.tmp);
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
    release(this.tmp);
  }
}

function formatMb(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}

export interface CachedTrace {
  info: TraceInfo;
  events: number;
  /** Stream the cached batches; a yielded batch is valid until the next one. */
  batches(): Generator<EventBatch>;
  /** Release the file. */
  close(): void;
}

/** What readCache found: a usable cache, none (absent, stale or of another version: the
 *  normal reasons to parse again), or one that was ignored for a reason worth a note. */
export type CacheLookup = { cached: CachedTrace } | { ignored: string } | null;

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numbersIn = (v: unknown): boolean => isObj(v) && Object.values(v).every(isNum);

/** What is wrong with a cached TraceInfo (null: nothing). Every field a command reads. */
export function checkInfo(info: unknown, events: number): string | null {
  if (!isObj(info)) return 'the trailer has no trace info';
  const i = info;
  if (!isInt(i.cpus, 1, MAX_CPUS)) return `cpus ${String(i.cpus).slice(0, 20)} is not 1 to ${MAX_CPUS}`;
  if (!isStr(i.format) || !(TRACE_FORMATS as readonly string[]).includes(i.format)) return 'the format is not one tlbsim reads';
  if (!isNum(i.firstNs) || !isNum(i.lastNs) || i.lastNs < i.firstNs) return 'the time span is not a pair of finite times';
  if (!isInt(i.events, 0, events)) return 'the event count does not match the batches';
  for (const f of ['skippedLines', 'lostEvents', 'lostMarkers', 'ignoredLines'] as const) {
    if (!isInt(i[f], -1, Number.MAX_SAFE_INTEGER)) return `${f} is not a count`;
  }
  if (typeof i.tracedFlushRequests !== 'boolean') return 'tracedFlushRequests is not a boolean';
  if (!Array.isArray(i.mms) || !Array.isArray(i.tasks)) return 'the task or address-space table is missing';
  const mmLimit = Math.max(UNDECLARED_MMS, i.mms.length);
  for (const m of i.mms as unknown[]) {
    if (!isObj(m) || !isInt(m.id, 0, MAX_TID) || !isInt(m.leader, -1, MAX_TID) || !isStr(m.comm)) return 'an address-space entry is malformed';
  }
  for (const t of i.tasks as unknown[]) {
    if (!isObj(t) || !isInt(t.tid, 0, MAX_TID) || !isInt(t.tgid, -1, MAX_TID) || !isInt(t.mm, 0, mmLimit) || !isStr(t.comm)
      || !(TASK_ROUTES as readonly unknown[]).includes(t.route)) return 'a task entry is malformed';
  }
  if (i.peakMms !== undefined && !isInt(i.peakMms, 0, i.mms.length)) return 'the count of address spaces alive at once is malformed';
  if (i.maxTid !== undefined && !isInt(i.maxTid, 0, MAX_TID)) return 'the highest tid is malformed';
  if (i.taskCount !== undefined && (!isInt(i.taskCount, i.tasks.length, MAX_TID + 1) || !numbersIn(i.taskRoutes))) return 'the task count is malformed';
  for (const f of ['countsByKind', 'flushRequestsByOrigin', 'observedFlushByReason', 'unusedEvents'] as const) {
    if (!numbersIn(i[f])) return `${f} is not a table of numbers`;
  }
  if (!isObj(i.observedFlushPages) || !Object.values(i.observedFlushPages).every(numbersIn)) return 'observedFlushPages is malformed';
  const ipis = i.observedIpis;
  if (!isObj(ipis) || !isNum(ipis.sends) || !isNum(ipis.targets) || !numbersIn(ipis.byKind)) return 'observedIpis is malformed';
  if (!Array.isArray(i.warnings) || !i.warnings.every(isStr)) return 'the notes are not text';
  if (!Array.isArray(i.skipped) || !i.skipped.every((s) => isObj(s) && isStr(s.file) && isInt(s.line, 0, Number.MAX_SAFE_INTEGER) && isStr(s.reason) && isStr(s.text))) {
    return 'the skipped-line list is malformed';
  }
  if (i.machine !== undefined) {
    const m = i.machine;
    if (!isObj(m)) return 'the recorded machine is malformed';
    for (const [k, v] of Object.entries(m)) {
      const ok = k === 'kernel' || k === 'accel' ? isStr(v) : k === 'cpus' || k === 'hostCpus' ? isInt(v, 1, MAX_CPUS) : typeof v === 'boolean';
      if (!ok) return `the recorded machine's ${k.slice(0, 20)} is malformed`;
    }
  }
  return null;
}

/** What is wrong with a cached batch (null: nothing), given the trace's CPUs, its mm
 *  table's size and the time of the event before. The bounds are the CSV reader's. */
function checkBatch(b: EventBatch, cpus: number, mmLimit: number, prevTime: number): string | null {
  const { kind, cpu, time, tid, mm, a, b: bb, c } = b;
  const kinds = EVENT_KIND_NAMES.length;
  let last = prevTime;
  for (let i = 0; i < b.length; i++) {
    const k = kind[i], t = time[i], A = a[i], B = bb[i];
    if (k >= kinds) return `event kind ${k}`;
    if (cpu[i] >= cpus) return `CPU ${cpu[i]} of ${cpus}`;
    // Also false for NaN; the replay needs time order.
    if (!(t >= last) || !Number.isFinite(t)) return `time ${t} after ${last}`;
    last = t;
    if (tid[i] < 0 || tid[i] > MAX_TID || mm[i] < 0 || mm[i] > mmLimit) return `tid ${tid[i]} / mm ${mm[i]}`;
    if (!Number.isFinite(A) || !Number.isFinite(B) || !Number.isFinite(c[i])) return `a non-finite value in a ${EVENT_KIND_NAMES[k]}`;
    switch (k) {
      case EventKind.switch: case EventKind.fork:
        if (!(A >= 0 && A <= MAX_TID && Number.isInteger(A)) || !(B >= 0 && B <= mmLimit && Number.isInteger(B))) return `${EVENT_KIND_NAMES[k]} to task ${A}, mm ${B}`;
        break;
      case EventKind.exec:
        if (!(A >= 0 && A <= mmLimit && Number.isInteger(A))) return `exec from mm ${A}`;
        break;
      case EventKind.flush_request:
        if (!(B >= -1 && B <= MAX_PAGES)) return `flush_request of ${B} pages`;
        break;
      case EventKind.access:
        if (!(B >= 0 && B <= MAX_PAGES)) return `access of ${B} pages`;
        break;
    }
  }
  return null;
}

interface Trailer { key: CacheKey; info: TraceInfo; batches: [number, number, number][]; events: number }

/** The cache at `path` when it exists, is intact, is trustworthy and matches `key`. */
export function readCache(path: string, key: CacheKey): CacheLookup {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO planted under the cache's name must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    return { ignored: `ignored the trace cache ${path}: ${code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${code ?? 'error'})`}` };
  }
  let keep = false;
  const ignore = (why: string): CacheLookup => ({ ignored: `ignored the trace cache ${path}: ${why}; it is rewritten` });
  try {
    const st = fstatSync(fd);
    const uid = euid();
    if (!st.isFile()) return { ignored: `ignored the trace cache ${path}: it is not a regular file` };
    if (uid !== -1 && st.uid !== uid && st.uid !== 0) return { ignored: `ignored the trace cache ${path}: it belongs to uid ${st.uid}, not to you or root` };
    if ((st.mode & 0o022) !== 0) return { ignored: `ignored the trace cache ${path}: others may write to it` };
    const size = st.size;
    const head = Buffer.alloc(HEADER_BYTES);
    if (size < HEADER_BYTES || readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return ignore('it is cut short');
    const magic = head.toString('latin1', 0, 8);
    if (magic !== MAGIC) return magic.startsWith('TLBCACH') ? null : ignore('it is not a tlbsim cache');
    const tOff = head.readDoubleLE(8), tLen = head.readDoubleLE(16);
    if (!Number.isInteger(tOff) || !Number.isInteger(tLen) || tOff < HEADER_BYTES || tLen < 2 || tOff + tLen !== size) return ignore('its layout is damaged');
    const tbuf = Buffer.alloc(tLen);
    if (readSync(fd, tbuf, 0, tLen, tOff) !== tLen) return ignore('it is cut short');
    let t: Trailer;
    try { t = JSON.parse(inflateRawSync(tbuf, { maxOutputLength: MAX_TRAILER }).toString('utf8')) as Trailer; } catch { return ignore('its trailer is damaged'); }
    if (!isObj(t)) return ignore('its trailer is damaged');
    // A key that does not match is the normal case (the trace or tlbsim changed), not damage.
    if (JSON.stringify(t.key) !== JSON.stringify(key)) return null;
    if (!Array.isArray(t.batches) || !isInt(t.events, 0, Number.MAX_SAFE_INTEGER)) return ignore('its batch table is damaged');
    // The batch table must tile the file between the header and the trailer.
    let expect = HEADER_BYTES, total = 0, maxN = 0, maxBytes = 0;
    for (const e of t.batches as unknown[]) {
      if (!Array.isArray(e) || e[0] !== expect || !isInt(e[1], 1, 1 << 24) || !isInt(e[2], 1, tOff)) return ignore('its batch table is damaged');
      expect += e[2]; total += e[1]; if (e[1] > maxN) maxN = e[1]; if (e[2] > maxBytes) maxBytes = e[2];
    }
    if (expect !== tOff || total !== t.events) return ignore('its batch table is damaged');
    const problem = checkInfo(t.info, t.events);
    if (problem !== null) return ignore(`its trace info is damaged (${problem})`);
    const info = t.info;
    const mmLimit = Math.max(UNDECLARED_MMS, info.mms.length);
    const views = createBatch(maxN);
    const bytes = new Uint8Array(maxBytes);
    // One pass over every byte before any is used: a cache that fails half-way through a
    // replay could not be parsed again without starting over.
    // Damage is named as such (checksum) before what it did to a value (range).
    let crc = 0, prev = -Infinity, bad: string | null = null;
    for (const [off, n, len] of t.batches) {
      if (readSync(fd, bytes, 0, len, off) !== len) return ignore('it is cut short');
      crc = crc32(bytes.subarray(0, len), crc);
      if (bad !== null) continue;
      if (!decodeBatch(bytes.subarray(0, len), n, views)) { bad = 'a batch does not decode'; continue; }
      views.length = n;
      bad = checkBatch(views, info.cpus, mmLimit, prev);
      prev = views.time[n - 1];
    }
    crc = crc32(head.subarray(8, 24), crc32(tbuf, crc));
    if (crc !== head.readUInt32LE(24)) return ignore('its checksum does not match (the file is damaged)');
    if (bad !== null) return ignore(`an event is out of range (${bad})`);
    const batches = t.batches;
    // The descriptor stays open: the file renamed over this one by another process
    // cannot change what this reader sees.
    keep = true;
    let open = true;
    return {
      cached: {
        info,
        events: t.events,
        *batches() {
          if (!open) throw new Error(`${path}: the trace cache was closed`);
          // Buffers per pass: two passes may be under way at once.
          const out = createBatch(maxN);
          const bytes = new Uint8Array(maxBytes);
          for (const [off, n, len] of batches) {
            if (readSync(fd, bytes, 0, len, off) !== len || !decodeBatch(bytes.subarray(0, len), n, out)) {
              throw new Error(`${path}: the trace cache was cut short or changed while reading; delete it and open the trace again`);
            }
            out.length = n;
            yield out;
          }
        },
        close() { if (open) { open = false; closeSync(fd); } },
      },
    };
  } catch (e) {
    return ignore(`it cannot be read (${(e as { code?: string }).code ?? (e as Error).message})`);
  } finally {
    if (!keep) closeSync(fd);
  }
}
