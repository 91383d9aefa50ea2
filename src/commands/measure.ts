// `tlbsim measure [-o profile.json]`: time this machine's costs in user space and write a
// cost profile (src/measure/index.ts) that replay, validate and validate --time read with
// --profile-file.
import type { Command } from 'commander';
import { fail, printSafe } from './util.ts';

interface MeasureOpts { output: string; runs?: string; quick?: boolean; json?: boolean; base?: string }

export function register(program: Command): void {
  program.command('measure')
    .description('measure this machine\'s costs (syscalls, faults, madvise/mprotect/munmap, IPIs, shootdowns, page walks) into a cost profile')
    .option('-o, --output <file>', 'profile JSON to write', 'tlbsim-profile.json')
    .option('--runs <n>', 'runs per benchmark (default 5; 3 with --quick)')
    .option('--quick', 'shorter batches and fewer runs (a few seconds instead of about a minute)')
    .option('--base <profile>', 'profile whose unmeasured costs are kept (default: kvm-guest in a VM, else skylake-laptop)')
    .option('--json', 'print the profile JSON on stdout instead of the table')
    .addHelpText('after', [
      '',
      'Examples:',
      '  tlbsim measure -o here.json',
      '  tlbsim replay --profile-file here.json traces/real/pingpong-512/trace.txt.gz',
      '  sudo tlbsim validate --time --profile-file here.json',
    ].join('\n'))
    .action(async (opts: MeasureOpts) => {
      const runs = opts.runs === undefined ? undefined : Number(opts.runs);
      if (runs !== undefined && (!Number.isInteger(runs) || runs < 1 || runs > 64)) fail(`--runs expects a whole number 1..64, found "${opts.runs}"`, 2);
      const { PROFILES } = await import('../machine/profiles.ts');
      if (opts.base !== undefined && !(opts.base in PROFILES)) fail(`unknown profile "${opts.base}" (known: ${Object.keys(PROFILES).join(', ')})`, 2);
      const { measureProfile, measureText, MeasureError } = await import('../measure/index.ts');
      let result;
      try {
        result = measureProfile({ quick: opts.quick, runs, base: opts.base });
      } catch (e) {
        if (e instanceof MeasureError) fail(e.message, 1);
        throw e;
      }
      const json = JSON.stringify({ base: opts.base ?? undefined, ...result.profile }, null, 2) + '\n';
      if (opts.json) { process.stdout.write(json); return; }
      const { writeFileSync, renameSync } = await import('node:fs');
      const tmp = `${opts.output}.${process.pid}.tmp`;
      try { writeFileSync(tmp, json); renameSync(tmp, opts.output); } catch (e) {
        fail(`cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
      }
      printSafe(measureText(result));
      printSafe(`wrote ${opts.output} (${result.measuredKeys.length} costs measured, ${result.keptKeys.length} kept from ${result.profile.description.replace(/.*unmeasured keys from /, '')}, ${Object.keys(result.profile.micro ?? {}).length} micro-costs)`);
    });
}
