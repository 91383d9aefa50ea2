// The tlbsim command line. Each command lives in src/commands/<name>.ts and exports
// `register(program)`; heavy libraries are imported inside the command actions so that
// `tlbsim --help` stays fast.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError, terminalSafe } from './commands/util.ts';
import { red } from './commands/style.ts';
import { helpRequest, writeHelpCache } from '../bin/help-cache.mjs';
import * as calibrate from './commands/calibrate.ts';
import * as inspect from './commands/inspect.ts';
import * as workloads from './commands/workloads.ts';
import * as strategies from './commands/strategies.ts';
import * as generate from './commands/generate.ts';
import * as record from './commands/record.ts';
import * as replay from './commands/replay.ts';
import * as validate from './commands/validate.ts';
import * as measure from './commands/measure.ts';
import * as sweep from './commands/sweep.ts';
import * as aggregate from './commands/aggregate.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Commands, in the order `--help` lists them. */
const COMMANDS: { register(program: Command): void }[] = [
  inspect,
  replay,
  validate,
  generate,
  calibrate,
  strategies,
  workloads,
  record,
  measure,
  sweep,
  aggregate,
];

export function buildProgram(): Command {
  const program = new Command('tlbsim')
    .description('Replay kernel traces through a simulated x86 machine under every Linux TLB-flush strategy')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${red(terminalSafe(text.trimEnd()), process.stderr)}\n`) });
  for (const c of COMMANDS) c.register(program);
  return program;
}

/** Every text the bin shim may answer from its memo, rendered by parsing the same argv
 *  the user would type into a program whose output is captured. */
export async function renderHelpTexts(): Promise<Record<string, string>> {
  const capture = async (args: string[]): Promise<string> => {
    let out = '';
    const program = buildProgram();
    const quiet = (c: Command): void => {
      c.configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { out += s; } });
      for (const sub of c.commands) quiet(sub);
    };
    quiet(program);
    try { await program.parseAsync(['node', 'tlbsim', ...args]); } catch (e) { if (!(e instanceof CommanderError)) throw e; }
    return out;
  };
  const texts: Record<string, string> = { '': await capture(['--help']), '--version': await capture(['--version']) };
  for (const c of buildProgram().commands) texts[c.name()] = await capture([c.name(), '--help']);
  return texts;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command may end with a status of its own (record passes on its command's).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; wrong usage exits 2 (commander printed the message).
      if (e.exitCode === 0 && helpRequest(argv.slice(2)) !== null) writeHelpCache(await renderHelpTexts());
      return e.exitCode === 0 ? 0 : 2;
    }
    // Messages may quote the file (a first line, a path): no escape sequence reaches the terminal.
    // Loaded only here: trace/input.ts pulls in node:zlib and node:child_process, which a
    // command that never reads a trace should not pay for at start-up.
    const { TraceError } = await import('./trace/input.ts');
    if (e instanceof TraceError) { process.stderr.write(`${red('tlbsim:', process.stderr)} ${terminalSafe(e.message)}\n`); return 1; }
    if (e instanceof UsageError) { process.stderr.write(`${red('tlbsim:', process.stderr)} ${terminalSafe(e.message)}\n`); return e.exitCode; }
    throw e;
  }
}

if (process.argv[1] && /tlbsim(\.mjs)?$|cli\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv);
}
