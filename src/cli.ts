// The tlbsim command line. Each command lives in src/commands/<name>.ts and exports
// `register(program)`; heavy libraries are imported inside the command actions so that
// `tlbsim --help` stays fast.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { TraceError } from './trace/input.ts';
import { UsageError } from './commands/util.ts';
import * as calibrate from './commands/calibrate.ts';
import * as inspect from './commands/inspect.ts';
import * as workloads from './commands/workloads.ts';
import * as replay from './commands/replay.ts';
import * as validate from './commands/validate.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Commands, in the order `--help` lists them. */
const COMMANDS: { register(program: Command): void }[] = [
  inspect,
  replay,
  workloads,
  calibrate,
  validate,
];

export function buildProgram(): Command {
  const program = new Command('tlbsim')
    .description('Replay kernel traces through a simulated x86 machine under every Linux TLB-flush strategy')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; wrong usage exits 2 (commander printed the message).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof TraceError) { process.stderr.write(`tlbsim: ${e.message}\n`); return 1; }
    if (e instanceof UsageError) { process.stderr.write(`tlbsim: ${e.message}\n`); return e.exitCode; }
    throw e;
  }
}

if (process.argv[1] && /tlbsim(\.mjs)?$|cli\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv);
}
