// `tlbsim validate <trace>`: replay a real trace under the current-kernel strategy (or
// the one named) and compare its predicted tlb_flush / IPI records with the recorded
// ones, row by row; `--explain N` shows the first N disagreements with the events around
// them and the machine state.
import type { Command } from 'commander';
import { fail, noteSafe, printJsonSafe, printSafe } from './util.ts';
import { unknownNameMessage } from '../names.ts';

interface ValidateOpts {
  strategy?: string; json?: boolean; explain?: string; profile?: string; profileFile?: string; window?: string; pcid: boolean;
  time?: boolean; workloads?: string; cpus?: string; runs?: string; scale?: string;
}

export function register(program: Command): void {
  program.command('validate')
    .description('replay a recorded trace under the current-kernel strategy and compare its predictions with what the kernel recorded (tlb_flush by reason and pages, flush IPIs)')
    .argument('[trace]', 'a trace recorded with tlb:tlb_flush (ftrace text, trace-cmd report, perf script, tlbsim CSV; plain or .gz); not with --time')
    .option('-s, --strategy <name>', 'strategy whose predictions are checked (default: the one for the recorded kernel when the trace names it, else linux-7.3)')
    .option('--profile <name>', 'cost profile (does not change the records, only the costs)')
    .option('--no-pcid', 'simulate CPUs without PCID (default: as the trace header of `record --vm` says, else with PCID)')
    .option('--json', 'print { strategy, rows: [ { what, observed, predicted, agreement } ], agreement }')
    .option('--explain <N>', 'show the first N disagreements: events around each and the machine state')
    .option('--window <us>', 'with --explain: how far apart (µs) a predicted and a recorded record may be and still match', '200')
    .option('--time', 'run the lab workloads natively here (untraced, then traced), replay each recording, and compare measured with predicted time per iteration (needs root, tracefs, cc)')
    .option('--profile-file <json>', 'with --time: the cost profile `tlbsim measure` wrote for this machine (its micro-costs are the base of each prediction)')
    .option('--workloads <list>', 'with --time: lab workloads to run (default: procstorm,madvstorm,mprotectflip,mmapchurn,forkexec,sleepwake)')
    .option('--cpus <list>', 'with --time: CPU counts (default: 1 to the number of CPUs)')
    .option('--runs <n>', 'with --time: untraced runs per workload and CPU count (default 5)')
    .option('--scale <x>', 'with --time: scale the workloads\' iteration counts (default 1)')
    .addHelpText('after', [
      '',
      'Agreement of a row = min(observed, predicted) / max(observed, predicted) (1 when both are 0);',
      'overall = Σ min / Σ max over the record-count rows (weighted by size; the pages row is not included).',
      '',
      'Examples:',
      '  tlbsim validate traces/real/madvthreads-2/trace.txt.gz',
      '  tlbsim validate traces/real/forkchurn/trace.txt.gz --explain 3',
      '  tlbsim validate traces/real/pingpong-0/trace.txt.gz -s linux-4.13 --json',
      '  tlbsim measure -o here.json && sudo tlbsim validate --time --profile-file here.json',
    ].join('\n'))
    .action(async (path: string | undefined, opts: ValidateOpts) => {
      if (opts.time) { await validateTimeCommand(path, opts); return; }
      if (path === undefined) fail('validate needs a trace (or --time to time the lab workloads here)', 2);
      const { isWorkloadSpec, openInput } = await import('../inputs.ts');
      const { CURRENT_STRATEGY, STRATEGY_NAMES, strategyForKernel } = await import('../strategies/index.ts');
      if (isWorkloadSpec(path)) fail('validate needs a recorded trace: a generated workload has no kernel records to compare with', 2);
      if (opts.strategy !== undefined && !STRATEGY_NAMES.includes(opts.strategy)) fail(unknownNameMessage('strategy', opts.strategy, STRATEGY_NAMES), 2);
      let explainN = 0;
      if (opts.explain !== undefined) {
        explainN = Number(opts.explain);
        if (!Number.isInteger(explainN) || explainN < 1) fail(`--explain expects a positive whole number, found "${opts.explain}"`, 2);
      }
      const windowUs = Number(opts.window);
      if (!Number.isFinite(windowUs) || windowUs <= 0) fail(`--window expects a positive number of µs, found "${opts.window}"`, 2);
      if (opts.profile !== undefined) {
        const { PROFILES } = await import('../machine/profiles.ts');
        const known = Object.keys(PROFILES);
        if (!known.includes(opts.profile)) fail(unknownNameMessage('cost profile', opts.profile, known), 2);
      }
      const { replay } = await import('../replay/index.ts');
      const { validateRun, validationText, hasObservedFlushes, explainTrace, explainText } = await import('../validate/index.ts');
      const input = await openInput(path);
      try {
        if ((input.info.countsByKind.observed_flush ?? 0) === 0) {
          fail(`${path}: the trace has no tlb:tlb_flush records, so there is nothing to check the model against (record with the tlb:tlb_flush event; see traces/real/record.sh)`, 1);
        }
        // The recorded kernel's own model when the trace names its release (record --vm).
        const recorded = input.info.machine?.kernel;
        const strategy = opts.strategy ?? (recorded !== undefined ? strategyForKernel(recorded, input.info.machine?.invlpgb) : null) ?? CURRENT_STRATEGY;
        const pcid = opts.pcid === false ? { pcid: false } : {};
        const [run] = await replay(input, { strategies: [strategy], workers: 1, ...pcid, ...(opts.profile ? { profile: opts.profile } : {}) });
        if (!hasObservedFlushes(run)) fail(`${path}: no tlb:tlb_flush record could be used`, 1);
        const v = validateRun(run);
        const explained = explainN > 0
          ? await explainTrace(input, { strategy, limit: explainN, windowNs: windowUs * 1000, ...pcid, ...(opts.profile ? { profile: opts.profile } : {}) })
          : null;
        if (opts.json) {
          printJsonSafe(JSON.stringify(explained ? { ...v, disagreements: explained.disagreements } : v, null, 2));
        } else {
          printSafe(validationText(v, path));
          if (explained) printSafe(explainText(explained));
        }
      } finally { input.close(); }
    });
}

