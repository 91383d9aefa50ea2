// Which format a text trace is in, from its first lines.
import type { TraceFormat } from '../event.ts';
import { TraceError, type TextChunk, type TraceFile } from '../input.ts';

/** Decide the format from the first lines of a file; null when it is not a trace. */
export function sniffFormat(head: string): TraceFormat | null {
  const lines = head.split('\n', 200);
  let sawFtraceHeader = false;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('# tlbsim-trace')) return 'csv';
    if (line.startsWith('# tracer:')) sawFtraceHeader = true;
    if (/^cpus=\d+/.test(line) || /^version = \d+/.test(line)) return 'trace-cmd';
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (/^\s*CPU:?\s*\d+ \[(LOST|(\d+ )?EVENTS DROPPED)/.test(line) || /^#{5} CPU/.test(line)) continue;
    // perf: "comm tid [cpu] secs: subsys:event:"
    if (/^.*\S\s+\d+(\/\d+)?\s+\[\d+\]\s+\d+\.\d+:\s+[\w-]+:[\w-]+:/.test(line)) return 'perf';
    // ftrace/trace-cmd: "comm-pid [cpu] ..."
    if (/^.*-\d+\s+(\([\s\d-]+\)\s+)?\[\d+\]\s+/.test(line)) return sawFtraceHeader ? 'ftrace' : (/\]\s+\S{4,5}\s+\d+(\.\d+)?:/.test(line) ? 'ftrace' : 'trace-cmd');
    if (sawFtraceHeader) return 'ftrace';
    // A damaged line: decide by the next ones.
  }
  return sawFtraceHeader ? 'ftrace' : null;
}

/** The format of `input` (`forced`, else sniffed from its first chunk), and all its chunks,
 *  the first one included. Throws TraceError for a file that is empty, binary, or in no
 *  format tlbsim knows. */
export async function sniffInput(path: string, input: TraceFile, forced: TraceFormat | undefined): Promise<{ format: TraceFormat; chunks: AsyncIterable<TextChunk> }> {
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
  const format = forced ?? (input.container === 'trace.dat' ? 'trace-cmd' : sniffFormat(head));
  if (format === null) {
    const firstLine = head.split('\n', 1)[0].slice(0, 80);
    throw new TraceError(`${path}: not a trace tlbsim knows: the first line is "${firstLine}"; expected ftrace text ("# tracer: ..." or "TASK-PID [CPU] ..."), trace-cmd report, perf script output, or "# tlbsim-trace v1" CSV (or force one with --format)`, path, 1);
  }
  const firstChunk = first.value;
  let given = false;
  // An iterator of its own, so that a reader that reads the file by other means can end
  // the stream begun here (closeChunks): a generator that never started cannot.
  const chunks: AsyncIterableIterator<TextChunk> = {
    [Symbol.asyncIterator]() { return this; },
    next: async () => {
      if (!given) { given = true; return { value: firstChunk, done: false }; }
      return iter.next();
    },
    return: async () => {
      await iter.return?.();
      return { value: undefined, done: true };
    },
  };
  return { format, chunks };
}

/** End the stream of `chunks` (from sniffInput) unread. */
export async function closeChunks(chunks: AsyncIterable<TextChunk>): Promise<void> {
  await chunks[Symbol.asyncIterator]().return?.();
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
