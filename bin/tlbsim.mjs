#!/usr/bin/env node
// Help, the version and the catalogues are answered from a memo of what the program
// itself printed for them (see help-cache.mjs). Everything else runs the JavaScript that
// bin/build.mjs compiled into dist/ at install time (dist/start.js: the command line in one
// file, see start-bundle.mjs), as long as it was compiled from the sources now in src/
// (source-hash.mjs); an edited checkout, or one never built, registers tsx and runs the
// TypeScript sources directly: slower to start, the same program.
import { cachedHelp } from './help-cache.mjs';
import { distIsCurrent } from './source-hash.mjs';

const memo = cachedHelp(process.argv.slice(2));
if (memo !== null) {
  process.stdout.write(memo);
} else if (distIsCurrent()) {
  await import('../dist/start.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
