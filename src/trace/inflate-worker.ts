// The thread that inflates a gzipped trace while the main thread parses it (input.ts,
// inflatedByWorker): the same gunzipMembers and normaliseText as one thread would run, the
// text in 1 MiB pieces (transferred, not copied), the notes at the end. It runs ahead of
// the parser by at most AHEAD bytes: the main thread returns credit as it takes pieces.
import { parentPort, workerData } from 'node:worker_threads';
import { createReadStream } from 'node:fs';
import { fsErrors, gunzipMembers } from './input.ts';
import { normaliseText } from './encoding.ts';

const PIECE = 1 << 20;
const AHEAD = 8 << 20;

async function run(path: string): Promise<void> {
  const port = parentPort!;
  let credit = AHEAD;
  let wake: (() => void) | null = null;
  port.on('message', (n: number) => { credit += n; const f = wake; wake = null; f?.(); });
  const notes: string[] = [];
  const stream = createReadStream(path, { highWaterMark: PIECE });
  stream.on('error', () => { /* reported by the iterator */ });
  let reported = 0;
  const onRead = (n: number) => { if (n - reported >= PIECE) { reported = n; port.postMessage({ t: 'read', n }); } };
  let piece = Buffer.allocUnsafeSlow(PIECE), used = 0;
  const send = async () => {
    while (credit <= 0) await new Promise<void>((r) => { wake = r; });
    credit -= used;
    const out = piece.subarray(0, used);
    port.postMessage({ t: 'data', buf: out }, [out.buffer as ArrayBuffer]);
    piece = Buffer.allocUnsafeSlow(PIECE); used = 0;
  };
  try {
    // zlib's output buffers are its own (reused): copied into pieces of our own.
    for await (const b of normaliseText(path, gunzipMembers(path, fsErrors(path, stream), notes, onRead), notes)) {
      for (let at = 0; at < b.length;) {
        const n = Math.min(b.length - at, PIECE - used);
        b.copy(piece, used, at, at + n);
        used += n; at += n;
        if (used === PIECE) await send();
      }
    }
    if (used > 0) await send();
    port.postMessage({ t: 'end', notes });
  } catch (e) {
    if (used > 0) await send();
    port.postMessage({ t: 'error', message: e instanceof Error ? e.message : String(e), notes });
  } finally {
    stream.destroy();
    port.close();
  }
}

void run((workerData as { path: string }).path);
