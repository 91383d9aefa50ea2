// Parsed events, kept so a trace is parsed once and replayed many times. Small traces stay
// in memory; past a limit, full batches go to a temporary file of raw columns and are read
// back one batch at a time, so memory stays flat whatever the trace length.
import { closeSync, openSync, readSync, writeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatch, batchBuffer, batchFromBuffer, type EventBatch, DEFAULT_BATCH_SIZE, BYTES_PER_EVENT } from './event.ts';
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

/** A store's events given to another thread (a range worker's, parallel ingest): the
 *  batches kept in memory, as transferable buffers, or the spill file, whose removal the
 *  receiver takes over. */
export interface StoreHandOver {
  batchSize: number;
  memory: { buffer: ArrayBuffer; length: number }[];
  spill: { dir: string; file: string; lengths: number[] } | null;
}

/** Drop a hand-over's events unread (its spill file with them). */
export function discardHandOver(h: StoreHandOver): void {
  if (h.spill === null) return;
  rmSync(h.spill.dir, { recursive: true, force: true });
  release(h.spill.dir);
}

/** Events taken over from another thread (adopt). */
interface Segment {
  batch: EventBatch | null;
  spill: StoreHandOver['spill'];
  fd: number;
  redeem: (batch: EventBatch) => void;
}

export class EventStore {
  private readonly batchSize: number;
  private segments: Segment[] = [];
  /** Events were adopted: nothing more can be appended. */
  private adopted = false;
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

  /** Take over another thread's events (a range worker's, parallel ingest) to follow the
   *  ones stored here, which are then complete. `redeem` turns each of its batches into
   *  the events it stands for (in place): once for those kept in memory, at every reading
   *  for those in its spill file, which is read where it lies rather than copied (at 1 GB,
   *  copying cost more than the worker saved). onBatch sees every batch, redeemed, now. */
  adopt(h: StoreHandOver, redeem: (batch: EventBatch) => void): void {
    if (!this.adopted) {
      if (this.current.length > 0) {
        this.onBatch?.(this.current);
        if (this.file !== null) this.writeBatch(this.current);
        else this.inMemory.push(this.current);
      }
      this.adopted = true;
      // A full batch with no room: appending now fails (rotate) instead of landing after
      // the adopted events.
      this.current = createBatch(1);
      this.current.length = this.batchSize;
    }
    for (const m of h.memory) {
      const b = batchFromBuffer(m.buffer, m.length);
      redeem(b);
      this.onBatch?.(b);
      this.segments.push({ batch: b, spill: null, fd: -1, redeem });
      this.total += b.length;
    }
    const spill = h.spill;
    if (spill === null) return;
    removeLater(spill.dir, 'dir');
    let fd: number;
    try { fd = openSync(spill.file, 'r'); } catch (e) { spillFailed(spill.file, e); }
    const segment = { batch: null, spill, fd, redeem };
    this.segments.push(segment);
    for (const n of spill.lengths) this.total += n;
    if (this.onBatch !== null) for (const b of this.segmentBatches(segment)) this.onBatch(b);
  }

  private *segmentBatches(seg: Segment): Generator<EventBatch> {
    if (seg.batch !== null) { yield seg.batch; return; }
    const buf = createBatch(this.batchSize);
    const bytes = new Uint8Array(batchBuffer(buf) as ArrayBuffer);
    const lengths = seg.spill!.lengths;
    for (let i = 0; i < lengths.length; i++) {
      readSync(seg.fd, bytes, 0, bytes.length, i * bytes.length);
      buf.length = lengths[i];
      seg.redeem(buf);
      yield buf;
    }
  }

  /** Drop every event stored so far (a range worker's look-behind lines). */
  discard(): void {
    if (this.file !== null) {
      try { closeSync(this.fd); } catch { /* ignore */ }
      rmSync(this.dir!, { recursive: true, force: true });
      release(this.dir!);
      this.file = null; this.dir = null; this.fd = -1;
      this.spilledBatches = 0; this.spilledLengths = [];
    }
    this.inMemory = [];
    this.current.length = 0;
    this.total = 0;
  }

  /** Seal and give the events to another thread: this store is empty afterwards. The
   *  buffers in `memory` are to be transferred, the spill file is the receiver's to remove. */
  handOver(): StoreHandOver {
    this.seal();
    const memory = [...this.inMemory, ...(this.current.length > 0 && this.file === null ? [this.current] : [])]
      .map((b) => ({ buffer: batchBuffer(b) as ArrayBuffer, length: b.length }));
    let spill: StoreHandOver['spill'] = null;
    if (this.file !== null) {
      try { closeSync(this.fd); } catch { /* ignore */ }
      spill = { dir: this.dir!, file: this.file, lengths: this.spilledLengths };
      release(this.dir!);
      this.file = null; this.dir = null;
    }
    this.inMemory = [];
    this.current = createBatch(1);
    return { batchSize: this.batchSize, memory, spill };
  }

  private rotate(): void {
    if (this.adopted) throw new Error('EventStore: events appended after adopted ones');
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
    if (this.adopted) { this.onBatch = null; return; }
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
      if (this.current.length > 0 && !this.adopted) yield this.current;
    } else {
      const buf = createBatch(this.batchSize);
      const bytes = new Uint8Array(batchBuffer(buf) as ArrayBuffer);
      for (let i = 0; i < this.spilledBatches; i++) {
        readSync(this.fd, bytes, 0, bytes.length, i * bytes.length);
        buf.length = this.spilledLengths[i];
        yield buf;
      }
    }
    for (const seg of this.segments) yield* this.segmentBatches(seg);
  }

  /** Approximate bytes used in memory. */
  get memoryBytes(): number {
    return (this.inMemory.length + 1 + this.segments.filter((g) => g.batch !== null).length) * this.batchSize * BYTES_PER_EVENT;
  }

  close(): void {
    for (const seg of this.segments) {
      if (seg.spill === null) continue;
      try { closeSync(seg.fd); } catch { /* ignore */ }
      rmSync(seg.spill.dir, { recursive: true, force: true });
      release(seg.spill.dir);
    }
    this.segments = [];
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
