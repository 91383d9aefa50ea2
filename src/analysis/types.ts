// What the analysis and the report are given: per input, what is known about the trace and
// one RunResult per strategy; optionally the validation and calibration results in the
// shapes `tlbsim validate --json` and `tlbsim calibrate --json` print (docs/design/cli.md).
import type { RunResult } from '../machine/result.ts';
import type { Recording } from '../machine/recorder.ts';
import type { TraceInfo } from '../trace/event.ts';
import type { UncertaintyResult } from '../replay/uncertainty.ts';
import type { GapSensitivity } from '../replay/gap.ts';
import type { DivergeResult } from '../validate/diverge.ts';

/** `tlbsim validate --json`: observed vs predicted for one strategy on a real trace. */
export interface ValidationResult {
  strategy: string;
  rows: { what: string; observed: number; predicted: number; agreement?: number }[];
  /** Overall agreement in 0..1. */
  agreement: number;
}

/** `tlbsim calibrate --json`: published vs simulated ratios strategy ÷ baseline. */
export interface CalibrationResult {
  rows: { benchmark: string; metric: string; strategy: string; baseline: string; published: number; simulated: number }[];
}

/** The event at which a coherence violation fired, looked up after the replay. */
export interface ViolationEvent {
  eventIndex: number;
  timeNs: number;
  cpu: number;
  kind: string;
  tid: number;
  /** Task name from the trace (untrusted text). */
  comm: string;
}

export interface AnalysisInput {
  info: TraceInfo;
  /** One result per strategy, in the order they were replayed. */
  results: RunResult[];
  /** Recorded replays of the strategies the per-CPU timeline shows (replay records the
   *  pair: the best safe strategy and the current kernel by default); absent: no timeline. */
  timeline?: { recordings: Recording[] };
  validation?: ValidationResult;
  /** Events behind result.violations.first (any strategy), by event index. */
  violationEvents?: ViolationEvent[];
  /** `replay --uncertainty`: intervals and sensitivity sweeps (absent when it did not run). */
  uncertainty?: UncertaintyResult;
  /** The cost parameters that move the current kernel's gap to the best safe strategy
   *  (src/replay/gap.ts; absent when it did not run). */
  gap?: GapSensitivity;
  /** First events where two strategies act differently (replay --compare, and the report's
   *  default A-vs-B pair), one per pair that was scanned. */
  divergences?: DivergeResult[];
  /** The pair `replay --compare a,b` asked for: the report's A-vs-B section opens on it. */
  compare?: { a: string; b: string };
}

export interface AnalysisData {
  inputs: AnalysisInput[];
  calibration?: CalibrationResult;
  /** Strategy the ratios are taken against (default BASELINE_STRATEGY). */
  baseline?: string;
}
