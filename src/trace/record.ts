// Recording a command with the kernel events tlbsim replays (docs/design/trace-formats.md; the same
// set traces/real/record.sh uses for the fixtures).
//
// tracefs (the default) works like record.sh: a private instance under
// <tracefs>/instances/ (so the top-level buffer and anybody else's tracing are left
// alone), record-tgid on, the events enabled, the buffer cleared, tracing on only while the
// command runs, the instance's `trace` file copied to the output, the instance removed, also
// when the command fails, when tlbsim is interrupted, or when copying fails. `trace-cmd`
// records the same instance and converts it with `trace-cmd extract` + `trace-cmd report`
// (or keeps the trace.dat when the output ends in .dat). `perf` runs `perf record -a` +
// `perf script`.
//
// The command is started with spawn, never through a shell: its arguments reach it as given.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, createReadStream, createWriteStream, existsSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync, mkdirSync, rmSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** The tracepoints tlbsim reads, as SUBSYSTEM/EVENT. The mm subsystem's exit_mmap is added
 *  under whatever subsystem the kernel puts it (`mmap:exit_mmap` on 6.x). */
export const TRACE_EVENTS: readonly string[] = [
  'sched/sched_switch', 'sched/sched_migrate_task', 'sched/sched_process_fork', 'sched/sched_process_exit',
  'sched/sched_process_exec', 'tlb/tlb_flush', 'ipi/ipi_send_cpu', 'ipi/ipi_send_cpumask',
  'syscalls/sys_enter_munmap', 'syscalls/sys_enter_madvise', 'syscalls/sys_enter_mmap', 'syscalls/sys_enter_mprotect',
  'csd/csd_queue_cpu',
];
/** The events that tlbsim cannot replay without. */
const ESSENTIAL = new Set(['sched/sched_switch', 'sched/sched_process_fork', 'sched/sched_process_exit']);

export type RecordTool = 'tracefs' | 'trace-cmd' | 'perf';
export const RECORD_TOOLS: readonly RecordTool[] = ['tracefs', 'trace-cmd', 'perf'];

/** Recording could not be done (no root, no tracefs, tool missing or failing, command not
 *  found). The message is one line for the user. */
export class RecordError extends Error {
  constructor(message: string) { super(message); this.name = 'RecordError'; }
}

export interface RecordOptions {
  /** The trace file to write: text, gzipped when it ends in .gz (trace-cmd: .dat keeps the binary file). */
  output: string;
  /** The command and its arguments (run without a shell). */
  command: readonly string[];
  tool?: RecordTool;
  /** Ring buffer per CPU in KiB (tracefs; default 16384). */
  bufferKb?: number;
  /** record-tgid (tracefs; default true): lets tlbsim tell threads from processes directly. */
  tgid?: boolean;
  /** trace_clock (tracefs; default: the kernel's, `local`). */
  clock?: string;
  /** Where tracefs is mounted (default: found in /proc/mounts, else mounted at /sys/kernel/tracing). */
  tracefs?: string;
  /** Notes for the user (events not available, lost events, ...). */
  note?: (line: string) => void;
  /** tracefs: take the command's standard output (instead of passing it through), e.g. to
   *  read the time a workload prints. */
  commandStdout?: (text: string) => void;
}

export interface RecordResult {
  tool: RecordTool;
  output: string;
  /** The command's exit status, or null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** tlbsim itself received SIGINT/SIGTERM/SIGHUP while the command ran. */
  interrupted: NodeJS.Signals | null;
  /** Lines of trace text written (0 for a trace.dat). */
  lines: number;
  bytes: number;
  /** Events asked for that this kernel does not have. */
  missingEvents: string[];
  /** Per-CPU ring-buffer losses (tracefs): events overwritten or dropped. */
  lostEvents: number;
}

const DEFAULT_TRACEFS = '/sys/kernel/tracing';

/** Mount points of tracefs listed in /proc/mounts (readable or not). */
function tracefsMounts(): string[] {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '))
      .filter((f) => f[2] === 'tracefs' && f[1]).map((f) => f[1].replace(/\\040/g, ' '));
  } catch { return []; }
}

/** Where a usable (readable) tracefs is mounted, or null. */
export function findTracefs(): string | null {
  for (const c of [...tracefsMounts(), DEFAULT_TRACEFS, '/sys/kernel/debug/tracing']) {
    if (canRead(join(c, 'events')) && existsSync(join(c, 'instances'))) return c;
  }
  return null;
}

