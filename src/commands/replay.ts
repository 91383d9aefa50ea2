// `tlbsim replay <input>...`: every input under every chosen strategy, one HTML report,
// optional CSV tables, a summary table (or cli.md's JSON) on stdout.
import type { Command } from 'commander';
import { mkdirSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { atomicTarget, fail, printSafe, writeFailed } from './util.ts';
import { release, removeLater } from '../trace/cleanup.ts';
import { progress } from './progress.ts';
import { DEFAULT_PROFILE, PROFILES } from '../machine/profiles.ts';
import { DEFAULT_DRAWS } from '../replay/draws.ts';
import { KEY_METRICS, metricDecl } from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { AnalysisInput } from '../analysis/types.ts';
import { fmtInterval, headlineText, intervalNote, otherSweeps } from '../analysis/headline.ts';
import { fmtNs } from '../analysis/format.ts';

export const DEFAULT_REPORT = 'reports/out/index.html';
/** Below this many events x strategies, replay in-process unless --workers says otherwise. */
const SMALL_REPLAY_EVENTS = 2_000_000;

export interface ReplayCommandOptions {
  strategies?: string;
  profile?: string;
  profileFile?: string;
  cost?: string[];
  output: string;
  csv?: string;
  parquet?: string;
  json?: boolean;
  workers?: string;
  baseline?: string;
  report: boolean;
  calibration?: boolean;
  /** false with --no-pcid (commander's default true means "as the trace says"). */
  pcid: boolean;
  /** --uncertainty [draws]: true (default draws) or the count as given. */
  uncertainty?: boolean | string;
  uncertaintySeed?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Resolve strategies and the profile before any input is read, so a typo fails at once. */
async function resolveOptions(opts: ReplayCommandOptions): Promise<{ strategies: string[]; profile: CostProfile; workers: number | 'auto'; baseline: string; draws: number; seed: number }> {
  const { STRATEGY_NAMES, BASELINE_STRATEGY } = await import('../strategies/index.ts');
  const { ProfileError, parseCostAssignments, profileFromJson, resolveProfile } = await import('../machine/profiles.ts');
  const { readSmallFile } = await import('./small-file.ts');
  let strategies = [...STRATEGY_NAMES];
  if (opts.strategies !== undefined) {
    strategies = opts.strategies.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (strategies.length === 0) fail('--strategies needs at least one strategy name', 2);
    for (const s of strategies) {
      if (!STRATEGY_NAMES.includes(s)) fail(`unknown strategy "${s}" (known: ${STRATEGY_NAMES.join(', ')})`, 2);
    }
    strategies = [...new Set(strategies)];
  }
  const baseline = opts.baseline ?? BASELINE_STRATEGY;
  if (!STRATEGY_NAMES.includes(baseline)) fail(`unknown baseline strategy "${baseline}" (known: ${STRATEGY_NAMES.join(', ')})`, 2);
  let workers: number | 'auto' = 'auto';
  if (opts.workers !== undefined) {
    const n = Number(opts.workers);
    if (!Number.isInteger(n) || n < 1) fail(`--workers expects a positive integer, got "${opts.workers}"`, 2);
    workers = n;
  }
  let profile: CostProfile;
  try {
    if (opts.profileFile !== undefined) {
      if (opts.profile !== undefined) fail('give either --profile or --profile-file, not both', 2);
      let text: string;
      try { text = readSmallFile(opts.profileFile, 'profile file'); } catch (e) {
        fail((e as Error).message, 1);
      }
      profile = profileFromJson(text, undefined, opts.profileFile);
    } else {
      profile = resolveProfile(opts.profile);
    }
    const overrides = parseCostAssignments(opts.cost ?? []);
    profile = resolveProfile(profile, overrides);
  } catch (e) {
    if (e instanceof ProfileError) fail(e.message.replace('--set-cost', '--cost'), 2);
    throw e;
  }
  let draws = 0;
  if (opts.uncertainty !== undefined && opts.uncertainty !== false) {
    draws = opts.uncertainty === true ? DEFAULT_DRAWS : Number(opts.uncertainty);
    if (!Number.isInteger(draws) || draws < 2) fail(`--uncertainty expects a number of draws >= 2, got "${String(opts.uncertainty)}"`, 2);
  }
  let seed = 1;
  if (opts.uncertaintySeed !== undefined) {
    seed = Number(opts.uncertaintySeed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--uncertainty-seed expects an integer 0..4294967295, got "${opts.uncertaintySeed}"`, 2);
    if (draws === 0) fail('--uncertainty-seed needs --uncertainty', 2);
  }
  return { strategies, profile, workers, baseline, draws, seed };
}

/** The summary as printed: per input, strategies x key metrics, ratios to the baseline. */
export function summaryText(inputs: readonly AnalysisInput[], baseline: string): string {
  const L: string[] = [];
  for (const inp of inputs) {
    L.push(summaryForInput(inp, baseline));
    L.push('');
  }
  return L.join('\n');
}

function fmtCount(n: number): string {
  if (Math.abs(n) >= 1e7) return `${(n / 1e6).toFixed(1)}M`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function summaryForInput(inp: AnalysisInput, baseline: string): string {
  const results = inp.results;
  const base = results.find((r) => r.strategy.name === baseline);
  const hasIter = results.some((r) => r.metrics.iteration_ns > 0);
  const metrics = KEY_METRICS.filter((m) => m !== 'context_switches' && (m !== 'iteration_ns' || hasIter));
  // Ratios for the two numbers a reader compares first: total overhead and, for workloads,
  // time per iteration.
  const ratioOf = new Set(['overhead_ns', 'iteration_ns']);
  const short: Record<string, string> = {
    overhead_ns: 'overhead', initiator_wait_ns: 'wait', coherence_violations: 'violations', ipis_sent: 'IPIs',
    ipis_to_lazy: 'IPIs→lazy', cr3_writes: 'CR3 writes', cr3_flushes: 'CR3 flush', full_flushes: 'full flush',
    page_flushes: 'INVLPG', flush_requests: 'requests', tlb_misses: 'TLB miss', atomic_ops: 'atomics', iteration_ns: 'iteration',
  };
  const order = ['overhead_ns', 'iteration_ns', 'initiator_wait_ns', 'coherence_violations', 'ipis_sent', 'ipis_to_lazy'];
  const cols = [...order.filter((m) => metrics.includes(m as never)), ...metrics.filter((m) => !order.includes(m))];
  const u = inp.uncertainty;
  const band = new Map((u?.strategies ?? []).map((x) => [x.strategy, x]));
  const header = ['strategy'];
  for (const m of cols) {
    header.push(short[m] ?? m);
    if (u && m === 'overhead_ns') header.push('[lo–hi]');
    if (ratioOf.has(m)) header.push('×base');
    if (u && m === 'overhead_ns') header.push('×base [lo–hi]');
  }
  const rows: string[][] = [header];
  for (const r of results) {
    const row = [r.strategy.name + (r.strategy.safe ? '' : ' (unsafe)')];
    for (const m of cols) {
      const v = r.metrics[m] ?? 0;
      row.push(metricDecl(m)?.unit === 'ns' ? fmtNs(v) : fmtCount(v));
      const band_ = u && m === 'overhead_ns' ? band.get(r.strategy.name) : undefined;
      if (u && m === 'overhead_ns') row.push(band_ ? fmtInterval(band_.overhead_ns, fmtNs) : '–');
      if (ratioOf.has(m)) {
        const b = base?.metrics[m];
        row.push(b !== undefined && b > 0 ? (v / b).toFixed(2) : b === 0 && v === 0 ? '1.00' : '–');
      }
      if (u && m === 'overhead_ns') row.push(band_?.ratio ? fmtInterval(band_.ratio) : '–');
    }
    rows.push(row);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const i = inp.info;
  const lines = [
    `${i.source}  (${i.format}, ${i.cpus} CPUs, ${fmtNs(i.lastNs - i.firstNs)}, ${i.events} events, ${results[0]?.metrics.context_switches ?? 0} context switches${i.skippedLines ? `, ${i.skippedLines} skipped lines` : ''}${i.lostEvents ? `, ${i.lostEvents} lost events` : ''})`,
  ];
  for (const r of rows) lines.push('  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  lines.push(base ? `  ×base: ratio to ${baseline} on this input` : `  (baseline ${baseline} was not replayed: no ratios)`);
  if (u) {
    const h = headlineText(u);
    if (h) lines.push(`  headline: ${h}`);
    for (const o of otherSweeps(u)) lines.push(`    also ${o}`);
    lines.push(`  ${intervalNote(u)}`);
  }
  return lines.join('\n');
}

/** Write CSV tables into `dir` through a temporary directory inside it, each file renamed
 *  into place once all are written: a full disk leaves the previous tables (or none), not
 *  an empty ratios.csv. */
function writeCsvDir(dir: string, write: (tmp: string) => string[]): number {
  let st: Stats | null = null;
  try { st = statSync(dir); } catch { /* created below */ }
  if (st !== null && !st.isDirectory()) fail(`--csv ${dir}: ${st.isFile() ? 'is a file' : 'exists and is not a directory'}; --csv takes a directory to write the tables into`, 1);
  const tmp = join(dir, `.tlbsim-csv.${process.pid}.tmp`);
  try { mkdirSync(tmp, { recursive: true }); } catch (e) { writeFailed(dir, 'CSV tables into', e); }
  removeLater(tmp, 'dir');
  try {
    const files = write(tmp);
    for (const f of files) renameSync(f, join(dir, basename(f)));
    return files.length;
  } catch (e) {
    writeFailed(dir, 'CSV tables into', e);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    release(tmp);
  }
}

export async function runReplay(inputs: string[], opts: ReplayCommandOptions): Promise<void> {
  const { strategies, profile, workers, baseline, draws, seed } = await resolveOptions(opts);
  const { openInput } = await import('../inputs.ts');
  const { replay } = await import('../replay/replay.ts');
  const { WorkloadError } = await import('../workloads/types.ts');
  const { findViolationEvents } = await import('../analysis/events.ts');
  const { validationStrategy } = await import('../strategies/index.ts');
  const { validateRun, hasObservedFlushes, hasObservedIpis } = await import('../validate/index.ts');

  const analysed: AnalysisInput[] = [];
  const tty = process.stderr.isTTY === true && !opts.json;
  for (const spec of inputs) {
    let source: Awaited<ReturnType<typeof openInput>>;
    const reading = tty ? progress(`read ${spec.length > 40 ? `…${spec.slice(-39)}` : spec}`) : null;
    try {
      source = await openInput(spec, reading ? { onProgress: (done, total) => reading.update(done, total) } : {});
    } catch (e) {
      if (e instanceof WorkloadError) fail(e.message, 2);
      throw e;
    } finally {
      reading?.stop();
    }
    try {
      let bar: import('cli-progress').SingleBar | undefined;
      if (tty && source.info.events > 0) {
        const { SingleBar, Presets } = await import('cli-progress');
        bar = new SingleBar({ format: `replay ${spec.length > 40 ? `…${spec.slice(-39)}` : spec} [{bar}] {percentage}% {value}/{total} events`, stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
        bar.start(source.info.events, 0);
      }
      let results: RunResult[];
      try {
        // Worker threads start tsx and the simulator anew (about a second each on a busy
        // machine): for small inputs one thread finishes first.
        const small = source.info.events * strategies.length < SMALL_REPLAY_EVENTS;
        results = await replay(source, {
          strategies, profile, workers: workers === 'auto' && small ? 1 : workers,
          ...(opts.pcid === false ? { pcid: false } : {}),
          onProgress: bar ? (p) => bar.update(Math.min(p.events, source.info.events)) : undefined,
        });
      } finally {
        bar?.stop();
      }
      let uncertainty: import('../replay/uncertainty.ts').UncertaintyResult | undefined;
      if (draws > 0) {
        const { runUncertainty } = await import('../replay/uncertainty.ts');
        const spin = tty ? progress(`uncertainty: ${draws} draws`) : null;
        try {
          uncertainty = await runUncertainty(source, {
            strategies, profile, baseline, nominal: results, draws, seed, workers,
            ...(opts.pcid === false ? { pcid: false } : {}),
          });
        } finally {
          spin?.stop();
        }
      }
      const violationEvents = await findViolationEvents(source, results);
      // A real trace that recorded what its kernel did: the predictions of that kernel's
      // model (or the current kernel's) next to it (tlbsim validate's rows).
      const checked = validationStrategy(source.info.machine, strategies);
      const current = results.find((r) => r.strategy.name === checked);
      const validation = current && (hasObservedFlushes(current) || hasObservedIpis(current)) ? validateRun(current) : undefined;
      analysed.push({ info: source.info, results, violationEvents, ...(validation ? { validation } : {}), ...(uncertainty ? { uncertainty } : {}) });
    } finally {
      source.close();
    }
  }

  // Synthetic workloads are what calibration checks against published numbers: when the
  // report shows one, it shows how well this profile reproduces them.
  let calibration: import('../analysis/types.ts').CalibrationResult | undefined;
  if (opts.calibration !== false && (opts.report || opts.csv !== undefined || opts.parquet !== undefined) && inputs.some((i) => i.startsWith('workload:'))) {
    const { calibrate, calibrationJson } = await import('../calibrate/index.ts');
    calibration = calibrationJson(await calibrate({ profile }));
  }
  const data = { inputs: analysed, profile, baseline, ...(calibration ? { calibration } : {}) };
  let reportPath: string | undefined;
  if (opts.report) {
    const { writeReport } = await import('../report/index.ts');
    const { resolve } = await import('node:path');
    reportPath = resolve(opts.output);
    const { dirname } = await import('node:path');
    try { mkdirSync(dirname(reportPath), { recursive: true }); } catch (e) { writeFailed(opts.output, 'the report', e); }
    const target = atomicTarget(reportPath);
    try {
      await writeReport(data, target.tmp);
      target.commit();
    } catch (e) {
      target.abandon();
      writeFailed(opts.output, 'the report', e);
    }
  }
  if (opts.csv !== undefined) {
    const { buildTables, writeCsvTables } = await import('../analysis/index.ts');
    const written = writeCsvDir(opts.csv, (dir) => writeCsvTables(buildTables(data), dir));
    process.stderr.write(`csv: ${written} tables in ${opts.csv}\n`);
  }
  if (opts.parquet !== undefined) {
    const { buildTables } = await import('../analysis/index.ts');
    const { writeParquetTables } = await import('../analysis/parquet.ts');
    const written = await writeParquetTables(buildTables(data), opts.parquet);
    process.stderr.write(`parquet: ${written.length} tables in ${opts.parquet}\n`);
  }
  if (opts.json) {
    const { summaryJson } = await import('../analysis/summary.ts');
    printSafe(JSON.stringify(summaryJson(data), null, 2));
    if (reportPath) process.stderr.write(`report: ${reportPath}\n`);
  } else {
    printSafe(summaryText(analysed, baseline).trimEnd());
    if (reportPath) printSafe(`\nreport: ${reportPath}`);
  }
}

/** `--uncertainty [draws]` takes a value only when one follows: commander would take the
 *  next input path as the count, so a bare flag is given its default before parsing. */
export function bareUncertainty(argv: readonly string[]): string[] {
  return argv.map((a, i) => (a === '--uncertainty' && !/^\d+$/.test(argv[i + 1] ?? '') ? `--uncertainty=${DEFAULT_DRAWS}` : a));
}

export function register(program: Command): void {
  const cmd = program.command('replay');
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => parseOptions(bareUncertainty(argv));
  cmd
    .description('replay traces or synthetic workloads under each strategy; write an HTML report, CSV tables and a summary')
    .argument('<input...>', 'trace files (ftrace, trace-cmd, perf, tlbsim CSV; plain or .gz) or workload:NAME[:key=value,...]')
    .option('-s, --strategies <list>', 'comma-separated strategy names (default: all; see `tlbsim strategies`)')
    .option('--profile <name>', `cost profile: ${Object.keys(PROFILES).join(', ')} (default ${DEFAULT_PROFILE})`)
    .option('--profile-file <json>', 'cost profile from a JSON file (partial; "base": "<profile>" to start from one)')
    .option('--cost <key=value>', 'override one cost of the profile (repeatable), e.g. --cost ipiSendNs=400', collect)
    .option('-o, --output <file>', 'HTML report to write', DEFAULT_REPORT)
    .option('--no-report', 'do not write the HTML report')
    .option('--csv <dir>', 'also write every analysis table as CSV into DIR')
    .option('--parquet <dir>', 'also write the same tables as --csv as Parquet into DIR')
    .option('--no-calibration', 'do not add the calibration table (run when a workload is among the inputs)')
    .option('--json', 'print { runs: [ { input, strategy, metrics } ] } on stdout and nothing else')
    .option('--workers <n>', 'worker threads (default: one per strategy up to the CPU count, in-process for small inputs; 1 = in-process)')
    .option('--baseline <strategy>', 'strategy the ratios are taken against (default linux-4.13)')
    .option('--no-pcid', 'simulate CPUs without PCID, under every strategy (default: as the trace header of `record --vm` says, else with PCID)')
    .option('--uncertainty [draws]', 'also replay with the profile\'s numbers drawn across their ranges (default 16 draws): overhead and ratio intervals, and the assumptions the headline depends on')
    .option('--uncertainty-seed <n>', 'seed of the --uncertainty draws (default 1; the same seed gives the same output)')
    .addHelpText('after', `
Examples:
  tlbsim replay traces/real/pingpong-512/trace.txt.gz
  tlbsim replay -s linux-4.13,linux-6.18 --profile kvm-guest trace.txt.gz workload:ping-pong:pages=512
  tlbsim replay --json --csv out/ workload:madv-threads:threads=4 | jq '.runs[].metrics.overhead_ns'
  tlbsim replay --uncertainty 32 --uncertainty-seed 7 traces/real/pingpong-512/trace.txt.gz`)
    .action(async (inputs: string[], opts: ReplayCommandOptions) => {
      // `tlbsim replay ... | head`: a closed pipe ends the output quietly, like other tools.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
      await runReplay(inputs, opts);
    });
}
