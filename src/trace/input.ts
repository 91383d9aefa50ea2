// Opening a trace file: plain or gzipped text, or a trace-cmd `trace.dat` converted by
// running `trace-cmd report`. Produces decoded text chunks; never the whole file at once.
import { accessSync, constants, createReadStream, openSync, readSync, closeSync, statSync, type ReadStream } from 'node:fs';
import { constants as zlibConstants, crc32, createInflateRaw } from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import { TraceError, describeFsError } from './errors.ts';
import { normaliseText } from './encoding.ts';

// Defined in errors.ts, which loads nothing: commands that never open a trace (catalogues,
// usage errors) need them without paying for zlib and child_process.
export { TraceError, describeFsError };

const GZIP_MAGIC = [0x1f, 0x8b];
// trace-cmd's trace.dat begins with "\x17\x08\x44tracing".
const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

// perf record's perf.data begins with "PERFILE2".
const PERF_DATA_MAGIC = [0x50, 0x45, 0x52, 0x46, 0x49, 0x4c, 0x45, 0x32];

// Containers tlbsim does not open itself, named so the user knows what to run.
const OTHER_COMPRESSION = [
  { name: 'an xz-compressed file', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: 'xz -dk' },
  { name: 'a zstd-compressed file', magic: [0x28, 0xb5, 0x2f, 0xfd], command: 'zstd -d' },
  { name: 'a bzip2-compressed file', magic: [0x42, 0x5a, 0x68], command: 'bzip2 -dk' },
  { name: 'an lz4-compressed file', magic: [0x04, 0x22, 0x4d, 0x18], command: 'lz4 -d' },
  { name: 'a zip archive', magic: [0x50, 0x4b, 0x03, 0x04], command: 'unzip' },
];

/** A path as one shell word, for the commands tlbsim suggests the user run. */
export function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) && !path.startsWith('-') ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

export type Container = 'text' | 'gzip' | 'trace.dat';

/** One trace file opened for reading: its container (plain, gzip, trace.dat) decoded into
 *  text chunks, which openTrace parses. */
export interface TraceFile {
  path: string;
  container: Container;
  /** Size on disk (compressed size for gzip). */
  bytes: number;
  /** A regular file (not a FIFO, pipe or device): one that can be cached. */
  regular: boolean;
  /** Damage found while reading (a gzip cut short, trailing garbage, a CRC that does not
   *  match): notes for the report, complete once the chunks are read. */
  notes: string[];
  /** Decoded text chunks in order. */
  chunks(): AsyncIterable<string>;
  /** Bytes of the file read so far (compressed bytes for gzip; 0 for a trace.dat, which
   *  is read by trace-cmd): with `bytes`, what a progress bar shows. */
  bytesRead(): number;
  /** The same chunks, each with its bytes when it is ASCII (one byte per character, so
   *  offsets agree): tokenizers read those as a typed array, much faster than charCodeAt. */
  textChunks(): AsyncIterable<TextChunk>;
}

export interface TextChunk {
  readonly text: string;
  /** `text` as bytes (bytes[i] === text.charCodeAt(i)), or null when it was not ASCII. */
  readonly bytes: Buffer | null;
}

/** An ASCII chunk: its bytes, and its text decoded (as latin1, the same string) only when
 *  something asks for it. The ftrace reader splits and reads most lines from the bytes. */
class AsciiChunk implements TextChunk {
  private decoded: string | null = null;
  constructor(readonly bytes: Buffer) {}
  get text(): string {
    if (this.decoded === null) this.decoded = this.bytes.toString('latin1');
    return this.decoded;
  }
}

function startsWith(buf: Uint8Array, n: number, magic: number[]): boolean {
  if (n < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[i] !== magic[i]) return false;
  return true;
}

function containerOf(head: Uint8Array, n: number, path: string): Container {
  if (startsWith(head, n, GZIP_MAGIC)) return 'gzip';
  if (startsWith(head, n, TRACE_DAT_MAGIC)) return 'trace.dat';
  for (const c of OTHER_COMPRESSION) {
    if (startsWith(head, n, c.magic)) {
      throw new TraceError(`${path}: this is ${c.name}; tlbsim reads plain or gzipped text. Decompress it first: ${c.command} ${shellWord(path)}`, path);
    }
  }
  if (startsWith(head, n, PERF_DATA_MAGIC)) {
    throw new TraceError(`${path}: this is a binary perf.data file; tlbsim reads its text form. Convert it with: perf script -i ${shellWord(path)} > perf.txt`, path);
  }
  return 'text';
}

