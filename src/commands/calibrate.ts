// `tlbsim calibrate [--json] [--profile P]`: replay the benchmarks behind published numbers
// and print published vs simulated ratios between strategies (calibration.md).
import type { Command } from 'commander';
import { fail } from './util.ts';

export function register(program: Command): void {
  program
    .command('calibrate')
    .description('replay the calibration workloads and print published vs simulated ratios (±25% tolerance)')
    .option('--json', 'print { rows: [ { benchmark, metric, strategy, baseline, published, simulated } ] }')
    .option('--profile <name>', 'cost profile (default: skylake-laptop)')
    .addHelpText('after', [
      '',
      'Examples:',
      '  tlbsim calibrate',
      '  tlbsim calibrate --profile kvm-guest --json | jq \'.rows[] | {benchmark, strategy, published, simulated}\'',
    ].join('\n'))
    .action(async (opts: { json?: boolean; profile?: string }) => {
      const { getProfile, ProfileError } = await import('../machine/profiles.ts');
      let profile;
      try { profile = getProfile(opts.profile); } catch (e) {
        if (e instanceof ProfileError) fail(e.message, 2);
        throw e;
      }
      const { calibrate, calibrationJson, calibrationText } = await import('../calibrate/index.ts');
      const result = await calibrate({ profile });
      process.stdout.write(opts.json ? JSON.stringify(calibrationJson(result), null, 2) + '\n' : calibrationText(result));
    });
}
