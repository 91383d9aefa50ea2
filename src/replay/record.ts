// A second, recorded pass over an input for a few strategies: the per-CPU timeline of the
// report and `replay --trace-out`. The main replay stays unrecorded (no recorder attached:
// nothing is kept per event); this pass attaches an EventRecorder to each machine, in
// process, and reads the source again (EventSource.batches may be called more than once).
import type { EventSource } from '../trace/event.ts';
import { resolveProfile, type CostProfile } from '../machine/profiles.ts';
import type { RunResult } from '../machine/result.ts';
import { EventRecorder, type Recording, type RecorderOptions } from '../machine/recorder.ts';
import { Simulator, type SimOptions } from '../machine/sim.ts';
import { CURRENT_STRATEGY, BASELINE_STRATEGY, resolveStrategy, validationStrategy } from '../strategies/index.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';

export type { Recording, TrackData } from '../machine/recorder.ts';

export interface RecordRunsOptions extends RecorderOptions {
  strategies: (string | StrategyDefinition)[];
  profile?: string | CostProfile;
  costOverrides?: Record<string, unknown>;
  implicitAccess?: boolean;
  pcid?: boolean;
}

export interface RecordedRun {
  result: RunResult;
  recording: Recording;
}

/** Replay `source` once more under each strategy with a recorder attached. */
export async function recordRuns(source: EventSource, options: RecordRunsOptions): Promise<RecordedRun[]> {
  const profile = resolveProfile(options.profile, options.costOverrides);
  const info = source.info;
  const simOpts: SimOptions = {
    ...(options.implicitAccess === undefined ? {} : { implicitAccess: options.implicitAccess }),
    ...(options.pcid === undefined ? {} : { pcid: options.pcid }),
  };
  const sims = options.strategies.map((s) => {
    const sim = new Simulator(info, resolveStrategy(s), profile, simOpts);
    sim.machine.rec = new EventRecorder(sim.machine.nCpu, options.capacity === undefined ? {} : { capacity: options.capacity });
    return sim;
  });
  for await (const b of source.batches()) for (const s of sims) s.processBatch(b);
  return sims.map((s) => {
    const result = s.result();
    const recording = s.machine.rec!.finish(result.strategy.name, result.strategy.safe, info.firstNs, info.lastNs);
    s.machine.rec = null;
    return { result, recording };
  });
}

/** Overheads this close are a tie (the report's headline uses the same rule). */
const TIE = 0.005;

/** The pair the report's timeline shows by default, the pair the report's headline
 *  explains: the best safe strategy (declared safe, no coherence violation on this input,
 *  lowest overhead_ns; a tie with the current kernel goes to the current kernel) and the
 *  current kernel (CURRENT_STRATEGY when it was replayed). When the current kernel is the
 *  best, the baseline, else the runner-up, is shown beside it. */
export function defaultTimelinePair(results: readonly RunResult[]): string[] {
  if (results.length === 0) return [];
  const names = results.map((r) => r.strategy.name);
  const current = names.includes(CURRENT_STRATEGY) ? CURRENT_STRATEGY : (validationStrategy(undefined, names) ?? names[names.length - 1]);
  const ok = results.filter((r) => r.strategy.safe && r.violations.count === 0);
  let best = names[0];
  if (ok.length > 0) {
    const lo = Math.min(...ok.map((r) => r.metrics.overhead_ns));
    const tied = ok.filter((r) => r.metrics.overhead_ns <= lo * (1 + TIE));
    best = (tied.find((r) => r.strategy.name === current) ?? tied.find((r) => r.metrics.overhead_ns === lo)!).strategy.name;
  }
  if (best !== current) return [best, current];
  const other = names.includes(BASELINE_STRATEGY) && BASELINE_STRATEGY !== current
    ? BASELINE_STRATEGY
    : [...ok].sort((x, y) => x.metrics.overhead_ns - y.metrics.overhead_ns).find((r) => r.strategy.name !== current)?.strategy.name
      ?? names.find((n) => n !== current);
  return other === undefined ? [current] : [current, other];
}
