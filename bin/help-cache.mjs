// A memo of `tlbsim --help`, `tlbsim <command> --help`, `--version` and the catalogues
// (`tlbsim strategies`, `tlbsim workloads`, each with or without --json), so that asking
// for them does not pay for loading the program (tsx's register() alone costs ~0.3 s; the
// compiled program still loads commander and the command definitions).
//
// The texts are not written by hand: src/cli.ts stores what the program itself printed,
// each time it answers one of these requests, with the size and mtime of every source
// file and directory (bin/source-hash.mjs), package.json, package-lock.json, the Node
// version, and what the terminal looks like (commander wraps help to the terminal width;
// the catalogues colour for a terminal). Any edit to the sources makes the memo stale and
// the next request goes through the full path again, which starts a new memo. Plain JavaScript with Node built-ins only: this file runs
// before tsx is registered.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeSnapshot, treeUnchanged } from './source-hash.mjs';

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

/** The files besides src/ whose change may change a memoised text. */
const EXTRA = [join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), join(ROOT, 'bin', 'help-cache.mjs')];

/** What else the texts depend on: the Node version and what the terminal looks like. */
export function memoEnvironment() {
  const out = process.stdout;
  return `${process.version}\0${out.isTTY ? `tty${out.columns}` : 'pipe'}\0${process.env.NO_COLOR ?? ''}\0${process.env.FORCE_COLOR ?? ''}\0${process.env.TERM === 'dumb' ? 'dumb' : ''}`;
}

/** The memoised text for argv, or null (not a memo request, no memo, or a stale one). */
export function cachedHelp(args, file = CACHE_FILE) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return null;
  const entry = memoRequest(args);
  if (entry === null) return null;
  let memo;
  try { memo = JSON.parse(readFileSync(file, 'utf8')); } catch { return null; }
  if (typeof memo?.texts?.[entry] !== 'string' || memo.env !== memoEnvironment() || !treeUnchanged(memo.tree)) return null;
  return memo.texts[entry];
}

/** Add freshly printed texts to the memo, or start a new one if the sources changed (best
 *  effort: a read-only install simply has no memo; two runs at once may keep one's entry). */
export function writeHelpCache(texts, file = CACHE_FILE) {
  if (process.env.TLBSIM_NO_HELP_CACHE) return; // asked to bypass the memo: leave it alone too
  try {
    let memo = null;
    try { memo = JSON.parse(readFileSync(file, 'utf8')); } catch { /* none yet, or torn */ }
    const env = memoEnvironment();
    const current = memo?.env === env && typeof memo.texts === 'object' && memo.texts !== null && treeUnchanged(memo.tree);
    const tree = current ? memo.tree : treeSnapshot(EXTRA);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ env, tree, texts: { ...(current ? memo.texts : {}), ...texts } }));
    renameSync(tmp, file);
  } catch { /* no memo: help still works, just slower */ }
}
