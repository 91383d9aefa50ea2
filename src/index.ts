// tlbsim's public API, for scripts run with tsx (`npx tsx my-study.ts`): read a trace or
// generate a workload, replay it under built-in or home-made strategies with a cost
// profile, and look at the results. reports/*.ts are worked examples.
//
//   import { openInput, replay, STRATEGIES } from 'tlbsim';
//   const input = await openInput('traces/real/pingpong-0/trace.txt.gz');
//   const runs = await replay(input, { strategies: ['linux-4.13', 'linux-6.18'], profile: 'kvm-guest' });
//   input.close();
//
// Names exported here are a contract like the CLI's (docs/design/cli.md): add freely, rename nothing.

// ---- inputs: real traces and synthetic workloads
export { openInput, isWorkloadSpec, type OpenedInput, type OpenInputOptions } from './inputs.ts';
export {
  openTrace, writeTraceCsv, TraceError, EventKind, EVENT_KIND_NAMES, TRACE_FORMATS, PrevState, FlushOrigin, FlushFlags,
  TlbFlushReason, NO_MM, FLUSH_ALL, eventsOf, eventAt, memorySource, batchesFromEvents, createBatch, pushEvent, emptyTraceInfo,
  type OpenTraceOptions, type OpenedTrace, type EventSource, type EventBatch, type TraceEvent, type TraceInfo, type TraceFormat,
  type TaskInfo, type MmInfo,
} from './trace/index.ts';
export {
  generateWorkload, listWorkloads, getWorkload, describeWorkload, parseWorkloadSpec, WorkloadError, BASE_COSTS,
  type GenerateOptions, type WorkloadDefinition, type WorkloadParams, type ParamSpec, type BaseCosts,
} from './workloads/index.ts';
export { writeFtrace, writeFtraceFile, type FtraceWriteOptions } from './workloads/ftrace-writer.ts';

// ---- replay
export { replay, type ReplayOptions, type ReplayProgress } from './replay/index.ts';
// What `tlbsim replay` does with its inputs, for scripts: analyse(specs, opts), then the
// report and the tables of the result.
export {
  analyse, analyseInput, writeAnalysisReport, writeAnalysisCsv, writeAnalysisParquet, OutputError, SMALL_REPLAY_EVENTS,
  type Analysis, type AnalyseOptions, type StageProgress,
} from './pipeline.ts';
export type { RunResult, FlushClassCounts, ViolationRecord } from './machine/result.ts';

// ---- strategies: the registry, and what a new one is written with
// Everything the registry exports (the definitions, each strategy's class, the kernel-version
// lookup), so a strategy registered there is in the API without a second list here.
export * from './strategies/index.ts';
export { AckMode, IpiPurpose, INIT_MM, TLB_NR_DYN_ASIDS, TLB_GENERATION_INVALID } from './strategies/common.ts';
export type { Strategy, StrategyDefinition, StrategyMeta, LazyRefcount } from './machine/strategy.ts';
export type { Machine } from './machine/machine.ts';
export type { FlushReq } from './machine/request.ts';

// ---- cost profiles and metrics
export {
  PROFILES, DEFAULT_PROFILE, COST_KEYS, getProfile, applyOverrides, resolveProfile, profileFromJson, ProfileError,
  type CostProfile, type CostKey,
} from './machine/profiles.ts';
export { METRICS, METRIC_NAMES, KEY_METRICS, metricDecl, type MetricDecl, type MetricName, type MetricUnit } from './machine/metrics.ts';

// ---- recording (tracefs / trace-cmd / perf)
export { recordTrace, TRACE_EVENTS, RecordError, type RecordOptions, type RecordResult } from './trace/record.ts';

// ---- analysis tables (arquero), CSV export and the HTML report
export {
  buildTables, runsTable, ratiosTable, perCpuTable, latencyTable, timelineTable, overheadCausesTable,
  ipiMatrixTable, observedPredictedTable, violationsTable, tasksTable, calibrationTable,
  writeCsvTables, tableToCsv, findViolationEvents, summaryJson, TypedTable,
  type Tables, type RunRow, type RatioRow, type PerCpuRow, type LatencyRow, type TimelineRow, type OverheadCauseRow,
  type IpiMatrixRow, type ObservedPredictedRow, type ViolationRow, type TaskRow,
  type AnalysisData, type AnalysisInput, type ReplaySummary,
} from './analysis/index.ts';
export { writeRuns, writeRunsParquet, writeRunsArrow, writeRunsCsv, runsCsv } from './analysis/export.ts';
export { writeReport, renderReport, type ReportData, type ReportOptions } from './report/index.ts';
// ---- why the winner wins, and A against B (the report's why block and A-vs-B section)
export { whyGap, whyLine, bestSafe, currentOf, type Why, type CauseDelta } from './analysis/why.ts';
export { compareRuns, comparisonText, type Comparison, type MetricDelta } from './analysis/compare.ts';
export { gapSensitivity, type GapSensitivity, type GapAssumption } from './replay/gap.ts';
export { firstDivergences, divergeText, type DivergeResult, type Divergence } from './validate/diverge.ts';

// ---- recorded replays: the report's per-CPU timeline and Chrome trace-event files (--trace-out)
export { recordRuns, defaultTimelinePair, type RecordRunsOptions, type RecordedRun } from './replay/record.ts';
export { EventRecorder, RecTrack, FlushMark, type Recording, type TrackData } from './machine/recorder.ts';
export { chromeTrace, chromeTraceText, type ChromeTrace } from './analysis/perfetto.ts';

// ---- validation against the recorded kernel (tlbsim validate)
export {
  validateRun, validationText, explainTrace, explainText,
  type Validation, type ValidationRow, type ExplainOptions, type ExplainResult,
} from './validate/index.ts';

// ---- calibration against published numbers (docs/design/calibration.md; reports/calibration.ts)
export {
  calibrate, calibrationJson, calibrationText, calibrationMarkdown, withinTolerance, CALIBRATION_TARGETS, TOLERANCE,
  type CalibrationTarget, type CalibrationRow, type CalibrationDetail, type CalibrationResult, type CalibrateOptions,
} from './calibrate/index.ts';
// ---- calibrate --fit: the unsourced costs fitted to every published figure
export { fit, fitClass, fittedProfilesFile, type FitResult, type ClassFit, type RowResult } from './calibrate/fit.ts';
export { FIT_TARGETS, type FitTarget, type TargetRole } from './calibrate/targets.ts';
export { FIT_CLASSES, type FitClass, type FreeParam } from './calibrate/fit-params.ts';

// ---- sweeps (tlbsim sweep / aggregate): a spec's tasks, one shard, the shards read back
export { loadSweepSpec, shardTasks, type SweepSpec, type SweepTask } from './sweep/spec.ts';
export { runShard, type RunShardOptions, type ShardOutcome } from './sweep/run.ts';
export { aggregate, type AggregateOptions, type AggregateResult } from './sweep/aggregate.ts';
export { writeParquetTables } from './analysis/parquet.ts';
