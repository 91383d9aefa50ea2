// A range worker of parallel ingest (ranges.ts): reads the look-behind lines, waits for
// the trace's first event line from the main thread, reads its range, and hands over what
// it read: the counts and findings (RangeResult) and the events (in memory, transferred,
// or in its spill file, whose removal the main thread takes over).
import { parentPort, workerData } from 'node:worker_threads';
import { chunkBytes, fileRangeChunks } from '../input.ts';
import { EventStore } from '../store.ts';
import { TextIngest } from '../text/ingest.ts';
import { TaskLog } from '../text/task-log.ts';
import type { LineIdentity } from '../duplicates.ts';
import type { TraceFormat } from '../event.ts';

interface RangeJob {
  path: string; format: TraceFormat; lookStart: number; start: number; end: number; atEnd: boolean;
  memoryEvents?: number; batchSize?: number;
}

const PROGRESS_EVERY = 16; // chunks (16 MiB)

async function run(job: RangeJob): Promise<void> {
  const port = parentPort!;
  const firstLine = new Promise<LineIdentity | null>((resolve) => port.once('message', (m: { first: LineIdentity | null }) => resolve(m.first)));
  const store = new EventStore({ memoryEvents: job.memoryEvents, batchSize: job.batchSize });
  const ingest = new TextIngest(job.path, job.format, store, new TaskLog());
  for (const c of fileRangeChunks(job.path, job.lookStart, job.start, job.lookStart > 0)) ingest.pushChunk(c);
  ingest.beginRange(await firstLine);
  if (ingest.rangeResult().unjoinable === null) {
    let pieces = 0, bytes = 0;
    for (const c of fileRangeChunks(job.path, job.start, job.end)) {
      ingest.pushChunk(c);
      bytes += chunkBytes(c);
      if (++pieces % PROGRESS_EVERY === 0) port.postMessage({ t: 'progress', bytes });
    }
    ingest.endRange(job.atEnd);
  }
  const result = ingest.rangeResult();
  const handOver = store.handOver();
  port.postMessage({ t: 'done', result, store: handOver }, handOver.memory.map((m) => m.buffer));
}

run(workerData as RangeJob).catch((e: unknown) => {
  parentPort!.postMessage({ t: 'error', message: e instanceof Error ? e.message : String(e) });
});
