// A memo of `tlbsim --help`, `tlbsim <command> --help` and `--version`, so that asking for
// help does not pay for loading TypeScript (tsx's register() alone costs ~0.3 s).
//
// The texts are not written by hand: src/cli.ts renders them from the same commander
// definitions that parse the command line, the first time help is asked for, and stores
// them here under a key made of every source file's size and mtime, package.json,
// package-lock.json, the Node version, and what the terminal looks like (commander wraps
// help to the terminal width). Any edit to the sources changes the key and the next help
// request goes through the full path again, which rewrites the memo. Plain JavaScript
// with Node built-ins only: this file runs before tsx is registered.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_FILE = join(ROOT, 'node_modules', '.cache', 'tlbsim', 'help.json');

/** Which memo entry argv asks for: '' (program help), a command name, '--version', or null. */
export function helpRequest(args) {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h' || args[0] === 'help')) return '';
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) return '--version';
  if (args.length === 2 && (args[1] === '--help' || args[1] === '-h') && !args[0].startsWith('-')) return args[0];
  if (args.length === 2 && args[0] === 'help' && !args[1].startsWith('-')) return args[1];
  return null;
}

function listFiles(dir, out) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out); else out.push(p);
  }
}

/** Changes whenever anything that could change the help text changes. */
export function helpCacheKey() {
  const files = [join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), join(ROOT, 'bin', 'help-cache.mjs')];
  listFiles(join(ROOT, 'src'), files);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    try { const st = statSync(f); h.update(`${f}\0${st.size}\0${Math.trunc(st.mtimeMs)}\n`); } catch { h.update(`${f}\0missing\n`); }
  }
  const out = process.stdout;
  h.update(`${process.version}\0${out.isTTY ? `tty${out.columns}` : 'pipe'}\0${process.env.NO_COLOR ?? ''}\0${process.env.FORCE_COLOR ?? ''}`);
  return h.digest('hex');
}

/** The memoised text for argv, or null (not a help request, no memo, or a stale one). */
export function cachedHelp(args) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return null;
  const entry = helpRequest(args);
  if (entry === null) return null;
  let memo;
  try { memo = JSON.parse(readFileSync(CACHE_FILE, 'utf8')); } catch { return null; }
  if (!memo || memo.key !== helpCacheKey() || typeof memo.texts?.[entry] !== 'string') return null;
  return memo.texts[entry];
}

/** Store freshly rendered texts (best effort: a read-only install simply has no memo). */
export function writeHelpCache(texts) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return; // asked to bypass the memo: leave it alone too
  try {
    mkdirSync(dirname(CACHE_FILE), { recursive: true });
    const tmp = `${CACHE_FILE}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ key: helpCacheKey(), texts }));
    renameSync(tmp, CACHE_FILE);
  } catch { /* no memo: help still works, just slower */ }
}
