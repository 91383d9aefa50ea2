// A hash of everything under src/: what dist/ was compiled from. bin/build.mjs stores it
// beside the JavaScript it emits, and bin/tlbsim.mjs runs dist/ only while the sources still
// hash the same, so an edited checkout never runs stale JavaScript (it falls back to tsx).
// The content decides; sizes and mtimes only spare the hashing while they are the ones the
// stamp recorded (an installed package's files carry the tarball's mtimes, not the build's:
// the first run there hashes, matches, and records the new ones where it may write).
// The stamp also records each directory's mtime, which changes whenever an entry is added,
// removed or renamed in it: while those match, the files the stamp lists are all there is,
// and the check is one stat per file and directory, without listing any directory (this
// runs before every command's first output).
// Plain JavaScript with Node built-ins only: this file runs before anything is compiled.
import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const STAMP = join(DIST, 'source-hash.json');

function listFiles(dir, out, dirs) {
  dirs?.push(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out, dirs); else out.push(p);
  }
}

function sourceFiles(dirs) {
  const files = [];
  listFiles(join(ROOT, 'src'), files, dirs);
  return files.sort();
}

function sourceDirs() {
  const dirs = [];
  sourceFiles(dirs);
  return dirs.sort();
}

/** sha256 over every file of src/ (relative path and content), in a fixed order. */
export function sourceHash(files = sourceFiles()) {
  // Loaded here, not at the top: only a changed or never-checked tree is hashed.
  const h = process.getBuiltinModule('node:crypto').createHash('sha256');
  for (const f of files) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** A file's size and mtime, as the stamp records them ('missing' for none). */
function statOf(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? 'missing' : `${st.size}:${st.mtimeMs}`;
}

/** Each source file's size and mtime, keyed by its path under the root. */
function sourceStats(files) {
  const out = {};
  for (const f of files) out[relative(ROOT, f)] = statOf(f);
  return out;
}

/** Each directory's mtime, keyed like sourceStats. */
function dirStats(dirs) {
  const out = {};
  for (const d of dirs) out[relative(ROOT, d)] = statSync(d).mtimeMs;
  return out;
}

/** What bin/build.mjs writes beside the JavaScript it compiled from `hash`. */
export function stampText(hash, files = sourceFiles()) {
  return JSON.stringify({ hash, ...treeSnapshot([], files) }) + '\n';
}

/** The sizes and mtimes of src/ (files and directories) and of `extra` files (absolute
 *  paths, which need not exist), for treeUnchanged to compare against later. */
export function treeSnapshot(extra = [], files = sourceFiles()) {
  return { stats: sourceStats([...files, ...extra]), dirs: dirStats(sourceDirs()) };
}

/** True when no directory gained or lost an entry and no file changed size or mtime since
 *  `snapshot` was taken: one stat each, no listing. */
export function treeUnchanged(snapshot) {
  if (typeof snapshot?.dirs !== 'object' || snapshot.dirs === null || typeof snapshot.stats !== 'object' || snapshot.stats === null) return false;
  for (const [d, mtime] of Object.entries(snapshot.dirs)) {
    const st = statSync(join(ROOT, d), { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory() || st.mtimeMs !== mtime) return false;
  }
  for (const [f, stat] of Object.entries(snapshot.stats)) if (statOf(join(ROOT, f)) !== stat) return false;
  return true;
}

/** True when dist/ holds JavaScript compiled from exactly the sources now in src/. */
export function distIsCurrent() {
  if (process.env.TLBSIM_NO_DIST) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    if (treeUnchanged(stamp)) return true;
    const files = sourceFiles();
    if (sourceHash(files) !== stamp.hash) return false;
    try {
      const tmp = `${STAMP}.${process.pid}.tmp`;
      writeFileSync(tmp, stampText(stamp.hash, files));
      renameSync(tmp, STAMP);
    } catch { /* a read-only install: hash again next time */ }
    return true;
  } catch {
    return false;
  }
}
