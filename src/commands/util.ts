// Shared helpers for commands: user errors end the process with a message, not a stack.
import { renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeFsError } from '../trace/errors.ts';
import { release, removeLater } from '../trace/cleanup.ts';

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

/** A file written under a temporary name beside `path` and renamed over it when complete,
 *  so that a full disk, an error or Ctrl-C leaves the previous file (or none), never a
 *  truncated one. A path that exists and is not a regular file (/dev/null, /dev/full, a
 *  FIFO) is written in place: renaming over it would replace the device node. */
export interface AtomicTarget {
  /** Where to write. */
  readonly tmp: string;
  /** Rename into place. */
  commit(): void;
  /** Remove the temporary file (after a failure). */
  abandon(): void;
}

export function atomicTarget(path: string): AtomicTarget {
  let special = false;
  try { special = !statSync(path).isFile(); } catch { /* absent: written anew */ }
  if (special) return { tmp: path, commit() {}, abandon() {} };
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  removeLater(tmp);
  return {
    tmp,
    commit() { renameSync(tmp, path); release(tmp); },
    abandon() { rmSync(tmp, { force: true }); release(tmp); },
  };
}

/** End the command with one line saying why `path` could not be written. */
export function writeFailed(path: string, what: string, e: unknown): never {
  if (!(e as { code?: string }).code) throw e;
  fail(`cannot write ${what} ${path}: ${describeFsError(e)}`, 1);
}
