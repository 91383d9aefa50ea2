// `tlbsim generate <workload> [--set key=value]... -o FILE`: a synthetic workload written
// as a trace file. The format follows the extension: `.csv` is tlbsim's canonical CSV
// (lossless), `.txt` is raw tracefs text as the kernel prints it (what has no ftrace form,
// such as access and iteration marks, goes into `# tlbsim:` comment lines); `.gz` after
// either compresses it. Timestamps are written with nanoseconds so that reading the file
// back gives the same event times.
import type { Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { EventSource } from '../trace/event.ts';
import { fail, noteSafe, writeFailed } from './util.ts';
import { release, removeLater } from '../trace/cleanup.ts';

export type GeneratedFormat = 'csv' | 'ftrace';

export function formatFromPath(path: string): { format: GeneratedFormat; gzip: boolean } {
  const gzip = path.endsWith('.gz');
  const base = gzip ? path.slice(0, -3) : path;
  if (base.endsWith('.csv')) return { format: 'csv', gzip };
  if (base.endsWith('.txt')) return { format: 'ftrace', gzip };
  return fail(`cannot tell the output format from "${path}": name it .csv (tlbsim canonical CSV) or .txt (ftrace text), optionally followed by .gz`, 2);
}

/** `--set k=v` values and the spec's own `:k=v,...` merged into one spec string. */
export function workloadSpec(workload: string, sets: readonly string[]): string {
  const name = workload.startsWith('workload:') ? workload.slice('workload:'.length) : workload;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) fail(`--set expects key=value, got "${s}"`, 2);
    if (s.includes(',')) fail(`--set takes one key=value at a time, got "${s}" (repeat --set for each parameter)`, 2);
  }
  if (sets.length === 0) return `workload:${name}`;
  return `workload:${name}${name.includes(':') ? ',' : ':'}${sets.join(',')}`;
}

export interface GenerateFileResult { spec: string; path: string; format: GeneratedFormat; gzip: boolean; events: number; lines: number }

/** Generate `spec` into `path` (written to a temporary name first, renamed when complete). */
export async function generateFile(spec: string, path: string, onProgress?: (done: number, total: number) => void, note?: (line: string) => void): Promise<GenerateFileResult> {
  const { format, gzip } = formatFromPath(path);
  const { generateWorkload } = await import('../workloads/index.ts');
  const passes = format === 'ftrace' ? 2 : 1; // the text writer makes two passes
  // Counting the events is one more pass before any is written: the bar covers it too.
  const source = await generateWorkload(spec, {
    ...(onProgress ? { onProgress: (d: number, est: number) => onProgress(d, est * (1 + passes)) } : {}),
    ...(note ? { note } : {}),
  });
  const total = source.info.events * (1 + passes);
  let done = source.info.events;
  const counted = {
    info: source.info,
    async *batches() {
      for await (const b of source.batches()) { done += b.length; onProgress?.(done, total); yield b; }
    },
  };
  // Written under a temporary name and renamed; a device or FIFO (/dev/stdout) in place.
  let special = false;
  try { special = !statSync(path).isFile(); } catch { /* absent */ }
  // writeTraceCsv picks gzip from the name: the temporary file gets the same ending.
  const tmp = special ? path : join(dirname(path), `.${basename(path)}.${process.pid}.tmp${format === 'csv' && gzip ? '.gz' : ''}`);
  if (!special) removeLater(tmp);
  let lines: number;
  try {
    if (format === 'csv') {
      const { writeTraceCsv } = await import('../trace/csv.ts');
      lines = await writeTraceCsv(counted, tmp);
    } else {
      lines = await writeFtraceTo(counted, tmp, gzip);
    }
    if (!special) await rename(tmp, path);
    release(tmp);
  } catch (e) {
    // Removing it can fail as writing did (ELOOP, EACCES on the directory): the write's error is the one to report.
    if (!special) await rm(tmp, { force: true }).catch(() => undefined);
    release(tmp);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`cannot write ${path}: the directory ${dirname(path)} does not exist`, 1);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') fail(`cannot write ${path}: permission denied`, 1);
    if (code === 'ENOSPC') fail(`cannot write ${path}: no space left on the device`, 1);
    writeFailed(path, 'the trace', e);
  }
  return { spec: source.info.source, path, format, gzip, events: source.info.events, lines };
}

async function writeFtraceTo(source: EventSource, path: string, gzip: boolean): Promise<number> {
  const { createGzip } = await import('node:zlib');
  const { writeFtrace } = await import('../workloads/ftrace-writer.ts');
  const file = createWriteStream(path);
  const zip = gzip ? createGzip({ level: 6 }) : null;
  const out: Writable = zip ?? file;
  zip?.pipe(file);
  const failed = new Promise<never>((_, reject) => { file.on('error', reject); zip?.on('error', reject); });
  failed.catch(() => undefined);
  const r = await writeFtrace(source, async (chunk) => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  }, { nsTimestamps: true });
  out.end();
  await Promise.race([once(file, 'close'), failed]);
  return r.eventLines + r.commentLines;
}

function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

export function register(program: Command): void {
  program
    .command('generate')
    .description('write a synthetic workload as a trace file (.csv canonical, .txt ftrace text; .gz to compress)')
    .argument('<workload>', 'a workload name (see `tlbsim workloads`), or workload:NAME:key=value,...')
    .requiredOption('-o, --output <file>', 'where to write; the format follows the extension: .csv, .txt, .csv.gz, .txt.gz')
    .option('--set <key=value>', 'set a workload parameter (repeatable)', collect, [] as string[])
    .addHelpText('after', [
      '',
      'Examples:',
      '  tlbsim generate ping-pong --set pages=512 --set iterations=1000 -o pingpong.txt',
      '  tlbsim generate madv-threads --set threads=4 --set cpus=4 -o madv.csv.gz',
      '  tlbsim inspect pingpong.txt     # reads back as any recorded trace',
    ].join('\n'))
    .action(async (workload: string, opts: { output: string; set: string[] }) => {
      const spec = workloadSpec(workload, opts.set);
      formatFromPath(opts.output);
      const { WorkloadError } = await import('../workloads/index.ts');
      const { progress } = await import('./progress.ts');
      const bar = progress('generate');
      let r: GenerateFileResult;
      try {
        r = await generateFile(spec, opts.output, (d, t) => bar.update(d, t), (line) => noteSafe(`tlbsim: note: ${line}`));
      } catch (e) {
        if (e instanceof WorkloadError) fail(e.message, 2);
        throw e;
      } finally {
        bar.stop();
      }
      const what = r.format === 'csv' ? `${r.lines} rows of tlbsim CSV` : `${r.lines} lines of ftrace text`;
      noteSafe(`tlbsim: wrote ${r.events} events (${what}${r.gzip ? ', gzipped' : ''}) of ${r.spec} to ${r.path}`);
    });
}
