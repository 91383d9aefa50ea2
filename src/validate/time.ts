// `tlbsim validate --time`: predicted against measured time per iteration, on this machine.
//
// For each lab workload (traces/lab/workloads/*.c) and each CPU count the machine has:
//  1. compile it natively (cc -O2 -pthread) and run it untraced `runs` times; each run
//     prints its wall time between the start barrier and the last join, so ns/iteration is
//     that time / iterations (every thread does `iterations`; they run side by side);
//  2. run it once more under tracefs (the events `tlbsim record` takes): that run's own
//     time against the untraced median is the cost of tracing;
//  3. replay the recording under the running kernel's strategy with the cost profile.
//
// The prediction is built from two things measured apart from the workload:
//  - base: what one iteration costs when nothing else runs the mm, from the profile's
//    whole-operation micro-costs (`tlbsim measure`: e.g. a write fault + a 1-page
//    MADV_DONTNEED). Those already contain this kernel's local flush, on this CPU;
//  - the model's cross-CPU cost: what the replay charges the slowest worker CPU per
//    iteration beyond what it charges the same workload recorded on one CPU (the local
//    flushes, refills and atomics the base already holds are in both and cancel), split by
//    cause: waiting for acknowledgements, sending IPIs and running other CPUs' handlers,
//    flushes and refills those cause, cache-line transfers.
// predicted = base + cross-CPU cost. Nothing of the measured run goes into it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CostProfile, MicroCost } from '../machine/profiles.ts';
import { compileCached, cpuModel } from '../measure/index.ts';
import { unknownNameMessage } from '../names.ts';

/** How one lab workload is run and what its iteration costs alone. */
export interface TimeWorkload {
  name: string;
  /** Command-line arguments for `cpus` threads and `iterations` iterations. */
  args(cpus: number, iterations: number): string[];
  /** Default iterations: enough for a stable time, small enough for a short trace. */
  iterations: number;
  /** The thread whose time the run reports: 'slowest' of the pinned workers (all do the
   *  same loop), or worker 0 (the others only disturb it). */
  critical: 'slowest' | 0;
  /** The micro-costs one iteration is made of, with their multiplicity. */
  base: readonly (readonly [micro: string, times: number])[];
  /** Why the base is what it is, in one line. */
  baseNote: string;
}

const MMAP_PAGES = 16;
const SLEEP_US = 200;

export const TIME_WORKLOADS: readonly TimeWorkload[] = [
  { name: 'procstorm', args: (c, n) => [String(c), String(n)], iterations: 20000, critical: 'slowest',
    base: [['write_fault_madvise_1page', 1]], baseNote: 'one write fault + MADV_DONTNEED of that page, in a process of its own' },
  { name: 'madvstorm', args: (c, n) => [String(c), String(n)], iterations: 20000, critical: 'slowest',
    base: [['write_fault_madvise_1page', 1]], baseNote: 'one write fault + MADV_DONTNEED of that page; the other threads of the mm run the same loop' },
  { name: 'mprotectflip', args: (c, n) => [String(c), String(n)], iterations: 20000, critical: 'slowest',
    base: [['mprotect_flip_1page', 1]], baseNote: 'write, mprotect(PROT_READ), read, mprotect(PROT_READ|PROT_WRITE) of one page' },
  { name: 'mmapchurn', args: (c, n) => [String(c), String(n), String(MMAP_PAGES)], iterations: 5000, critical: 'slowest',
    base: [[`mmap_touch_munmap_${MMAP_PAGES}page`, 1]], baseNote: `mmap ${MMAP_PAGES} pages, write each, munmap` },
  { name: 'forkexec', args: (c, n) => [String(c), String(n)], iterations: 300, critical: 0,
    base: [['fork_exec_wait', 1]], baseNote: 'fork + exec /bin/true + wait, beside threads writing their pages on the other CPUs' },
  { name: 'sleepwake', args: (c, n) => [String(c), String(n), String(SLEEP_US)], iterations: 8000, critical: 0,
    base: [['write_fault_madvise_1page', 1], [`usleep_${SLEEP_US / 4}us`, 1 / 8]],
    baseNote: `write fault + MADV_DONTNEED, and usleep(${SLEEP_US / 4}) every 8th iteration, while the other CPUs sleep ${SLEEP_US} us between touches` },
];