/** Reads the first bytes of a file to tell its container; throws TraceError for files
 *  that cannot be a trace (missing, a directory, empty, unreadable). A FIFO, pipe or
 *  device cannot be read twice: its container is told from the stream (`container`
 *  'text' here is provisional, `regular` false). */
export function probeInput(path: string): { container: Container; bytes: number; regular: boolean } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TraceError(`${path}: ${describeFsError(e)}`, path);
  }
  if (st.isDirectory()) throw new TraceError(`${path}: is a directory, not a trace file`, path);
  if (!st.isFile()) {
    // Fail now, not inside the stream, when it cannot be read at all. Not by opening it:
    // a FIFO opened and closed again would send its writer SIGPIPE.
    try { accessSync(path, constants.R_OK); } catch (e) { throw new TraceError(`${path}: ${describeFsError(e)}`, path); }
    return { container: 'text', bytes: 0, regular: false };
  }
  if (st.size === 0) throw new TraceError(`${path}: the file is empty`, path);
  const head = new Uint8Array(16);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try { n = readSync(fd, head, 0, head.length, 0); } finally { closeSync(fd); }
  } catch (e) {
    throw new TraceError(`${path}: ${describeFsError(e)}`, path);
  }
  return { container: containerOf(head, n, path), bytes: st.size, regular: true };
}

export function traceCmdAvailable(): boolean {
  const r = spawnSync('trace-cmd', ['-h'], { stdio: 'ignore' });
  return !r.error;
}

const CHUNK_BYTES = 1 << 20;

/** Bytes to text chunks, one by one. StringDecoder keeps a multi-byte UTF-8 sequence split
 *  across chunks intact; invalid bytes become U+FFFD instead of failing the read. Traces
 *  are nearly always ASCII: such a chunk, when the decoder holds no partial sequence, is
 *  kept as its bytes (its text, decoded as latin1 only if asked, is the same string). */
export class ChunkDecoder {
  private readonly decoder = new StringDecoder('utf8');

  private pending(): boolean {
    const need = (this.decoder as unknown as { lastNeed?: number }).lastNeed;
    return typeof need !== 'number' || need > 0;
  }

  /** The chunk of `buf` (which must not be reused), or null when it gives no text yet. */
  push(buf: Buffer): TextChunk | null {
    if (!this.pending() && isAscii(buf)) return buf.length > 0 ? new AsciiChunk(buf) : null;
    const s = this.decoder.write(buf);
    return s.length > 0 ? { text: s, bytes: null } : null;
  }

  end(): TextChunk | null {
    const tail = this.decoder.end();
    return tail.length > 0 ? { text: tail, bytes: null } : null;
  }
}

async function* decode(stream: AsyncIterable<Buffer | string>): AsyncIterable<TextChunk> {
  const decoder = new ChunkDecoder();
  for await (const chunk of stream) {
    const c = decoder.push(chunk as Buffer);
    if (c !== null) yield c;
  }
  const tail = decoder.end();
  if (tail !== null) yield tail;
}

/** Bytes [start, end) of a plain text file as text chunks, read synchronously (a range of
 *  parallel ingest, readers/ranges.ts). `fromLineStart`: skip to the first line that
 *  begins in the range (its bytes before the first newline are the tail of a line).
 *  Every chunk is read into the same buffer, which the reader must be done with before it
 *  asks for the next (TextIngest is: LineFramer.chunkDone): fresh memory for every MiB
 *  read cost page faults that two reading threads of one process contended for. */
export function* fileRangeChunks(path: string, start: number, end: number, fromLineStart = false): Generator<TextChunk> {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) { throw new TraceError(`${path}: ${describeFsError(e)}`, path); }
  try {
    const decoder = new ChunkDecoder();
    let skipping = fromLineStart;
    const reused = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(0, end - start)));
    for (let at = start; at < end;) {
      const buf = reused.length <= end - at ? reused : reused.subarray(0, end - at);
      let n: number;
      try { n = readSync(fd, buf, 0, buf.length, at); } catch (e) { throw new TraceError(`${path}: ${describeFsError(e)}`, path); }
      if (n === 0) break; // the file shrank
      at += n;
      let piece = n < buf.length ? buf.subarray(0, n) : buf;
      if (skipping) {
        const nl = piece.indexOf(10);
        if (nl < 0) continue;
        piece = piece.subarray(nl + 1);
        skipping = false;
      }
      const c = decoder.push(piece);
      if (c !== null) yield c;
    }
    const tail = decoder.end();
    if (tail !== null) yield tail;
  } finally { closeSync(fd); }
}

