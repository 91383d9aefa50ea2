// Replay: parse once, feed every strategy the same events. Strategies named from the
// registry run in worker threads (one machine per strategy, several strategies per worker
// when there are more strategies than workers); strategy objects defined in a script run
// in-process on the main thread next to them. With one worker or one strategy everything
// runs in-process. The main thread reads the EventSource once, copies each batch into one
// of a few SharedArrayBuffer batches, and posts it to every worker; at most SLOTS batches
// are in flight, so memory does not grow with the trace. Nor with the tasks a trace names
// past a budget: when every strategy's machine together would hold more than stateBudget,
// the strategies replay in passes, a few at a time, each pass reading the events again
// (planPasses). Results are deterministic: the
// same input and options give identical results on either path. What the recorded kernel
// did (RunResult.observed) does not depend on the strategy: the main thread counts it once.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_BATCH_SIZE, batchBuffer, copyEvents, createBatch, type EventBatch, type EventSource, type TraceInfo,
} from '../trace/event.ts';
import { ObservedCounts } from '../machine/observed.ts';
import { resolveProfile, type CostProfile } from '../machine/profiles.ts';
import type { RunResult } from '../machine/result.ts';
import { Simulator, estimateStateBytes, type SimOptions } from '../machine/sim.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';
import { STRATEGY_NAMES, resolveStrategy } from '../strategies/index.ts';
import { ISOLATE_MIN_EVENTS, createSimulator } from './isolate.ts';

export type { RunResult } from '../machine/result.ts';

export interface ReplayProgress {
  /** Events read so far; when the replay takes several passes (stateBudget), those of
   *  every pass, divided by the passes, so that it still runs once from 0 to total. */
  events: number;
  /** Events in the trace (info.events; 0 when unknown). */
  total: number;
}

export interface ReplayOptions {
  /** Registry names or strategy definitions; default: every registered strategy. */
  strategies?: (string | StrategyDefinition)[];
  /** A profile name (default skylake-laptop) or a complete profile. */
  profile?: string | CostProfile;
  /** Replay under each of these complete profiles instead (replay --uncertainty's draws):
   *  every strategy once per profile, on the same pass over the events; the results are
   *  profile-major (all strategies of profiles[0], then of profiles[1], ...). */
  profiles?: CostProfile[];
  /** Cost overrides applied on top of the profile (key -> number). */
  costOverrides?: Record<string, unknown>;
  /** Worker threads; 'auto' = min(strategies, available CPUs). 1 = in-process. */
  workers?: number | 'auto';
  /** See SimOptions.implicitAccess (default: when the trace has no access events). */
  implicitAccess?: boolean;
  /** See SimOptions.pcid (default: the trace header's pcid flag, else present). */
  pcid?: boolean;
  onProgress?: (p: ReplayProgress) => void;
  /** Give each registered strategy its own copy of the engine's code (isolate.ts): same
   *  results, faster on long traces, slower to start (bench/RESULTS.md). Default: when the
   *  trace has at least ISOLATE_MIN_EVENTS events. */
  isolate?: boolean;
  /** Memory (bytes) the simulated machines may hold at once; default DEFAULT_STATE_BUDGET.
   *  When the trace names so many tasks and mms that every run's machine together would
   *  take more (estimateStateBytes, sim.ts), the runs replay in several passes over the
   *  events, as many at a time as fit and at least one per worker. Results do not depend
   *  on it; a pass re-reads the events (from the trace cache or the spill file). */
  stateBudget?: number;
  /** Told, in one line, when the replay takes more than one pass. */
  note?: (line: string) => void;
}

/** Batches in flight between the reader and the workers. */
const SLOTS = 4;

/** Memory the simulated machines of one replay may hold at once, by default (`replay
 *  --help` and README state it: change them with it). A trace of a million live tasks
 *  takes ~180 MB per strategy: every strategy at once is 2.5 GB. */
export const DEFAULT_STATE_BUDGET = 2 ** 30;

