// Parallel ingest of a plain text trace: the file is cut into byte ranges at line starts;
// the main thread reads the first range, a worker thread each other one, all at once.
// A worker first reads the lines just before its range (the look-behind) to reach the
// state one reader would be in where the range starts: the clock's latest time and the
// last line read (for copies of it). Its tasks it cannot resolve (that depends on the
// whole trace before it): it logs the questions instead (text/task-log.ts).
//
// The main thread then joins the ranges in order: it checks that the worker started from
// the state it ended in itself (same time, same last line, nothing pending), adds the
// range's counts and findings to its own, replays its task questions on the trace's task
// table and appends its events with their mms filled in. The result is what one reader
// gives: the same events, notes, skipped lines and numbers (test/trace/ranges.test.ts
// compares them on every recording in the repository). Where a range cannot be joined
// (a second trace's header, a repeated recording, a clock that jumps at the boundary,
// a worker that failed), the main thread reads on from there itself, or, when a range
// was already joined, reads the whole file again.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { closeSync, openSync, readSync } from 'node:fs';
import type { TraceFormat } from '../event.ts';
import { chunkBytes, fileRangeChunks, threadsAsked, type TraceFile } from '../input.ts';
import { DEFAULT_MEMORY_EVENTS, discardHandOver, type EventStore, type StoreHandOver } from '../store.ts';
import type { RangeResult, TextIngest } from '../text/ingest.ts';
import { redeemTickets } from '../text/task-log.ts';
import type { LineIdentity } from '../duplicates.ts';

/** Bytes before a range that its worker reads to reach the state one reader would be in
 *  there: a few thousand lines, far more than the disorder of any trace we have seen. */
export const LOOK_BEHIND_BYTES = 256 * 1024;
/** Smaller files are read by one thread. Each thread pays the JIT's warm-up of the parser
 *  (the first 10 MB take ~150 ms more than the next), slower still while both cores are
 *  busy, and two threads of this 2-vCPU machine parse 1.3-1.5x slower each than one alone:
 *  measured (bench/RESULTS.md), the second thread pays off from about 100 MB. Under tsx
 *  (src/, not dist/), a worker also spends ~0.3 s loading the TypeScript. */
export const MIN_PARALLEL_BYTES = import.meta.url.endsWith('.js') ? 128 << 20 : 512 << 20;
/** ...and each range holds at least this much. */
const MIN_RANGE_BYTES = 64 << 20;
const MAX_THREADS = 16;

export interface RangeOptions {
  /** Threads reading the file (the main one included): a number, or 'auto' (one per core
   *  for a plain file of MIN_PARALLEL_BYTES or more, ranges of 64 MB or more). Default:
   *  TLBSIM_INGEST_THREADS, else 'auto'. 1 reads with one thread. */
  ingestThreads?: number | 'auto';
  /** Smallest range (default 64 MB; tests cut small files into many ranges). */
  minRangeBytes?: number;
}

/** How the trace was read, for benchmarks and tests (never part of the trace's info). */
export interface IngestReport {
  /** Ranges the file was cut into (1: one reader). */
  ranges: number;
  /** Ranges read by workers and joined. */
  joined: number;
  /** Why a range was read by the main thread instead, or null. */
  fallback: string | null;
}

/** Threads to read `input` with. */
export function ingestThreads(input: TraceFile, options: RangeOptions): number {
  const asked = threadsAsked(options.ingestThreads);
  if (input.container !== 'text' || !input.regular) return 1;
  const minRange = options.minRangeBytes ?? MIN_RANGE_BYTES;
  const bySize = Math.max(1, Math.floor(input.bytes / minRange));
  if (asked === 'auto') return input.bytes >= MIN_PARALLEL_BYTES ? Math.min(availableParallelism(), MAX_THREADS, bySize) : 1;
  return Number.isInteger(asked) && asked > 1 ? Math.min(asked, MAX_THREADS, bySize) : 1;
}

/** Where `n` ranges of the file begin (and, last, its size): about equal, each just after
 *  a newline. Fewer when a cut finds no newline near it; null when the file starts with a
 *  byte-order mark or is not UTF-8 (the one reader undoes those as it reads). */
export function planRanges(path: string, size: number, n: number): number[] | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    if ((head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) || head[0] === 0xff || head[0] === 0xfe || head[0] === 0 || head[1] === 0) return null;
    const bounds = [0];
    const probe = Buffer.allocUnsafe(1 << 20);
    for (let k = 1; k < n; k++) {
      const at = Math.floor((k * size) / n) - 1;
      const got = readSync(fd, probe, 0, probe.length, at);
      const nl = probe.subarray(0, got).indexOf(10);
      if (nl < 0) continue;
      const b = at + nl + 1;
      if (b > bounds[bounds.length - 1] && b < size) bounds.push(b);
    }
    bounds.push(size);
    return bounds;
  } finally { closeSync(fd); }
}

