// Reading a trace: `openTrace(path)` sniffs the format, parses the file once into an
// EventStore, resolves tasks to address spaces, and returns an EventSource whose
// `batches()` streams canonical events as often as needed.
import {
  DEFAULT_BATCH_SIZE, EVENT_KIND_NAMES, EventKind, FLUSH_ORIGIN_NAMES, IPI_KIND_NAMES, IpiKind, emptyTraceInfo, flushOrigin,
  type EventBatch, type EventSource, type SkippedLine, type TraceFormat, type TraceInfo,
} from './event.ts';
import { TraceError, openTraceFile } from './input.ts';
import { TextIngest, sniffFormat } from './ingest.ts';
import { MAX_TASKS_LISTED } from './tasks.ts';
import { EventStore, SpillError } from './store.ts';
import { REORDER_WINDOW_NS, reorderStore } from './reorder.ts';
import { canonicalize, reclaimsPteTables } from './canonical.ts';
import { Prescanner, prescan } from './exec-window.ts';
import { readTraceCsv } from './csv.ts';
import { CacheWriter, cacheKey, cachePathOf, readCache, type CacheKey, type CachedTrace } from './cache.ts';

export { TraceError } from './input.ts';
export { writeTraceCsv, readTraceCsv, neutralise } from './csv.ts';
export { CACHE_SUFFIX, cachePathOf } from './cache.ts';
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
}

export interface OpenedTrace extends EventSource {
  /** Remove temporary files now (they are also removed at process exit). */
  close(): void;
  /** 'hit': read from `<trace>.tlbcache`; 'written': parsed and cached; 'off': parsed, not
   *  cached (disabled, or the cache could not be written). */
  readonly cache: 'hit' | 'written' | 'off';
}


