// Reading the small files a command takes beside its traces (a cost profile, a sweep spec,
// a suite): whole, but never more than a bound, so that `--profile-file /dev/zero` or a
// trace given by mistake ends with one line instead of filling memory.
import { closeSync, openSync, readSync } from 'node:fs';

/** A profile or a spec is a few KiB of JSON; this is far beyond any real one. */
export const SMALL_FILE_LIMIT = 16 * 1024 * 1024;

export class SmallFileError extends Error {}

/** The file's text (UTF-8). Throws SmallFileError with a one-line message naming the file
 *  and `what` it should be when it cannot be read or is larger than `limit` bytes. Reads
 *  by chunks up to the limit, so a device or a FIFO that never ends is not read on. */
export function readSmallFile(path: string, what: string, limit = SMALL_FILE_LIMIT): string {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    throw new SmallFileError(`${path}: cannot read the ${what} (${codeOf(e)})`);
  }
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      let n: number;
      try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) {
        throw new SmallFileError(`${path}: cannot read the ${what} (${codeOf(e)})`);
      }
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
      total += n;
      if (total > limit) {
        throw new SmallFileError(`${path}: expected a ${what} of at most ${limit / (1024 * 1024)} MiB, found more (stopped reading there): is it the right file?`);
      }
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String((e as Error).message ?? e);
}
