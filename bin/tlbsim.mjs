#!/usr/bin/env node
// Help, the version and the catalogues are answered from a memo of what the program
// itself printed for them (see help-cache.mjs). Everything else runs the JavaScript that
// bin/build.mjs compiled into dist/ at install time (dist/start.cjs: the command line in
// one script with its code cache, see start-bundle.mjs and run-compiled.mjs; dist/cli.js
// when it was built without esbuild), as long as it was compiled from the sources now in
// src/ (source-hash.mjs); an edited checkout, or one never built, registers tsx and runs
// the TypeScript sources directly: slower to start, the same program.
import { existsSync } from 'node:fs';
import { cachedHelp } from './help-cache.mjs';
import { distIsCurrent } from './source-hash.mjs';
import { START_SCRIPT, loadCompiled } from './run-compiled.mjs';

// `tlbsim replay ... | head`, `validate --explain | head`: a reader that closes the pipe
// early ends the output of every command, here in one place, as SIGPIPE ends coreutils
// (exit 128 + 13); Node ignores SIGPIPE and would otherwise die of an unhandled EPIPE with a
// stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(141); throw e; });
}

const memo = cachedHelp(process.argv.slice(2));
if (memo !== null) {
  process.stdout.write(memo);
} else {
  let program;
  if (distIsCurrent()) {
    program = existsSync(START_SCRIPT) ? await loadCompiled() : await import('../dist/cli.js');
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    program = await import('../src/cli.ts');
  }
  process.exitCode = await program.main(process.argv);
}
