// A second, recorded pass over an input for a few strategies: the per-CPU timeline of the
// report and `replay --trace-out`. The main replay stays unrecorded (no recorder attached:
// nothing is kept per event); this pass attaches an EventRecorder to each machine, in
// process, and reads the source again (EventSource.batches may be called more than once).
import type { EventSource, TraceInfo } from '../trace/event.ts';
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
    sim.m.rec = new EventRecorder(sim.m.nCpu, options.capacity === undefined ? {} : { capacity: options.capacity });
    return sim;
  });
  for await (const b of source.batches()) for (const s of sims) s.processBatch(b);
  return sims.map((s) => {
    const result = s.result();
    const recording = s.m.rec!.finish(result.strategy.name, result.strategy.safe, info.firstNs, info.lastNs);
    s.m.rec = null;
    return { result, recording };
  });
}

/** The pair the report's timeline shows by default: the best strategy without coherence
 *  violations (lowest time per iteration when the input has iterations, else lowest
 *  overhead), and the current kernel's model (the recorded kernel's when the trace says
 *  which). When the best is that kernel, the baseline, else the runner-up, takes its place. */
export function defaultTimelinePair(info: TraceInfo, results: readonly RunResult[]): string[] {
  if (results.length === 0) return [];
  const names = results.map((r) => r.strategy.name);
  const metric = results.some((r) => r.metrics.iteration_ns > 0) ? 'iteration_ns' : 'overhead_ns';
  const clean = results.filter((r) => r.strategy.safe && r.violations.count === 0)
    .sort((x, y) => (x.metrics[metric] ?? 0) - (y.metrics[metric] ?? 0));
  const current = validationStrategy(info.machine, names) ?? (names.includes(CURRENT_STRATEGY) ? CURRENT_STRATEGY : names[names.length - 1]);
  const best = clean[0]?.strategy.name ?? names[0];
  if (best !== current) return [best, current];
  const other = names.includes(BASELINE_STRATEGY) && BASELINE_STRATEGY !== current
    ? BASELINE_STRATEGY
    : (clean.find((r) => r.strategy.name !== current) ?? results.find((r) => r.strategy.name !== current))?.strategy.name;
  return other === undefined ? [current] : [current, other];
}
