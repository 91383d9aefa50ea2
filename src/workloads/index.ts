// The workload registry: names, parameter parsing and validation, and generateWorkload(),
// which turns a spec like `workload:ping-pong:pages=512` into an EventSource.
import {
  EVENT_KIND_NAMES, EventKind, FLUSH_ORIGIN_NAMES, emptyTraceInfo, flushOrigin,
  type EventBatch, type EventSource,
} from '../trace/event.ts';
import { BASE_COSTS, resolveCosts, type BaseCosts } from './costs.ts';
import { unknownNameMessage } from '../names.ts';
import { forkChurn } from './fork-churn.ts';
import { madvDontneedSwitch } from './madv-dontneed-switch.ts';
import { madvThreads } from './madv-threads.ts';
import { pingPong } from './ping-pong.ts';
import { pthreadMmap } from './pthread-mmap.ts';
import { ptwalkSync } from './ptwalk-sync.ts';
import {
  WorkloadError, type GeneratedWorkload, type ParamSpec, type ParamValue, type WorkloadDefinition, type WorkloadParams,
  type WorkloadTables, num,
} from './types.ts';
import { wisContextSwitch1 } from './wis-context-switch1.ts';
import { wisTlbFlush2 } from './wis-tlb-flush2.ts';
import { StateCensus } from '../trace/state-census.ts';

export { WorkloadError } from './types.ts';
export type { GeneratedWorkload, ParamSpec, WorkloadDefinition, WorkloadParams } from './types.ts';
export {
  BASE_COSTS, MEASURED_NULL_SYSCALL_NS, PRE_PTI_SYSCALL_CYCLES, PTI_SYSCALL_CYCLES, REF_GHZ, VM_TO_BARE_METAL, type BaseCosts,
} from './costs.ts';

const WORKLOADS: readonly WorkloadDefinition[] = [
  pingPong, madvDontneedSwitch, pthreadMmap, madvThreads, wisTlbFlush2, wisContextSwitch1, forkChurn, ptwalkSync,
];

export function listWorkloads(): readonly WorkloadDefinition[] {
  return WORKLOADS;
}

export function getWorkload(name: string): WorkloadDefinition {
  const def = WORKLOADS.find((w) => w.name === name);
  if (!def) {
    throw new WorkloadError(unknownNameMessage('workload', name, WORKLOADS.map((w) => w.name)));
  }
  return def;
}

/** What `tlbsim workloads --json` prints for one workload. */
export function describeWorkload(def: WorkloadDefinition): {
  name: string; description: string; iteration: string; params: ParamSpec[];
} {
  return { name: def.name, description: def.description, iteration: def.iteration, params: def.params.map((p) => ({ ...p })) };
}

export interface WorkloadSpec {
  name: string;
  params: Record<string, ParamValue>;
}

const PREFIX = 'workload:';

/** Parse `NAME` or `NAME:key=value,key=value`, with or without the `workload:` prefix.
 *  Values stay strings; generateWorkload validates them against the workload. */
export function parseWorkloadSpec(spec: string): { name: string; params: Record<string, string> } {
  let s = spec.trim();
  if (s.startsWith(PREFIX)) s = s.slice(PREFIX.length);
  const colon = s.indexOf(':');
  const name = (colon < 0 ? s : s.slice(0, colon)).trim();
  if (name === '') throw new WorkloadError(`Workload spec '${spec}' names no workload (expected NAME or NAME:key=value,...).`);
  // Collected as entries and made an object with fromEntries (which defines properties):
  // `params[key] = v` with key `__proto__` would set the prototype and drop the key
  // silently, where it must be refused as the unknown parameter it is.
  const entries: [string, string][] = [];
  if (colon >= 0) {
    const rest = s.slice(colon + 1);
    for (const item of rest.split(',')) {
      if (item.trim() === '') continue;
      const eq = item.indexOf('=');
      const key = eq < 0 ? '' : item.slice(0, eq).trim();
      if (eq < 0 || key === '') {
        throw new WorkloadError(`Workload parameter '${item.trim()}' in '${spec}' must look like key=value.`);
      }
      if (entries.some(([k]) => k === key)) throw new WorkloadError(`Workload parameter '${key}' is given twice in '${spec}'.`);
      entries.push([key, item.slice(eq + 1).trim()]);
    }
  }
  return { name, params: Object.fromEntries(entries) };
}

function describeRange(p: ParamSpec): string {
  switch (p.type) {
    case 'int': return `an integer from ${p.min ?? '-∞'} to ${p.max ?? '∞'}`;
    case 'number': return `a number from ${p.min ?? '-∞'} to ${p.max ?? '∞'}`;
    case 'bool': return 'true or false';
    case 'enum': return `one of ${(p.values ?? []).join(', ')}`;
  }
}

