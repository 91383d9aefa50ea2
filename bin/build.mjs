// `npm run build` (and npm's `prepare`, which npm ci and npm pack run): compile src/ to
// dist/ with tsc so that the CLI starts without loading a TypeScript loader (tsx's
// register() alone costs ~0.3 s of every command). The sources stay the truth: scripts and
// tests import src/ through tsx, and bin/tlbsim.mjs uses dist/ only while
// dist/source-hash.json matches src/ (bin/source-hash.mjs).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, ROOT, STAMP, sourceHash, stampText } from './source-hash.mjs';
import { writeStart } from './start-bundle.mjs';
import { START_CACHE, START_SCRIPT } from './run-compiled.mjs';

const require = createRequire(import.meta.url);
let tsc;
try {
  // typescript's exports map hides bin/; its package.json is exported and bin/ sits beside it.
  tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  // An installed package ships dist/ prebuilt (npm pack runs this first); without
  // TypeScript there is nothing to rebuild, and the CLI falls back to tsx if dist/ is stale.
  console.error('tlbsim build: typescript is not installed; dist/ left as it is');
  process.exit(0);
}
const hash = sourceHash();
const tmp = `${DIST}.${process.pid}.tmp`;
rmSync(tmp, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`tlbsim build: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
// Files the compiled modules read beside themselves (new URL('./x', import.meta.url)):
// everything under src/ that is not TypeScript.
function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyAssets(p);
    else if (!e.name.endsWith('.ts')) {
      const to = join(tmp, relative(join(ROOT, 'src'), p));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(p, to);
    }
  }
}
copyAssets(join(ROOT, 'src'));
// The catalogues, taken from the compiled registries themselves, so that `tlbsim strategies`
// and `tlbsim workloads` answer without loading them (src/commands/built-catalogues.ts).
try {
  const strategies = await import(pathToFileURL(join(tmp, 'commands', 'strategies.js')).href);
  const workloads = await import(pathToFileURL(join(tmp, 'commands', 'workloads.js')).href);
  const { BUILT_CATALOGUES_FILE } = await import(pathToFileURL(join(tmp, 'commands', 'built-catalogues.js')).href);
  writeFileSync(join(tmp, BUILT_CATALOGUES_FILE), JSON.stringify({
    strategies: await strategies.strategiesListing(),
    unsafeWhen: await strategies.strategiesUnsafeWhen(),
    workloads: await workloads.workloadListings(),
  }));
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`tlbsim build: writing the catalogues failed: ${e.message}`);
  process.exit(1);
}
try {
  await writeStart(tmp);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`tlbsim build: bundling dist/start.cjs failed: ${e.message}`);
  process.exit(1);
}
writeFileSync(join(tmp, relative(DIST, STAMP)), stampText(hash));
// Swap in whole, so a concurrent CLI run sees the old dist/ or the new one, never half.
rmSync(DIST, { recursive: true, force: true });
renameSync(tmp, DIST);
// The code cache of dist/start.cjs, from a `--help` run (it defines every command and
// formats their help), made after the swap so that it is of the script as it now stands
// (V8 refuses a cache made for a source of another length). Without it the CLI compiles the
// script each time, which is slower and no different.
if (existsSync(START_SCRIPT)) {
  const cacheTmp = `${START_CACHE}.${process.pid}.tmp`;
  const warm = spawnSync(process.execPath, ['--input-type=module', '-e',
    `const { loadCompiled } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'bin', 'run-compiled.mjs')).href)});
     const { main } = await loadCompiled({ writeCache: ${JSON.stringify(cacheTmp)} });
     process.exitCode = await main([process.argv[0], 'tlbsim', '--help']);`],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TLBSIM_NO_HELP_CACHE: '1' } });
  if (warm.status === 0 && existsSync(cacheTmp)) renameSync(cacheTmp, START_CACHE);
  else { rmSync(cacheTmp, { force: true }); console.error(`tlbsim build: no code cache for dist/start.cjs (the --help run exited ${warm.status ?? warm.signal})`); }
}
