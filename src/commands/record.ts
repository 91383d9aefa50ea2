// `tlbsim record -o FILE -- CMD ...`: run CMD with the kernel events tlbsim needs recorded.
import type { Command } from 'commander';
import { constants } from 'node:os';
import { fail } from './util.ts';

interface RecordCliOptions { output: string; with: string; bufferKb?: string; tgid: boolean; clock?: string; tracefs?: string }

/** What `tlbsim record` exits with: the command's status, as `time` and `perf stat` do. */
export function exitStatusOf(r: { exitCode: number | null; signal: NodeJS.Signals | null; interrupted: NodeJS.Signals | null }): number {
  const bySignal = (s: NodeJS.Signals) => 128 + (constants.signals[s] ?? 0);
  if (r.interrupted) return bySignal(r.interrupted);
  if (r.signal) return bySignal(r.signal);
  return r.exitCode ?? 1;
}

function size(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

export function register(program: Command): void {
  program
    .command('record')
    .description('run a command and record the kernel events tlbsim replays (tracefs instance; or --with trace-cmd|perf)')
    .argument('<command...>', 'the command to run and its arguments, after --')
    .requiredOption('-o, --output <file>', 'trace file to write (.gz to compress; with trace-cmd, .dat keeps the binary trace.dat)')
    .option('--with <tool>', 'tracefs: copy a private instance\'s text (default); trace-cmd: the same instance through trace-cmd extract/report; perf: perf record -a + perf script', 'tracefs')
    .option('--buffer-kb <kb>', 'ring buffer per CPU in KiB (tracefs, trace-cmd; default 16384)')
    .option('--no-tgid', 'do not turn on record-tgid (tracefs)')
    .option('--clock <clock>', 'trace_clock to use (tracefs, trace-cmd; default: the kernel\'s, local)')
    .option('--tracefs <dir>', 'where tracefs is mounted (default: from /proc/mounts, else mounted at /sys/kernel/tracing)')
    .addHelpText('after', [
      '',
      'Needs root (tracefs is root-only). The command runs without a shell, as given after --;',
      'tlbsim exits with its exit status. Ctrl-C stops the command, and the trace so far is kept.',
      '',
      'Examples:',
      '  sudo tlbsim record -o build.txt.gz -- make -j8',
      '  sudo tlbsim record -o pp.txt -- ./pingpong 2000 0 && tlbsim inspect pp.txt',
      '  sudo tlbsim record --with trace-cmd -o run.dat -- ./madvthreads 2 3000',
      '  sudo tlbsim record --with perf -o perf.txt -- ./madvthreads 2 3000',
    ].join('\n'))
    .action(async (command: string[], opts: RecordCliOptions) => {
      const { RECORD_TOOLS, RecordError, recordTrace } = await import('../trace/record.ts');
      if (!(RECORD_TOOLS as readonly string[]).includes(opts.with)) fail(`--with must be one of ${RECORD_TOOLS.join(', ')}, got "${opts.with}"`, 2);
      let bufferKb: number | undefined;
      if (opts.bufferKb !== undefined) {
        bufferKb = Number(opts.bufferKb);
        if (!Number.isInteger(bufferKb) || bufferKb < 1) fail(`--buffer-kb needs a positive whole number of KiB, got "${opts.bufferKb}"`, 2);
      }
      const note = (line: string) => process.stderr.write(`tlbsim: note: ${line}\n`);
      try {
        const r = await recordTrace({
          output: opts.output, command, tool: opts.with as 'tracefs' | 'trace-cmd' | 'perf', bufferKb, tgid: opts.tgid,
          clock: opts.clock, tracefs: opts.tracefs, note,
        });
        const what = r.lines > 0 ? `${r.lines} lines, ${size(r.bytes)} of text` : size(r.bytes);
        const ended = r.interrupted ? `was interrupted (${r.interrupted})`
          : r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`;
        process.stderr.write(`tlbsim: recorded ${what} to ${r.output} with ${r.tool}; the command ${ended}\n`);
        if (r.lostEvents > 0) process.stderr.write(`tlbsim: warning: the ring buffer lost ${r.lostEvents} events; record again with a larger --buffer-kb\n`);
        process.exitCode = exitStatusOf(r);
      } catch (e) {
        if (e instanceof RecordError) fail(e.message, 1);
        throw e;
      }
    });
}
