// A memo of `tlbsim --help`, `tlbsim <command> --help`, `--version` and the catalogues
// (`tlbsim strategies`, `tlbsim workloads`, each with or without --json), so that asking
// for them does not pay for loading the program (tsx's register() alone costs ~0.3 s; the
// compiled program still loads commander and the command definitions).
//
// The texts are not written by hand: src/cli.ts stores what the program itself printed,
// each time it answers one of these requests, under a key made of every source file's size
// and mtime, package.json, package-lock.json, the Node version, and what the terminal looks
// like (commander wraps help to the terminal width; the catalogues colour for a terminal).
// Any edit to the sources changes the key and the next request goes through the full path
// again, which starts a new memo. Plain JavaScript with Node built-ins only: this file runs
// before tsx is registered.
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// One memo per checkout: worktrees of one repository may share a node_modules (a symlink),
// and each would otherwise replace the others' memo with its own on every request.
const CACHE_FILE = join(ROOT, 'node_modules', '.cache', 'tlbsim', `help-${fnv1a(ROOT)}.json`);

/** A short, stable name for a string (FNV-1a, 32 bits): node:crypto costs a start-up. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

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

/** The catalogue commands whose output is memoised: argv exactly as typed. */
const CATALOGUES = new Set(['strategies', 'strategies --json', 'workloads', 'workloads --json']);

/** Which memo entry argv asks for: a help entry (helpRequest), 'run:<argv>' for a
 *  catalogue, or null. */
export function memoRequest(args) {
  const help = helpRequest(args);
  if (help !== null) return help;
  const line = args.join(' ');
  return args.length <= 2 && CATALOGUES.has(line) ? `run:${line}` : null;
}

/** Changes whenever anything that could change the help text changes. */
export function helpCacheKey() {
  const files = [join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), join(ROOT, 'bin', 'help-cache.mjs')];
  listFiles(join(ROOT, 'src'), files);
  files.sort();
  // Loaded here: a command that is not a memo request never needs node:crypto.
  const h = process.getBuiltinModule('node:crypto').createHash('sha256');
  for (const f of files) {
    try { const st = statSync(f); h.update(`${f}\0${st.size}\0${Math.trunc(st.mtimeMs)}\n`); } catch { h.update(`${f}\0missing\n`); }
  }
  const out = process.stdout;
  h.update(`${process.version}\0${out.isTTY ? `tty${out.columns}` : 'pipe'}\0${process.env.NO_COLOR ?? ''}\0${process.env.FORCE_COLOR ?? ''}\0${process.env.TERM === 'dumb' ? 'dumb' : ''}`);
  return h.digest('hex');
}

/** The memoised text for argv, or null (not a help request, no memo, or a stale one). */
export function cachedHelp(args) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return null;
  const entry = memoRequest(args);
  if (entry === null) return null;
  let memo;
  try { memo = JSON.parse(readFileSync(CACHE_FILE, 'utf8')); } catch { return null; }
  if (!memo || memo.key !== helpCacheKey() || typeof memo.texts?.[entry] !== 'string') return null;
  return memo.texts[entry];
}

/** Add freshly printed texts to the memo, or start a new one if the sources changed (best
 *  effort: a read-only install simply has no memo; two runs at once may keep one's entry). */
export function writeHelpCache(texts) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return; // asked to bypass the memo: leave it alone too
  try {
    const key = helpCacheKey();
    let memo = null;
    try { memo = JSON.parse(readFileSync(CACHE_FILE, 'utf8')); } catch { /* none yet, or torn */ }
    const kept = memo?.key === key && typeof memo.texts === 'object' && memo.texts !== null ? memo.texts : {};
    mkdirSync(dirname(CACHE_FILE), { recursive: true });
    const tmp = `${CACHE_FILE}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ key, texts: { ...kept, ...texts } }));
    renameSync(tmp, CACHE_FILE);
  } catch { /* no memo: help still works, just slower */ }
}