/** Read a trace file (ftrace text, trace-cmd report, perf script, tlbsim CSV; plain,
 *  gzipped or a trace.dat). Throws TraceError when the file cannot be used at all;
 *  malformed lines are counted in `info.skipped` and the rest is read. */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const input = openTraceFile(path);
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
  const storeOptions = { memoryEvents: options.memoryEvents, batchSize: options.batchSize };
  let store = new EventStore(storeOptions);
  const iter = input.textChunks()[Symbol.asyncIterator]();
  const first = await iter.next();
  const firstBytes = first.done ? null : first.value.bytes;
  if (first.done || (firstBytes !== null ? firstBytes.length : first.value.text.length) === 0) throw new TraceError(`${path}: the file is empty`, path);
  const head = firstBytes !== null ? firstBytes.toString('latin1', 0, 64 * 1024) : first.value.text.slice(0, 64 * 1024);
  if (input.container === 'gzip' && (head.startsWith('\u0017\u0008Dtracing') || head.startsWith('PERFILE2'))) {
    const what = head.startsWith('PERFILE2') ? 'perf.data' : 'trace.dat';
    throw new TraceError(`${path}: this is a gzipped ${what}; gunzip it and give tlbsim the ${what}${what === 'perf.data' ? "'s perf script output" : ''}`, path);
  }
  if (looksBinary(head)) {
    throw new TraceError(`${path}: this is a binary file, not a text trace (tlbsim reads ftrace text, trace-cmd report output, perf script output, tlbsim CSV, or a trace-cmd trace.dat)`, path);
  }
  const format = options.format ?? (input.container === 'trace.dat' ? 'trace-cmd' : sniffFormat(head));
  if (format === null) {
    const firstLine = head.split('\n', 1)[0].slice(0, 80);
    throw new TraceError(`${path}: not a trace tlbsim knows: the first line is "${firstLine}"; expected ftrace text ("# tracer: ..." or "TASK-PID [CPU] ..."), trace-cmd report, perf script output, or "# tlbsim-trace v1" CSV (or force one with --format)`, path, 1);
  }
  const restChunks = async function* () {
    yield first.value;
    for (;;) { const r = await iter.next(); if (r.done) return; yield r.value; }
  };
  const rest = async function* () { for await (const c of restChunks()) yield c.text; };

  let info: TraceInfo;
  let batches: () => Iterable<EventBatch>;
  if (format === 'csv') {
    const r = await readTraceCsv(rest(), path, store);
    store.seal();
    if (r.late > 0) store = inTimeOrder(store, storeOptions).store;
    info = emptyTraceInfo(path, 'csv', Math.max(r.header.cpus, r.maxCpu + 1));
    info.tasks = r.tasks; info.mms = r.mms;
    info.skippedLines = r.skippedLines;
    info.skipped = r.skipped.map((s) => ({ file: path, ...s }));
    info.warnings.push(...input.notes);
    if (r.late > 0) info.warnings.push(`${r.late} row${r.late === 1 ? '' : 's'} came less than ${REORDER_WINDOW_NS / 1e6} ms late and ${r.late === 1 ? 'was' : 'were'} put back in time order`);
    batches = () => store.batches();
  } else {
    const ingest = new TextIngest(path, format, store);
    const prescanner = new Prescanner();
    store.onBatch = (b) => prescanner.add(b);
    try {
      const onProgress = options.onProgress;
      for await (const chunk of restChunks()) {
        ingest.pushChunk(chunk);
        if (onProgress) onProgress(input.bytesRead(), input.container === 'trace.dat' ? 0 : input.bytes);
      }
    } catch (e) {
      // The input failed part-way (trace-cmd report, a read error): keep what was read, say
      // so. Not when the events cannot be stored.
      if (e instanceof TraceError && !(e instanceof SpillError)) ingest.warnings.push(e.message); else throw e;
    }
    ingest.end();
    ingest.warnings.push(...input.notes);
    store.seal();
    const r = ingest.result();
    if (r.outOfOrder > 0) {
      const sorted = inTimeOrder(store, storeOptions);
      store = sorted.store;
      if (sorted.displaced > 0) r.warnings.push(`${sorted.displaced} late events fell in a window too dense to hold and were placed a little later than their timestamps`);
    }
    if (r.rawCounts.reduce((a, b) => a + b, 0) === 0 && r.skippedLines > 0 && r.skippedLines >= r.lines - r.ignoredLines) {
      const s = r.skipped[0];
      throw new TraceError(`${path}: no line could be read as a ${format} event; line ${s.line}: ${s.reason}`, path, s.line);
    }
    const unused = Object.values(r.unusedEvents).reduce((a, b) => a + b, 0);
    if (r.rawCounts.reduce((a, b) => a + b, 0) === 0 && r.skippedLines === 0 && unused === 0) {
      // Readable, and the report says so (an empty recording is a finding, not a bad file).
      r.warnings.push(`the trace holds no events: its ${r.lines} lines are all headers, comments or blank (was tracing on, and were events enabled?)`);
    }
    ingest.tasks.finish();
    const remap = ingest.tasks.remapTable;
    const traced = r.rawCounts[EventKind.observed_flush] > 0;
    const hasExitMmap = r.rawCounts[EventKind.exit_mmap] > 0;
    const cpus = r.cpus;
    info = emptyTraceInfo(path, format, cpus);
    info.tasks = ingest.tasks.tasks(MAX_TASKS_LISTED);
    if (ingest.tasks.count > MAX_TASKS_LISTED) {
      info.taskCount = ingest.tasks.count;
      info.taskRoutes = ingest.tasks.routeCounts();
      r.warnings.push(`the trace has ${info.taskCount} tasks: all are simulated, the first ${MAX_TASKS_LISTED} seen are listed by name (task tables, reports, the cache)`);
    }
    info.mms = ingest.tasks.mms();
    info.tracedFlushRequests = traced;
    info.skippedLines = r.skippedLines;
    info.skipped = r.skipped;
    info.lostEvents = r.lostEvents;
    info.lostMarkers = r.lostMarkers;
    info.ignoredLines = r.ignoredLines;
    info.unusedEvents = r.unusedEvents;
    info.warnings = r.warnings;
    if (r.machine !== undefined) info.machine = r.machine;
    if (!traced) info.warnings.push('the trace has no tlb:tlb_flush records: flush requests are derived from munmap/madvise/mprotect/exit');
    const batchSize = options.batchSize;
    // Every finding of the prescan (exec moves, dup_mmap flushes, vfork children) starts
    // at a fork or an exec: without either it would read every event to find nothing.
    const forksOrExecs = r.rawCounts[EventKind.fork] + r.rawCounts[EventKind.exec] > 0;
    // The reader's order is the stream's unless events had to be put back in order.
    const pre = traced && forksOrExecs ? (r.outOfOrder > 0 ? prescan(store.batches()) : prescanner.result()) : undefined;
    const ptReclaim = reclaimsPteTables(info.machine?.kernel);
    batches = () => canonicalize(store.batches(), { remap, traced, hasExitMmap, cpus, batchSize, ptReclaim, ...(pre ?? {}) });
  }
  // One pass over the canonical events fills the summary and, when caching, writes them to
  // the cache; later passes then read the cache instead of canonicalising again.
  const writer = key !== null ? CacheWriter.open(cachePath, key, input.bytes) : null;
  if (writer === null) summarise(info, batches());
  else {
    const summary = new Summary();
    for (const b of batches()) { summary.add(b); await writer.add(b); }
    summary.into(info);
  }
  if (format === 'csv') {
    // The CSV keeps the events, not the reader's verdicts: recover what the replay needs.
    info.tracedFlushRequests = (info.countsByKind.observed_flush ?? 0) > 0;
    for (const b of batches()) {
      for (let i = 0; i < b.length; i++) {
        if (b.kind[i] === EventKind.lost) { info.lostMarkers++; if (b.a[i] > 0) info.lostEvents += b.a[i]; }
      }
    }
  }
  const unknownReasons = Object.keys(info.observedFlushByReason).filter((r) => !(Number(r) >= 0 && Number(r) <= 5));
  if (unknownReasons.length > 0) {
    info.warnings.push(`tlb_flush reason ${unknownReasons.map((r) => `${r} (${info.observedFlushByReason[r]} records)`).join(', ')} is not one tlbsim knows (0-5, include/trace/events/tlb.h): counted as observed flushes, never used as flush requests`);
  }
  if (writer === null) {
    return { info, cache: 'off', async *batches() { yield* batches(); }, close() { store.close(); } };
  }
  const written = await writer.finish(info);
  // Notes about the cache concern this run, not the trace: not in the cache's own info.
  if (writer.refused !== null) cacheNotes.push(writer.refused);
  info.warnings.push(...cacheNotes);
  if (!written) {
    return { info, cache: 'off', async *batches() { yield* batches(); }, close() { store.close(); } };
  }
  // The cache is read back (and checked) when the events are first wanted, not before:
  // `inspect` never wants them. Until then, and if it cannot be read, the parsed events
  // stay the source.
  let cached: CachedTrace | null | undefined;
  const source = (): CachedTrace | null => {
    if (cached === undefined) {
      const found = readCache(cachePath, key!);
      cached = found !== null && 'cached' in found ? found.cached : null;
      if (cached !== null) store.close();
    }
    return cached;
  };
  return {
    info, cache: 'written',
    async *batches() { const c = source(); if (c !== null) yield* c.batches(); else yield* batches(); },
    close() { if (cached) cached.close(); store.close(); },
  };
}


