// `tlbsim record --vm`: record workloads inside a real kernel booted under QEMU with as many
// virtual CPUs as asked for, because flush strategies only differ with many CPUs and the
// machines people have at hand rarely have them.
//
// One boot runs a list of commands and gives one trace per command:
//   host: the kernel (kernels.ts) + an initramfs built here (busybox-static, the workloads
//         compiled `cc -static`, a generated /init) -> qemu-system-x86_64, console on the
//         first serial port (a log file), data on the second (another file);
//   guest /init: mounts tracefs, sets it up like record.ts does (the same events, record-tgid,
//         trace_clock=mono, a buffer per CPU; in the top-level buffer, the guest being ours
//         alone), and for each command clears the buffer,
//         turns tracing on, runs it, turns tracing off, reads every per_cpu/cpuN/trace in
//         parallel into gzip files, and writes them with the stats and the header as one
//         tar archive to the second serial port; then powers off;
//   host: reads the tar archives back and merges each command's per-CPU files by timestamp
//         (merge.ts) into an ordinary raw tracefs text file, headed by `# tlbsim-vm:`.
// The serial port is used rather than a virtio disk because Debian's cloud kernels build
// the 8250 UART in and virtio-blk as a module; ~450 KB/s under TCG is plenty for gzip data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync, gzipSync, createGzip } from 'node:zlib';
import { once } from 'node:events';
import { RecordError, TRACE_EVENTS } from '../record.ts';
import { cpioNewc, readTarFiles, type CpioEntry } from './archive.ts';
import { checkKernelArg, resolveKernel } from './kernels.ts';
import { lostInStats, mergeCpuTexts } from './merge.ts';
import { parseVmHeader, type VmHeader } from '../vm-header.ts';

/** When each vCPU took a cross-call interrupt: the guest's vCPUs share the host's cores, so
 *  an IPI waits until the host runs its target, and these entries are the only record of
 *  when that was (the replay of a TCG recording takes its interrupt times from them). On
 *  6.1, which has no ipi:ipi_send_* events, they are also the only trace of the IPIs. */
export const IRQ_ENTRY_EVENTS: readonly string[] = ['irq_vectors/call_function_entry', 'irq_vectors/call_function_single_entry'];

export type Accel = 'auto' | 'kvm' | 'tcg';
export const ACCELS: readonly Accel[] = ['auto', 'kvm', 'tcg'];

export const MAX_CPUS = 255; // QEMU's pc machine without an IOMMU for x2APIC

/** One command of a boot and the trace it gets. */
export interface VmRun { output: string; command: readonly string[] }

export interface VmRecordOptions {
  /** A kernel series (`6.12`) or a path to a vmlinuz. */
  kernel: string;
  cpus: number;
  runs: readonly VmRun[];
  /** Guest memory in MiB (default: enough for the ring buffers, see guestMemoryMb). */
  memoryMb?: number;
  /** Ring buffer per CPU in KiB (default 8192). */
  bufferKb?: number;
  tgid?: boolean;
  accel?: Accel;
  /** Seconds after which QEMU is killed (default: see defaultTimeoutS). */
  timeoutS?: number;
  /** Keep the work directory (initramfs, console log, raw serial data) and say where. */
  keep?: boolean;
  note?: (line: string) => void;
  /** Where the kernels are cached (default kernelCacheDir()). */
  cacheDir?: string;
}

export interface VmRunResult {
  output: string;
  command: readonly string[];
  exitCode: number;
  lines: number;
  bytes: number;
  /** Events overwritten or dropped by the ring buffer (sum of per_cpu/cpuN/stats). */
  lostEvents: number;
  /** Seconds the command ran in the guest. */
  seconds: number;
  /** What the command printed (stdout and stderr together), passed on by the CLI. */
  commandOutput: string;
}

export interface VmRecordResult {
  header: VmHeader;
  accel: 'kvm' | 'tcg';
  runs: VmRunResult[];
  /** Events asked for that the kernel does not have. */
  missingEvents: string[];
  /** Seconds from starting QEMU to the guest's first command. */
  bootSeconds: number;
  totalSeconds: number;
  workDir: string | null;
}

