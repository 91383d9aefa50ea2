// dist/start.cjs, what bin/tlbsim.mjs runs (through bin/run-compiled.mjs, with a V8 code
// cache): dist/cli.js with commander, the command definitions (dist/commands/<name>.js,
// which cli.js imports lazily: they stay lazy) and everything they import statically,
// joined into one script, so that a command's first output waits neither for a dozen
// module files to be found, read and linked one after another nor for their compiling.
// Every module reached through import() stays a file of its own in dist/ (most load only
// when a command runs). A module joined in exists twice, here and in its own file for the
// modules that import it there: the ones holding a class or state the rest of dist/ must
// share (run-compiled.mjs SHARED) are left out and handed in instead; the others joined
// are tables, formatters and the command definitions.
// Without esbuild (it comes with tsx) there is no start.cjs, and bin/tlbsim.mjs imports
// dist/cli.js: slower to start, the same program.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SHARED } from './run-compiled.mjs';

/** A path under dist/, as the script's parameters name it ('trace/index.js'). */
const underDist = (dist, file) => relative(dist, file).split(sep).join('/');

/** A joined module's source with import.meta.url and import() of literal specifiers
 *  turned into the script's parameters (run-compiled.mjs), except cli.js's lazy imports of
 *  the command definitions, which esbuild joins. */
function scriptForm(dist, file, source) {
  const rel = underDist(dist, file);
  return source
    .replaceAll('import.meta.url', `tlbsimUrl(${JSON.stringify(rel)})`)
    .replace(/\bimport\((['"])([^'"]+)\1\)/g, (call, quote, specifier) => {
      if (!specifier.startsWith('.')) return `tlbsimImport(${JSON.stringify(specifier)})`;
      const target = resolve(dirname(file), specifier);
      if (rel === 'cli.js' && dirname(target) === join(dist, 'commands')) return call;
      return `tlbsimImport(tlbsimUrl(${JSON.stringify(underDist(dist, target))}))`;
    });
}

/** Write `${dist}/start.cjs`; returns 'bundle', or 'none' without esbuild. */
export async function writeStart(dist) {
  let esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild');
  } catch {
    return 'none';
  }
  const outfile = join(dist, 'start.cjs');
  await esbuild.build({
    entryPoints: [join(dist, 'cli.js')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    logOverride: { 'empty-import-meta': 'error' },
    plugins: [{
      name: 'the-start-path',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (a) => {
          if (a.kind === 'entry-point') return undefined;
          if (a.path.startsWith('node:')) return { path: a.path, external: true };
          // commander and its own files are joined; any other package would be require()d
          // by the script, which an ES module cannot be: import it lazily instead.
          if (a.path === 'commander' || a.importer.includes(`${sep}node_modules${sep}`)) return undefined;
          if (!a.path.startsWith('.')) return { errors: [{ text: `${a.importer} imports the package ${a.path} statically: the start script can join only commander (import it inside the action)` }] };
          const rel = underDist(dist, resolve(a.resolveDir, a.path));
          // Named .cjs: esbuild takes a .mjs name for an ES module, whose `module` is not its own.
          if (SHARED.includes(rel)) return { path: `${rel}.cjs`, namespace: 'tlbsim-shared' };
          return undefined;
        });
        build.onLoad({ filter: /.*/, namespace: 'tlbsim-shared' }, (a) => ({ contents: `module.exports = tlbsimShared[${JSON.stringify(a.path.slice(0, -'.cjs'.length))}];`, loader: 'js' }));
        build.onLoad({ filter: /\.js$/ }, (a) => {
          if (a.path.includes(`${sep}node_modules${sep}`)) return undefined;
          return { contents: scriptForm(dist, a.path, readFileSync(a.path, 'utf8')), loader: 'js', resolveDir: dirname(a.path) };
        });
      },
    }],
  });
  const script = readFileSync(outfile, 'utf8');
  // What a script cannot do, caught here rather than at a user's first command.
  const left = /\bimport\(|import\.meta/.exec(script);
  if (left) throw new Error(`${outfile} still holds "${left[0]}" (a specifier that is not a string literal?)`);
  return 'bundle';
}