/** The causes the cross-CPU cost is split into: metric names of the replay. */
export const TIME_CAUSES = ['initiator_wait_ns', 'ipi_ns', 'invalidate_ns', 'refill_ns', 'cr3_ns', 'atomic_ns'] as const;
export type TimeCause = typeof TIME_CAUSES[number];

export interface TimeRow {
  workload: string;
  cpus: number;
  iterations: number;
  /** Untraced runs: median, min, max ns per iteration. */
  measured: { ns: number; lo: number; hi: number; runs: number };
  /** The traced run's ns per iteration and its ratio to the untraced median. */
  traced: { ns: number; ratio: number; lines: number; lostEvents: number };
  /** ns per iteration: base (from the micro-costs), the model's cross-CPU cost by cause,
   *  and their sum. */
  base: { ns: number; lo: number; hi: number };
  model: Record<TimeCause, number> & { total: number };
  predicted: { ns: number; lo: number; hi: number };
  /** (predicted - measured) / measured. */
  error: number;
  within: boolean;
  strategy: string;
}

export interface TimeReport {
  host: string;
  kernel: string;
  cpus: number;
  profile: string;
  strategy: string;
  tolerance: number;
  rows: TimeRow[];
  /** Workloads or CPU counts that could not be run, with why. */
  skipped: string[];
}

export class TimeValidationError extends Error {
  constructor(message: string) { super(message); this.name = 'TimeValidationError'; }
}

export interface TimeOptions {
  profile: CostProfile;
  /** Workload names (default: all of TIME_WORKLOADS). */
  workloads?: readonly string[];
  /** CPU counts (default: 1..the machine's CPUs). */
  cpus?: readonly number[];
  /** Untraced runs per (workload, cpus) (default 5). */
  runs?: number;
  /** Scale every workload's default iterations by this factor (default 1). */
  scale?: number;
  /** Strategy to replay under (default: the one for the running kernel). */
  strategy?: string;
  tolerance?: number;
  note?: (line: string) => void;
}

const WORKLOAD_DIR = fileURLToPath(new URL('../../traces/lab/workloads/', import.meta.url));

/** Compile a lab workload for this machine (cached by the hash of its source and lab.h). */
export function compileNative(name: string): string {
  const src = join(WORKLOAD_DIR, `${name}.c`);
  if (!existsSync(src)) throw new TimeValidationError(`no lab workload ${name} (${src})`);
  return compileCached(src, 'native', [join(WORKLOAD_DIR, 'lab.h')], (msg) => new TimeValidationError(msg),
    'validate --time needs a C compiler (cc) to build the lab workloads: apt-get install gcc');
}

/** The seconds a lab workload prints ("madvstorm: 2 threads, 0.279 s"). */
export function parseWorkloadSeconds(stdout: string, name: string): number {
  const m = /:\s+\d+\s+\w+,\s+([0-9.]+)\s+s\s*$/m.exec(stdout);
  if (m === null) throw new TimeValidationError(`${name} printed no time (expected "${name}: N threads, S s", got ${JSON.stringify(stdout.trim().slice(0, 120))})`);
  return Number(m[1]);
}

