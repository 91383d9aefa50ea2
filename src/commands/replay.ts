// `tlbsim replay <input>...`: every input under every chosen strategy, one HTML report,
// optional CSV tables, a summary table (or docs/design/cli.md's JSON) on stdout.
import type { Command } from 'commander';
import { fail, noteSafe, printJsonSafe, printSafe, terminalSafe } from './util.ts';
import { progress } from './progress.ts';
// Names and defaults only, from modules that load nothing: every command's start-up
// registers this one's options, and building the profiles is for replaying.
import { DEFAULT_PROFILE, profileNames } from '../machine/profile-names.ts';
import { DEFAULT_DRAWS } from '../replay/draw-count.ts';
import { KEY_METRICS, metricDecl } from '../machine/metrics.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { AnalysisInput } from '../analysis/types.ts';
import { fmtInterval, headlineText, intervalNote, otherSweeps } from '../analysis/headline.ts';
import { fmtNs } from '../analysis/format.ts';
import { unknownNameMessage } from '../names.ts';
import { bestAndUnsafe, fitSummaryTable, summaryColour, terminalWidth, wrapWords, type FitOptions } from './summary-table.ts';

// analysis/why.ts loads the strategy registry: imported when a replay runs, not for --help.
let why: typeof import('../analysis/why.ts') | null = null;
/** Load what the summary's "why:" line needs (runReplay does; a script calling summaryText
 *  directly may). */
export async function loadWhy(): Promise<void> { why ??= await import('../analysis/why.ts'); }

export const DEFAULT_REPORT = 'reports/out/index.html';

