// Parsed events, kept so a trace is parsed once and replayed many times. Small traces stay
// in memory; past a limit, full batches go to a temporary file of raw columns and are read
// back one batch at a time, so memory stays flat whatever the trace length.
import { closeSync, openSync, readSync, unlinkSync, writeSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatch, batchBuffer, type EventBatch, DEFAULT_BATCH_SIZE, BYTES_PER_EVENT } from './event.ts';

/** Events kept in memory before the store starts spilling to disk (~43 MB). */
export const DEFAULT_MEMORY_EVENTS = 1 << 20;

const liveFiles = new Set<string>();
let exitHookInstalled = false;
function removeOnExit(path: string): void {
  liveFiles.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const f of liveFiles) {
      try { unlinkSync(f); rmdirSync(join(f, '..')); } catch { /* already gone */ }
    }
  });
}

export class EventStore {
  private readonly batchSize: number;
  private readonly memoryLimit: number;
  private current: EventBatch;
  private inMemory: EventBatch[] = [];
  private file: string | null = null;
  private fd = -1;
  private spilledBatches = 0;
  private spilledLengths: number[] = [];
  total = 0;

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
    const dir = mkdtempSync(join(tmpdir(), 'tlbsim-'));
    this.file = join(dir, 'events.bin');
    this.fd = openSync(this.file, 'w+');
    removeOnExit(this.file);
  }

  private writeBatch(b: EventBatch): void {
    const bytes = new Uint8Array(batchBuffer(b) as ArrayBuffer);
    writeSync(this.fd, bytes, 0, bytes.length, this.spilledBatches * bytes.length);
    this.spilledLengths.push(b.length);
    this.spilledBatches++;
  }

  /** Stop appending: the events are complete. */
  seal(): void {
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
      try { closeSync(this.fd); unlinkSync(this.file); rmdirSync(join(this.file, '..')); } catch { /* ignore */ }
      liveFiles.delete(this.file);
      this.file = null;
    }
    this.inMemory = [];
  }
}
