// Replay: parse once, feed every strategy the same events. Strategies named from the
// registry run in worker threads (one machine per strategy, several strategies per worker
// when there are more strategies than workers); strategy objects defined in a script run
// in-process on the main thread next to them. With one worker or one strategy everything
// runs in-process. The main thread reads the EventSource once, copies each batch into one
// of a few SharedArrayBuffer batches, and posts it to every worker; at most SLOTS batches
// are in flight, so memory does not grow with the trace. Results are deterministic: the
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
import { Simulator, type SimOptions } from '../machine/sim.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';
import { STRATEGY_NAMES, resolveStrategy } from '../strategies/index.ts';
import { ISOLATE_MIN_EVENTS, createSimulator } from './isolate.ts';

export type { RunResult } from '../machine/result.ts';

export interface ReplayProgress {
  /** Events read so far. */
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
}

/** Batches in flight between the reader and the workers. */
const SLOTS = 4;

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
  const nWorkers = Math.min(want, named.length);

  const isolate = options.isolate ?? info.events >= ISOLATE_MIN_EVENTS;
  const observed = new ObservedCounts(info);

  if (nWorkers <= 1 || defs.length <= 1) {
    const sims = await Promise.all(defs.map((d, i) => createSimulator(info, d, names[i], profiles[prof[i]], simOpts, isolate)));
    let events = 0;
    for await (const b of source.batches()) {
      for (const s of sims) s.processBatch(b);
      observed.processBatch(b);
      events += b.length;
      options.onProgress?.({ events, total: info.events });
    }
    return sims.map((s) => withObserved(s.result(), observed));
  }

  // ---- worker path
  const localIdx: number[] = [];
  defs.forEach((_, i) => { if (names[i] === null) localIdx.push(i); });
  const localSims = localIdx.map((i) => new Simulator(info, defs[i], profiles[prof[i]], simOpts));
  // Runs by index into defs, dealt round-robin to the workers.
  const groups: number[][] = Array.from({ length: nWorkers }, () => []);
  let dealt = 0;
  defs.forEach((_, i) => { if (names[i] !== null) groups[dealt++ % nWorkers].push(i); });

  const slots = Array.from({ length: SLOTS }, () => createBatch(DEFAULT_BATCH_SIZE, true));
  const pending = new Int32Array(SLOTS); // workers still reading each slot
  const free: number[] = slots.map((_, i) => i);
  let wake: (() => void) | null = null;
  let failure: Error | null = null;

  // Under tsx (src/), a worker must register tsx before it can import TypeScript
  // (worker-entry.mjs); compiled (dist/), it runs worker.js directly.
  const entry = new URL(import.meta.url.endsWith('.js') ? './worker.js' : './worker-entry.mjs', import.meta.url);
  const workers = groups.map((g) => new Worker(entry, {
    workerData: {
      runs: g.map((i) => ({ name: names[i]!, profile: prof[i], id: i })), profiles,
      info: plainInfo(info), simOpts, isolate, slots: slots.map((s) => batchBuffer(s)),
    },
  }));
  const results = new Map<number, RunResult>();
  const done = workers.map((w) => new Promise<void>((resolve, reject) => {
    w.on('message', (msg: { t: string; slot?: number; results?: { id: number; result: RunResult }[]; error?: string }) => {
      if (msg.t === 'done') {
        const s = msg.slot!;
        if (--pending[s] === 0) { free.push(s); const f = wake; wake = null; f?.(); }
      } else if (msg.t === 'result') {
        for (const r of msg.results!) results.set(r.id, r.result);
        resolve();
      } else if (msg.t === 'error') {
        failure = new Error(msg.error);
        const f = wake; wake = null; f?.();
        reject(failure);
      }
    });
    w.on('error', (e) => { failure = e; const f = wake; wake = null; f?.(); reject(e); });
    w.on('exit', (code) => { if (code !== 0) reject(new Error(`replay worker exited with code ${code}`)); });
  }));
  // Keep unhandled rejections quiet until we await them.
  for (const d of done) d.catch(() => {});

  const send = async (b: EventBatch, from: number, len: number): Promise<void> => {
    while (free.length === 0) {
      if (failure) throw failure;
      await new Promise<void>((r) => { wake = r; });
    }
    if (failure) throw failure;
    const s = free.shift()!;
    const dst = slots[s];
    copyEvents(b, from, len, dst);
    pending[s] = workers.length;
    for (const w of workers) w.postMessage({ t: 'batch', slot: s, length: len });
    for (const sim of localSims) sim.processBatch(dst);
    observed.processBatch(dst, 0, len);
  };

  try {
    let events = 0;
    for await (const b of source.batches()) {
      for (let from = 0; from < b.length; from += DEFAULT_BATCH_SIZE) {
        await send(b, from, Math.min(DEFAULT_BATCH_SIZE, b.length - from));
      }
      events += b.length;
      options.onProgress?.({ events, total: info.events });
    }
    for (const w of workers) w.postMessage({ t: 'end' });
    await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const localResults = new Map<number, RunResult>();
  localIdx.forEach((i, k) => localResults.set(i, localSims[k].result()));
  return defs.map((_, i) => withObserved(names[i] === null ? localResults.get(i)! : results.get(i)!, observed));
}

function withObserved(r: RunResult, observed: ObservedCounts): RunResult {
  r.observed = observed.result();
  return r;
}

/** TraceInfo without anything a worker does not need (tasks/mms lists can be large). */
function plainInfo(info: TraceInfo): TraceInfo {
  return { ...info, tasks: [], mms: [], skipped: [] };
}