function isRoot(): boolean { return typeof process.getuid === 'function' && process.getuid() === 0; }

/** The tracefs directory to use, mounting it at the default place if needed (as record.sh does). */
export function ensureTracefs(explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new RecordError(`tracefs directory ${explicit} does not exist`);
    if (!canRead(join(explicit, 'events'))) {
      if (!isRoot()) throw new RecordError(`cannot read ${explicit}: tlbsim record needs root for tracefs (run it with sudo)`);
      throw new RecordError(`${explicit} is not a tracefs mount (no events/ directory); mount it with: mount -t tracefs nodev ${explicit}`);
    }
    return explicit;
  }
  const found = findTracefs();
  if (found) return found;
  if (!isRoot()) {
    const mounted = tracefsMounts()[0];
    if (mounted) throw new RecordError(`record needs root: tracefs at ${mounted} is not readable by this user (run it with sudo)`);
    throw new RecordError(`tracefs is not mounted and mounting it needs root: run tlbsim record with sudo, or as root: mount -t tracefs nodev ${DEFAULT_TRACEFS}`);
  }
  if (!existsSync(DEFAULT_TRACEFS)) throw new RecordError(`${DEFAULT_TRACEFS} does not exist: this kernel has no tracefs (CONFIG_TRACING), so it cannot be recorded`);
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', DEFAULT_TRACEFS], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(join(DEFAULT_TRACEFS, 'events'))) {
    const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n')[0];
    throw new RecordError(`cannot mount tracefs at ${DEFAULT_TRACEFS}${why ? `: ${why}` : ''}`);
  }
  return DEFAULT_TRACEFS;
}

function canRead(path: string): boolean {
  try { accessSync(path, constants.R_OK); readdirSync(path); return true; } catch { return false; }
}

/** The events of TRACE_EVENTS this kernel has, plus exit_mmap in whichever subsystem; and those it lacks. */
export function availableEvents(tracefs: string): { present: string[]; missing: string[] } {
  const present: string[] = [], missing: string[] = [];
  for (const e of TRACE_EVENTS) (existsSync(join(tracefs, 'events', e)) ? present : missing).push(e);
  try {
    for (const sys of readdirSync(join(tracefs, 'events'))) {
      if (existsSync(join(tracefs, 'events', sys, 'exit_mmap'))) present.push(`${sys}/exit_mmap`);
    }
  } catch { /* checked by the caller */ }
  return { present, missing };
}

