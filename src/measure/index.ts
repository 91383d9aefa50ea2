// `tlbsim measure`: a cost profile for the machine at hand.
//
// microbench.c (beside this file) times, in user space, what the profile needs; this module
// compiles it (cc -O2 -pthread, cached by the source's hash), runs it, and maps its results
// to CostProfile keys. Every key it sets carries a range (the runs' min..max carried through
// the same arithmetic) whose source names the CPU, kernel and date; every raw benchmark is
// kept under `micro`, which `validate --time` builds each workload's base from. Keys that
// user space cannot separate keep the base profile's value and say so in `provenance.note`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir, hostname, release } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyOverrides, getProfile, type CostKey, type CostProfile, type CostRange, type MicroCost } from '../machine/profiles.ts';

export class MeasureError extends Error {
  constructor(message: string) { super(message); this.name = 'MeasureError'; }
}

const SOURCE = fileURLToPath(new URL('./microbench.c', import.meta.url));

/** One line of microbench.c's output. */
export interface BenchLine { name: string; ns?: number; lo?: number; hi?: number; runs?: number; skipped?: string; what: string }

export interface MeasureOptions {
  quick?: boolean;
  runs?: number;
  /** Profile whose unmeasured keys are kept (default: kvm-guest under a hypervisor, else skylake-laptop). */
  base?: string;
  note?: (line: string) => void;
}

export interface MeasureResult {
  profile: CostProfile;
  benches: BenchLine[];
  measuredKeys: CostKey[];
  keptKeys: CostKey[];
}

/** `source` compiled with cc -O2 -pthread into the user's cache (XDG_CACHE_HOME/tlbsim/<dir>),
 *  once per content of the source and of `alsoHashed` (headers it includes). Returns the
 *  binary's path; a missing or failing compiler is a one-line error built by `fail`. */