async function* textOnly(chunks: AsyncIterable<TextChunk>): AsyncIterable<string> {
  for await (const c of chunks) yield c.text;
}

/** Compressed sizes from which a gzip is inflated by a thread of its own: starting one
 *  costs ~40 ms compiled, ~0.3 s under tsx (it loads the TypeScript first). */
const INFLATE_THREAD_MIN_BYTES = import.meta.url.endsWith('.js') ? 4 << 20 : 32 << 20;

export interface OpenFileOptions {
  /** Threads to read with (OpenTraceOptions.ingestThreads): 1 inflates a gzip on the
   *  thread that parses it; more, on a thread of its own; 'auto' (default), on its own
   *  from INFLATE_THREAD_MIN_BYTES compressed. */
  threads?: number | 'auto';
}

export function openTraceFile(path: string, options: OpenFileOptions = {}): TraceFile {
  const probed = probeInput(path);
  const { bytes, regular } = probed;
  let container = probed.container;
  let file: ReadStream | null = null;
  let compressedRead = 0;
  const notes: string[] = [];
  return {
    path, get container() { return container; }, bytes, regular, notes,
    textChunks(): AsyncIterable<TextChunk> {
      if (container === 'trace.dat') return traceDatChunks(path);
      file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
      const stream = file;
      stream.on('error', () => { /* reported by the iterator */ });
      return (async function* (): AsyncGenerator<TextChunk> {
        let source: AsyncIterable<Buffer> = fsErrors(path, stream);
        if (!regular) {
          // A FIFO or a pipe is read once: tell its container from its first bytes.
          const it = source[Symbol.asyncIterator]();
          const first = await it.next();
          if (first.done) throw new TraceError(`${path}: nothing could be read from it (a pipe or FIFO whose writer wrote nothing)`, path);
          container = containerOf(first.value, first.value.length, path);
          if (container === 'trace.dat') throw new TraceError(`${path}: a trace.dat must be a file (trace-cmd reads it by name); save it to a file first`, path);
          source = (async function* () { yield first.value; for (;;) { const r = await it.next(); if (r.done) return; yield r.value; } })();
        }
        try {
          if (container === 'text') yield* decode(normaliseText(path, source, notes));
          else if (regular && inflateThread(options.threads, bytes)) {
            stream.destroy();
            yield* decode(inflatedByWorker(path, notes, (n) => { compressedRead = n; }));
          } else yield* decode(normaliseText(path, gunzipMembers(path, source, notes, (n) => { compressedRead = n; }), notes));
        } finally { stream.destroy(); }
      })();
    },
    chunks(): AsyncIterable<string> { return textOnly(this.textChunks()); },
    bytesRead: () => (container === 'gzip' ? compressedRead : file?.bytesRead ?? 0),
  };
}

/** The threads asked for: the option, else TLBSIM_INGEST_THREADS, else 'auto' (a value
 *  that is not a number reads as one thread). */
export function threadsAsked(threads: number | 'auto' | undefined): number | 'auto' {
  const env = process.env.TLBSIM_INGEST_THREADS;
  return threads ?? (env !== undefined && env !== '' && env !== 'auto' ? Number(env) : 'auto');
}

/** Bytes of text a chunk holds (for progress). */
export function chunkBytes(c: TextChunk): number {
  return c.bytes !== null ? c.bytes.length : Buffer.byteLength(c.text);
}

function inflateThread(threads: number | 'auto' | undefined, compressedBytes: number): boolean {
  const asked = threadsAsked(threads);
  return asked === 'auto' ? compressedBytes >= INFLATE_THREAD_MIN_BYTES : asked > 1;
}

type InflateMessage = { t: 'data'; buf: Uint8Array } | { t: 'read'; n: number } | { t: 'end'; notes: string[] } | { t: 'error'; message: string; notes: string[] };

