// `tlbsim record -o FILE -- CMD ...`: run CMD with the kernel events tlbsim needs recorded,
// on this machine (tracefs, trace-cmd, perf) or, with --vm, inside a kernel booted under QEMU.
import type { Command } from 'commander';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readSmallFile } from './small-file.ts';
import { constants } from 'node:os';
import { fail, noteSafe } from './util.ts';

interface RecordCliOptions {
  output: string; with: string; bufferKb?: string; tgid: boolean; clock?: string; tracefs?: string;
  vm?: boolean; kernel?: string; cpus?: string; suite?: string; memory?: string; timeout?: string; accel?: string; keep?: boolean;
}

/** A whole number option, or a usage error naming it. */
function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) fail(`${name} needs a whole number, got "${value}"`, 2);
  return n;
}

const VM_ONLY = ['kernel', 'cpus', 'suite', 'memory', 'timeout', 'accel', 'keep'] as const;

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
    .argument('[command...]', 'the command to run and its arguments, after --')
    .requiredOption('-o, --output <file>', 'trace file to write (.gz to compress; with trace-cmd, .dat keeps the binary trace.dat); with --suite, the directory for the traces')
    .option('--with <tool>', 'tracefs: copy a private instance\'s text (default); trace-cmd: the same instance through trace-cmd extract/report; perf: perf record -a + perf script', 'tracefs')
    .option('--buffer-kb <kb>', 'ring buffer per CPU in KiB (default 16384; with --vm 8192)')
    .option('--no-tgid', 'do not turn on record-tgid (tracefs)')
    .option('--clock <clock>', 'trace_clock to use (tracefs, trace-cmd; default: the kernel\'s, local)')
    .option('--tracefs <dir>', 'where tracefs is mounted (default: from /proc/mounts, else mounted at /sys/kernel/tracing)')
    .option('--vm', 'record inside a Debian kernel booted under QEMU (TCG; KVM when /dev/kvm works) instead of on this machine')
    .option('--kernel <ver|path>', 'with --vm: 6.1, 6.12 or 7.3 (Debian\'s cloud kernel, downloaded once into ~/.cache/tlbsim/kernels), or a vmlinuz')
    .option('--cpus <n>', 'with --vm: virtual CPUs (default 2)')
    .option('--suite <file>', 'with --vm: run every command of FILE in one boot, one trace each (lines: OUTPUT COMMAND [ARGS...])')
    .option('--memory <mib>', 'with --vm: guest memory in MiB (default: enough for the ring buffers, at least 1024)')
    .option('--timeout <s>', 'with --vm: seconds before a guest that has not finished is killed (default grows with CPUs and commands)')
    .option('--accel <how>', 'with --vm: auto (KVM if it works, else TCG), kvm or tcg', 'auto')
    .option('--keep', 'with --vm: keep the work directory (initramfs, console log, raw serial data)')
    .addHelpText('after', [
      '',
      'Needs root (tracefs is root-only). The command runs without a shell, as given after --;',
      'tlbsim exits with its exit status. Ctrl-C stops the command, and the trace so far is kept.',
      '',
      'With --vm the command runs in the guest (no root needed): its first word is a .c file',
      '(compiled here with cc -static -O2 -pthread), a static executable, a #!/bin/sh script or a',
      'busybox command. The guest records the same events and irq_vectors:call_function*_entry',
      'with record-tgid, trace_clock=mono and --buffer-kb per CPU (default 8192), reads the',
      'per-CPU buffers in parallel, and the host merges them by timestamp into raw tracefs text.',
      'Ctrl-C or --timeout ends the guest; the traces of the commands that had finished are',
      'written. Each trace starts with the line:',
      '  # tlbsim-vm: kernel=6.12.117+deb12-cloud-amd64 cpus=8 pcid=0 invpcid=0 invlpgb=0 accel=tcg host_cpus=2 pti=0 clock=mono',
      'Needs qemu-system-x86_64, busybox-static and cc; apt-get and dpkg-deb to fetch a kernel.',
      'A suite file boots once for many commands; OUTPUT is a file name inside the -o directory:',
      '  # output            command',
      '  madvstorm.txt.gz    traces/lab/workloads/madvstorm.c 0 200',
      '  sleep.txt.gz        sleep 1',
      '',
      'Examples:',
      '  sudo tlbsim record -o build.txt.gz -- make -j8',
      '  sudo tlbsim record -o pp.txt -- ./pingpong 2000 0 && tlbsim inspect pp.txt',
      '  sudo tlbsim record --with trace-cmd -o run.dat -- ./madvthreads 2 3000',
      '  sudo tlbsim record --with perf -o perf.txt -- ./madvthreads 2 3000',
      '  tlbsim record --vm --kernel 6.12 --cpus 32 -o t.txt.gz -- traces/lab/workloads/madvstorm.c 0 20',
      '  tlbsim record --vm --kernel 6.1 --cpus 8 --suite lab.suite -o out/',
    ].join('\n'))
    .action(async (command: string[], opts: RecordCliOptions) => {
      if (opts.vm) return recordVm(command, opts);
      const misplaced = VM_ONLY.find((k) => opts[k] !== undefined && !(k === 'accel' && opts.accel === 'auto'));
      if (misplaced) fail(`--${misplaced} goes with --vm`, 2);
      // The argument is optional only for --vm --suite; elsewhere it is required as before.
      if (command.length === 0) fail("missing required argument 'command' (give it after --, e.g. tlbsim record -o t.txt -- ./app)", 2);
      const { RECORD_TOOLS, RecordError, recordTrace } = await import('../trace/record.ts');
      if (!(RECORD_TOOLS as readonly string[]).includes(opts.with)) fail(`--with must be one of ${RECORD_TOOLS.join(', ')}, got "${opts.with}"`, 2);
      let bufferKb: number | undefined;
      if (opts.bufferKb !== undefined) {
        bufferKb = Number(opts.bufferKb);
        if (!Number.isInteger(bufferKb) || bufferKb < 1) fail(`--buffer-kb needs a positive whole number of KiB, got "${opts.bufferKb}"`, 2);
      }
      const note = (line: string) => noteSafe(`tlbsim: note: ${line}`);
      try {
        const r = await recordTrace({
          output: opts.output, command, tool: opts.with as 'tracefs' | 'trace-cmd' | 'perf', bufferKb, tgid: opts.tgid,
          clock: opts.clock, tracefs: opts.tracefs, note,
        });
        const what = r.lines > 0 ? `${r.lines} lines, ${size(r.bytes)} of text` : size(r.bytes);
        const ended = r.interrupted ? `was interrupted (${r.interrupted})`
          : r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`;
        noteSafe(`tlbsim: recorded ${what} to ${r.output} with ${r.tool}; the command ${ended}`);
        if (r.lostEvents > 0) process.stderr.write(`tlbsim: warning: the ring buffer lost ${r.lostEvents} events; record again with a larger --buffer-kb\n`);
        process.exitCode = exitStatusOf(r);
      } catch (e) {
        if (e instanceof RecordError) fail(e.message, 1);
        throw e;
      }
    });
}

async function recordVm(command: string[], opts: RecordCliOptions): Promise<void> {
  const vm = await import('../trace/record/vm.ts');
  const { RecordError } = await import('../trace/record.ts');
  if (opts.with !== 'tracefs') fail('--with does not go with --vm (the guest records through tracefs)', 2);
  if (opts.clock !== undefined) fail('--clock does not go with --vm (the guest always uses trace_clock=mono)', 2);
  if (opts.tracefs !== undefined) fail('--tracefs does not go with --vm', 2);
  if (opts.kernel === undefined) fail('--vm needs --kernel VER|PATH (6.1, 6.12, 7.3, or a vmlinuz)', 2);
  if (!(vm.ACCELS as readonly string[]).includes(opts.accel ?? 'auto')) fail(`--accel must be one of ${vm.ACCELS.join(', ')}, got "${opts.accel}"`, 2);
  if (opts.suite !== undefined && command.length > 0) fail('give either --suite FILE or a command after --, not both', 2);
  const cpus = wholeNumber('--cpus', opts.cpus) ?? 2;
  const memoryMb = wholeNumber('--memory', opts.memory);
  const bufferKb = wholeNumber('--buffer-kb', opts.bufferKb);
  const timeoutS = opts.timeout === undefined ? undefined : Number(opts.timeout);
  const note = (line: string) => noteSafe(`tlbsim: note: ${line}`);
  try {
    let runs;
    if (opts.suite !== undefined) {
      if (!existsSync(opts.suite)) fail(`--suite ${opts.suite}: no such file`, 1);
      if (existsSync(opts.output) && !statSync(opts.output).isDirectory()) fail(`with --suite, -o names a directory; ${opts.output} is a file`, 2);
      mkdirSync(opts.output, { recursive: true });
      let text: string;
      try { text = readSmallFile(opts.suite, 'suite file'); } catch (e) { fail((e as Error).message, 1); }
      runs = vm.parseSuite(text, opts.suite, opts.output);
    } else {
      if (command.length === 0) fail('no command to record (give it after --, e.g. tlbsim record --vm --kernel 6.12 --cpus 8 -o t.txt.gz -- traces/lab/workloads/madvstorm.c 0 100; or --suite FILE)', 2);
      runs = [{ output: opts.output, command }];
    }
    // Bad values are wrong usage (exit 2); what fails later is the host or the guest (exit 1).
    try { vm.checkVmOptions({ cpus, runs, memoryMb, bufferKb, timeoutS }); } catch (e) {
      if (e instanceof RecordError) fail(e.message, 2);
      throw e;
    }
    const r = await vm.recordInVm({
      kernel: opts.kernel, cpus, runs, memoryMb, bufferKb, timeoutS, tgid: opts.tgid,
      accel: (opts.accel ?? 'auto') as 'auto' | 'kvm' | 'tcg', keep: opts.keep, note,
    });
    const h = r.header;
    process.stderr.write(`tlbsim: guest ${h.kernel}, ${h.cpus} CPUs, ${r.accel}, pcid=${h.pcid ? 1 : 0} invpcid=${h.invpcid ? 1 : 0} invlpgb=${h.invlpgb ? 1 : 0}; booted in ${r.bootSeconds.toFixed(1)} s, ${r.totalSeconds.toFixed(0)} s in all\n`);
    for (const e of r.missingEvents) note(`event ${e} is not available on ${h.kernel}; recorded without it`);
    let status = 0;
    for (const run of r.runs) {
      process.stdout.write(run.commandOutput);
      noteSafe(`tlbsim: recorded ${run.lines} lines, ${size(run.bytes)} of text to ${run.output} in ${run.seconds.toFixed(1)} s; the command exited with status ${run.exitCode}`);
      if (run.lostEvents > 0) process.stderr.write(`tlbsim: warning: ${run.output}: the ring buffer lost ${run.lostEvents} events; record again with a larger --buffer-kb (and --memory)\n`);
      if (status === 0 && run.exitCode !== 0) status = run.exitCode;
    }
    process.exitCode = status;
  } catch (e) {
    if (e instanceof RecordError) fail(e.message, 1);
    throw e;
  }
}