function put(path: string, value: string): void {
  try { writeFileSync(path, value); } catch (e) {
    throw new RecordError(`cannot write "${value.trim()}" to ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** SIGINT/SIGTERM/SIGHUP while recording: remembered, passed on to the running command,
 *  and never fatal to tlbsim, so that the trace so far is saved and the instance removed.
 *  Installed before anything is set up in tracefs and removed when all is cleaned up. */
class SignalGuard {
  interrupted: NodeJS.Signals | null = null;
  private child: ChildProcess | null = null;
  private static readonly SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  private readonly onSignal = (sig: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches the whole process group, the command included; a kill
    // aimed at tlbsim alone does not, so pass it on once.
    const again = this.interrupted === sig;
    this.interrupted ??= sig;
    const c = this.child;
    if (!again && c && c.exitCode === null && c.signalCode === null) c.kill(sig);
  };

  constructor() { for (const s of SignalGuard.SIGNALS) process.on(s, this.onSignal); }
  release(): void { for (const s of SignalGuard.SIGNALS) process.off(s, this.onSignal); }

  /** Throws if a signal came before the command could start. */
  check(): void {
    if (this.interrupted) throw new RecordError(`interrupted (${this.interrupted}) before the command started; nothing recorded`);
  }

  /** Wait for `child` to end; signals that arrive meanwhile are passed on to it. */
  wait(child: ChildProcess, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; interrupted: NodeJS.Signals | null }> {
    this.child = child;
    return new Promise((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        this.child = null;
        reject(new RecordError(e.code === 'ENOENT' ? `cannot run "${what}": command not found` : `cannot run "${what}": ${e.message}`));
      });
      child.once('exit', (code, signal) => { this.child = null; resolve({ code, signal, interrupted: this.interrupted }); });
    });
  }
}

/** Copy `from` (a stream of trace text) to `output` (gzipped if .gz) via a temporary file;
 *  returns the lines and bytes of text written. */
async function saveText(from: Readable, output: string): Promise<{ lines: number; bytes: number }> {
  let lines = 0, bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      cb(null, chunk);
    },
  });
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    if (output.endsWith('.gz')) await pipeline(from, count, createGzip({ level: 6 }), createWriteStream(tmp));
    else await pipeline(from, count, createWriteStream(tmp));
    renameSync(tmp, output);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RecordError(`cannot write ${output}: the directory ${dirname(output)} does not exist`);
    if (code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC') throw new RecordError(`cannot write ${output}: ${code}`);
    throw e;
  }
  return { lines, bytes };
}

/** Check the output can be written before anything is started. */
function checkOutput(output: string): void {
  const dir = dirname(output);
  if (!existsSync(dir)) throw new RecordError(`cannot write ${output}: the directory ${dir} does not exist`);
  try { accessSync(dir, constants.W_OK); } catch { throw new RecordError(`cannot write ${output}: the directory ${dir} is not writable`); }
  if (existsSync(output) && statSync(output).isDirectory()) throw new RecordError(`cannot write ${output}: it is a directory`);
}

function toolAvailable(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  return !r.error;
}

export async function recordTrace(options: RecordOptions): Promise<RecordResult> {
  if (options.command.length === 0) throw new RecordError('no command to record (give it after --, e.g. tlbsim record -o t.txt -- ./workload)');
  checkOutput(options.output);
  const tool = options.tool ?? 'tracefs';
  const result = tool === 'perf' ? await recordPerf(options)
    : tool === 'trace-cmd' ? await recordTraceCmd(options) : await recordTracefs(options);
  giveToSudoUser(result.output);
  return result;
}

/** Under sudo, the trace belongs to the user who asked for it, not to root (so that they
 *  can overwrite it next time without sudo). */
function giveToSudoUser(path: string): void {
  const uid = Number(process.env.SUDO_UID), gid = Number(process.env.SUDO_GID);
  if (!isRoot() || !Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) return;
  try { chownSync(path, uid, gid); } catch { /* e.g. a filesystem without ownership: leave it */ }
}

// ---------------------------------------------------------------- tracefs

/** A private tracefs instance that removes itself on every way out of the process. */
class Instance {
  readonly dir: string;
  private removed = false;
  private readonly onExit = () => this.remove();

  constructor(tracefs: string, name: string) {
    this.dir = join(tracefs, 'instances', name);
    if (existsSync(this.dir)) throw new RecordError(`tracefs instance ${this.dir} already exists; remove it with: rmdir ${this.dir}`);
    try { mkdirSync(this.dir); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new RecordError(`cannot create a tracefs instance in ${join(tracefs, 'instances')}: permission denied; tlbsim record needs root (run it with sudo)`);
      throw new RecordError(`cannot create the tracefs instance ${this.dir}: ${code ?? (e as Error).message}`);
    }
    process.once('exit', this.onExit);
  }

  /** Stop tracing and rmdir the instance (synchronous: also runs from process 'exit'). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    process.off('exit', this.onExit);
    try { writeFileSync(join(this.dir, 'tracing_on'), '0'); } catch { /* already gone */ }
    try { rmdirSync(this.dir); } catch { /* EBUSY if someone still reads it; nothing more to do */ }
  }
}

/** Instances named tlbsim-PID whose process is gone (a tlbsim record killed with SIGKILL,
 *  which no handler sees): stop and remove them, so they do not trace forever. */
export function removeOrphanInstances(tracefs: string, note: (line: string) => void): string[] {
  const removed: string[] = [];
  let names: string[];
  try { names = readdirSync(join(tracefs, 'instances')); } catch { return removed; }
  for (const name of names) {
    const m = /^tlbsim-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue; }
    const dir = join(tracefs, 'instances', name);
    try { writeFileSync(join(dir, 'tracing_on'), '0'); rmdirSync(dir); } catch { continue; }
    removed.push(dir);
    note(`removed ${dir}, left behind by a tlbsim record that was killed`);
  }
  return removed;
}

function lostInBuffer(dir: string): number {
  let lost = 0;
  try {
    for (const cpu of readdirSync(join(dir, 'per_cpu'))) {
      const stats = readFileSync(join(dir, 'per_cpu', cpu, 'stats'), 'utf8');
      const overrun = /^overrun:\s*(\d+)/m.exec(stats);
      const dropped = /^dropped events:\s*(\d+)/m.exec(stats);
      lost += Number(overrun?.[1] ?? 0) + Number(dropped?.[1] ?? 0);
    }
  } catch { /* per_cpu stats missing: nothing to report */ }
  return lost;
}

/** How the stopped instance becomes the output file: by default its `trace` text is copied. */
type SaveInstance = (instanceDir: string, instanceName: string) => Promise<{ lines: number; bytes: number }>;

const copyTraceText = (output: string): SaveInstance => (dir) => saveText(createReadStream(join(dir, 'trace')), output);

async function recordTracefs(options: RecordOptions, tool: RecordTool = 'tracefs', save: SaveInstance = copyTraceText(options.output)): Promise<RecordResult> {
  const note = options.note ?? (() => {});
  const tracefs = ensureTracefs(options.tracefs);
  const { present, missing } = availableEvents(tracefs);
  const essentialMissing = missing.filter((e) => ESSENTIAL.has(e));
  if (essentialMissing.length > 0) throw new RecordError(`this kernel has no ${essentialMissing.join(', ')} tracepoint: tlbsim cannot replay without it`);
  for (const e of missing) note(`event ${e} is not available on this kernel; recording without it`);

  removeOrphanInstances(tracefs, note);
  const guard = new SignalGuard();
  let inst: Instance | null = null;
  try {
    inst = new Instance(tracefs, `tlbsim-${process.pid}`);
    const I = inst.dir;
    put(join(I, 'tracing_on'), '0');
    try {
      put(join(I, 'buffer_size_kb'), String(options.bufferKb ?? 16384));
    } catch (e) {
      if (e instanceof RecordError && /ENOMEM/.test(e.message)) throw new RecordError(`the kernel cannot allocate ${options.bufferKb ?? 16384} KiB of ring buffer per CPU; ask for less with --buffer-kb`);
      throw e;
    }
    if (options.clock) {
      const clocks = readFileSync(join(I, 'trace_clock'), 'utf8').replace(/[[\]]/g, '').trim().split(/\s+/);
      if (!clocks.includes(options.clock)) throw new RecordError(`unknown trace clock "${options.clock}" (this kernel has: ${clocks.join(', ')})`);
      put(join(I, 'trace_clock'), options.clock);
    }
    const tgidOption = join(I, 'options', 'record-tgid');
    if (existsSync(tgidOption)) put(tgidOption, options.tgid === false ? '0' : '1');
    else if (options.tgid !== false) note('this kernel has no record-tgid option for instances; tlbsim will infer thread groups from forks');
    for (const e of present) put(join(I, 'events', e, 'enable'), '1');
    put(join(I, 'trace'), ''); // O_TRUNC clears the buffer
    put(join(I, 'tracing_on'), '1');

    const [cmd, ...args] = options.command;
    guard.check();
    let status: Awaited<ReturnType<SignalGuard['wait']>>;
    try {
      const take = options.commandStdout;
      const child = spawn(cmd, args, { stdio: take ? ['inherit', 'pipe', 'inherit'] : 'inherit' });
      const drained = take && child.stdout ? new Promise<void>((resolve) => {
        child.stdout!.setEncoding('utf8');
        child.stdout!.on('data', (t: string) => take(t));
        child.stdout!.once('close', () => resolve());
      }) : Promise.resolve();
      status = await guard.wait(child, cmd);
      await drained;
    } finally {
      put(join(I, 'tracing_on'), '0');
    }
    const lostEvents = lostInBuffer(I);
    const saved = await save(I, basename(I));
    return {
      tool, output: options.output, exitCode: status.code, signal: status.signal, interrupted: status.interrupted,
      lines: saved.lines, bytes: saved.bytes, missingEvents: missing, lostEvents,
    };
  } finally {
    inst?.remove();
    guard.release();
  }
}

// ---------------------------------------------------------------- perf

async function recordPerf(options: RecordOptions): Promise<RecordResult> {
  if (!toolAvailable('perf')) throw new RecordError('perf is not installed (Debian/Ubuntu: apt-get install linux-perf); or record through tracefs (leave out --with)');
  const tracefs = options.tracefs ?? findTracefs();
  const { present, missing } = tracefs ? availableEvents(tracefs) : { present: [...TRACE_EVENTS], missing: [] };
  for (const e of missing) options.note?.(`event ${e} is not available on this kernel; recording without it`);
  const data = join(dirname(options.output), `.${basename(options.output)}.${process.pid}.perf.data`);
  const guard = new SignalGuard();
  try {
    const args = ['record', '-a', '-o', data, ...present.flatMap((e) => ['-e', e.replace('/', ':')]), '--', ...options.command];
    let stderr = '';
    const child = spawn('perf', args, { stdio: ['inherit', 'inherit', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => { process.stderr.write(d); stderr = (stderr + d.toString()).slice(-4096); });
    const status = await guard.wait(child, 'perf');
    if (!existsSync(data)) {
      throw new RecordError(`perf record failed (exit ${status.code ?? status.signal}): ${lastLine(stderr) || 'no perf.data written'}`);
    }
    const script = spawn('perf', ['script', '-i', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let scriptErr = '';
    script.stderr!.on('data', (d: Buffer) => { scriptErr = (scriptErr + d.toString()).slice(-4096); });
    const exited = new Promise<number | null>((r) => script.once('close', (c) => r(c)));
    const saved = await saveText(script.stdout!, options.output);
    const code = await exited;
    if (code !== 0) throw new RecordError(`perf script failed (exit ${code}): ${lastLine(scriptErr)}`);
    // exitCode is perf's own status: perf record does not pass the command's on.
    return {
      tool: 'perf', output: options.output, exitCode: status.code, signal: status.signal, interrupted: status.interrupted,
      lines: saved.lines, bytes: saved.bytes, missingEvents: missing, lostEvents: 0,
    };
  } finally {
    rmSync(data, { force: true });
    rmSync(`${data}.old`, { force: true });
    guard.release();
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.slice(-2).join(' / ');
}

// ---------------------------------------------------------------- trace-cmd

/** Run a tool to completion, collecting the tail of its stderr; RecordError if it fails. */
function runTool(tool: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4096); });
    child.once('error', (e) => reject(new RecordError(`cannot run ${tool}: ${e.message}`)));
    child.once('close', (code) => (code === 0 ? resolve()
      : reject(new RecordError(`${tool} ${args[0]} failed (exit ${code}): ${lastLine(stderr) || 'no message'}`))));
  });
}

/** trace-cmd: the events are recorded in a private tracefs instance as above, then
 *  `trace-cmd extract -B` turns the instance into a trace.dat (and removes it), and
 *  `trace-cmd report` into text unless the output ends in .dat. `trace-cmd record` itself
 *  is not used: it insists on writing /proc/sys/kernel/ftrace_enabled, which some kernels
 *  refuse (traces/real/README.md), and extract gives the same file. */
async function recordTraceCmd(options: RecordOptions): Promise<RecordResult> {
  if (!toolAvailable('trace-cmd')) throw new RecordError('trace-cmd is not installed (Debian/Ubuntu: apt-get install trace-cmd); or record through tracefs (leave out --with)');
  const keepDat = options.output.endsWith('.dat');
  const dat = join(dirname(options.output), `.${basename(options.output)}.${process.pid}.dat`);
  const save: SaveInstance = async (_dir, name) => {
    try {
      await runTool('trace-cmd', ['extract', '-B', name, '-o', dat]);
      if (keepDat) {
        renameSync(dat, options.output);
        return { lines: 0, bytes: statSync(options.output).size };
      }
      const report = spawn('trace-cmd', ['report', '-i', dat], { stdio: ['ignore', 'pipe', 'pipe'] });
      let reportErr = '';
      report.stderr!.on('data', (d: Buffer) => { reportErr = (reportErr + d.toString()).slice(-4096); });
      const exited = new Promise<number | null>((r) => report.once('close', (c) => r(c)));
      const saved = await saveText(report.stdout!, options.output);
      const code = await exited;
      if (code !== 0) {
        rmSync(options.output, { force: true });
        throw new RecordError(`trace-cmd report failed (exit ${code}): ${lastLine(reportErr)}`);
      }
      return saved;
    } finally {
      rmSync(dat, { force: true });
    }
  };
  return recordTracefs(options, 'trace-cmd', save);
}