/** A gzip's text bytes (BOM, UTF-16 and CR-only line ends undone, as normaliseText does),
 *  inflated by a worker thread (inflate-worker.ts) while this one parses: inflating took a
 *  quarter of reading a gzipped trace, on the same thread. The worker runs the same
 *  gunzipMembers and normaliseText, so the bytes and the notes are the same; it stays at
 *  most a few MiB ahead. */
async function* inflatedByWorker(path: string, notes: string[], onRead: (compressedBytes: number) => void): AsyncGenerator<Buffer> {
  const { Worker } = await import('node:worker_threads');
  const entry = new URL(import.meta.url.endsWith('.js') ? './inflate-worker.js' : './inflate-worker-entry.mjs', import.meta.url);
  const worker = new Worker(entry, { workerData: { path } });
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const wakeUp = () => { const f = wake; wake = null; f?.(); };
  worker.on('message', (m: InflateMessage) => {
    if (m.t === 'data') queue.push(Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength));
    else if (m.t === 'read') onRead(m.n);
    else if (m.t === 'end') { notes.push(...m.notes); ended = true; }
    else { notes.push(...m.notes); failure = new TraceError(m.message, path); }
    wakeUp();
  });
  worker.on('error', (e) => { failure ??= new TraceError(`${path}: the inflating thread failed: ${e.message}`, path); wakeUp(); });
  worker.on('exit', () => { if (!ended) failure ??= new TraceError(`${path}: the inflating thread stopped before the end`, path); wakeUp(); });
  try {
    for (;;) {
      while (queue.length === 0 && !ended && failure === null) await new Promise<void>((r) => { wake = r; });
      const b = queue.shift();
      if (b !== undefined) { worker.postMessage(b.length); yield b; continue; }
      if (failure !== null) throw failure;
      return;
    }
  } finally { void worker.terminate(); }
}

/** The chunks of a file stream, with a read error (EACCES on open, EIO, EISDIR) as a
 *  TraceError naming the file. */
export async function* fsErrors(path: string, stream: ReadStream): AsyncGenerator<Buffer> {
  try {
    for await (const c of stream) yield c as Buffer;
  } catch (e) {
    if (e instanceof TraceError) throw e;
    throw new TraceError(`${path}: ${describeFsError(e)}`, path);
  }
}

/** Input fed to the inflater at a time. Damage inside the compressed data loses what the
 *  piece it falls in would have given (zlib does not return it), so pieces are small. */
const GZIP_PIECE = 32 * 1024;

/** Length of the gzip member header at the start of `b` (RFC 1952): null when more bytes
 *  are needed, -1 when it is not a gzip header. */
function gzipHeaderLength(b: Buffer): number | null {
  const magic = [0x1f, 0x8b, 8];
  for (let i = 0; i < 3 && i < b.length; i++) if (b[i] !== magic[i]) return -1;
  if (b.length < 10) return null;
  const flags = b[3];
  let p = 10;
  if (flags & 4) { if (b.length < p + 2) return null; p += 2 + b.readUInt16LE(p); }
  for (const bit of [8, 16]) {
    if (flags & bit) { const z = b.indexOf(0, p); if (z < 0) return b.length > 1 << 20 ? -1 : null; p = z + 1; }
  }
  if (flags & 2) p += 2;
  return b.length < p ? null : p;
}

/** Decompress every gzip member of a file (as `gzip -d` does: members one after another),
 *  keeping every byte that decompresses. Damage — a cut, a CRC or size that does not
 *  match, bytes after the last member that are not gzip, corrupt compressed data — ends
 *  the read with a note, never with the loss of what was good. The deflate data is
 *  inflated raw, with the framing and the CRC checked here: Node's gunzip stream drops
 *  its last output buffer (up to 1 MiB of text) when it fails. */
