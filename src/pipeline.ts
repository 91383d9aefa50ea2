// The analysis of a set of inputs, in one place for the CLI (`tlbsim replay`) and for
// scripts (reports/*.ts): each input opened, replayed under every chosen strategy, the
// events behind its coherence violations looked up, its recorded kernel's flushes checked
// against that kernel's model, optionally the uncertainty draws; then, when a synthetic
// workload is among the inputs, calibration against the published numbers. writeAnalysis
// writes the HTML report and the CSV / Parquet tables of the result.
//
// The heavy parts (report, tables, calibration, uncertainty) are imported only when used:
// a summary-only replay does not load arquero or Vega.
import { mkdirSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openInput, type OpenedInput } from './inputs.ts';
import { replay } from './replay/replay.ts';
import { findViolationEvents } from './analysis/events.ts';
import { BASELINE_STRATEGY, STRATEGY_NAMES, validationStrategy } from './strategies/index.ts';
import { hasObservedFlushes, hasObservedIpis, validateRun } from './validate/index.ts';
import { getProfile, type CostProfile } from './machine/profiles.ts';
import { describeFsError } from './trace/input.ts';
import { atomicTarget, release, removeLater } from './trace/cleanup.ts';
import type { RunResult } from './machine/result.ts';
import type { EventSource } from './trace/event.ts';
import type { StrategyDefinition } from './machine/strategy.ts';
import type { AnalysisData, AnalysisInput, CalibrationResult } from './analysis/types.ts';
import type { UncertaintyResult } from './replay/uncertainty.ts';

/** Below this many events x strategies, replay in-process unless `workers` says otherwise:
 *  worker threads start tsx and the simulator anew (about a second each on a busy machine),
 *  so for small inputs one thread finishes first. */
export const SMALL_REPLAY_EVENTS = 2_000_000;

/** A progress display the caller owns (the CLI's bars and spinners); the pipeline only
 *  tells it how far it is. */
export interface StageProgress {
  update?(done: number, total?: number): void;
  stop(): void;
}

export interface AnalyseOptions {
  /** Registry names or strategy definitions (default: every registered strategy). */
  strategies?: readonly (string | StrategyDefinition)[];
  /** A profile name or a complete profile (default: the default profile). */
  profile?: string | CostProfile;
  /** Strategy the ratios and the uncertainty's ratio intervals are taken against. */
  baseline?: string;
  /** Worker threads; 'auto' (default) is in-process below SMALL_REPLAY_EVENTS. */
  workers?: number | 'auto';
  /** false: simulate CPUs without PCID (default: as the trace says). */
  pcid?: boolean;
  /** Memory (bytes) the simulated machines may take at once (ReplayOptions.stateBudget). */
  stateBudget?: number;
  /** Draws of `replay --uncertainty` (0 or absent: none) and their seed (default 1). */
  draws?: number;
  seed?: number;
  /** Calibrate when a workload is among the inputs (default true). */
  calibration?: boolean;
  /** Explain the answer (the gap sweep, the first diverging events, --compare's pair):
   *  false leaves it out (default: done, without a --compare pair). */
  explain?: false | { compare?: { a: string; b: string } | null; force?: boolean };
  /** A line for the user about an input (a long workload's estimate); default: none. */
  note?: (line: string) => void;
  /** A further pass over each input while it is open (`replay --trace-out` and the report's
   *  per-CPU timeline: commands/trace-out.ts); what it returns is the input's timeline. */
  record?: (source: EventSource, results: RunResult[]) => Promise<AnalysisInput['timeline']>;
  /** Called as each stage starts; what it returns is told the progress and stopped. */
  progress?: (stage: 'read' | 'replay' | 'uncertainty', spec: string, total: number) => StageProgress | null;
}

/** Above this many events the default pair's lockstep scan (one event at a time, two
 *  machines) is left out of the report unless --compare asks for a pair. */
const DEFAULT_PAIR_MAX_EVENTS = 200_000;

export interface ExplainInputsOptions {
  profile: CostProfile;
  compare?: { a: string; b: string } | null;
  /** Run the gap sweep whatever the input's length (--uncertainty asked for heavy work). */
  force?: boolean;
  pcid?: boolean;
  /** Script-defined strategies among the results. */
  definitions?: readonly StrategyDefinition[];
}

/** What the summary and the report need to explain their answer, added to one input: the
 *  cost parameters that move the current kernel's gap to the best safe strategy
 *  (replay/gap.ts), and the first diverging events of the --compare pair and of the
 *  report's default A-vs-B pair (best safe vs current; validate/diverge.ts). */
