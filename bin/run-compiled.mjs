// Runs dist/start.cjs, the command line as one script (bin/start-bundle.mjs), with the V8
// code cache the build made for it (dist/start.cache): node 20 caches no compiled code of
// its own, and parsing and compiling commander and the command definitions anew, as ES
// modules one file at a time, is most of what a command spends before its first output.
// A script cannot import: what it needs of the rest of the program comes in as arguments
// to its wrapper function, each resolved against dist/ as the module's own import would
// have been:
//   tlbsimShared  the modules that hold a class or state the rest of dist/ shares
//                 (UsageError, TraceError, the cleanup registry) and the memo module,
//                 loaded once as ES modules, so `instanceof` and the registry are the same
//                 whichever file reaches them;
//   tlbsimUrl     the URL of a path under dist/: what import.meta.url was for a joined
//                 module, and what its import() of a module of dist/ names;
//   tlbsimImport  import() itself (of such a URL, a package or node:*).
// Plain JavaScript with Node built-ins only: this runs before anything is compiled.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { DIST } from './source-hash.mjs';

/** Modules left out of dist/start.cjs and handed to it (paths relative to dist/). */
export const SHARED = ['commands/util.js', 'trace/errors.js', 'trace/cleanup.js', '../bin/help-cache.mjs'];

/** The script's parameters, in order (bin/start-bundle.mjs writes code that names them). */
export const PARAMETERS = ['exports', 'require', 'module', 'tlbsimShared', 'tlbsimImport', 'tlbsimUrl'];

export const START_SCRIPT = join(DIST, 'start.cjs');
export const START_CACHE = join(DIST, 'start.cache');

const distUrl = pathToFileURL(`${DIST}/`);

/** Compile and run dist/start.cjs; its exports (main). With `writeCache`, the code cache
 *  is written there at exit, holding every function the run compiled (the build runs
 *  `--help` so: all the command definitions and commander's help). */
export async function loadCompiled({ writeCache } = {}) {
  const source = readFileSync(START_SCRIPT, 'utf8');
  let cachedData;
  if (!writeCache) try { cachedData = readFileSync(START_CACHE); } catch { /* none: compile it all */ }
  // A cache that V8 rejects (another node, or a script of another length) costs nothing
  // beyond the compiling it would spare. V8 checks the length, not the text: bin/build.mjs
  // always writes the two together, and whoever edits start.cjs by hand deletes start.cache.
  const script = new Script(`(function (${PARAMETERS.join(', ')}) {${source}\n})`, { filename: START_SCRIPT, cachedData });
  if (writeCache) process.on('exit', () => writeFileSync(writeCache, script.createCachedData()));
  const shared = Object.fromEntries(await Promise.all(SHARED.map(async (rel) => [rel, await import(new URL(rel, distUrl).href)])));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(START_SCRIPT), module, shared,
    (specifier) => import(specifier), (rel) => new URL(rel, distUrl).href);
  return module.exports;
}