const DEFAULT_BUFFER_KB = 8192;

/** Enough memory for the kernel, the ring buffers (allocated per CPU), the gzip copies of
 *  the per-CPU text in the initramfs' tmpfs, and the workloads. */
export function guestMemoryMb(cpus: number, bufferKb: number): number {
  return Math.max(1024, Math.ceil(512 + cpus * (bufferKb / 1024) * 1.25 + cpus * 12));
}

/** A boot under TCG takes 10-25 s with a few CPUs and minutes with 32+ on a small host;
 *  the default leaves room for a short suite and still ends a hung guest. */
export function defaultTimeoutS(cpus: number, runs: number): number {
  return 180 + cpus * 10 + runs * (60 + cpus * 5);
}

// ---------------------------------------------------------------- argument checks

/** Validate what does not need the host: one line per mistake, as RecordError. */
export function checkVmOptions(o: Pick<VmRecordOptions, 'cpus' | 'runs' | 'memoryMb' | 'bufferKb' | 'timeoutS'>): void {
  if (!Number.isInteger(o.cpus) || o.cpus < 1 || o.cpus > MAX_CPUS) throw new RecordError(`--cpus needs a whole number from 1 to ${MAX_CPUS}, got ${o.cpus}`);
  if (o.runs.length === 0) throw new RecordError('no command to record (give it after --, e.g. tlbsim record --vm --kernel 6.12 --cpus 8 -o t.txt.gz -- ./madvstorm.c 0 100; or --suite FILE)');
  const outputs = new Set<string>();
  for (const r of o.runs) {
    if (r.command.length === 0) throw new RecordError(`${r.output}: no command`);
    const key = resolve(r.output);
    if (outputs.has(key)) throw new RecordError(`two commands write ${r.output}; give each its own output`);
    outputs.add(key);
  }
  if (o.memoryMb !== undefined && (!Number.isInteger(o.memoryMb) || o.memoryMb < 256)) throw new RecordError(`--memory needs a whole number of MiB, at least 256, got ${o.memoryMb}`);
  if (o.bufferKb !== undefined && (!Number.isInteger(o.bufferKb) || o.bufferKb < 64)) throw new RecordError(`--buffer-kb needs a whole number of KiB, at least 64, got ${o.bufferKb}`);
  if (o.timeoutS !== undefined && (!Number.isFinite(o.timeoutS) || o.timeoutS <= 0)) throw new RecordError(`--timeout needs a positive number of seconds, got ${o.timeoutS}`);
}

/**
 * A suite file: one command per line, `OUTPUT COMMAND [ARGS...]`, split at whitespace (no
 * shell, no quoting), `#` starts a comment line; OUTPUT is relative to `outDir`.
 *
 *   # output               command
 *   madvstorm.txt.gz       madvstorm.c 0 200
 *   forkexec.txt.gz        forkexec.c 0 50
 */
export function parseSuite(text: string, file: string, outDir: string): VmRun[] {
  const runs: VmRun[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    if (words.length < 2) throw new RecordError(`${file}:${i + 1}: expected "OUTPUT COMMAND [ARGS...]", got "${line}"`);
    if (words[0].includes('..') || words[0].startsWith('/')) throw new RecordError(`${file}:${i + 1}: the output "${words[0]}" must be a file name inside the -o directory`);
    runs.push({ output: join(outDir, words[0]), command: words.slice(1) });
  });
  if (runs.length === 0) throw new RecordError(`${file}: no commands in the suite (lines are "OUTPUT COMMAND [ARGS...]")`);
  return runs;
}

// ---------------------------------------------------------------- the host's tools

function hasTool(tool: string, args = ['--version']): boolean {
  return !spawnSync(tool, args, { stdio: 'ignore' }).error;
}