export async function explainInputs(source: EventSource, results: RunResult[], opts: ExplainInputsOptions): Promise<Pick<AnalysisInput, 'gap' | 'divergences' | 'compare'>> {
  const { bestSafe, currentOf } = await import('./analysis/why.ts');
  const { gapSensitivity } = await import('./replay/gap.ts');
  const { firstDivergences } = await import('./validate/diverge.ts');
  const out: Pick<AnalysisInput, 'gap' | 'divergences' | 'compare'> = {};
  const pcid = opts.pcid === undefined ? {} : { pcid: opts.pcid };
  const current = currentOf(results);
  const best = current === null ? null : bestSafe(results, current);
  if (current !== null && best !== null && best.strategy.name !== current && results.length >= 2) {
    const nominalGap = results.find((r) => r.strategy.name === current)!.metrics.overhead_ns - best.metrics.overhead_ns;
    const gap = await gapSensitivity(source, { profile: opts.profile, definitions: opts.definitions, best: best.strategy.name, current, nominalGap, force: opts.force, ...pcid });
    if (gap) out.gap = gap;
  }
  const pairs: [string, string][] = [];
  if (opts.compare) pairs.push([opts.compare.a, opts.compare.b]);
  if (current !== null && best !== null && best.strategy.name !== current && source.info.events <= DEFAULT_PAIR_MAX_EVENTS
    && !pairs.some(([a, b]) => (a === best.strategy.name && b === current) || (b === best.strategy.name && a === current))) {
    pairs.push([best.strategy.name, current]);
  }
  if (pairs.length) {
    out.divergences = [];
    for (const [a, b] of pairs) out.divergences.push(await firstDivergences(source, { a, b, profile: opts.profile, definitions: opts.definitions, ...pcid }));
  }
  if (opts.compare) out.compare = opts.compare;
  return out;
}

/** What analyse() returns: the report's and the tables' input, with the profile the runs
 *  used and the baseline the ratios are taken against. */
export interface Analysis extends AnalysisData {
  profile: CostProfile;
  baseline: string;
}

/** One input analysed; `source` stays open for the caller's own passes and is closed by it. */
export async function analyseInput(source: OpenedInput, opts: AnalyseOptions & { profile: CostProfile }): Promise<AnalysisInput> {
  const strategies = [...(opts.strategies ?? STRATEGY_NAMES)];
  const names = strategies.map((s) => (typeof s === 'string' ? s : s.name));
  const workers = opts.workers ?? 'auto';
  const baseline = opts.baseline ?? BASELINE_STRATEGY;
  const pcid = opts.pcid === false ? { pcid: false } : {};
  const passes = { ...(opts.stateBudget === undefined ? {} : { stateBudget: opts.stateBudget }), ...(opts.note ? { note: opts.note } : {}) };
  const bar = source.info.events > 0 ? opts.progress?.('replay', source.spec, source.info.events) ?? null : null;
  let results: RunResult[];
  try {
    const small = source.info.events * strategies.length < SMALL_REPLAY_EVENTS;
    results = await replay(source, {
      strategies, profile: opts.profile, workers: workers === 'auto' && small ? 1 : workers, ...pcid, ...passes,
      onProgress: bar?.update ? (p) => bar.update!(Math.min(p.events, source.info.events)) : undefined,
    });
  } finally {
    bar?.stop();
  }
  let uncertainty: UncertaintyResult | undefined;
  const draws = opts.draws ?? 0;
  if (draws > 0) {
    if (strategies.some((s) => typeof s !== 'string')) throw new Error('uncertainty draws replay registered strategies only: give their names');
    const { runUncertainty } = await import('./replay/uncertainty.ts');
    const spin = opts.progress?.('uncertainty', source.spec, draws) ?? null;
    try {
      uncertainty = await runUncertainty(source, {
        strategies: names, profile: opts.profile, baseline, nominal: results, draws, seed: opts.seed ?? 1, workers, ...pcid, ...passes,
      });
    } finally {
      spin?.stop();
    }
  }
  const violationEvents = await findViolationEvents(source, results);
  const timeline = opts.record ? await opts.record(source, results) : undefined;
  // A real trace that recorded what its kernel did: the predictions of that kernel's
  // model (or the current kernel's) next to it (tlbsim validate's rows).
  const checked = validationStrategy(source.info.machine, names);
  const current = results.find((r) => r.strategy.name === checked);
  const validation = current && (hasObservedFlushes(current) || hasObservedIpis(current)) ? validateRun(current) : undefined;
  const why = opts.explain === false ? {} : await explainInputs(source, results, { profile: opts.profile, compare: opts.explain?.compare ?? null, force: opts.explain?.force ?? false, definitions: strategies.filter((s) => typeof s !== 'string'), ...pcid });
  return { info: source.info, results, violationEvents, ...(validation ? { validation } : {}), ...(uncertainty ? { uncertainty } : {}), ...why, ...(timeline ? { timeline } : {}) };
}

