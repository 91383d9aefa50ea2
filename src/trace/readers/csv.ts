// tlbsim's canonical CSV (csv.ts): the events as they were written, in order unless edited.
import { emptyTraceInfo } from '../event.ts';
import type { TextChunk, TraceFile } from '../input.ts';
import { EventStore } from '../store.ts';
import { REORDER_WINDOW_NS } from '../reorder.ts';
import { readTraceCsv } from '../csv.ts';
import { inTimeOrder, type ParsedTrace, type ReadOptions, type TraceReader } from './reader.ts';

export const csvReader: TraceReader = {
  format: 'csv',
  async read(path: string, input: TraceFile, chunks: AsyncIterable<TextChunk>, options: ReadOptions): Promise<ParsedTrace> {
    let store = new EventStore({ memoryEvents: options.memoryEvents, batchSize: options.batchSize });
    const texts = async function* () { for await (const c of chunks) yield c.text; };
    const r = await readTraceCsv(texts(), path, store);
    store.seal();
    if (r.late > 0) store = inTimeOrder(store, options).store;
    const info = emptyTraceInfo(path, 'csv', Math.max(r.header.cpus, r.maxCpu + 1));
    info.tasks = r.tasks; info.mms = r.mms;
    info.skippedLines = r.skippedLines;
    info.skipped = r.skipped.map((s) => ({ file: path, ...s }));
    info.warnings.push(...input.notes);
    if (r.late > 0) info.warnings.push(`${r.late} row${r.late === 1 ? '' : 's'} came less than ${REORDER_WINDOW_NS / 1e6} ms late and ${r.late === 1 ? 'was' : 'were'} put back in time order`);
    const sealed = store;
    return { info, batches: () => sealed.batches(), close: () => sealed.close(), verdictsFromEvents: true };
  },
};
