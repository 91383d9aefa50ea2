// Results of many runs as files an existing engine aggregates: Parquet (DuckDB, Spark,
// warehouses read it natively), Arrow IPC (pandas/polars/arquero) and CSV, all with the
// same columns. One row per run (input x strategy x profile); every metric of metrics.ts is
// a column under its declared name, so a fleet of runs written by different tlbsim
// processes can be read as one table:
//
//   SELECT strategy, count(*) AS runs, sum(ipis_sent) AS ipis_sent,
//          round(sum(overhead_ns) / 1e6, 2) AS overhead_ms, sum(violations) AS violations
//   FROM read_parquet('runs/*.parquet') GROUP BY strategy ORDER BY overhead_ms;
// (checked with DuckDB 1.5.6; read_csv('runs/*.csv') reads the CSV files the same way).
//
// Parquet is written with hyparquet-writer (pure JS); Arrow IPC with arquero's toArrowIPC.
import { writeFileSync, renameSync } from 'node:fs';
import { METRIC_NAMES } from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import { neutralise } from '../trace/csv.ts';

/** Columns before the metrics, in order. */
export const RUN_ID_COLUMNS = [
  'input', 'strategy', 'kernel', 'safe', 'profile', 'cpus', 'events', 'violations',
] as const;

export interface RunColumns {
  names: string[];
  /** Column name → values, one per run. */
  columns: Record<string, (string | number | boolean)[]>;
}

/** The runs table, column-wise. Metrics absent from a result (an older result file) are 0. */
export function runColumns(results: readonly RunResult[]): RunColumns {
  const columns: Record<string, (string | number | boolean)[]> = {
    input: results.map((r) => r.input),
    strategy: results.map((r) => r.strategy.name),
    kernel: results.map((r) => r.strategy.kernel),
    safe: results.map((r) => r.strategy.safe),
    profile: results.map((r) => r.profile),
    cpus: results.map((r) => r.cpus),
    events: results.map((r) => r.events),
    violations: results.map((r) => r.violations.count),
  };
  for (const m of METRIC_NAMES) columns[m] = results.map((r) => r.metrics[m] ?? 0);
  return { names: [...RUN_ID_COLUMNS, ...METRIC_NAMES], columns };
}

function atomicWrite(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Parquet: strings as UTF8, counters and nanoseconds as DOUBLE (they exceed 2^31 and
 *  nanosecond sums are fractional), flags as BOOLEAN. */
export async function writeRunsParquet(results: readonly RunResult[], path: string): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const { names, columns } = runColumns(results);
  const columnData = names.map((name) => {
    const data = columns[name];
    const type = name === 'safe' ? 'BOOLEAN' as const
      : ['input', 'strategy', 'kernel', 'profile'].includes(name) ? 'STRING' as const
      : name === 'cpus' ? 'INT32' as const : 'DOUBLE' as const;
    return { name, data, type, nullable: false };
  });
  atomicWrite(path, new Uint8Array(parquetWriteBuffer({ columnData })));
}

/** Arrow IPC file format (`.arrow`, a.k.a. Feather v2). */
export async function writeRunsArrow(results: readonly RunResult[], path: string): Promise<void> {
  const aq = await import('arquero');
  const { columns } = runColumns(results);
  atomicWrite(path, aq.toArrowIPC(aq.table(columns), { format: 'file' }));
}

/** CSV with a header row; text cells that a spreadsheet would run as a formula are
 *  prefixed with a quote (an input path is chosen by whoever named the file). */
export function runsCsv(results: readonly RunResult[]): string {
  const { names, columns } = runColumns(results);
  const cell = (v: string | number | boolean): string => {
    if (typeof v !== 'string') return String(v);
    const s = neutralise(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [names.join(',')];
  for (let i = 0; i < results.length; i++) lines.push(names.map((n) => cell(columns[n][i])).join(','));
  return lines.join('\n') + '\n';
}

export function writeRunsCsv(results: readonly RunResult[], path: string): void {
  atomicWrite(path, runsCsv(results));
}

/** Write by extension: .parquet, .arrow / .feather, .csv. */
export async function writeRuns(results: readonly RunResult[], path: string): Promise<void> {
  if (path.endsWith('.parquet')) return writeRunsParquet(results, path);
  if (path.endsWith('.arrow') || path.endsWith('.feather')) return writeRunsArrow(results, path);
  if (path.endsWith('.csv')) return writeRunsCsv(results, path);
  throw new Error(`${path}: unknown results format (expected .parquet, .arrow or .csv)`);
}
