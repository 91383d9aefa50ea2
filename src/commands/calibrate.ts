// `tlbsim calibrate [--json] [--profile P]`: replay the benchmarks behind published numbers
// and print published vs simulated ratios between strategies (docs/design/calibration.md), with the
// profile's fitted sibling (`<profile>-fitted`) beside it when there is one.
// `tlbsim calibrate --fit`: fit the unsourced cost numbers to every published figure
// (src/calibrate/fit.ts) and print residuals per row; --write keeps the fitted profiles.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { fail } from './util.ts';

interface Opts {
  json?: boolean; profile?: string; fit?: boolean; write?: string; rows?: string; maxEvals?: string;
}

export function register(program: Command): void {
  program
    .command('calibrate')
    .description('replay the calibration workloads and print published vs simulated ratios (±25% tolerance)')
    .option('--json', 'print { rows: [ { benchmark, metric, strategy, baseline, published, simulated } ] }')
    .option('--profile <name>', 'cost profile (default: skylake-laptop)')
    .option('--fit', 'fit the [assume]/[recall] cost numbers of each profile class to every published figure, print residuals per row')
    .option('--write <file>', 'with --fit: write the fitted profiles as JSON (the committed one is src/machine/fitted-profiles.json)')
    .option('--rows <which>', 'with --fit: rows to print: fit, held-out or all (default all; the fit uses only fit rows)')
    .option('--max-evals <n>', 'with --fit: most objective evaluations per profile class (default 250)')
    .addHelpText('after', [
      '',
      'Examples:',
      '  tlbsim calibrate',
      '  tlbsim calibrate --profile kvm-guest --json | jq \'.rows[] | {benchmark, strategy, published, simulated}\'',
      '  tlbsim calibrate --fit --write src/machine/fitted-profiles.json',
    ].join('\n'))
    .action(async (opts: Opts) => {
      if (!opts.fit) {
        for (const o of ['write', 'rows', 'maxEvals'] as const) {
          if (opts[o] !== undefined) fail(`--${o === 'maxEvals' ? 'max-evals' : o} needs --fit`, 2);
        }
        return plain(opts);
      }
      if (opts.profile !== undefined) fail('--fit fits every profile class (src/calibrate/fit-params.ts); drop --profile', 2);
      const rows = opts.rows ?? 'all';
      if (rows !== 'fit' && rows !== 'held-out' && rows !== 'all') fail(`--rows must be fit, held-out or all, got "${rows}"`, 2);
      let maxEvals: number | undefined;
      if (opts.maxEvals !== undefined) {
        maxEvals = Number(opts.maxEvals);
        if (!Number.isInteger(maxEvals) || maxEvals < 1) fail(`--max-evals needs a positive integer, got "${opts.maxEvals}"`, 2);
      }
      const { fit, fitJson, fitText, fittedProfilesFile } = await import('../calibrate/fit.ts');
      const quiet = opts.json || !process.stderr.isTTY;
      const result = await fit({
        ...(maxEvals === undefined ? {} : { maxEvals }),
        onProgress: (s) => { if (!quiet) process.stderr.write(`\r\x1b[K${s}`); },
      });
      if (!quiet) process.stderr.write('\r\x1b[K');
      if (opts.write) writeFileSync(opts.write, JSON.stringify(fittedProfilesFile(result), null, 2) + '\n');
      process.stdout.write(opts.json ? JSON.stringify(fitJson(result, rows), null, 2) + '\n' : fitText(result, rows));
      if (opts.write && !opts.json) process.stdout.write(`fitted profiles written to ${opts.write}\n`);
    });
}

async function plain(opts: Opts): Promise<void> {
  const { getProfile, ProfileError, PROFILES } = await import('../machine/profiles.ts');
  let profile;
  try { profile = getProfile(opts.profile); } catch (e) {
    if (e instanceof ProfileError) fail(e.message, 2);
    throw e;
  }
  const { calibrate, calibrationJson, calibrationText, withFitted } = await import('../calibrate/index.ts');
  let result = await calibrate({ profile });
  const sibling = `${profile.name}-fitted`;
  if (!opts.json && PROFILES[sibling]) result = withFitted(result, await calibrate({ profile: getProfile(sibling) }));
  process.stdout.write(opts.json ? JSON.stringify(calibrationJson(result), null, 2) + '\n' : calibrationText(result));
}
