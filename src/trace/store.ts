// Parsed events, kept so a trace is parsed once and replayed many times. Small traces stay
// in memory; past a limit, full batches go to a temporary file of raw columns and are read
// back one batch at a time, so memory stays flat whatever the trace length.
import { closeSync, openSync, readSync, writeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatch, batchBuffer, type EventBatch, DEFAULT_BATCH_SIZE, BYTES_PER_EVENT } from './event.ts';
import { release, removeLater, sweepStale } from './cleanup.ts';
import { TraceError, describeFsError } from './input.ts';

/** Events kept in memory before the store starts spilling to disk (~43 MB). */
export const DEFAULT_MEMORY_EVENTS = 1 << 20;

/** Spill directories are `tlbsim-<pid>-XXXXXX` so a later run can remove those of a process
 *  that was killed (SIGKILL, an out-of-memory abort) before it could. */
const SPILL_PREFIX = 'tlbsim-';
let swept = false;

/** The spill file could not be written: the trace cannot be read here (unlike damage in
 *  the input, after which what was read is kept). */
export class SpillError extends TraceError {}

function spillFailed(where: string, e: unknown): never {
  throw new SpillError(`cannot write parsed events to ${where}: ${describeFsError(e)}; set TMPDIR to a directory with room (a large trace spills about 43 bytes per event)`);
}

export class EventStore {
  private readonly batchSize: number;
  private readonly memoryLimit: number;
  private current: EventBatch;
  private inMemory: EventBatch[] = [];
  private file: string | null = null;
  private dir: string | null = null;
  private fd = -1;
  private spilledBatches = 0;
  private spilledLengths: number[] = [];
  total = 0;
  /** Called with each batch as it is completed, in order (before it may be spilled): a
   *  pass over the events as they are read, instead of reading them back for it. */
  onBatch: ((batch: EventBatch) => void) | null = null;

  constructor(options: { batchSize?: number; memoryEvents?: number } = {}) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.memoryLimit = options.memoryEvents ?? DEFAULT_MEMORY_EVENTS;
    this.current = createBatch(this.batchSize);
  }

  /** The batch to append the next event to (pushEvent), after making room. */
  reserve(): EventBatch {
    if (this.current.length === this.batchSize) this.rotate();
    this.total++;
    return this.current;
  }

  private rotate(): void {
    const full = this.current;
    if (this.onBatch !== null) this.onBatch(full);
    if (this.file === null && (this.inMemory.length + 1) * this.batchSize > this.memoryLimit) this.openSpill();
    if (this.file !== null) {
      for (const b of this.inMemory) this.writeBatch(b);
      this.inMemory = [];
      this.writeBatch(full);
      full.length = 0;
      this.current = full; // reuse the buffer
    } else {
      this.inMemory.push(full);
      this.current = createBatch(this.batchSize);
    }
  }

  private openSpill(): void {
    const base = tmpdir();
    if (!swept) {
      swept = true;
      sweepStale(base, (n) => { const m = /^tlbsim-(\d+)-[\w]{6}$/.exec(n); return m ? Number(m[1]) : null; });
    }
    let dir: string;
    try { dir = mkdtempSync(join(base, `${SPILL_PREFIX}${process.pid}-`)); } catch (e) { spillFailed(base, e); }
    removeLater(dir, 'dir');
    this.dir = dir;
    const file = join(dir, 'events.bin');
    try { this.fd = openSync(file, 'w+', 0o600); } catch (e) { this.close(); spillFailed(file, e); }
    this.file = file;
  }

  private writeBatch(b: EventBatch): void {
    const bytes = new Uint8Array(batchBuffer(b) as ArrayBuffer);
    try {
      writeSync(this.fd, bytes, 0, bytes.length, this.spilledBatches * bytes.length);
    } catch (e) {
      // Nothing can be read back from a spill file that is missing batches.
      const where = this.file ?? tmpdir();
      this.close();
      spillFailed(where, e);
    }
    this.spilledLengths.push(b.length);
    this.spilledBatches++;
  }

  /** Stop appending: the events are complete. */
  seal(): void {
    if (this.onBatch !== null && this.current.length > 0) this.onBatch(this.current);
    this.onBatch = null;
    if (this.current.length > 0 && this.file !== null) {
      this.writeBatch(this.current);
      this.current = createBatch(1);
    }
  }

  get spilled(): boolean {
    return this.file !== null;
  }

  /** Iterate stored batches in order. A yielded batch may be reused by the next step. */
  *batches(): Generator<EventBatch> {
    if (this.file === null) {
      yield* this.inMemory;
      if (this.current.length > 0) yield this.current;
      return;
    }
    const buf = createBatch(this.batchSize);
    const bytes = new Uint8Array(batchBuffer(buf) as ArrayBuffer);
    for (let i = 0; i < this.spilledBatches; i++) {
      readSync(this.fd, bytes, 0, bytes.length, i * bytes.length);
      buf.length = this.spilledLengths[i];
      yield buf;
    }
  }

  /** Approximate bytes used in memory. */
  get memoryBytes(): number {
    return (this.inMemory.length + 1) * this.batchSize * BYTES_PER_EVENT;
  }

  close(): void {
    if (this.file !== null) {
      try { closeSync(this.fd); } catch { /* ignore */ }
      this.file = null;
    }
    if (this.dir !== null) {
      rmSync(this.dir, { recursive: true, force: true });
      release(this.dir);
      this.dir = null;
    }
    this.inMemory = [];
  }
}