export async function* gunzipMembers(path: string, source: AsyncIterable<Buffer>, notes: string[], onRead: (compressedBytes: number) => void = () => {}): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0; // file offset of pending[0]
  let eof = false;
  let fileRead = 0;
  const more = async (): Promise<boolean> => {
    if (eof) return false;
    const r = await it.next();
    if (r.done) { eof = true; return false; }
    fileRead += r.value.length;
    onRead(fileRead);
    pending = pending.length > 0 ? Buffer.concat([pending, r.value]) : r.value;
    return true;
  };
  const where = (at: number) => `at byte ${at} of ${fileRead}`;
  for (let member = 0; ; member++) {
    let hl = gzipHeaderLength(pending);
    while (hl === null && await more()) hl = gzipHeaderLength(pending);
    if (pending.length === 0 && eof) {
      if (member === 0) throw new TraceError(`${path}: the gzip file is empty`, path);
      return;
    }
    if (hl === null) { notes.push(`${path}: the gzip data is cut short ${where(offset)} (inside a member's header)`); return; }
    if (hl === -1) {
      if (member === 0) throw new TraceError(`${path}: not a gzip file (the first bytes are not a gzip header)`, path);
      let zeros = pending.every((x) => x === 0);
      let rest = pending.length;
      pending = Buffer.alloc(0);
      while (await more()) { zeros &&= pending.every((x) => x === 0); rest += pending.length; pending = Buffer.alloc(0); }
      // Zero padding (tape and tar blocks) is not damage; gzip -d ignores it too.
      if (!zeros) notes.push(`${path}: ${rest} byte${rest === 1 ? '' : 's'} after the end of the gzip data (${where(offset)}) are not gzip and were ignored, as gzip -d ignores trailing garbage`);
      return;
    }
    pending = pending.subarray(hl);
    offset += hl;
    const inflater = createInflateRaw({ chunkSize: 256 * 1024, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const out: Buffer[] = [];
    let ended = false;
    let failure: Error | null = null;
    inflater.on('data', (d: Buffer) => out.push(d));
    inflater.on('end', () => { ended = true; });
    inflater.on('error', (e: Error) => { failure = e; });
    let crc = 0, size = 0;
    try {
      for (;;) {
        if (pending.length === 0 && !(await more())) {
          notes.push(`${path}: the gzip data is cut short ${where(offset)}: everything up to the cut was read (${size} bytes of text${member > 0 ? ` in member ${member + 1}` : ''})`);
          for (const b of out.splice(0)) yield b;
          return;
        }
        const piece = pending.subarray(0, GZIP_PIECE);
        const before = inflater.bytesWritten;
        await new Promise<void>((resolve) => {
          const done = (): void => { inflater.off('error', done); resolve(); };
          inflater.once('error', done);
          inflater.write(piece, done);
        });
        for (const b of out.splice(0)) { crc = crc32(b, crc); size += b.length; yield b; }
        if (failure !== null) {
          notes.push(`${path}: the gzip data is corrupt ${where(offset)} (${(failure as Error).message}): everything before the damage was read (${size} bytes of text${member > 0 ? ` in member ${member + 1}` : ''}), the rest is lost`);
          return;
        }
        const used = inflater.bytesWritten - before;
        pending = pending.subarray(used);
        offset += used;
        if (ended || used < piece.length) break;
      }
    } finally { inflater.destroy(); }
    while (pending.length < 8 && await more());
    if (pending.length < 8) { notes.push(`${path}: the gzip data is cut short ${where(offset)} (its CRC and length are missing): everything was read`); return; }
    const wantCrc = pending.readUInt32LE(0), wantSize = pending.readUInt32LE(4);
    if (wantCrc !== crc >>> 0 || wantSize !== size % 2 ** 32) {
      notes.push(`${path}: the gzip CRC or length does not match the data ${where(offset)} (${wantCrc !== crc >>> 0 ? 'CRC' : 'length'}): the text was read, but some of it may be damaged`);
    }
    pending = pending.subarray(8);
    offset += 8;
  }
}

async function* traceDatChunks(path: string): AsyncIterable<TextChunk> {
  if (!traceCmdAvailable()) {
    throw new TraceError(`${path}: this is a binary trace-cmd trace.dat; tlbsim reads its text form. ` +
      `Install trace-cmd (apt-get install trace-cmd) or convert it with: trace-cmd report -i ${shellWord(path)} > trace.txt`, path);
  }
  // The path is passed as an argument vector, never through a shell.
  const child = spawn('trace-cmd', ['report', '-i', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { if (stderr.length < 4000) stderr += d; });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  let printed = false;
  for await (const s of decode(child.stdout)) { printed = true; yield s; }
  const code = await exited;
  if (code !== 0) {
    throw new TraceError(`${path}: trace-cmd report failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`, path);
  }
  if (!printed) {
    // trace-cmd exits 0 and prints nothing for a trace.dat cut inside its headers.
    throw new TraceError(`${path}: trace-cmd report printed nothing for this trace.dat: it is truncated or corrupt (${stderr.trim().split('\n')[0] || 'no message from trace-cmd'})`, path);
  }
}
