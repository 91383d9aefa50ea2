// The analysis tables: what the report draws and `--csv DIR` writes.
export { TypedTable, type Cell, type Row } from './table.ts';
export {
  buildTables, runsTable, ratiosTable, perCpuTable, latencyTable, timelineTable, overheadCausesTable,
  ipiMatrixTable, observedPredictedTable, observedPredictedRows, violationsTable, tasksTable, calibrationTable,
  hasObservations, bestValue,
  type Tables, type RunRow, type RatioRow, type PerCpuRow, type LatencyRow, type TimelineRow, type OverheadCauseRow,
  type IpiMatrixRow, type ObservedPredictedRow, type ViolationRow, type TaskRow, type CalibrationRow,
} from './tables.ts';
export { writeCsvTables, tableToCsv } from './csv.ts';
export type { AnalysisData, AnalysisInput, ValidationResult, CalibrationResult, ViolationEvent } from './types.ts';
export { findViolationEvents } from './events.ts';
export { summaryJson, type ReplaySummary } from './summary.ts';