/** The events of `store` in time order, in a new store (the old one is closed). */
function inTimeOrder(store: EventStore, options: { memoryEvents?: number; batchSize?: number }): { store: EventStore; displaced: number } {
  const sorted = new EventStore(options);
  const displaced = reorderStore(store, sorted);
  sorted.seal();
  store.close();
  return { store: sorted, displaced };
}

function looksBinary(head: string): boolean {
  let bad = 0;
  const n = Math.min(head.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = head.charCodeAt(i);
    // A NUL here and there is damage in a text file (a crash leaves blocks of them);
    // real binary formats are full of NULs and control bytes.
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) bad++;
  }
  return n > 0 && bad / n > 0.1;
}

/** Fill the counts of `info` from one pass over the canonical events. */
export function summarise(info: TraceInfo, batches: Iterable<EventBatch>): void {
  const s = new Summary();
  for (const b of batches) s.add(b);
  s.into(info);
}

/** The counts of the canonical events, batch by batch. */
class Summary {
  private readonly kinds = new Float64Array(EVENT_KIND_NAMES.length);
  private readonly origins = new Float64Array(16);
  // Per reason (0..255, what the text readers accept): full, ranged, none, pages. Other
  // values (a CSV may carry any) go to the Map.
  private readonly byReason = new Float64Array(256 * 4);
  private readonly reasons = new Map<number, { full: number; ranged: number; none: number; pages: number }>();
  private readonly ipiKinds = new Float64Array(IPI_KIND_NAMES.length);
  private first = Infinity;
  private last = -Infinity;
  private total = 0;
  private sends = 0;
  private targets = 0;

