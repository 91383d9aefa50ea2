// One reader per trace format behind one interface: a reader turns the decoded chunks of a
// file into events in a store and what it learnt about the trace (TraceInfo without the
// event counts, which openTrace fills from the canonical events it streams once).
import type { EventBatch, TraceFormat, TraceInfo } from '../event.ts';
import type { TextChunk, TraceFile } from '../input.ts';
import { EventStore } from '../store.ts';
import { reorderStore } from '../reorder.ts';
import type { IngestReport, RangeOptions } from './ranges.ts';

export interface ReadOptions extends RangeOptions {
  /** Events kept in memory before spilling to a temporary file. */
  memoryEvents?: number;
  batchSize?: number;
  /** Called after each chunk is parsed (see OpenTraceOptions). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export interface ParsedTrace {
  info: TraceInfo;
  /** The canonical events, as often as needed. */
  batches(): Iterable<EventBatch>;
  /** Remove temporary files. */
  close(): void;
  /** The format keeps events, not the reader's verdicts (tlbsim CSV): whether the trace
   *  recorded flushes, and its lost events, are taken from the events as they are counted. */
  verdictsFromEvents: boolean;
  /** How a text trace was read (one reader or ranges in parallel). */
  ingest?: IngestReport;
}

export interface TraceReader {
  readonly format: TraceFormat;
  /** Read `chunks` (all of `input`, the first one included). Throws TraceError when no
   *  line is usable. */
  read(path: string, input: TraceFile, chunks: AsyncIterable<TextChunk>, options: ReadOptions): Promise<ParsedTrace>;
}

/** The events of `store` in time order, in a new store (the old one is closed). */
export function inTimeOrder(store: EventStore, options: ReadOptions): { store: EventStore; displaced: number } {
  const sorted = new EventStore({ memoryEvents: options.memoryEvents, batchSize: options.batchSize });
  const displaced = reorderStore(store, sorted);
  sorted.seal();
  store.close();
  return { store: sorted, displaced };
}