/** Every input of `specs` (trace paths or workload:NAME specs) analysed in turn, one open
 *  at a time, then the calibration when a workload is among them. */
export async function analyse(specs: readonly string[], opts: AnalyseOptions = {}): Promise<Analysis> {
  const profile = typeof opts.profile === 'object' ? opts.profile : getProfile(opts.profile);
  const baseline = opts.baseline ?? BASELINE_STRATEGY;
  const inputs: AnalysisInput[] = [];
  for (const spec of specs) {
    const reading = opts.progress?.('read', spec, 0) ?? null;
    let source: OpenedInput;
    try {
      source = await openInput(spec, { ...(reading?.update ? { onProgress: (done: number, total: number) => reading.update!(done, total) } : {}), ...(opts.note ? { note: opts.note } : {}) });
    } finally {
      reading?.stop();
    }
    try {
      inputs.push(await analyseInput(source, { ...opts, profile, baseline }));
    } finally {
      source.close();
    }
  }
  // Synthetic workloads are what calibration checks against published numbers: when the
  // report shows one, it shows how well this profile reproduces them.
  let calibration: CalibrationResult | undefined;
  if (opts.calibration !== false && specs.some((s) => s.startsWith('workload:'))) {
    const { calibrate, calibrationJson } = await import('./calibrate/index.ts');
    calibration = calibrationJson(await calibrate({ profile }));
  }
  return { inputs, profile, baseline, ...(calibration ? { calibration } : {}) };
}

/** An output that could not be written, in one line (which file, and why). */
export class OutputError extends Error {
  constructor(message: string) { super(message); this.name = 'OutputError'; }
}

function outputFailed(path: string, what: string, e: unknown): never {
  if (!(e as { code?: string }).code) throw e;
  throw new OutputError(`cannot write ${what} ${path}: ${describeFsError(e)}`);
}

/** The HTML report of `data` at `path`, written beside it and renamed into place (see
 *  atomicTarget). Returns the absolute path. */
export async function writeAnalysisReport(data: Analysis, path: string): Promise<string> {
  const { writeReport } = await import('./report/index.ts');
  const full = resolve(path);
  try { mkdirSync(dirname(full), { recursive: true }); } catch (e) { outputFailed(path, 'the report', e); }
  const target = atomicTarget(full);
  try {
    await writeReport(data, target.tmp);
    target.commit();
  } catch (e) {
    target.abandon();
    outputFailed(path, 'the report', e);
  }
  return full;
}

/** Every analysis table of `data` as CSV in `dir`, written into a temporary directory inside
 *  it and each file renamed into place once all are written: a full disk leaves the previous
 *  tables (or none), not an empty ratios.csv. Returns how many tables. */
export async function writeAnalysisCsv(data: Analysis, dir: string): Promise<number> {
  const { buildTables, writeCsvTables } = await import('./analysis/index.ts');
  let st: Stats | null = null;
  try { st = statSync(dir); } catch { /* created below */ }
  if (st !== null && !st.isDirectory()) throw new OutputError(`--csv ${dir}: ${st.isFile() ? 'is a file' : 'exists and is not a directory'}; --csv takes a directory to write the tables into`);
  const tmp = join(dir, `.tlbsim-csv.${process.pid}.tmp`);
  try { mkdirSync(tmp, { recursive: true }); } catch (e) { outputFailed(dir, 'CSV tables into', e); }
  removeLater(tmp, 'dir');
  try {
    const files = writeCsvTables(buildTables(data), tmp);
    for (const f of files) renameSync(f, join(dir, basename(f)));
    return files.length;
  } catch (e) {
    outputFailed(dir, 'CSV tables into', e);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    release(tmp);
  }
}

/** The same tables as writeAnalysisCsv, as Parquet files in `dir`. Returns how many. */
export async function writeAnalysisParquet(data: Analysis, dir: string): Promise<number> {
  const { buildTables } = await import('./analysis/index.ts');
  const { writeParquetTables } = await import('./analysis/parquet.ts');
  return (await writeParquetTables(buildTables(data), dir)).length;
}