/** An ELF executable needs no dynamic loader (no PT_INTERP), so it runs in a bare initramfs. */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) return false;
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36), phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return false;
    if (bytes.readUInt32LE(at) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox'];

function findQemu(): string {
  if (!hasTool('qemu-system-x86_64')) throw new RecordError('qemu-system-x86_64 is not installed (Debian/Ubuntu: apt-get install qemu-system-x86)');
  return 'qemu-system-x86_64';
}

function findBusybox(): string {
  for (const p of BUSYBOX_CANDIDATES) {
    if (existsSync(p) && isStaticElf(readFileSync(p))) return p;
  }
  const dynamic = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (dynamic) throw new RecordError(`${dynamic} is linked dynamically and cannot run in the guest's initramfs; install a static one (Debian/Ubuntu: apt-get install busybox-static)`);
  throw new RecordError('busybox is not installed; the guest needs a static one (Debian/Ubuntu: apt-get install busybox-static)');
}

function busyboxApplets(busybox: string): Set<string> {
  const r = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  return new Set((r.stdout ?? '').split('\n').filter((l) => l.length > 0));
}

// ---------------------------------------------------------------- workloads

interface GuestCommand { argv: string[] }
interface GuestBinary { name: string; data: Buffer; mode: number }

/** The guest's name for a workload file: its base name without `.c`. */
function guestName(path: string): string { return basename(path).replace(/\.c$/, ''); }

function compileStatic(source: string, out: string): void {
  if (!hasTool('cc')) throw new RecordError(`cannot compile ${source}: cc is not installed (Debian/Ubuntu: apt-get install gcc libc6-dev)`);
  const r = spawnSync('cc', ['-static', '-O2', '-pthread', '-o', out, source], { encoding: 'utf8' });
  if (r.status !== 0) {
    const first = (r.stderr ?? '').split('\n').find((l) => /error|cannot find/.test(l)) ?? (r.stderr ?? '').trim().split('\n')[0] ?? '';
    throw new RecordError(`cc -static -O2 -pthread ${source} failed: ${first.trim()}${/cannot find -lc/.test(r.stderr ?? '') ? ' (the static C library is in libc6-dev)' : ''}`);
  }
}

/**
 * What goes into the guest for the commands: the first word of each is a C file (compiled
 * here, statically), an executable that needs no loader (static ELF or a `#!/bin/sh`
 * script), or the name of a busybox applet. Files land in /lab, which comes first in PATH.
 */
export function prepareCommands(runs: readonly VmRun[], applets: ReadonlySet<string>, buildDir: string): { commands: GuestCommand[]; binaries: GuestBinary[] } {
  const byPath = new Map<string, GuestBinary>();
  const names = new Map<string, string>();
  const commands = runs.map((run) => {
    const [first, ...args] = run.command;
    const looksLikeFile = first.includes('/') || first.endsWith('.c') || existsSync(first);
    if (!looksLikeFile) {
      if (!applets.has(first)) throw new RecordError(`${first}: not a file here and not a busybox command; give a path to a .c file, a static executable or a #!/bin/sh script`);
      return { argv: [first, ...args] };
    }
    const path = resolve(first);
    if (!existsSync(path)) throw new RecordError(`${first}: no such file`);
    if (statSync(path).isDirectory()) throw new RecordError(`${first} is a directory, not a workload`);
    const name = guestName(path);
    const other = names.get(name);
    if (other !== undefined && other !== path) throw new RecordError(`${first} and ${other} would both be /lab/${name} in the guest; rename one`);
    names.set(name, path);
    if (!byPath.has(path)) byPath.set(path, loadWorkload(path, name, buildDir));
    return { argv: [name, ...args] };
  });
  return { commands, binaries: [...byPath.values()] };
}

function loadWorkload(path: string, name: string, buildDir: string): GuestBinary {
  if (path.endsWith('.c')) {
    const out = join(buildDir, name);
    compileStatic(path, out);
    return { name, data: readFileSync(out), mode: 0o755 };
  }
  const data = readFileSync(path);
  if (data.subarray(0, 2).toString('latin1') === '#!') {
    const interp = data.subarray(2, data.indexOf(10) === -1 ? 64 : data.indexOf(10)).toString('utf8').trim().split(/\s+/)[0];
    if (!['/bin/sh', '/bin/ash', '/bin/busybox'].includes(interp)) throw new RecordError(`${path}: the guest has only busybox's /bin/sh, not ${interp}; write it for /bin/sh or in C`);
    return { name, data, mode: 0o755 };
  }
  if (data.readUInt32BE(0) !== 0x7f454c46) throw new RecordError(`${path}: not an executable (ELF or #! script) or a .c file`);
  if (!isStaticElf(data)) throw new RecordError(`${path} is linked dynamically; the guest has no C library: link it with cc -static (or give the .c file)`);
  return { name, data, mode: 0o755 };
}

// ---------------------------------------------------------------- the guest

/** A word for sh, quoted so that it reaches the command as given. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The guest's /init (busybox sh). Everything it says on the console starts with
 *  `tlbsim-guest:`, which the host shows as progress. */
export function guestInit(commands: readonly GuestCommand[], bufferKb: number, tgid: boolean): string {
  const events = TRACE_EVENTS.join(' ');
  const runLines = commands.map((c, i) => `run ${i} ${c.argv.map(shellQuote).join(' ')}`).join('\n');
  return `#!/bin/busybox sh
# Generated by tlbsim record --vm (src/trace/record/vm.ts).
/bin/busybox mkdir -p /proc /sys /dev /tmp /out
/bin/busybox --install -s /bin
export PATH=/lab:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "tlbsim-guest: $*"; }
fatal() { say "error: $*"; poweroff -f; }
T=/sys/kernel/tracing
mount -t tracefs tracefs $T 2>/dev/null
[ -d $T/events ] || fatal "this kernel has no tracefs"
[ -e /dev/ttyS1 ] || fatal "no second serial port /dev/ttyS1"
# raw: no newline translation or flow control, the tar stream passes byte for byte
stty -F /dev/ttyS1 raw -echo || fatal "cannot set /dev/ttyS1 to raw"
ACCEL=unknown
HOSTCPUS=unknown
for w in $(cat /proc/cmdline); do case $w in tlbsim.accel=*) ACCEL=\${w#*=};; tlbsim.host_cpus=*) HOSTCPUS=\${w#*=};; esac; done
echo 0 > $T/tracing_on
echo ${bufferKb} > $T/buffer_size_kb || fatal "cannot allocate ${bufferKb} KiB of ring buffer per CPU; give the guest more --memory or a smaller --buffer-kb"
echo mono > $T/trace_clock || fatal "no mono trace clock"
[ -e $T/options/record-tgid ] && echo ${tgid ? 1 : 0} > $T/options/record-tgid
MISSING=
for e in ${events}; do
  if [ -d $T/events/$e ]; then echo 1 > $T/events/$e/enable; else MISSING="$MISSING $e"; fi
done
for d in $T/events/*/exit_mmap; do [ -d "$d" ] && echo 1 > "$d/enable"; done
# when each vCPU took a cross-call interrupt (and, on 6.1, the only trace of the IPIs)
for e in ${IRQ_ENTRY_EVENTS.join(' ')}; do [ -d $T/events/$e ] && echo 1 > $T/events/$e/enable; done
flag() { grep -qw "$1" /proc/cpuinfo && echo 1 || echo 0; }
PTI=0; grep -q PTI /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null && PTI=1
HEADER="# tlbsim-vm: kernel=$(uname -r) cpus=$(nproc) pcid=$(flag pcid) invpcid=$(flag invpcid) invlpgb=$(flag invlpgb) accel=$ACCEL host_cpus=$HOSTCPUS pti=$PTI clock=mono"
say "booted $(uname -r) with $(nproc) CPUs"
run() {
  i=$1; shift
  D=/out/w$i; mkdir -p $D
  say "run $i: $*"
  echo "$HEADER" > $D/vm-header
  echo "# tlbsim-vm-command: $*" >> $D/vm-header
  echo "$MISSING" > $D/missing
  echo > $T/trace
  S=$(cut -d' ' -f1 /proc/uptime)
  echo 1 > $T/tracing_on
  "$@" > $D/output.txt 2>&1 < /dev/null
  echo $? > $D/status
  echo 0 > $T/tracing_on
  E=$(cut -d' ' -f1 /proc/uptime)
  echo "$S $E" > $D/uptime
  say "run $i ended (status $(cat $D/status)); reading the per-CPU buffers"
  for c in $T/per_cpu/cpu*; do gzip -1 -c $c/trace > $D/\${c##*/}.gz & done
  wait
  for c in $T/per_cpu/cpu*; do echo "== \${c##*/}"; cat $c/stats; done > $D/stats
  # the top-level header: the legend and the entries of all CPUs, as \`trace\` prints it
  head -n 40 $T/trace | grep '^#' > $D/header
  tar -c -C /out w$i > /dev/ttyS1
  rm -rf $D
  say "run $i sent"
}
${runLines}
echo ok > /out/done
tar -c -C /out done > /dev/ttyS1
say "all done"
poweroff -f
`;
}

function initramfs(busybox: string, binaries: readonly GuestBinary[], init: string): Buffer {
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' }, { kind: 'dir', path: 'dev' }, { kind: 'dir', path: 'lab' },
    { kind: 'dir', path: 'proc' }, { kind: 'dir', path: 'sys' }, { kind: 'dir', path: 'tmp', mode: 0o1777 },
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ...binaries.map((b): CpioEntry => ({ kind: 'file', path: `lab/${b.name}`, data: b.data, mode: b.mode })),
    { kind: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 },
  ];
  return gzipSync(cpioNewc(entries), { level: 1 });
}

