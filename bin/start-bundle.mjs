// dist/start.js, what bin/tlbsim.mjs runs: dist/cli.js with commander, the command
// definitions (dist/commands/<name>.js, which cli.js imports lazily: they stay lazy) and the
// few dependency-free tables and formatters they name joined into one file, so that a
// command's first output does not wait for a dozen module files to be found, read and
// linked one after another. Every other module stays an import of its own file in dist/:
// those may hold state or classes (the cleanup registry, UsageError, TraceError) that must
// exist once however they are reached, and most are loaded only when a command runs. A
// module joined in must be stateless and class-free, as those below are: joined, it exists
// twice (here and in its own file, for the modules that import it there).
// Without esbuild (it comes with tsx) start.js just imports cli.js: slower, the same program.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** Modules joined in besides cli.js and the command definitions (paths under dist/). */
const JOINED = new Set([
  'commands/style.js', 'commands/progress.js', 'trace/event.js', 'replay/draw-count.js',
  'machine/metrics.js', 'analysis/headline.js', 'analysis/format.js',
]);

/** A module that finds files beside itself (import.meta.url) must stay where it is. */
const placeBound = (file) => readFileSync(file, 'utf8').includes('import.meta');

/** Write `${dist}/start.js`; returns 'bundle' or 'plain'. */
export async function writeStart(dist) {
  let esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild');
  } catch {
    writeFileSync(join(dist, 'start.js'), "import './cli.js';\n");
    return 'plain';
  }
  const cli = join(dist, 'cli.js');
  const commands = join(dist, 'commands');
  await esbuild.build({
    entryPoints: [cli],
    outfile: join(dist, 'start.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'error',
    // commander is CommonJS: its require() of node built-ins needs a require in an ES module.
    banner: { js: "import { createRequire as tlbsimCreateRequire } from 'node:module'; const require = tlbsimCreateRequire(import.meta.url);" },
    plugins: [{
      name: 'only-the-start-path',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (a) => {
          if (a.kind === 'entry-point' || a.path === 'commander' || a.path.startsWith('node:')) return undefined;
          if (!a.path.startsWith('.')) return { path: a.path, external: true };
          const target = resolve(a.resolveDir, a.path);
          const rel = relative(dist, target);
          const joined = (a.importer === cli && a.kind === 'dynamic-import' && dirname(target) === commands)
            || (a.kind === 'import-statement' && JOINED.has(rel));
          if (joined && !placeBound(target)) return undefined;
          return { path: `./${rel}`, external: true };
        });
      },
    }],
  });
  return 'bundle';
}
