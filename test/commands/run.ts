// Run the tlbsim command line as a user does: a child process of bin/tlbsim.mjs.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin/tlbsim.mjs');

export function tlbsim(args: readonly string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, ...options, env: { ...process.env, ...options.env } });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** No stack trace, no source location in what a user sees. */
export const NO_STACK = /\n\s+at .*[.:]\d+|\.ts:\d+:\d+/;