// ---------------------------------------------------------------- QEMU

function kvmUsable(): boolean {
  try { accessSync('/dev/kvm', constants.R_OK | constants.W_OK); return true; } catch { return false; }
}

interface QemuRun {
  code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; interrupted: NodeJS.Signals | null; stderr: string;
  /** Seconds from starting QEMU to the guest's "booted" line (null: it never said it). */
  bootedAfterS: number | null;
}

function runQemu(qemu: string, args: string[], timeoutS: number, consoleLog: string, note: (line: string) => void): Promise<QemuRun> {
  return new Promise((resolveRun, reject) => {
    const child: ChildProcess = spawn(qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4096); });
    let timedOut = false, interrupted: NodeJS.Signals | null = null;
    const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
    const timer = setTimeout(() => { timedOut = true; kill(); }, timeoutS * 1000);
    const onSignal = (sig: NodeJS.Signals) => { interrupted ??= sig; kill(); };
    const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of SIGNALS) process.on(s, onSignal);
    // The guest's progress lines, as they reach the console log.
    let shown = 0;
    const startedAt = Date.now();
    let bootedAfterS: number | null = null;
    const readProgress = () => {
      let text: string;
      try { text = readFileSync(consoleLog, 'latin1'); } catch { return; }
      const lines = text.slice(shown).split('\n');
      const complete = lines.slice(0, -1);
      shown += complete.reduce((n, l) => n + l.length + 1, 0);
      for (const l of complete) {
        const at = l.indexOf('tlbsim-guest: ');
        if (at === -1) continue;
        const said = l.slice(at + 14).replace(/\r$/, '');
        if (bootedAfterS === null && said.startsWith('booted ')) bootedAfterS = (Date.now() - startedAt) / 1000;
        note(`guest: ${said}`);
      }
    };
    const poll = setInterval(readProgress, 500);
    const done = () => { clearTimeout(timer); clearInterval(poll); for (const s of SIGNALS) process.off(s, onSignal); };
    child.once('error', (e) => { done(); reject(new RecordError(`cannot run ${qemu}: ${e.message}`)); });
    child.once('exit', (code, signal) => { done(); readProgress(); resolveRun({ code, signal, timedOut, interrupted, stderr, bootedAfterS }); });
  });
}