export function compileCached(source: string, dir: string, alsoHashed: readonly string[], fail: (message: string) => Error, needsCc: string): string {
  const hash = createHash('sha256').update(readFileSync(source));
  for (const f of alsoHashed) hash.update(readFileSync(f));
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tlbsim', dir);
  const out = join(cache, `${basename(source, '.c')}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(cache, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) throw fail(needsCc);
  if (r.status !== 0) throw fail(`cc -O2 -pthread ${source} failed: ${(r.stderr ?? '').split('\n')[0]}`);
  renameSync(tmp, out);
  return out;
}

/** The compiled microbenchmark program (built once per source version). */
export function compileMicrobench(): string {
  return compileCached(SOURCE, 'measure', [], (msg) => new MeasureError(msg), 'tlbsim measure needs a C compiler (cc): apt-get install gcc');
}

/** Parse microbench.c's JSON lines (the info line is skipped). */
export function parseBenchOutput(text: string): BenchLine[] {
  const out: BenchLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try { v = JSON.parse(line); } catch { throw new MeasureError(`microbench printed a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`); }
    const o = v as Record<string, unknown>;
    if ('info' in o) continue;
    if (typeof o.name !== 'string') throw new MeasureError(`microbench line without a name: ${line.slice(0, 80)}`);
    out.push({
      name: o.name, what: typeof o.what === 'string' ? o.what : o.name,
      ...(typeof o.ns === 'number' ? { ns: o.ns, lo: Number(o.lo), hi: Number(o.hi), runs: Number(o.runs) } : {}),
      ...(typeof o.skipped === 'string' ? { skipped: o.skipped } : {}),
    });
  }
  return out;
}

/** A value and its range, derived from benchmarks by one formula: the formula is applied to
 *  the medians, and to every combination of the inputs' lo/hi for the range. */
interface Derived { value: number; lo: number; hi: number; from: string }

function derive(micro: Record<string, MicroCost>, names: readonly string[], f: (...x: number[]) => number, from: string): Derived | null {
  const ms = names.map((n) => micro[n]);
  if (ms.some((m) => m === undefined)) return null;
  const value = f(...ms.map((m) => m.ns));
  let lo = Infinity, hi = -Infinity;
  for (let mask = 0; mask < 1 << ms.length; mask++) {
    const v = f(...ms.map((m, i) => (mask >> i) & 1 ? m.hi : m.lo));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(value) || value <= 0) return null;
  return { value, lo: Math.max(0, Math.min(lo, value)), hi: Math.max(hi, value), from };
}

/** The profile keys measured from the benchmarks, each with where it came from. */
export function profileFromBenches(benches: readonly BenchLine[], base: CostProfile, where: string): { profile: CostProfile; measured: CostKey[] } {
  const micro: Record<string, MicroCost> = {};
  for (const b of benches) if (b.ns !== undefined) micro[b.name] = { ns: b.ns, lo: b.lo ?? b.ns, hi: b.hi ?? b.ns, what: b.what };
  const set: Partial<Record<CostKey, number>> = {};
  const ranges: Partial<Record<CostKey, CostRange>> = {};
  const put = (k: CostKey, d: Derived | null) => {
    if (d === null) return;
    set[k] = d.value;
    ranges[k] = { lo: d.lo, hi: d.hi, source: `measured on ${where}: ${d.from}` };
  };
  put('atomicLocalNs', derive(micro, ['atomic_local'], (a) => a, 'atomic_local'));
  put('lineTransferNs', derive(micro, ['cacheline_roundtrip_cross_cpu'], (r) => r / 2, 'cacheline_roundtrip_cross_cpu / 2 (two transfers per round trip)'));
  put('tlbMissNs', derive(micro, ['chase_sparse_16384page', 'chase_dense_256page'], (s, d) => s - d,
    'chase_sparse_16384page - chase_dense_256page (the same cache footprint with and without TLB misses)'));
  // The IPI: target side from the spinner's lost time; the round trip from membarrier with
  // and without a target; what is left is split as the base profile splits it.
  const handler = derive(micro, ['ipi_target_cost'], (t) => t, 'ipi_target_cost (time a spinning target loses per IPI)');
  put('ipiHandlerNs', handler);
  const b = base;
  const rest = b.ipiSendNs + b.ipiDeliverNs + b.ipiAckNs;
  for (const [k, share] of [['ipiSendNs', b.ipiSendNs / rest], ['ipiDeliverNs', b.ipiDeliverNs / rest], ['ipiAckNs', b.ipiAckNs / rest]] as const) {
    put(k, derive(micro, ['membarrier_1target', 'membarrier_0target', 'ipi_target_cost'], (m1, m0, t) => Math.max(0, (m1 - m0 - t)) * share,
      `(membarrier_1target - membarrier_0target - ipi_target_cost) x ${share.toFixed(2)} (${b.name}'s split of send/deliver/ack)`));
  }
  put('ipiIdleWakeNs', derive(micro, ['wake_idle_cpu_rt', 'wake_busy_cpu_rt'], (i, w) => i - w, 'wake_idle_cpu_rt - wake_busy_cpu_rt (waking an idle CPU over a busy one)'));
  const profile = applyOverrides(base, set);
  profile.ranges = { ...(base.ranges ?? {}), ...ranges };
  profile.micro = micro;
  return { profile, measured: Object.keys(set) as CostKey[] };
}

/** The CPU's model name from /proc/cpuinfo. */
export function cpuModel(): string {
  try { return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU'; } catch { return 'unknown CPU'; }
}

function underHypervisor(): boolean {
  try { return /^flags\s*:.*\bhypervisor\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')); } catch { return false; }
}

/** Compile, run and map: the whole `tlbsim measure`. */
export function measureProfile(opts: MeasureOptions = {}): MeasureResult {
  const bin = compileMicrobench();
  const args = [...(opts.quick ? ['--quick'] : []), ...(opts.runs !== undefined ? ['--runs', String(opts.runs)] : [])];
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new MeasureError(`cannot run the microbenchmarks: ${r.error.message}`);
  if (r.status !== 0) throw new MeasureError(`the microbenchmarks failed (status ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0]}`);
  const benches = parseBenchOutput(r.stdout);
  const baseName = opts.base ?? (underHypervisor() ? 'kvm-guest' : 'skylake-laptop');
  const base = getProfile(baseName);
  const date = new Date().toISOString().slice(0, 10);
  const where = `${cpuModel()} (${hostname()}), Linux ${release()}, ${date}, ${benches.find((b) => b.runs)?.runs ?? '?'} runs (ranges: min..max of the runs)`;
  const { profile, measured } = profileFromBenches(benches, base, where);
  profile.name = `measured-${hostname()}`;
  profile.description = `measured by tlbsim measure on ${cpuModel()}, Linux ${release()}, ${date}; unmeasured keys from ${baseName}`;
  const kept = (Object.keys(base) as string[]).filter((k) => typeof (base as unknown as Record<string, unknown>)[k] === 'number' && !measured.includes(k as CostKey)) as CostKey[];
  profile.provenance = {
    kind: 'measured', host: hostname(), cpu: cpuModel(), kernel: release(), date,
    note: `tlbsim measure${args.length ? ' ' + args.join(' ') : ''}; ${measured.length} keys measured, ${kept.length} kept from ${baseName} `
      + `(not separable from user space: ${kept.join(', ')})`,
  };
  return { profile, benches, measuredKeys: measured, keptKeys: kept };
}

/** The table `tlbsim measure` prints. */
export function measureText(m: MeasureResult): string {
  const rows = m.benches.map((b) => b.ns === undefined
    ? [b.name, 'skipped', b.skipped ?? '', '']
    : [b.name, fmt(b.ns), `${fmt(b.lo!)}..${fmt(b.hi!)}`, `${(((b.hi! - b.lo!) / b.ns) * 100).toFixed(1)}%`]);
  const head = ['benchmark', 'median ns', 'min..max', 'spread'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line), ''];
  out.push('profile keys measured:');
  for (const k of m.measuredKeys) {
    const r = m.profile.ranges?.[k];
    out.push(`  ${k} = ${fmt(m.profile[k])} ns (${r ? `${fmt(r.lo)}..${fmt(r.hi)}` : ''}) from ${r?.source.replace(/^measured on .*?of the runs\): /, '') ?? ''}`);
  }
  return out.join('\n') + '\n';
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
