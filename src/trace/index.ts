// Reading a trace: `openTrace(path)` is a short pipeline. The parsed-trace cache answers
// when it holds the file; else the format is sniffed, the format's reader (readers/) parses
// the file once into an EventStore and resolves tasks to address spaces, and one pass over
// the canonical events counts them and writes the cache. The EventSource returned streams
// the canonical events (`batches()`) as often as needed.
import { DEFAULT_BATCH_SIZE, type EventBatch, type EventSource, type SkippedLine, type TraceFormat } from './event.ts';
import { openTraceFile } from './input.ts';
import { readerFor, sniffInput, type ParsedTrace } from './readers/index.ts';
import { Summary } from './summary.ts';
import type { IngestReport } from './readers/ranges.ts';
import { CacheWriter, cacheKey, cachePathOf, readCache, type CacheKey, type CachedTrace } from './cache.ts';

export { TraceError } from './input.ts';
export { writeTraceCsv, readTraceCsv, neutralise } from './csv.ts';
export { CACHE_SUFFIX, cachePathOf } from './cache.ts';
export { summarise } from './summary.ts';
export * from './event.ts';

export interface OpenTraceOptions {
  /** Skip sniffing. */
  format?: TraceFormat;
  /** Events kept in memory before spilling to a temporary file. */
  memoryEvents?: number;
  batchSize?: number;
  /** Use and write the parsed-trace cache `<trace>.tlbcache` (see cache.ts). Default: on,
   *  unless the environment sets TLBSIM_CACHE=0. */
  cache?: boolean;
  /** Called after each chunk is parsed: bytes of the file read so far and its size
   *  (compressed for gzip; both 0 for a trace.dat, read through trace-cmd). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Threads that read a plain text trace (readers/ranges.ts): a number, or 'auto' (one
   *  per core for files of 128 MB or more, 512 MB under tsx). Default:
   *  TLBSIM_INGEST_THREADS, else 'auto'. */
  ingestThreads?: number | 'auto';
  /** Smallest byte range a thread reads (default 64 MB; tests cut small files into many
   *  ranges). */
  minRangeBytes?: number;
}

export interface OpenedTrace extends EventSource {
  /** Remove temporary files now (they are also removed at process exit). */
  close(): void;
  /** 'hit': read from `<trace>.tlbcache`; 'written': parsed and cached; 'off': parsed, not
   *  cached (disabled, or the cache could not be written). */
  readonly cache: 'hit' | 'written' | 'off';
  /** How the text was read (one reader or ranges in parallel), when it was parsed. */
  readonly ingest?: IngestReport;
}


/** Read a trace file (ftrace text, trace-cmd report, perf script, tlbsim CSV; plain,
 *  gzipped or a trace.dat). Throws TraceError when the file cannot be used at all;
 *  malformed lines are counted in `info.skipped` and the rest is read. */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const input = openTraceFile(path, { threads: options.ingestThreads });
  // Only a regular file has a size, mtime and inode that say whether it changed (a FIFO
  // or /dev/stdin has none, and its cache would land in /dev).
  const useCache = (options.cache ?? process.env.TLBSIM_CACHE !== '0') && input.regular;
  let key: CacheKey | null = null;
  let cachePath = '';
  const cacheNotes: string[] = [];
  if (useCache) {
    key = cacheKey(path, options.format, options.batchSize ?? DEFAULT_BATCH_SIZE);
    cachePath = cachePathOf(path);
    const found = readCache(cachePath, key);
    if (found !== null && 'cached' in found) {
      const hit = found.cached;
      const info = { ...hit.info, source: path };
      return { info, cache: 'hit', async *batches() { yield* hit.batches(); }, close() { hit.close(); } };
    }
    if (found !== null) cacheNotes.push(found.ignored);
  }
  const { format, chunks } = await sniffInput(path, input, options.format);
  const parsed = await readerFor(format, path).read(path, input, chunks, options);
  const info = parsed.info;
  // One pass over the canonical events fills the summary and, when caching, writes them to
  // the cache; later passes then read the cache instead of canonicalising again.
  const writer = key !== null ? CacheWriter.open(cachePath, key, input.bytes) : null;
  const summary = new Summary();
  if (writer === null) for (const b of parsed.batches()) summary.add(b);
  else for (const b of parsed.batches()) { summary.add(b); await writer.add(b); }
  summary.into(info);
  if (parsed.verdictsFromEvents) summary.verdictsInto(info);
  const unknownReasons = Object.keys(info.observedFlushByReason).filter((r) => !(Number(r) >= 0 && Number(r) <= 5));
  if (unknownReasons.length > 0) {
    info.warnings.push(`tlb_flush reason ${unknownReasons.map((r) => `${r} (${info.observedFlushByReason[r]} records)`).join(', ')} is not one tlbsim knows (0-5, include/trace/events/tlb.h): counted as observed flushes, never used as flush requests`);
  }
  if (writer === null) return parsedSource(parsed);
  const written = await writer.finish(info);
  // Notes about the cache concern this run, not the trace: not in the cache's own info.
  if (writer.refused !== null) cacheNotes.push(writer.refused);
  info.warnings.push(...cacheNotes);
  if (!written) return parsedSource(parsed);
  // The cache is read back (and checked) when the events are first wanted, not before:
  // `inspect` never wants them. Until then, and if it cannot be read, the parsed events
  // stay the source.
  let cached: CachedTrace | null | undefined;
  const source = (): CachedTrace | null => {
    if (cached === undefined) {
      const found = readCache(cachePath, key!);
      cached = found !== null && 'cached' in found ? found.cached : null;
      if (cached !== null) parsed.close();
    }
    return cached;
  };
  return {
    info, cache: 'written', ...(parsed.ingest ? { ingest: parsed.ingest } : {}),
    async *batches() { const c = source(); if (c !== null) yield* c.batches(); else yield* parsed.batches(); },
    close() { if (cached) cached.close(); parsed.close(); },
  };
}

function parsedSource(parsed: ParsedTrace): OpenedTrace {
  return { info: parsed.info, cache: 'off', ...(parsed.ingest ? { ingest: parsed.ingest } : {}), async *batches(): AsyncGenerator<EventBatch> { yield* parsed.batches(); }, close() { parsed.close(); } };
}

export type { SkippedLine };