function qemuArgs(o: { accel: 'kvm' | 'tcg'; cpus: number; memoryMb: number; kernel: string; initrd: string; consoleLog: string; data: string }): string[] {
  return [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    ...(o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi']),
    '-smp', String(o.cpus), '-m', String(o.memoryMb),
    '-kernel', o.kernel, '-initrd', o.initrd,
    // panic=-1 and -no-reboot: a guest that panics ends QEMU at once instead of waiting for the timeout
    '-append', `console=ttyS0 quiet loglevel=3 panic=-1 tsc=reliable tlbsim.accel=${o.accel} tlbsim.host_cpus=${availableParallelism()}`,
    '-serial', `file:${o.consoleLog}`, '-serial', `file:${o.data}`,
  ];
}

// ---------------------------------------------------------------- collecting the traces

interface GuestRunFiles { cpus: Map<number, Buffer>; files: Map<string, Buffer> }

function groupByRun(stream: Buffer): { runs: Map<number, GuestRunFiles>; done: boolean } {
  const { files } = readTarFiles(stream);
  const runs = new Map<number, GuestRunFiles>();
  let done = false;
  for (const f of files) {
    if (f.name === 'done') { done = true; continue; }
    const m = /^w(\d+)\/(.+)$/.exec(f.name);
    if (!m) continue;
    const i = Number(m[1]);
    const r = runs.get(i) ?? { cpus: new Map(), files: new Map() };
    runs.set(i, r);
    const cpu = /^cpu(\d+)\.gz$/.exec(m[2]);
    if (cpu) r.cpus.set(Number(cpu[1]), f.data);
    else r.files.set(m[2], f.data);
  }
  return { runs, done };
}

/** Write one command's trace: the guest's header lines, the kernel's `trace` header, and the
 *  per-CPU lines merged by timestamp. Written to a temporary file and renamed. */
async function writeTrace(output: string, files: GuestRunFiles): Promise<{ lines: number; bytes: number }> {
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  const sink = createWriteStream(tmp);
  const gz = output.endsWith('.gz') ? createGzip({ level: 9 }) : null;
  const target = gz ?? sink;
  if (gz) gz.pipe(sink);
  let lines = 0, bytes = 0, pending: string[] = [], pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const chunk = Buffer.from(pending.join(''), 'latin1');
    pending = []; pendingBytes = 0;
    if (!target.write(chunk)) await once(target, 'drain');
  };
  const put = async (line: string) => {
    pending.push(line, '\n');
    lines++; bytes += line.length + 1; pendingBytes += line.length + 1;
    if (pendingBytes >= 1 << 20) await flush();
  };
  try {
    const headerOf = (name: string) => (files.files.get(name)?.toString('latin1') ?? '').split('\n').filter((l) => l.length > 0);
    for (const l of headerOf('vm-header')) await put(l);
    for (const l of headerOf('header')) await put(l);
    const cpus = [...files.cpus].map(([cpu, gzText]) => ({ cpu, text: gunzipSync(gzText) }));
    for (const l of mergeCpuTexts(cpus)) await put(l);
    await flush();
    target.end();
    await once(sink, 'close');
    renameSync(tmp, output);
  } catch (e) {
    sink.destroy();
    rmSync(tmp, { force: true });
    throw new RecordError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { lines, bytes };
}

function checkOutputDir(output: string): void {
  const dir = dirname(output);
  if (!existsSync(dir)) throw new RecordError(`cannot write ${output}: the directory ${dir} does not exist`);
  try { accessSync(dir, constants.W_OK); } catch { throw new RecordError(`cannot write ${output}: the directory ${dir} is not writable`); }
  if (existsSync(output) && statSync(output).isDirectory()) throw new RecordError(`cannot write ${output}: it is a directory`);
}

function tail(path: string, n: number): string {
  try {
    return readFileSync(path, 'latin1').split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l.length > 0).slice(-n).join(' / ');
  } catch { return ''; }
}

