#!/usr/bin/env node
// Help and version are answered from a memo rendered by the real command definitions
// (see help-cache.mjs) without loading TypeScript; everything else registers tsx so the
// TypeScript sources run without a build step.
import { cachedHelp } from './help-cache.mjs';

const memo = cachedHelp(process.argv.slice(2));
if (memo !== null) {
  process.stdout.write(memo);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
