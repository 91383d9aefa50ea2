// The text formats: ftrace (tracefs `trace`), trace-cmd report, perf script. Their lines
// differ in the header (perf's `comm tid [cpu] secs: event:`, trace-cmd's `cpus=` line)
// and share everything after it, so one ingest (text/ingest.ts) reads all three, told the
// format; the raw events are then made canonical (canonical.ts) as they are streamed.
import { EventKind, emptyTraceInfo, type TraceFormat } from '../event.ts';
import { TraceError, chunkBytes, fileRangeChunks, type TextChunk, type TraceFile } from '../input.ts';
import { MAX_TASKS_LISTED } from '../tasks.ts';
import { EventStore, SpillError } from '../store.ts';
import { canonicalize, reclaimsPteTables } from '../canonical.ts';
import { Prescanner, prescan } from '../exec-window.ts';
import { TextIngest } from '../text/ingest.ts';
import { inTimeOrder, type ParsedTrace, type ReadOptions, type TraceReader } from './reader.ts';
import { ingestThreads, planRanges, readInRanges, type IngestReport } from './ranges.ts';
import { closeChunks } from './sniff.ts';

function textReader(format: TraceFormat): TraceReader {
  return { format, read: (path, input, chunks, options) => readText(format, path, input, chunks, options) };
}

export const ftraceReader = textReader('ftrace');
export const traceCmdReader = textReader('trace-cmd');
export const perfReader = textReader('perf');

async function readText(format: TraceFormat, path: string, input: TraceFile, chunks: AsyncIterable<TextChunk>, options: ReadOptions): Promise<ParsedTrace> {
  const fresh = () => {
    const store = new EventStore({ memoryEvents: options.memoryEvents, batchSize: options.batchSize });
    const ingest = new TextIngest(path, format, store);
    // The exec-window prescan reads each batch as the store fills it, while it is in cache.
    const prescanner = new Prescanner();
    store.onBatch = (b) => prescanner.add(b);
    return { store, ingest, prescanner };
  };
  let { store, ingest, prescanner } = fresh();
  const report: IngestReport = { ranges: 1, joined: 0, fallback: null };
  const threads = ingestThreads(input, options);
  // Parallel ingest (ranges.ts) reads the file by byte ranges itself; the one reader takes
  // the stream sniffInput began, which has undone a byte-order mark, UTF-16 or CR-only
  // line ends (its notes say so), none of which a range can see.
  const bounds = threads > 1 && input.notes.length === 0 ? planRanges(path, input.bytes, threads) : null;
  try {
    if (bounds !== null && bounds.length > 2) {
      await closeChunks(chunks);
      if (await readInRanges(path, format, bounds, ingest, store, options, report) === 'restart') {
        store.close();
        ({ store, ingest, prescanner } = fresh());
        let read = 0;
        for (const chunk of fileRangeChunks(path, 0, input.bytes)) {
          ingest.pushChunk(chunk);
          read += chunkBytes(chunk);
          options.onProgress?.(read, input.bytes);
        }
      }
    } else {
      const onProgress = options.onProgress;
      for await (const chunk of chunks) {
        ingest.pushChunk(chunk);
        if (onProgress) onProgress(input.bytesRead(), input.container === 'trace.dat' ? 0 : input.bytes);
      }
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
    const sorted = inTimeOrder(store, options);
    store = sorted.store;
    if (sorted.displaced > 0) r.warnings.push(`${sorted.displaced} late events fell in a window too dense to hold and were placed a little later than their timestamps`);
  }
  const events = r.rawCounts.reduce((a, b) => a + b, 0);
  if (events === 0 && r.skippedLines > 0 && r.skippedLines >= r.lines - r.ignoredLines) {
    const s = r.skipped[0];
    throw new TraceError(`${path}: no line could be read as a ${format} event; line ${s.line}: ${s.reason}`, path, s.line);
  }
  const unused = Object.values(r.unusedEvents).reduce((a, b) => a + b, 0);
  if (events === 0 && r.skippedLines === 0 && unused === 0) {
    // Readable, and the report says so (an empty recording is a finding, not a bad file).
    r.warnings.push(`the trace holds no events: its ${r.lines} lines are all headers, comments or blank (was tracing on, and were events enabled?)`);
  }
  const tasks = ingest.tasks;
  tasks.finish();
  const remap = tasks.remapTable;
  const traced = r.rawCounts[EventKind.observed_flush] > 0;
  const hasExitMmap = r.rawCounts[EventKind.exit_mmap] > 0;
  const cpus = r.cpus;
  const info = emptyTraceInfo(path, format, cpus);
  info.tasks = tasks.tasks(MAX_TASKS_LISTED);
  if (tasks.count > MAX_TASKS_LISTED) {
    info.taskCount = tasks.count;
    info.taskRoutes = tasks.routeCounts();
    r.warnings.push(`the trace has ${info.taskCount} tasks: all are simulated, the first ${MAX_TASKS_LISTED} seen are listed by name (task tables, reports, the cache)`);
  }
  info.mms = tasks.mms();
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
  const sealed = store;
  const pre = traced && forksOrExecs ? (r.outOfOrder > 0 ? prescan(sealed.batches()) : prescanner.result()) : undefined;
  const ptReclaim = reclaimsPteTables(info.machine?.kernel);
  return {
    info,
    batches: () => canonicalize(sealed.batches(), { remap, traced, hasExitMmap, cpus, batchSize, ptReclaim, ...(pre ?? {}) }),
    close: () => sealed.close(),
    verdictsFromEvents: false,
    ingest: report,
  };
}