const BOOT_ATTEMPTS = 3;

function panickedBeforeFirstRun(q: QemuRun, consoleLog: string, data: string): boolean {
  if (q.timedOut || q.interrupted) return false;
  if (existsSync(data) && statSync(data).size > 0) return false;
  // Only that race: any other panic (no memory for the initramfs, a kernel that cannot boot
  // on this CPU) would panic again, and is reported at once.
  try { return /Oops: int3/.test(readFileSync(consoleLog, 'latin1')); } catch { return false; }
}

/** The first Oops or panic line of a console log, for the note. */
function panicLine(consoleLog: string): string {
  const text = readFileSync(consoleLog, 'latin1');
  const m = /(Oops: .*|Kernel panic - not syncing: .*)/.exec(text);
  return (m?.[1] ?? 'kernel panic').replace(/\r$/, '').trim();
}

/** What the guest's /init said when it gave up (`fatal` in guestInit), as the reason. */
function guestError(consoleLog: string): string | null {
  let text: string;
  try { text = readFileSync(consoleLog, 'latin1'); } catch { return null; }
  const said = [...text.matchAll(/tlbsim-guest: error: (.*?)\r?$/gm)].pop();
  return said ? `in the guest: ${said[1]}` : null;
}

// ---------------------------------------------------------------- the whole recording