/** A number written in decimal: digits, an optional sign, fraction and exponent (2.5e3).
 *  Number() alone also reads `0x10` as 16, `0b11` as 3, `Infinity`, and an empty or
 *  blank value as 0; none of those is what a workload parameter means. (`1e400` passes
 *  here and is refused as out of range: it is Infinity.) */
const PLAIN_NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function coerce(def: WorkloadDefinition, p: ParamSpec, raw: ParamValue): ParamValue {
  const shown = String(raw).length > 40 ? `${String(raw).slice(0, 37)}...` : String(raw);
  const bad = () => new WorkloadError(
    `Parameter '${p.name}' of workload '${def.name}' must be ${describeRange(p)}, got '${shown}'.`);
  switch (p.type) {
    case 'int':
    case 'number': {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && PLAIN_NUMBER.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isFinite(v) || (p.type === 'int' && !Number.isInteger(v))) throw bad();
      if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) throw bad();
      return v;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (s === 'true' || s === '1' || s === 'yes') return true;
      if (s === 'false' || s === '0' || s === 'no') return false;
      throw bad();
    }
    case 'enum': {
      const s = String(raw);
      if (!(p.values ?? []).includes(s)) throw bad();
      return s;
    }
  }
}

/** Defaults merged with the given values, each checked against the workload's parameters. */
export function resolveParams(def: WorkloadDefinition, given: Record<string, ParamValue>): WorkloadParams {
  const out: WorkloadParams = {};
  for (const key of Object.keys(given)) {
    if (!def.params.some((p) => p.name === key)) {
      throw new WorkloadError(unknownNameMessage(`${def.name} parameter`, key, def.params.map((p) => p.name)));
    }
  }
  for (const p of def.params) out[p.name] = Object.hasOwn(given, p.name) ? coerce(def, p, given[p.name]) : p.default;
  const problem = def.check?.(out);
  if (problem) throw new WorkloadError(problem);
  return out;
}

/** The canonical spec string of resolved parameters: `workload:NAME:k=v,...` (every parameter). */
export function formatWorkloadSpec(def: WorkloadDefinition, params: WorkloadParams): string {
  return `${PREFIX}${def.name}:${def.params.map((p) => `${p.name}=${String(params[p.name])}`).join(',')}`;
}

export interface GenerateOptions {
  /** Override base costs (sensitivity runs); unknown names are rejected. */
  costs?: Partial<BaseCosts>;
  /** Events per batch (default DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  /** Called while the events are generated and counted: events so far and the estimated
   *  total (0 until an estimate exists, after ESTIMATE_AFTER_MS). */
  onProgress?: (events: number, estimatedTotal: number) => void;
  /** Receives one line when the counting pass looks long (LONG_NOTE_S or more). */
  note?: (line: string) => void;
}

/** Runs still counting after this long get an estimate of their size and duration. */
export const ESTIMATE_AFTER_MS = 500;
/** Events the size estimate's larger sample may reach before it settles for what it has:
 *  a count, not a time, so that the same spec always gets the same estimate. */
const ESTIMATE_SAMPLE_EVENTS = 50_000;
/** Projected counting time from which the user is told what is coming. */
export const LONG_NOTE_S = 10;

/** The parameter a workload's length scales with (its iteration count). */
function lengthParam(def: WorkloadDefinition): ParamSpec | undefined {
  return def.params.find((p) => (p.name === 'iterations' || p.name === 'rounds') && p.type === 'int');
}

/**
 * How many events `spec` generates, without generating them: the same workload run for k
 * and for 2k iterations (or rounds), extrapolated linearly. Every workload's length is a
 * fixed set-up plus the same work per iteration. k doubles from 2 while the samples are
 * small (under ESTIMATE_SAMPLE_EVENTS) up to 64, so that seeded random choices (ptwalk-sync's
 * mixed operations) average out. Null when the workload has no iteration count or is too
 * short to be worth it.
 */
export function estimateEvents(spec: string | WorkloadSpec, options: GenerateOptions = {}): number | null {
  const { def, params } = buildWorkload(spec, { ...(options.costs ? { costs: options.costs } : {}) });
  const len = lengthParam(def);
  if (!len) return null;
  const n = num(params, len.name);
  if (n <= 8) return null;
  const count = (k: number): number => {
    const w = def.generate({ ...params, [len.name]: k }, resolveCosts(options.costs));
    let events = 0;
    const it = w.batches(options.batchSize);
    for (let r = it.next(); !r.done; r = it.next()) events += r.value.length;
    return events;
  };
  let k = 2, a = count(k), b = count(2 * k);
  while (2 * k < 64 && 4 * k < n && b < ESTIMATE_SAMPLE_EVENTS) {
    k *= 2;
    a = b;
    b = count(2 * k);
  }
  return Math.max(b, Math.round(b + ((b - a) / k) * (n - 2 * k)));
}

