// A hash of everything under src/: what dist/ was compiled from. bin/build.mjs stores it
// beside the JavaScript it emits, and bin/tlbsim.mjs runs dist/ only while the sources still
// hash the same, so an edited checkout never runs stale JavaScript (it falls back to tsx).
// The content decides; sizes and mtimes only spare the hashing while they are the ones the
// stamp recorded (an installed package's files carry the tarball's mtimes, not the build's:
// the first run there hashes, matches, and records the new ones where it may write).
// Plain JavaScript with Node built-ins only: this file runs before anything is compiled.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const STAMP = join(DIST, 'source-hash.json');

function listFiles(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out); else out.push(p);
  }
}

function sourceFiles() {
  const files = [];
  listFiles(join(ROOT, 'src'), files);
  return files.sort();
}

/** sha256 over every file of src/ (relative path and content), in a fixed order. */
export function sourceHash(files = sourceFiles()) {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Each source file's size and mtime, keyed by its path under the root. */
function sourceStats(files) {
  const out = {};
  for (const f of files) {
    const st = statSync(f);
    out[relative(ROOT, f)] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

/** What bin/build.mjs writes beside the JavaScript it compiled from `hash`. */
export function stampText(hash, files = sourceFiles()) {
  return JSON.stringify({ hash, stats: sourceStats(files) }) + '\n';
}

/** True when dist/ holds JavaScript compiled from exactly the sources now in src/. */
export function distIsCurrent() {
  if (process.env.TLBSIM_NO_DIST) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    const files = sourceFiles();
    const stats = sourceStats(files);
    const keys = Object.keys(stats);
    if (keys.length === Object.keys(stamp.stats).length && keys.every((k) => stamp.stats[k] === stats[k])) return true;
    if (sourceHash(files) !== stamp.hash) return false;
    try {
      const tmp = `${STAMP}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ hash: stamp.hash, stats }) + '\n');
      renameSync(tmp, STAMP);
    } catch { /* a read-only install: hash again next time */ }
    return true;
  } catch {
    return false;
  }
}
