// `tlbsim replay <input>...`: every input under every chosen strategy, one HTML report,
// optional CSV tables, a summary table (or cli.md's JSON) on stdout.
import type { Command } from 'commander';
import { fail, printSafe } from './util.ts';
import { progress } from './progress.ts';
import { DEFAULT_PROFILE, PROFILES } from '../machine/profiles.ts';
import { DEFAULT_DRAWS } from '../replay/draws.ts';
import { KEY_METRICS, metricDecl } from '../machine/metrics.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { AnalysisInput } from '../analysis/types.ts';
import { fmtInterval, headlineText, intervalNote, otherSweeps } from '../analysis/headline.ts';
import { fmtNs } from '../analysis/format.ts';

export const DEFAULT_REPORT = 'reports/out/index.html';

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
  const { readFileSync } = await import('node:fs');
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
      try { text = readFileSync(opts.profileFile, 'utf8'); } catch (e) {
        fail(`${opts.profileFile}: cannot read the profile file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 1);
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

export async function runReplay(inputs: string[], opts: ReplayCommandOptions): Promise<void> {
  const { strategies, profile, workers, baseline, draws, seed } = await resolveOptions(opts);
  const { analyse, writeAnalysisCsv, writeAnalysisParquet, writeAnalysisReport, OutputError } = await import('../pipeline.ts');
  const { WorkloadError } = await import('../workloads/types.ts');

  const tty = process.stderr.isTTY === true && !opts.json;
  const label = (spec: string) => (spec.length > 40 ? `…${spec.slice(-39)}` : spec);
  const { SingleBar, Presets } = tty ? await import('cli-progress') : { SingleBar: undefined, Presets: undefined };
  let data: Awaited<ReturnType<typeof analyse>>;
  try {
    data = await analyse(inputs, {
      strategies, profile, workers, baseline, draws, seed,
      ...(opts.pcid === false ? { pcid: false } : {}),
      // The calibration table is shown in the report and the tables, not in the summary.
      calibration: opts.calibration !== false && (opts.report || opts.csv !== undefined || opts.parquet !== undefined),
      progress: !tty ? undefined : (stage, spec, total) => {
        if (stage === 'read') return progress(`read ${label(spec)}`);
        if (stage === 'uncertainty') return progress(`uncertainty: ${total} draws`);
        const bar = new SingleBar!({ format: `replay ${label(spec)} [{bar}] {percentage}% {value}/{total} events`, stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets!.shades_classic);
        bar.start(total, 0);
        return { update: (done) => bar.update(done), stop: () => bar.stop() };
      },
    });
  } catch (e) {
    if (e instanceof WorkloadError) fail(e.message, 2);
    throw e;
  }

  let reportPath: string | undefined;
  try {
    if (opts.report) reportPath = await writeAnalysisReport(data, opts.output);
    if (opts.csv !== undefined) process.stderr.write(`csv: ${await writeAnalysisCsv(data, opts.csv)} tables in ${opts.csv}\n`);
    if (opts.parquet !== undefined) process.stderr.write(`parquet: ${await writeAnalysisParquet(data, opts.parquet)} tables in ${opts.parquet}\n`);
  } catch (e) {
    if (e instanceof OutputError) fail(e.message, 1);
    throw e;
  }
  if (opts.json) {
    const { summaryJson } = await import('../analysis/summary.ts');
    printSafe(JSON.stringify(summaryJson(data), null, 2));
    if (reportPath) process.stderr.write(`report: ${reportPath}\n`);
  } else {
    printSafe(summaryText(data.inputs, baseline).trimEnd());
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
