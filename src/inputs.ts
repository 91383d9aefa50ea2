// What the commands and the public API accept as an <input> (docs/design/cli.md): a trace file, plain
// or gzipped, in any format trace/ reads, or `workload:NAME[:key=value,...]`. Both become
// an EventSource; the caller closes it when the replay is done (a parsed trace may hold a
// spill file).
import { openTrace, type OpenTraceOptions } from './trace/index.ts';
import type { EventSource, TraceFormat } from './trace/event.ts';
import { generateWorkload, type GenerateOptions } from './workloads/index.ts';

export interface OpenedInput extends EventSource {
  /** What the user gave (the path or the workload spec). */
  readonly spec: string;
  /** 'trace' for a file, 'workload' for a generator. */
  readonly origin: 'trace' | 'workload';
  close(): void;
}

export interface OpenInputOptions extends OpenTraceOptions, GenerateOptions {
  format?: TraceFormat;
}

export function isWorkloadSpec(spec: string): boolean {
  return spec.startsWith('workload:');
}

export async function openInput(spec: string, options: OpenInputOptions = {}): Promise<OpenedInput> {
  if (isWorkloadSpec(spec)) {
    const genOpts: GenerateOptions = {};
    if (options.costs) genOpts.costs = options.costs;
    if (options.batchSize) genOpts.batchSize = options.batchSize;
    // A trace's progress is bytes read of its size; a workload's, events counted of the
    // estimate (workloads/index.ts).
    if (options.onProgress) genOpts.onProgress = options.onProgress;
    if (options.note) genOpts.note = options.note;
    const src = await generateWorkload(spec, genOpts);
    return { spec, origin: 'workload', info: src.info, batches: () => src.batches(), close() {} };
  }
  const t = await openTrace(spec, options);
  return { spec, origin: 'trace', info: t.info, batches: () => t.batches(), close: () => t.close() };
}