interface WorkerDone { t: 'done'; result: RangeResult; store: StoreHandOver }
type WorkerMessage = WorkerDone | { t: 'progress'; bytes: number } | { t: 'error'; message: string };

/** Read the file in the ranges `bounds` into `ingest` (a fresh one-reader ingest over
 *  `store`), as one reader would. Returns 'restart' when a range could not be joined
 *  after another was: the caller reads the whole file again with one reader. The caller
 *  ends the ingest (TextIngest.end) after 'done'. */
export async function readInRanges(path: string, format: TraceFormat, bounds: number[], ingest: TextIngest, store: EventStore,
  options: { memoryEvents?: number; batchSize?: number; onProgress?: (bytesRead: number, totalBytes: number) => void }, report: IngestReport): Promise<'done' | 'restart'> {
  const n = bounds.length - 1;
  const size = bounds[n];
  report.ranges = n;
  // Under tsx (src/), a worker must register tsx before it can import TypeScript;
  // compiled (dist/), it runs range-worker.js directly.
  const entry = new URL(import.meta.url.endsWith('.js') ? './range-worker.js' : './range-worker-entry.mjs', import.meta.url);
  const progress = new Array<number>(n).fill(0);
  const done: Promise<WorkerMessage>[] = [];
  const workers: Worker[] = [];
  for (let k = 1; k < n; k++) {
    const w = new Worker(entry, {
      workerData: {
        path, format, lookStart: Math.max(0, bounds[k] - LOOK_BEHIND_BYTES), start: bounds[k], end: bounds[k + 1], atEnd: k === n - 1,
        // The workers share one reader's memory budget: what they hold when the main
        // thread adopts their events stays within twice what one reader would.
        memoryEvents: Math.floor((options.memoryEvents ?? DEFAULT_MEMORY_EVENTS) / (n - 1)), batchSize: options.batchSize,
      },
    });
    workers.push(w);
    done.push(new Promise<WorkerMessage>((resolve) => {
      w.on('message', (m: WorkerMessage) => { if (m.t === 'progress') progress[k] = m.bytes; else resolve(m); });
      w.on('error', (e) => resolve({ t: 'error', message: e.message }));
      w.on('exit', (code) => resolve({ t: 'error', message: `the worker exited (${code}) before it was done` }));
    }));
  }
  /** Stop the workers of ranges from index `k` on; their results, if they come anyway,
   *  are dropped with their spill files. */
  const stopFrom = (k: number): void => {
    for (let i = k - 1; i < workers.length; i++) {
      void workers[i].terminate();
      void done[i].then((m) => { if (m.t === 'done') discardHandOver(m.store); });
    }
  };
  // The workers wait for the trace's first event line: theirs look for it again (a
  // repeated recording), which only the whole trace read in order can judge.
  let first: LineIdentity | null = null;
  const go = (): void => { for (const w of workers) w.postMessage({ first }); };
  let told = false;
  const onProgress = options.onProgress;
  let read = 0, pieces = 0;
  try {
    for (const chunk of fileRangeChunks(path, 0, bounds[1])) {
      ingest.pushChunk(chunk);
      read += chunkBytes(chunk);
      if (!told && (first = ingest.firstEventLine()) !== null) { go(); told = true; }
      // Let progress messages in (and a progress bar draw) now and then.
      if (onProgress && ++pieces % 8 === 0) {
        await new Promise<void>((r) => setImmediate(r));
        progress[0] = read;
        onProgress(progress.reduce((a, b) => a + b, 0), size);
      }
    }
  } catch (e) {
    stopFrom(1);
    throw e;
  }
  if (!told) go();
  for (let k = 1; k < n; k++) {
    const m = await done[k - 1];
    const problem = m.t === 'done' ? ingest.joinProblem(m.result) : m.t === 'error' ? `its worker failed: ${m.message}` : 'no result';
    if (problem !== null) {
      report.fallback = `range ${k + 1} of ${n} (from byte ${bounds[k]}): ${problem}`;
      stopFrom(k);
      if (k > 1) return 'restart';
      // Nothing joined yet: this ingest is where one reader would be. Read on.
      for (const chunk of fileRangeChunks(path, bounds[1], size)) {
        ingest.pushChunk(chunk);
        if (onProgress) { read += chunkBytes(chunk); onProgress(read, size); }
      }
      return 'done';
    }
    const r = (m as WorkerDone);
    const mmOf = ingest.absorb(r.result);
    store.adopt(r.store, (batch) => redeemTickets(batch, mmOf));
    report.joined++;
    progress[k] = bounds[k + 1] - bounds[k];
    if (onProgress) onProgress(bounds[k + 1], size);
  }
  return 'done';
}
