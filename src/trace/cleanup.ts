// Temporary files that must not outlive the process: the spill file of a parsed trace,
// a cache being written, a report or CSV table before its rename. They are removed when
// the owner is done, at exit, and on SIGINT/SIGTERM/SIGHUP (after which the process ends
// with the signal's status, 128 + N, as if the handler had not been there).
//
// A process that dies without running JavaScript (SIGKILL, a V8 heap OOM abort) cannot
// clean up, so every such name carries the writer's pid: `sweepStale` removes, on a later
// run, the leftovers of processes that no longer exist.
import { lstatSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const live = new Map<string, 'file' | 'dir'>();
let installed = false;

function removeAll(): void {
  for (const [p, what] of live) {
    try { if (what === 'dir') rmSync(p, { recursive: true, force: true }); else unlinkSync(p); } catch { /* already gone */ }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      removeAll();
      // Re-raise with the default action, so the exit status says what happened (130 for
      // Ctrl-C) and a parent shell stops its loop as it would without us. Only when no
      // one else listens: then the signal was ours to handle.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/** Remove `path` (a file, or a directory and its contents) at exit or on a signal,
 *  unless `release` is called first. */
export function removeLater(path: string, what: 'file' | 'dir' = 'file'): void {
  install();
  live.set(path, what);
}

/** `path` was removed or renamed into place by its owner: nothing to do at exit. */
export function release(path: string): void {
  live.delete(path);
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as { code?: string }).code === 'EPERM'; }
}

/** Remove entries of `dir` that `parse` says belong to a pid no longer running, and that
 *  this user owns (a shared $TMPDIR holds other users' files, and pids of another pid
 *  namespace may look dead from here). */
export function sweepStale(dir: string, parse: (name: string) => number | null): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    const pid = parse(name);
    if (pid === null || alive(pid)) continue;
    try {
      const st = lstatSync(join(dir, name));
      if (st.uid !== (process.geteuid?.() ?? st.uid) || st.isSymbolicLink()) continue;
    } catch { continue; }
    try { rmSync(join(dir, name), { recursive: true, force: true }); } catch { /* not ours */ }
  }
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
