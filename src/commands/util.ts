// Shared helpers for commands: user errors end the process with a message, not a stack.
import { describeFsError } from '../trace/input.ts';
export { atomicTarget, type AtomicTarget } from '../trace/cleanup.ts';

export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) { super(message); this.name = 'UsageError'; }
}

export function fail(message: string, exitCode = 1): never {
  throw new UsageError(message, exitCode);
}

/** Text that may contain trace-chosen bytes, made safe for a terminal: control
 *  characters (escape sequences start with one) become '?'. */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** Print text that may contain trace-chosen names: strip terminal control sequences. */
export function printSafe(text: string): void {
  process.stdout.write(terminalSafe(text) + '\n');
}

/** End the command with one line saying why `path` could not be written. */
export function writeFailed(path: string, what: string, e: unknown): never {
  if (!(e as { code?: string }).code) throw e;
  fail(`cannot write ${what} ${path}: ${describeFsError(e)}`, 1);
}
