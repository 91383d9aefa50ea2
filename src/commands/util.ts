// Shared helpers for commands: user errors end the process with a message, not a stack.
import { describeFsError } from '../trace/errors.ts';
export { atomicTarget, type AtomicTarget } from '../trace/cleanup.ts';

export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) { super(message); this.name = 'UsageError'; }
}

export function fail(message: string, exitCode = 1): never {
  throw new UsageError(message, exitCode);
}

// C0 and C1 controls (escape sequences start with one), and the Unicode bidirectional
// controls (ALM U+061C, LRM/RLM U+200E-F, embeddings and overrides U+202A-E, isolates
// U+2066-9): a task name holding U+202E shows the pids and mm numbers after it reversed.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text that may contain trace-chosen bytes, made safe for a terminal: control and bidi
 *  control characters become '?'. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, '?');
}

/** JSON text made safe the same way without changing what it parses to: each such
 *  character written as its \\u escape (JSON.stringify escapes C0 only). */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Print text that may contain trace-chosen names: strip terminal control sequences. */
export function printSafe(text: string): void {
  process.stdout.write(terminalSafe(text) + '\n');
}

/** Print JSON that may contain trace-chosen names, escaped so that it parses the same. */
export function printJsonSafe(json: string): void {
  process.stdout.write(jsonTerminalSafe(json) + '\n');
}

/** A line for stderr (notes, "wrote ..."), which may quote paths and task names. */
export function noteSafe(line: string): void {
  process.stderr.write(terminalSafe(line) + '\n');
}

/** End the command with one line saying why `path` could not be written. */
export function writeFailed(path: string, what: string, e: unknown): never {
  if (!(e as { code?: string }).code) throw e;
  fail(`cannot write ${what} ${path}: ${describeFsError(e)}`, 1);
}
