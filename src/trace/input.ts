// Opening a trace file: plain or gzipped text, or a trace-cmd `trace.dat` converted by
// running `trace-cmd report`. Produces decoded text chunks; never the whole file at once.
import { createReadStream, openSync, readSync, closeSync, statSync, type ReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import type { Readable } from 'node:stream';

/** A user-facing problem with an input: printed as one sentence, never as a stack. */
export class TraceError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(message);
    this.name = 'TraceError';
  }
}

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

export interface OpenedInput {
  path: string;
  container: Container;
  /** Size on disk (compressed size for gzip). */
  bytes: number;
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

/** Reads the first bytes of a file to tell its container; throws TraceError for files
 *  that cannot be a trace (missing, a directory, empty). */
export function probeInput(path: string): { container: Container; bytes: number } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TraceError(`${path}: no such file`, path);
  }
  if (st.isDirectory()) throw new TraceError(`${path}: is a directory, not a trace file`, path);
  if (st.size === 0) throw new TraceError(`${path}: the file is empty`, path);
  const head = new Uint8Array(16);
  const fd = openSync(path, 'r');
  let n = 0;
  try { n = readSync(fd, head, 0, head.length, 0); } finally { closeSync(fd); }
  if (startsWith(head, n, GZIP_MAGIC)) return { container: 'gzip', bytes: st.size };
  if (startsWith(head, n, TRACE_DAT_MAGIC)) return { container: 'trace.dat', bytes: st.size };
  for (const c of OTHER_COMPRESSION) {
    if (startsWith(head, n, c.magic)) {
      throw new TraceError(`${path}: this is ${c.name}; tlbsim reads plain or gzipped text. Decompress it first: ${c.command} ${shellWord(path)}`, path);
    }
  }
  if (startsWith(head, n, PERF_DATA_MAGIC)) {
    throw new TraceError(`${path}: this is a binary perf.data file; tlbsim reads its text form. Convert it with: perf script -i ${shellWord(path)} > perf.txt`, path);
  }
  return { container: 'text', bytes: st.size };
}

export function traceCmdAvailable(): boolean {
  const r = spawnSync('trace-cmd', ['-h'], { stdio: 'ignore' });
  return !r.error;
}

const CHUNK_BYTES = 1 << 20;

async function* decode(stream: Readable): AsyncIterable<TextChunk> {
  // StringDecoder keeps a multi-byte UTF-8 sequence split across chunks intact;
  // invalid bytes become U+FFFD instead of failing the read. Traces are nearly always
  // ASCII: such a chunk, when the decoder holds no partial sequence, is copied as latin1
  // (the same string, three times faster than UTF-8 decoding).
  const decoder = new StringDecoder('utf8');
  const pending = () => {
    const need = (decoder as unknown as { lastNeed?: number }).lastNeed;
    return typeof need !== 'number' || need > 0;
  };
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    if (!pending() && isAscii(buf)) {
      if (buf.length > 0) yield new AsciiChunk(buf);
      continue;
    }
    const s = decoder.write(buf);
    if (s.length > 0) yield { text: s, bytes: null };
  }
  const tail = decoder.end();
  if (tail.length > 0) yield { text: tail, bytes: null };
}

async function* textOnly(chunks: AsyncIterable<TextChunk>): AsyncIterable<string> {
  for await (const c of chunks) yield c.text;
}

export function openInput(path: string): OpenedInput {
  const { container, bytes } = probeInput(path);
  let file: ReadStream | null = null;
  return {
    path, container, bytes,
    textChunks(): AsyncIterable<TextChunk> {
      if (container === 'trace.dat') return traceDatChunks(path);
      file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
      return container === 'text' ? decode(file) : gunzipChunks(path, file);
    },
    chunks(): AsyncIterable<string> { return textOnly(this.textChunks()); },
    bytesRead: () => file?.bytesRead ?? 0,
  };
}

async function* gunzipChunks(path: string, file: ReadStream): AsyncIterable<TextChunk> {
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  file.pipe(gunzip);
  file.on('error', (e) => gunzip.destroy(e));
  try {
    yield* decode(gunzip);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || /unexpected end/i.test(String((e as Error).message))) {
      throw new TraceError(`${path}: the gzip stream is cut short or corrupt (${(e as Error).message}); everything before the damage was read`, path);
    }
    throw e;
  } finally {
    file.destroy();
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