function fmtCountShort(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);
}

function fmtSeconds(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function checkCosts(costs: Partial<BaseCosts> | undefined): void {
  for (const [k, v] of Object.entries(costs ?? {})) {
    if (!Object.hasOwn(BASE_COSTS, k)) throw new WorkloadError(`Unknown workload cost '${k}'; see src/workloads/costs.ts.`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new WorkloadError(`Workload cost '${k}' must be a non-negative number, got '${String(v)}'.`);
    }
  }
}

/** Build a workload from a spec string (`[workload:]NAME[:k=v,...]`) or {name, params}. */
export function buildWorkload(spec: string | WorkloadSpec, options: GenerateOptions = {}): {
  def: WorkloadDefinition; params: WorkloadParams; source: string; workload: GeneratedWorkload;
} {
  const parsed = typeof spec === 'string' ? parseWorkloadSpec(spec) : { name: spec.name, params: spec.params ?? {} };
  const def = getWorkload(parsed.name);
  const params = resolveParams(def, parsed.params);
  checkCosts(options.costs);
  const workload = def.generate(params, resolveCosts(options.costs));
  return { def, params, source: formatWorkloadSpec(def, params), workload };
}

/** A synthetic trace as an EventSource. Its info is exact: the events are generated once
 *  here to count them (streaming, nothing kept), and again on every batches() call. */
export async function generateWorkload(spec: string | WorkloadSpec, options: GenerateOptions = {}): Promise<EventSource> {
  const { source, workload, def, params } = buildWorkload(spec, options);
  const info = emptyTraceInfo(source, 'workload', workload.cpus);
  // Only a run still counting after ESTIMATE_AFTER_MS pays for an estimate: its rate is
  // then measured on this machine, in this process, over real work.
  const watch = options.onProgress !== undefined || options.note !== undefined;
  const started = watch ? performance.now() : 0;
  let estimated = 0, estimateTried = false, yielded = started;
  const counts = new Array<number>(EVENT_KIND_NAMES.length).fill(0);
  const origins = new Map<number, number>();
  let first = Infinity, last = -Infinity, events = 0;
  const census = new StateCensus();
  const it = workload.batches(options.batchSize);
  let r = it.next();
  for (; !r.done; r = it.next()) {
    const b: EventBatch = r.value;
    if (b.length === 0) continue;
    census.add(b);
    first = Math.min(first, b.time[0]);
    last = Math.max(last, b.time[b.length - 1]);
    events += b.length;
    if (watch) {
      if (!estimateTried && performance.now() - started >= ESTIMATE_AFTER_MS) {
        estimateTried = true;
        const elapsed = performance.now() - started;
        estimated = estimateEvents(spec, options) ?? 0;
        if (estimated > events && options.note) {
          const rate = events / elapsed; // events per ms, so far
          const leftS = (estimated - events) / rate / 1000;
          const len = lengthParam(def);
          if (leftS >= LONG_NOTE_S) {
            options.note(`${source} makes about ${fmtCountShort(estimated)} events: generating them takes about ${fmtSeconds(leftS)} more here, and replaying them longer${len ? ` (a smaller ${len.name}= than ${String(params[len.name])} is quicker)` : ''}`);
          }
        }
      }
      options.onProgress?.(events, Math.max(estimated, events));
      // Let the progress bar load and draw (it lives on the event loop): this loop is
      // synchronous and would otherwise hold the loop for the whole count.
      if (options.onProgress && performance.now() - yielded >= 100) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
    }
    for (let i = 0; i < b.length; i++) {
      const k = b.kind[i];
      counts[k]++;
      if (k === EventKind.flush_request) {
        const o = flushOrigin(b.c[i]);
        origins.set(o, (origins.get(o) ?? 0) + 1);
      }
    }
  }
  const tables: WorkloadTables = r.value;
  info.firstNs = events > 0 ? first : 0;
  info.lastNs = events > 0 ? last : 0;
  info.events = events;
  for (let k = 0; k < counts.length; k++) if (counts[k] > 0) info.countsByKind[EVENT_KIND_NAMES[k]] = counts[k];
  for (const [o, n] of origins) info.flushRequestsByOrigin[FLUSH_ORIGIN_NAMES[o] ?? String(o)] = n;
  info.tasks = tables.tasks;
  info.mms = tables.mms;
  census.into(info);
  return {
    info,
    async *batches() {
      yield* workload.batches(options.batchSize);
    },
  };
}