function runUntraced(bin: string, args: string[], name: string): number {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new TimeValidationError(`${name} ${args.join(' ')} failed (status ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0]}`);
  return parseWorkloadSeconds(r.stdout, name);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** ns per iteration of the base, from the profile's micro-costs; throws naming what is missing. */
export function baseNs(w: TimeWorkload, micro: Readonly<Record<string, MicroCost>> | undefined): { ns: number; lo: number; hi: number } {
  let ns = 0, lo = 0, hi = 0;
  for (const [name, times] of w.base) {
    const m = micro?.[name];
    if (m === undefined) {
      throw new TimeValidationError(`the cost profile has no measured "${name}" (what one ${w.name} iteration is built from): `
        + 'measure this machine first with `tlbsim measure -o profile.json` and pass --profile-file profile.json');
    }
    ns += m.ns * times; lo += m.lo * times; hi += m.hi * times;
  }
  return { ns, lo, hi };
}

/** The worker CPUs' overhead per cause, from one replay: per CPU, per cause, total ns. */
interface CpuCosts { perCpu: Record<TimeCause | 'overhead_ns', number[]> }

/** The model's cross-CPU cost per iteration: the critical worker's overhead on `cpus` CPUs
 *  beyond worker 0's on one CPU, by cause. */
export function crossCpuCost(w: TimeWorkload, many: CpuCosts, one: CpuCosts, cpus: number, iterations: number): TimeRow['model'] {
  const ovh = many.perCpu.overhead_ns;
  let c = 0;
  if (w.critical === 'slowest') for (let i = 1; i < cpus; i++) if ((ovh[i] ?? 0) > (ovh[c] ?? 0)) c = i;
  const out = { total: 0 } as TimeRow['model'];
  for (const cause of TIME_CAUSES) {
    const v = ((many.perCpu[cause][c] ?? 0) - (one.perCpu[cause][0] ?? 0)) / iterations;
    out[cause] = v;
  }
  out.total = ((ovh[c] ?? 0) - (one.perCpu.overhead_ns[0] ?? 0)) / iterations;
  return out;
}

/** Run the whole comparison. Needs root, tracefs and cc; throws TimeValidationError (one
 *  line for the user) when one is missing. */
export async function validateTime(opts: TimeOptions): Promise<TimeReport> {
  const note = opts.note ?? (() => {});
  const tolerance = opts.tolerance ?? 0.15;
  const { recordTrace, RecordError, ensureTracefs } = await import('../trace/record.ts');
  const { openInput } = await import('../inputs.ts');
  const { replay } = await import('../replay/index.ts');
  const { strategyForKernel, CURRENT_STRATEGY, STRATEGY_NAMES } = await import('../strategies/index.ts');
  const ncpu = availableParallelism();
  const kernel = release();
  const invlpgb = /\binvlpgb\b/.test(safeRead('/proc/cpuinfo'));
  const strategy = opts.strategy ?? strategyForKernel(kernel, invlpgb) ?? CURRENT_STRATEGY;
  if (!STRATEGY_NAMES.includes(strategy)) throw new TimeValidationError(unknownNameMessage('strategy', strategy, STRATEGY_NAMES));
  try { ensureTracefs(); } catch (e) {
    if (e instanceof RecordError) throw new TimeValidationError(`validate --time records each workload with tracefs: ${e.message}`);
    throw e;
  }
  const names = opts.workloads ?? TIME_WORKLOADS.map((w) => w.name);
  const chosen = names.map((n) => {
    const w = TIME_WORKLOADS.find((x) => x.name === n);
    if (!w) throw new TimeValidationError(unknownNameMessage('lab workload', n, TIME_WORKLOADS.map((x) => x.name)));
    return w;
  });
  const cpuList = (opts.cpus ?? Array.from({ length: ncpu }, (_, i) => i + 1)).filter((c) => c >= 1);
  const skipped: string[] = [];
  for (const c of cpuList) if (c > ncpu) skipped.push(`${c} CPUs: this machine has ${ncpu}`);
  const counts = cpuList.filter((c) => c <= ncpu);
  if (!counts.includes(1)) counts.unshift(1); // the one-CPU replay is the reference of the cross-CPU cost
  const runs = opts.runs ?? 5;
  const scale = opts.scale ?? 1;
  const work = mkdtempSync(join(tmpdir(), 'tlbsim-time-'));
  const rows: TimeRow[] = [];
  try {
    for (const w of chosen) {
      const base = baseNs(w, opts.profile.micro);
      const bin = compileNative(w.name);
      const iterations = Math.max(10, Math.round(w.iterations * scale));
      const costs = new Map<number, CpuCosts>();
      const measuredAt = new Map<number, { ns: number; lo: number; hi: number; runs: number; traced: TimeRow['traced'] }>();
      for (const cpus of counts) {
        const args = w.args(cpus, iterations);
        runUntraced(bin, args, w.name); // warm-up: page cache, CPU frequency
        const secs: number[] = [];
        for (let i = 0; i < runs; i++) secs.push(runUntraced(bin, args, w.name));
        const perIter = secs.map((s) => s * 1e9 / iterations);
        const out = join(work, `${w.name}-${cpus}.txt`);
        let stdout = '';
        const rec = await recordTrace({ output: out, command: [bin, ...args], commandStdout: (t) => { stdout += t; }, note });
        if (rec.exitCode !== 0) throw new TimeValidationError(`${w.name} ${args.join(' ')} failed under tracing (status ${rec.exitCode})`);
        const tracedNs = parseWorkloadSeconds(stdout, w.name) * 1e9 / iterations;
        const med = median(perIter);
        measuredAt.set(cpus, {
          ns: med, lo: Math.min(...perIter), hi: Math.max(...perIter), runs,
          traced: { ns: tracedNs, ratio: tracedNs / med, lines: rec.lines, lostEvents: rec.lostEvents },
        });
        if (rec.lostEvents > 0) note(`${w.name} on ${cpus} CPUs: the ring buffer lost ${rec.lostEvents} events; the replay misses them`);
        const input = await openInput(out);
        try {
          const [run] = await replay(input, { strategies: [strategy], profile: opts.profile, workers: 1 });
          const perCpu = {} as CpuCosts['perCpu'];
          for (const k of [...TIME_CAUSES, 'overhead_ns'] as const) perCpu[k] = [...(run.perCpu[k] ?? [])];
          costs.set(cpus, { perCpu });
        } finally { input.close(); }
        rmSync(out, { force: true });
      }
      const one = costs.get(1)!;
      for (const cpus of counts) {
        if (!cpuList.includes(cpus)) continue;
        const m = measuredAt.get(cpus)!;
        const model = crossCpuCost(w, costs.get(cpus)!, one, cpus, iterations);
        const predicted = { ns: base.ns + model.total, lo: base.lo + model.total, hi: base.hi + model.total };
        const error = (predicted.ns - m.ns) / m.ns;
        rows.push({
          workload: w.name, cpus, iterations,
          measured: { ns: m.ns, lo: m.lo, hi: m.hi, runs: m.runs }, traced: m.traced,
          base, model, predicted, error, within: Math.abs(error) <= tolerance, strategy,
        });
        note(`${w.name} on ${cpus} CPU${cpus > 1 ? 's' : ''}: measured ${fmtUs(m.ns)}, predicted ${fmtUs(predicted.ns)} (${pct(error)})`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { host: cpuModel(), kernel, cpus: ncpu, profile: opts.profile.name, strategy, tolerance, rows, skipped };
}

function safeRead(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

const fmtUs = (ns: number): string => `${(ns / 1000).toFixed(2)} us`;
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

const CAUSE_LABELS: Record<TimeCause, string> = {
  initiator_wait_ns: 'wait', ipi_ns: 'IPIs', invalidate_ns: 'flushes', refill_ns: 'refills', cr3_ns: 'CR3', atomic_ns: 'lines',
};

/** The table `validate --time` prints. */
export function timeText(r: TimeReport): string {
  const lines: string[] = [];
  lines.push(`Measured vs predicted time per iteration on ${r.host}, Linux ${r.kernel}, ${r.cpus} CPUs; `
    + `replayed under ${r.strategy} with profile ${r.profile}; goal: within ±${Math.round(r.tolerance * 100)}%`);
  lines.push('');
  const head = ['workload', 'cpus', 'measured (min-max)', 'traced', 'base', ...TIME_CAUSES.map((c) => CAUSE_LABELS[c]), 'predicted', 'error', ''];
  const body = r.rows.map((x) => [
    x.workload, String(x.cpus), `${fmtUs(x.measured.ns)} (${(x.measured.lo / 1000).toFixed(2)}-${(x.measured.hi / 1000).toFixed(2)})`,
    `x${x.traced.ratio.toFixed(2)}`, fmtUs(x.base.ns), ...TIME_CAUSES.map((c) => signedUs(x.model[c])),
    fmtUs(x.predicted.ns), pct(x.error), x.within ? 'ok' : 'OFF',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  lines.push(fmt(head));
  for (const b of body) lines.push(fmt(b));
  lines.push('');
  lines.push('base = the profile\'s measured micro-costs of one iteration alone (its local flush included); the cause columns are '
    + 'what the model charges the slowest worker per iteration beyond the one-CPU run (wait = csd_lock_wait for acknowledgements, '
    + 'IPIs = sending and handling cross-calls, lines = cache-line transfers); traced = the traced run\'s time / the untraced median.');
  const off = r.rows.filter((x) => !x.within);
  if (off.length > 0) lines.push(`${off.length} of ${r.rows.length} outside ±${Math.round(r.tolerance * 100)}%: ${off.map((x) => `${x.workload}/${x.cpus}`).join(', ')}`);
  for (const s of r.skipped) lines.push(`skipped: ${s}`);
  return lines.join('\n') + '\n';
}

const signedUs = (ns: number): string => (Math.abs(ns) < 5 ? '0' : `${ns >= 0 ? '+' : ''}${(ns / 1000).toFixed(2)}`);