export async function recordInVm(options: VmRecordOptions): Promise<VmRecordResult> {
  const note = options.note ?? (() => {});
  checkVmOptions(options);
  for (const r of options.runs) checkOutputDir(r.output);
  checkKernelArg(options.kernel);
  const qemu = findQemu();
  const busybox = findBusybox();
  const kernel = resolveKernel(options.kernel, note, options.cacheDir);
  const bufferKb = options.bufferKb ?? DEFAULT_BUFFER_KB;
  const memoryMb = options.memoryMb ?? guestMemoryMb(options.cpus, bufferKb);
  const timeoutS = options.timeoutS ?? defaultTimeoutS(options.cpus, options.runs.length);

  const work = mkdtempSync(join(tmpdir(), 'tlbsim-vm-'));
  let keepWork = options.keep === true;
  try {
    const { commands, binaries } = prepareCommands(options.runs, busyboxApplets(busybox), work);
    const initrd = join(work, 'initramfs.cpio.gz');
    writeFileSync(initrd, initramfs(busybox, binaries, guestInit(commands, bufferKb, options.tgid !== false)));
    const consoleLog = join(work, 'console.log'), data = join(work, 'serial1.bin');

    const wanted = options.accel ?? 'auto';
    if (wanted === 'kvm' && !kvmUsable()) throw new RecordError('--accel kvm: /dev/kvm is missing or not read-writable by this user');
    let accel: 'kvm' | 'tcg' = wanted === 'tcg' || (wanted === 'auto' && !kvmUsable()) ? 'tcg' : 'kvm';
    const started = Date.now();
    note(`booting ${kernel.packageName ?? kernel.vmlinuz} with ${options.cpus} CPUs and ${memoryMb} MiB under ${accel === 'kvm' ? 'KVM' : 'TCG (emulated: slow)'}, ${options.runs.length} command${options.runs.length === 1 ? '' : 's'}; timeout ${timeoutS} s`);
    let q = await runQemu(qemu, qemuArgs({ accel, cpus: options.cpus, memoryMb, kernel: kernel.vmlinuz, initrd, consoleLog, data }), timeoutS, consoleLog, note);
    // /dev/kvm can exist and still fail (nested virtualisation without the CPU features
    // QEMU asks for): QEMU then dies before the guest prints anything. Emulate instead.
    const nothingSent = !existsSync(data) || statSync(data).size === 0;
    if (wanted === 'auto' && accel === 'kvm' && !q.timedOut && !q.interrupted && q.code !== 0 && nothingSent) {
      const lines = q.stderr.trim().split('\n').filter((l) => l.trim().length > 0);
      const why = lines.find((l) => /error/i.test(l)) ?? lines.slice(-1)[0] ?? `QEMU exited with ${q.code}`;
      note(`KVM did not work (${why.trim()}); booting under TCG instead`);
      accel = 'tcg';
      q = await runQemu(qemu, qemuArgs({ accel, cpus: options.cpus, memoryMb, kernel: kernel.vmlinuz, initrd, consoleLog, data }), timeoutS, consoleLog, note);
    }
    // Under TCG with many vCPUs a boot now and then dies of an int3 Oops in kernel text that
    // another CPU was patching (static keys flipped late in boot; QEMU's cross-modifying-code
    // handling). It happens before the guest runs anything, so booting again loses nothing.
    for (let attempt = 2; attempt <= BOOT_ATTEMPTS && panickedBeforeFirstRun(q, consoleLog, data); attempt++) {
      const failedLog = join(work, `console-attempt${attempt - 1}.log`);
      renameSync(consoleLog, failedLog);
      note(`the guest kernel panicked while booting (${panicLine(failedLog)}, a TCG race with kernel text patching); booting again, attempt ${attempt} of ${BOOT_ATTEMPTS}`);
      q = await runQemu(qemu, qemuArgs({ accel, cpus: options.cpus, memoryMb, kernel: kernel.vmlinuz, initrd, consoleLog, data }), timeoutS, consoleLog, note);
    }
    const totalSeconds = (Date.now() - started) / 1000;
    const stream = existsSync(data) ? readFileSync(data) : Buffer.alloc(0);
    const { runs: got, done } = groupByRun(stream);
    const bootSeconds = q.bootedAfterS ?? NaN;

    const results: VmRunResult[] = [];
    let header: VmHeader | null = null;
    let missingEvents: string[] = [];
    for (const [i, run] of options.runs.entries()) {
      const files = got.get(i);
      if (!files || !files.files.has('header')) break;
      header ??= parseVmHeader((files.files.get('vm-header')?.toString('latin1') ?? '').split('\n')[0]);
      missingEvents = (files.files.get('missing')?.toString('latin1') ?? '').trim().split(/\s+/).filter((e) => e.length > 0);
      const saved = await writeTrace(run.output, files);
      const stats = files.files.get('stats')?.toString('latin1') ?? '';
      const lostEvents = stats.split(/^== /m).reduce((n, s) => n + lostInStats(s), 0);
      const [s, e] = (files.files.get('uptime')?.toString() ?? '0 0').trim().split(/\s+/).map(Number);
      results.push({ output: run.output, command: run.command, exitCode: Number(files.files.get('status')?.toString().trim() ?? 1), ...saved, lostEvents, seconds: e - s, commandOutput: files.files.get('output.txt')?.toString('utf8') ?? '' });
    }
    if (results.length < options.runs.length || !done) {
      keepWork = true;
      const why = q.interrupted ? `interrupted (${q.interrupted})`
        : q.timedOut ? `the guest did not finish within ${timeoutS} s (raise --timeout)`
          : q.code !== 0 ? `QEMU failed (exit ${q.code}): ${q.stderr.trim().split('\n').slice(-1)[0] ?? ''}`
            : guestError(consoleLog) ?? `the guest stopped early: ${tail(consoleLog, 3) || 'no console output'}`;
      const saved = results.length > 0 ? `; the first ${results.length} trace${results.length === 1 ? ' was' : 's were'} written` : '';
      throw new RecordError(`${why}${saved}; console log: ${consoleLog}`);
    }
    if (!header) throw new RecordError(`the guest sent no tlbsim-vm header; console log: ${consoleLog}`);
    return { header, accel, runs: results, missingEvents, bootSeconds, totalSeconds, workDir: keepWork ? work : null };
  } finally {
    if (!keepWork) rmSync(work, { recursive: true, force: true });
    else note(`kept the work directory ${work} (initramfs, console.log, serial1.bin)`);
  }
}
