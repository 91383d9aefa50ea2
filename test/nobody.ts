// Running the CLI as an unprivileged user (uid 65534, "nobody") from tests that run as
// root. The checkout may sit where that user cannot read it (a 0700 mktemp -d directory,
// root's home): then the CLI is run from a copy of what it needs (bin, src, package.json,
// tsconfig.json, node_modules) in a world-readable temporary directory, hard-linked where
// the file system allows it (files keep their modes, and nothing is copied), else copied.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
export const NOBODY = 65534;
export const isRoot = process.geteuid?.() === 0;

/** Whether uid 65534 can read `file` (every directory above it searchable). */
function nobodyReads(file: string): boolean {
  const r = spawnSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.R_OK)', file],
    { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
  return r.status === 0;
}

let root: string | null | undefined;
let why = '';

/** A checkout uid 65534 can run bin/tlbsim.mjs from, or null (with `nobodySkip()`'s reason). */
export function nobodyCheckout(): string | null {
  if (root !== undefined) return root;
  if (!isRoot) { why = 'needs root to run the CLI as uid 65534'; return (root = null); }
  const modules = realpathSync(join(ROOT, 'node_modules'));
  if (nobodyReads(join(ROOT, 'src/cli.ts')) && nobodyReads(join(modules, 'tsx/package.json'))) return (root = ROOT);
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-nobody-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  for (const part of ['bin', 'src', 'package.json', 'tsconfig.json']) {
    if (!existsSync(join(ROOT, part))) continue;
    const linked = spawnSync('cp', ['-al', join(ROOT, part), join(dir, part)], { stdio: 'ignore' });
    if (linked.status !== 0) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  }
  const linked = spawnSync('cp', ['-al', modules, join(dir, 'node_modules')], { stdio: 'ignore' });
  if (linked.status !== 0) cpSync(modules, join(dir, 'node_modules'), { recursive: true, dereference: true });
  if (!nobodyReads(join(dir, 'src/cli.ts'))) {
    why = `uid ${NOBODY} can read neither the checkout nor a copy in ${tmpdir()} (set TMPDIR to a world-readable directory)`;
    return (root = null);
  }
  return (root = dir);
}

/** false when the CLI can run as uid 65534, else why not (a node:test skip value). */
export function nobodySkip(): false | string {
  return nobodyCheckout() === null ? why : false;
}

/** Run the CLI as uid 65534 (cwd: the temporary directory, which it can enter). */
export function tlbsimAsNobody(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const at = nobodyCheckout();
  if (at === null) throw new Error(why);
  return spawnSync(process.execPath, [join(at, 'bin/tlbsim.mjs'), ...args], {
    encoding: 'utf8', cwd: tmpdir(), uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: tmpdir(), ...env },
  });
}