export interface ReplayCommandOptions {
  strategies?: string;
  /** --trace-out DIR: one Chrome trace-event JSON per strategy (commands/trace-out.ts). */
  traceOut?: string;
  /** --timeline a,b (string) or --no-timeline (false). */
  timeline?: string | boolean;
  profile?: string;
  profileFile?: string;
  cost?: string[];
  output: string;
  csv?: string;
  parquet?: string;
  json?: boolean;
  workers?: string;
  /** --state-budget MiB */
  stateBudget?: string;
  baseline?: string;
  report: boolean;
  calibration?: boolean;
  /** false with --no-pcid (commander's default true means "as the trace says"). */
  pcid: boolean;
  /** --uncertainty [draws]: true (default draws) or the count as given. */
  uncertainty?: boolean | string;
  uncertaintySeed?: string;
  /** --compare a,b */
  compare?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Resolve strategies and the profile before any input is read, so a typo fails at once. */
async function resolveOptions(opts: ReplayCommandOptions): Promise<{ strategies: string[]; profile: CostProfile; workers: number | 'auto'; stateBudget: number | undefined; baseline: string; draws: number; seed: number; compare: { a: string; b: string } | null }> {
  const { STRATEGY_NAMES, BASELINE_STRATEGY } = await import('../strategies/index.ts');
  const { ProfileError, parseCostAssignments, profileFromJson, resolveProfile } = await import('../machine/profiles.ts');
  const { readSmallFile } = await import('./small-file.ts');
  let strategies = [...STRATEGY_NAMES];
  if (opts.strategies !== undefined) {
    strategies = opts.strategies.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (strategies.length === 0) fail('--strategies needs at least one strategy name', 2);
    for (const s of strategies) {
      if (!STRATEGY_NAMES.includes(s)) fail(unknownNameMessage('strategy', s, STRATEGY_NAMES), 2);
    }
    strategies = [...new Set(strategies)];
  }
  const baseline = opts.baseline ?? BASELINE_STRATEGY;
  if (!STRATEGY_NAMES.includes(baseline)) fail(unknownNameMessage('baseline strategy', baseline, STRATEGY_NAMES), 2);
  let workers: number | 'auto' = 'auto';
  if (opts.workers !== undefined) {
    const n = Number(opts.workers);
    if (!Number.isInteger(n) || n < 1) fail(`--workers expects a positive integer, got "${opts.workers}"`, 2);
    workers = n;
  }
  let stateBudget: number | undefined;
  if (opts.stateBudget !== undefined) {
    const mib = Number(opts.stateBudget);
    if (!/^\d+$/.test(opts.stateBudget) || !Number.isSafeInteger(mib) || mib < 1 || mib > 2 ** 30) fail(`--state-budget expects a number of MiB from 1 to 1073741824, got "${opts.stateBudget}"`, 2);
    stateBudget = mib * 2 ** 20;
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
  let compare: { a: string; b: string } | null = null;
  if (opts.compare !== undefined) {
    const { parseCompare } = await import('../analysis/compare.ts');
    const c = parseCompare(opts.compare, STRATEGY_NAMES);
    if (typeof c === 'string') fail(c, 2);
    compare = c;
    for (const n of [c.a, c.b]) if (!strategies.includes(n)) strategies.push(n);
  }
  return { strategies, profile, workers, stateBudget, baseline, draws, seed, compare };
}

/** The summary as printed: per input, strategies x key metrics, ratios to the baseline.
 *  Terminal-safe already (trace-chosen text neutralised, colour added after); `fit` lays
 *  the table out for a terminal (summary-table.ts), by default unlimited and plain. */
export function summaryText(inputs: readonly AnalysisInput[], baseline: string, fit: FitOptions = { width: Infinity, colour: false }): string {
  const L: string[] = [];
  for (const inp of inputs) {
    L.push(summaryForInput(inp, baseline, fit));
    L.push('');
  }
  return L.join('\n');
}

function fmtCount(n: number): string {
  if (Math.abs(n) >= 1e7) return `${(n / 1e6).toFixed(1)}M`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function summaryForInput(inp: AnalysisInput, baseline: string, fit: FitOptions): string {
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
  const keys = ['strategy'];
  for (const m of cols) {
    header.push(short[m] ?? m); keys.push(m);
    if (u && m === 'overhead_ns') { header.push('[lo–hi]'); keys.push('overhead_ns_band'); }
    if (ratioOf.has(m)) { header.push('×base'); keys.push(`${m}_ratio`); }
    if (u && m === 'overhead_ns') { header.push('×base [lo–hi]'); keys.push('overhead_ns_ratio_band'); }
  }
  const rows: string[][] = [header];
  const marks = bestAndUnsafe(results);
  for (const r of results) {
    const row = [r.strategy.name];
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
  const i = inp.info;
  const lines = [
    `${i.source}  (${i.format}, ${i.cpus} CPUs, ${fmtNs(i.lastNs - i.firstNs)}, ${i.events} events, ${results[0]?.metrics.context_switches ?? 0} context switches${i.skippedLines ? `, ${i.skippedLines} skipped lines` : ''}${i.lostEvents ? `, ${i.lostEvents} lost events` : ''})`,
  ];
  const table = fitSummaryTable(keys, rows, marks, fit);
  lines.push(base ? `  ×base: ratio to ${baseline} on this input` : `  (baseline ${baseline} was not replayed: no ratios)`);
  const w = why && inp.results.length >= 2 ? why.whyGap(inp, inp.gap) : null;
  if (w) lines.push(`  ${why!.whyLine(w)}`);
  if (u) {
    const h = headlineText(u);
    if (h) lines.push(`  headline: ${h}`);
    for (const o of otherSweeps(u)) lines.push(`    also ${o}`);
    lines.push(`  ${intervalNote(u)}`);
  }
  // The input line names a path, better wrapped by the terminal than cut; a word of a
  // note longer than the width (a task name at 12 columns) is cut like the table's cells.
  const wrapped = (cutLong: boolean) => (l: string) => { const [, lead, rest] = /^(\s*)(.*)$/s.exec(terminalSafe(l))!; return wrapWords(rest, fit.width, lead, cutLong); };
  return [...wrapped(false)(lines[0]), ...table, ...lines.slice(1).flatMap(wrapped(true))].join('\n');
}

export async function runReplay(inputs: string[], opts: ReplayCommandOptions): Promise<void> {
  const { strategies, profile, workers, stateBudget, baseline, draws, seed, compare } = await resolveOptions(opts);
  await loadWhy();
  const { analyse, writeAnalysisCsv, writeAnalysisParquet, writeAnalysisReport, OutputError } = await import('../pipeline.ts');
  const { WorkloadError } = await import('../workloads/types.ts');
  const { checkTraceOut, parseTimeline, recordInput } = await import('./trace-out.ts');
  const timelinePair = parseTimeline(opts.timeline, strategies);
  checkTraceOut(opts.traceOut);
  let inputIndex = 0;

  const tty = process.stderr.isTTY === true && !opts.json;
  const label = (spec: string) => (spec.length > 40 ? `…${spec.slice(-39)}` : spec);
  let data: Awaited<ReturnType<typeof analyse>>;
  try {
    data = await analyse(inputs, {
      strategies, profile, workers, baseline, draws, seed,
      ...(stateBudget === undefined ? {} : { stateBudget }),
      ...(opts.pcid === false ? { pcid: false } : {}),
      // The calibration table is shown in the report and the tables, not in the summary.
      calibration: opts.calibration !== false && (opts.report || opts.csv !== undefined || opts.parquet !== undefined),
      // The why sentence's cost sweep and the first diverging events (heavier with --uncertainty).
      explain: { compare, force: draws > 0 },
      // --trace-out's files and the report's per-CPU timeline: a recorded pass (trace-out.ts).
      record: (source, results) => recordInput(source, results, {
        ...(opts.traceOut !== undefined ? { traceOut: opts.traceOut } : {}), ...(timelinePair !== undefined ? { timeline: timelinePair } : {}),
        report: opts.report, profile, ...(opts.pcid === false ? { pcid: false as const } : {}), inputIndex: inputIndex++, inputCount: inputs.length,
      }),
      note: (line) => noteSafe(`tlbsim: note: ${line}`),
      // Each shown only once its stage has run for a second (progress.ts): a short one prints nothing.
      progress: !tty ? undefined : (stage, spec, total) => {
        if (stage === 'read') return progress(`${spec.startsWith('workload:') ? 'generate' : 'read'} ${label(spec)}`);
        if (stage === 'uncertainty') return progress(`uncertainty: ${total} draws`);
        return progress(`replay ${label(spec)}`, process.stderr, 'events');
      },
    });
  } catch (e) {
    if (e instanceof WorkloadError) fail(e.message, 2);
    throw e;
  }

  let reportPath: string | undefined;
  try {
    if (opts.report) reportPath = await writeAnalysisReport(data, opts.output);
    if (opts.csv !== undefined) noteSafe(`csv: ${await writeAnalysisCsv(data, opts.csv)} tables in ${opts.csv}`);
    if (opts.parquet !== undefined) noteSafe(`parquet: ${await writeAnalysisParquet(data, opts.parquet)} tables in ${opts.parquet}`);
  } catch (e) {
    if (e instanceof OutputError) fail(e.message, 1);
    throw e;
  }
  if (opts.json) {
    const { summaryJson } = await import('../analysis/summary.ts');
    const { whyJson } = await import('./why-inputs.ts');
    printJsonSafe(JSON.stringify({ ...summaryJson(data), ...whyJson(data.inputs, compare) }, null, 2));
    if (reportPath) noteSafe(`report: ${reportPath}`);
  } else {
    process.stdout.write(`${summaryText(data.inputs, baseline, { width: terminalWidth(), colour: summaryColour() }).trimEnd()}\n`);
    if (compare) {
      const { compareText } = await import('./why-inputs.ts');
      printSafe(`\n${compareText(data.inputs, compare)}`);
    }
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
    .option('--profile <name>', `cost profile: ${profileNames().join(', ')} (default ${DEFAULT_PROFILE})`)
    .option('--profile-file <json>', 'cost profile from a JSON file (partial; "base": "<profile>" to start from one)')
    .option('--cost <key=value>', 'override one cost of the profile (repeatable), e.g. --cost ipiSendNs=400', collect)
    .option('-o, --output <file>', 'HTML report to write', DEFAULT_REPORT)
    .option('--no-report', 'do not write the HTML report')
    .option('--csv <dir>', 'also write every analysis table as CSV into DIR')
    .option('--parquet <dir>', 'also write the same tables as --csv as Parquet into DIR')
    .option('--no-calibration', 'do not add the calibration table (run when a workload is among the inputs)')
    .option('--json', 'print { runs: [ { input, strategy, metrics } ] } on stdout and nothing else')
    .option('--workers <n>', 'worker threads (default: one per strategy up to the CPU count, in-process for small inputs; 1 = in-process)')
    .option('--state-budget <MiB>', 'memory the simulated machines may take at once (default 1024): a trace naming so many tasks that every strategy\'s machine together would take more replays the strategies a few at a time, in further passes over the events')
    .option('--baseline <strategy>', 'strategy the ratios are taken against (default linux-4.13)')
    .option('--no-pcid', 'simulate CPUs without PCID, under every strategy (default: as the trace header of `record --vm` says, else with PCID)')
    .option('--uncertainty [draws]', 'also replay with the profile\'s numbers drawn across their ranges (default 16 draws): overhead and ratio intervals, and the assumptions the headline depends on')
    .option('--compare <a,b>', 'print B against A: per-metric, per-cause, per-CPU and per-task deltas, and the first events where the two act differently')
    .option('--uncertainty-seed <n>', 'seed of the --uncertainty draws (default 1; the same seed gives the same output)')
    .option('--trace-out <dir>', 'also write one Chrome trace-event JSON per strategy into DIR (per-CPU tracks, IPI flows; open in ui.perfetto.dev or chrome://tracing)')
    .option('--timeline <a,b>', 'the two strategies the report\'s per-CPU timeline shows (default: the best safe one and the current kernel)')
    .option('--no-timeline', 'leave the per-CPU timeline out of the report (it replays its two strategies once more)')
    .addHelpText('after', `
Examples:
  tlbsim replay traces/real/pingpong-512/trace.txt.gz
  tlbsim replay --trace-out out/perfetto -s linux-4.14,linux-7.3 traces/real/pingpong-512/trace.txt.gz
  tlbsim replay -s linux-4.13,linux-6.18 --profile kvm-guest trace.txt.gz workload:ping-pong:pages=512
  tlbsim replay --json --csv out/ workload:madv-threads:threads=4 | jq '.runs[].metrics.overhead_ns'
  tlbsim replay --uncertainty 32 --uncertainty-seed 7 traces/real/pingpong-512/trace.txt.gz
  tlbsim replay --compare linux-4.14,linux-7.3 traces/real/pingpong-512/trace.txt.gz`)
    .action(async (inputs: string[], opts: ReplayCommandOptions) => {
      await runReplay(inputs, opts);
    });
}
