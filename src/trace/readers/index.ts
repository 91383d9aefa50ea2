// The reader of each format a file can be in.
import type { TraceFormat } from '../event.ts';
import { TraceError } from '../input.ts';
import { csvReader } from './csv.ts';
import { ftraceReader, perfReader, traceCmdReader } from './text.ts';
import type { TraceReader } from './reader.ts';

export const READERS: Readonly<Record<Exclude<TraceFormat, 'workload'>, TraceReader>> = {
  ftrace: ftraceReader,
  'trace-cmd': traceCmdReader,
  perf: perfReader,
  csv: csvReader,
};

export function readerFor(format: TraceFormat, path: string): TraceReader {
  const reader = (READERS as Record<string, TraceReader | undefined>)[format];
  if (reader === undefined) throw new TraceError(`${path}: "${format}" is not a file format tlbsim reads (${Object.keys(READERS).join(', ')})`, path);
  return reader;
}

export { sniffInput } from './sniff.ts';
export type { ParsedTrace, ReadOptions, TraceReader } from './reader.ts';
