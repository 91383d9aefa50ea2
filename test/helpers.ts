// Test helpers: write text to a temporary file and read it as a trace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openTrace, eventsOf, type TraceEvent, type OpenTraceOptions } from '../src/trace/index.ts';

export const tmp = mkdtempSync(join(tmpdir(), 'tlbsim-test-'));
let n = 0;

export function tempFile(content: string | Buffer, ext = '.txt', gzip = false): string {
  const path = join(tmp, `t${n++}${ext}${gzip ? '.gz' : ''}`);
  writeFileSync(path, gzip ? gzipSync(content) : content);
  return path;
}

export async function readText(text: string, options: OpenTraceOptions & { gzip?: boolean } = {}) {
  const path = tempFile(text, '.txt', options.gzip);
  const t = await openTrace(path, options);
  const events: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) events.push(e);
  t.close();
  return { info: t.info, events, path };
}

export const FTRACE_HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 10/10   #P:2
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;