  add(batch: EventBatch): void {
    const kinds = this.kinds, origins = this.origins, byReason = this.byReason, ipiKinds = this.ipiKinds;
    let first = this.first, last = this.last, total = this.total, sends = this.sends, targets = this.targets;
    const kind = batch.kind, time = batch.time, a = batch.a, b = batch.b, c = batch.c, n = batch.length;
    for (let i = 0; i < n; i++) {
      const k = kind[i];
      if (k === EventKind.lost) continue;
      kinds[k]++;
      total++;
      const t = time[i];
      if (t < first) first = t;
      if (t > last) last = t;
      if (k === EventKind.flush_request) origins[flushOrigin(c[i])]++;
      else if (k === EventKind.observed_flush) {
        const r = a[i], p = b[i];
        if (r >= 0 && r < 256 && (r | 0) === r) {
          const j = r * 4;
          if (p === -1) byReason[j]++; else if (p === 0) byReason[j + 2]++; else { byReason[j + 1]++; byReason[j + 3] += p; }
          continue;
        }
        this.otherReason(r, p);
      } else if (k === EventKind.observed_ipi) {
        ipiKinds[c[i]]++;
        if (c[i] !== IpiKind.received) { targets++; sends += b[i]; } // an interrupt taken is no IPI sent
      }
    }
    this.first = first; this.last = last; this.total = total; this.sends = sends; this.targets = targets;
  }

  private otherReason(r: number, p: number): void {
    let e = this.reasons.get(r);
    if (!e) { e = { full: 0, ranged: 0, none: 0, pages: 0 }; this.reasons.set(r, e); }
    if (p === -1) e.full++; else if (p === 0) e.none++; else { e.ranged++; e.pages += p; }
  }

  into(info: TraceInfo): void {
    const { kinds, origins, byReason, reasons, ipiKinds, total } = this;
    info.events = total;
    info.firstNs = total > 0 ? this.first : 0;
    info.lastNs = total > 0 ? this.last : 0;
    info.countsByKind = {};
    EVENT_KIND_NAMES.forEach((name, k) => { if (name !== 'lost') info.countsByKind[name] = kinds[k]; });
    info.flushRequestsByOrigin = {};
    origins.forEach((n, o) => { if (n > 0) info.flushRequestsByOrigin[FLUSH_ORIGIN_NAMES[o] ?? `origin${o}`] = n; });
    for (let r = 0; r < 256; r++) {
      const j = r * 4;
      if (byReason[j] + byReason[j + 1] + byReason[j + 2] > 0) {
        reasons.set(r, { full: byReason[j], ranged: byReason[j + 1], none: byReason[j + 2], pages: byReason[j + 3] });
      }
    }
    info.observedFlushByReason = {};
    info.observedFlushPages = {};
    for (const r of [...reasons.keys()].sort((a, b) => a - b)) {
      const e = reasons.get(r)!;
      info.observedFlushByReason[String(r)] = e.full + e.ranged + e.none;
      info.observedFlushPages[String(r)] = e;
    }
    info.observedIpis = { sends: this.sends, targets: this.targets, byKind: {} };
    ipiKinds.forEach((n, k) => { if (n > 0) info.observedIpis.byKind[IPI_KIND_NAMES[k]] = n; });
  }
}

export type { SkippedLine };
