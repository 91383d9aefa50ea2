// The tlbsim command line. Each command lives in src/commands/<name>.ts and exports
// `register(program)`; heavy libraries are imported inside the command actions so that
// `tlbsim --help` stays fast.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { register as registerWorkloads } from './commands/workloads.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('tlbsim')
    .description('Replay kernel traces through a simulated x86 machine under every Linux TLB-flush strategy')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  registerWorkloads(program);
  return program;
}