export async function replay(source: EventSource, options: ReplayOptions = {}): Promise<RunResult[]> {
  const defs1 = (options.strategies ?? [...STRATEGY_NAMES]).map(resolveStrategy);
  const names1 = (options.strategies ?? [...STRATEGY_NAMES]).map((s) => (typeof s === 'string' ? s : null));
  const profiles = options.profiles ?? [resolveProfile(options.profile, options.costOverrides)];
  // One run per profile x strategy, profile-major; run i uses profiles[prof[i]].
  const defs = profiles.flatMap(() => defs1);
  const names = profiles.flatMap(() => names1);
  const prof = profiles.flatMap((_, p) => defs1.map(() => p));
  const info = source.info;
  const simOpts: SimOptions = {
    countObserved: false,
    ...(options.implicitAccess === undefined ? {} : { implicitAccess: options.implicitAccess }),
    ...(options.pcid === undefined ? {} : { pcid: options.pcid }),
  };
  const named = names.filter((n): n is string => n !== null);
  const want = options.workers === 'auto' || options.workers === undefined
    ? Math.min(named.length, Math.max(1, availableParallelism()))
    : Math.max(1, Math.floor(options.workers));
  const nWorkers = defs.length <= 1 ? 1 : Math.min(want, named.length);

  const isolate = options.isolate ?? info.events >= ISOLATE_MIN_EVENTS;
  const observed = new ObservedCounts(info);
  const passes = planPasses(info, defs.length, nWorkers, options);
  const results: RunResult[] = new Array(defs.length);
  const progress = (pass: number, events: number) =>
    options.onProgress?.({ events: Math.floor((pass * info.events + events) / passes.length), total: info.events });

  if (nWorkers <= 1) {
    for (const [p, pass] of passes.entries()) {
      const sims = await Promise.all(pass.map((i) => createSimulator(info, defs[i], names[i], profiles[prof[i]], simOpts, isolate)));
      let events = 0;
      for await (const b of source.batches()) {
        for (const s of sims) s.processBatch(b);
        if (p === 0) observed.processBatch(b);
        events += b.length;
        progress(p, events);
      }
      pass.forEach((i, k) => { results[i] = sims[k].result(); });
    }
    return results.map((r) => withObserved(r, observed));
  }

  // ---- worker path: the same workers serve every pass; strategy objects a script defined
  // (no registry name) run on this thread.
  const slots = Array.from({ length: SLOTS }, () => createBatch(DEFAULT_BATCH_SIZE, true));
  const pending = new Int32Array(SLOTS); // workers still reading each slot
  const free: number[] = slots.map((_, i) => i);
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const wakeUp = () => { const f = wake; wake = null; f?.(); };

  // Under tsx (src/), a worker must register tsx before it can import TypeScript
  // (worker-entry.mjs); compiled (dist/), it runs worker.js directly.
  const entry = new URL(import.meta.url.endsWith('.js') ? './worker.js' : './worker-entry.mjs', import.meta.url);
  const workers = Array.from({ length: nWorkers }, () => new Worker(entry, {
    workerData: { profiles, info: plainInfo(info), simOpts, isolate, slots: slots.map((s) => batchBuffer(s)) },
  }));
  /** Per worker: told when its results of the current pass arrive (or the replay fails). */
  const awaiting: (((e?: Error) => void) | null)[] = workers.map(() => null);
  const fail = (e: Error) => {
    failure ??= e;
    wakeUp();
    awaiting.forEach((f, k) => { awaiting[k] = null; f?.(failure!); });
  };
  let ended = false;
  workers.forEach((w, k) => {
    w.on('message', (msg: { t: string; slot?: number; results?: { id: number; result: RunResult }[]; error?: string }) => {
      if (msg.t === 'done') {
        const s = msg.slot!;
        if (--pending[s] === 0) { free.push(s); wakeUp(); }
      } else if (msg.t === 'result') {
        for (const r of msg.results!) results[r.id] = r.result;
        const f = awaiting[k]; awaiting[k] = null; f?.();
      } else if (msg.t === 'error') {
        fail(new Error(msg.error));
      }
    });
    w.on('error', fail);
    w.on('exit', (code) => { if (code !== 0 && !ended) fail(new Error(`replay worker exited with code ${code}`)); });
  });
  const resultsOf = (active: number[]) => Promise.all(active.map((k) => new Promise<void>((resolve, reject) => {
    if (failure) { reject(failure); return; }
    awaiting[k] = (e) => (e ? reject(e) : resolve());
    workers[k].postMessage({ t: 'end' });
  })));

  try {
    for (const [p, pass] of passes.entries()) {
      // This pass's runs by index into defs, registered ones dealt round-robin to the workers.
      const groups: number[][] = workers.map(() => []);
      const localIdx: number[] = [];
      let dealt = 0;
      for (const i of pass) (names[i] === null ? localIdx : groups[dealt++ % nWorkers]).push(i);
      const active = groups.flatMap((g, k) => (g.length > 0 ? [k] : []));
      for (const k of active) workers[k].postMessage({ t: 'runs', runs: groups[k].map((i) => ({ name: names[i]!, profile: prof[i], id: i })) });
      const localSims = localIdx.map((i) => new Simulator(info, defs[i], profiles[prof[i]], simOpts));

      const send = async (b: EventBatch, from: number, len: number): Promise<void> => {
        while (free.length === 0) {
          if (failure) throw failure;
          await new Promise<void>((r) => { wake = r; });
        }
        if (failure) throw failure;
        const s = free.shift()!;
        const dst = slots[s];
        copyEvents(b, from, len, dst);
        pending[s] = active.length;
        for (const k of active) workers[k].postMessage({ t: 'batch', slot: s, length: len });
        if (active.length === 0) free.push(s);
        for (const sim of localSims) sim.processBatch(dst);
        if (p === 0) observed.processBatch(dst, 0, len);
      };
      let events = 0;
      for await (const b of source.batches()) {
        for (let from = 0; from < b.length; from += DEFAULT_BATCH_SIZE) {
          await send(b, from, Math.min(DEFAULT_BATCH_SIZE, b.length - from));
        }
        events += b.length;
        progress(p, events);
      }
      await resultsOf(active);
      localIdx.forEach((i, k) => { results[i] = localSims[k].result(); });
    }
  } finally {
    ended = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.map((r) => withObserved(r, observed));
}

/** The runs (indices 0..runs-1) grouped into passes over the events: all in one unless their
 *  machines' state together would exceed the budget; then as many per pass as fit, never
 *  fewer than one per worker. */
function planPasses(info: TraceInfo, runs: number, nWorkers: number, options: ReplayOptions): number[][] {
  const all = Array.from({ length: runs }, (_, i) => i);
  const perRun = estimateStateBytes(info);
  const budget = options.stateBudget ?? DEFAULT_STATE_BUDGET;
  const atOnce = Math.max(nWorkers, Math.floor(budget / perRun), 1);
  if (runs <= atOnce) return [all];
  const passes: number[][] = [];
  for (let i = 0; i < runs; i += atOnce) passes.push(all.slice(i, i + atOnce));
  const mib = (n: number) => `${Math.round(n / 2 ** 20).toLocaleString('en-US')} MiB`;
  const tasks = Math.max(info.taskCount ?? 0, info.tasks.length);
  options.note?.(`${tasks.toLocaleString('en-US')} tasks and ${info.mms.length.toLocaleString('en-US')} mms: each strategy's machine may take up to ${mib(perRun)}, so the ${runs} replays run ${atOnce} at a time, in ${passes.length} passes over the events, to stay within ${mib(budget)} (same results, more reading)`);
  return passes;
}

function withObserved(r: RunResult, observed: ObservedCounts): RunResult {
  r.observed = observed.result();
  return r;
}

/** TraceInfo without anything a worker does not need (tasks/mms lists can be large). */
function plainInfo(info: TraceInfo): TraceInfo {
  return { ...info, tasks: [], mms: [], skipped: [] };
}
