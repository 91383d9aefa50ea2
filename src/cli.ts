// The tlbsim command line. Each command lives in src/commands/<name>.ts and exports
// `register(program)`; heavy libraries are imported inside the command actions, and a
// command's module is loaded only when the command line needs it, so that every command's
// first output comes about as fast as node starts.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError, terminalSafe } from './commands/util.ts';
import { TraceError } from './trace/errors.ts';
import { red } from './commands/style.ts';
import { memoRequest, writeHelpCache } from '../bin/help-cache.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

type CommandModule = { register(program: Command): void };

/** Commands, in the order `--help` lists them. */
const COMMANDS: [name: string, load: () => Promise<CommandModule>][] = [
  ['inspect', () => import('./commands/inspect.ts')],
  ['replay', () => import('./commands/replay.ts')],
  ['validate', () => import('./commands/validate.ts')],
  ['generate', () => import('./commands/generate.ts')],
  ['calibrate', () => import('./commands/calibrate.ts')],
  ['strategies', () => import('./commands/strategies.ts')],
  ['workloads', () => import('./commands/workloads.ts')],
  ['record', () => import('./commands/record.ts')],
  ['measure', () => import('./commands/measure.ts')],
  ['sweep', () => import('./commands/sweep.ts')],
  ['aggregate', () => import('./commands/aggregate.ts')],
];

/** The program, with every command; or, when argv names a command first, with that one
 *  alone: its action, its help and its usage errors read no other command's definition
 *  (the program's help, `help <command>` and an unknown command's suggestions do). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('tlbsim')
    .description('Replay kernel traces through a simulated x86 machine under every Linux TLB-flush strategy')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${red(terminalSafe(text.trimEnd()), process.stderr)}\n`) });
  const named = COMMANDS.filter(([name]) => name === argv[2]);
  for (const c of await Promise.all((named.length ? named : COMMANDS).map(([, load]) => load()))) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  // Help, the version and the catalogues are memoised (bin/help-cache.mjs) as exactly the
  // bytes this run prints: stdout is copied while the command runs.
  const request = memoRequest(argv.slice(2));
  const memoable = request !== null && (request === '' || request === '--version' || request.startsWith('run:') || program.commands.some((c) => c.name() === request));
  let printed = '';
  const write = process.stdout.write;
  if (memoable) {
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]) {
      printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof write;
  }
  const memo = () => { if (memoable) writeHelpCache({ [request]: printed }); };
  try {
    await program.parseAsync(argv);
    // A command may end with a status of its own (record passes on its command's).
    const status = typeof process.exitCode === 'number' ? process.exitCode : 0;
    if (status === 0) memo();
    return status;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; wrong usage exits 2 (commander printed the message).
      if (e.exitCode === 0) memo();
      return e.exitCode === 0 ? 0 : 2;
    }
    // Messages may quote the file (a first line, a path): no escape sequence reaches the terminal.
    if (e instanceof TraceError) { process.stderr.write(`${red('tlbsim:', process.stderr)} ${terminalSafe(e.message)}\n`); return 1; }
    if (e instanceof UsageError) { process.stderr.write(`${red('tlbsim:', process.stderr)} ${terminalSafe(e.message)}\n`); return e.exitCode; }
    throw e;
  } finally {
    if (memoable) process.stdout.write = write;
  }
}