async function validateTimeCommand(path: string | undefined, opts: ValidateOpts): Promise<void> {
  if (path !== undefined) fail('validate --time runs the lab workloads itself: give no trace', 2);
  const { ProfileError, profileFromJson, resolveProfile } = await import('../machine/profiles.ts');
  const { readSmallFile } = await import('./small-file.ts');
  let profile;
  try {
    if (opts.profileFile !== undefined) {
      let text: string;
      try { text = readSmallFile(opts.profileFile, 'profile'); } catch (e) {
        fail((e as Error).message, 2);
      }
      profile = profileFromJson(text, undefined, opts.profileFile);
    } else profile = resolveProfile(opts.profile);
  } catch (e) {
    if (e instanceof ProfileError) fail(e.message, 2);
    throw e;
  }
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const cpus = list(opts.cpus)?.map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) fail(`--cpus expects whole numbers >= 1, found "${c}"`, 2);
    return n;
  });
  const runs = opts.runs === undefined ? undefined : Number(opts.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) fail(`--runs expects a whole number >= 1, found "${opts.runs}"`, 2);
  const scale = opts.scale === undefined ? undefined : Number(opts.scale);
  if (scale !== undefined && (!Number.isFinite(scale) || scale <= 0)) fail(`--scale expects a positive number, found "${opts.scale}"`, 2);
  const { validateTime, timeText, TimeValidationError } = await import('../validate/time.ts');
  try {
    const report = await validateTime({
      profile, workloads: list(opts.workloads), cpus, runs, scale, strategy: opts.strategy,
      note: (line) => noteSafe(`tlbsim: ${line}`),
    });
    if (opts.json) printJsonSafe(JSON.stringify(report, null, 2)); else printSafe(timeText(report));
  } catch (e) {
    if (e instanceof TimeValidationError) fail(e.message, 1);
    throw e;
  }
}
