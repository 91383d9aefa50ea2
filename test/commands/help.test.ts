// `--help` everywhere, and the memo that lets the bin shim answer it without TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli.ts';
import { helpCacheKey, helpRequest } from '../../bin/help-cache.mjs';
import { ROOT, tlbsim } from './run.ts';

const COMMANDS = (await buildProgram()).commands.map((c) => c.name()).filter((n) => n !== 'help');
const NO_MEMO = { env: { TLBSIM_NO_HELP_CACHE: '1' } };

test('every command answers --help with a description and an example, exit 0', () => {
  assert.ok(COMMANDS.length >= 5, COMMANDS.join(','));
  for (const name of ['inspect', 'generate', 'strategies', 'workloads', 'record']) assert.ok(COMMANDS.includes(name), name);
  const top = tlbsim(['--help'], NO_MEMO);
  assert.equal(top.status, 0, top.stderr);
  for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'), `tlbsim --help lists ${name}`);
  for (const name of COMMANDS) {
    const r = tlbsim([name, '--help'], NO_MEMO);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: tlbsim ${name} `, 'm'), name);
    assert.match(r.stdout, /\nExamples?:\n {2}(sudo )?tlbsim /, `${name} --help has an example`);
  }
});

test('help from the memo is byte-for-byte what the command definitions print', () => {
  // The first request renders the memo (or finds it current); the answers must not differ.
  for (const args of [['--help'], ['--version'], ...COMMANDS.map((c) => [c, '--help']), ['help', 'record']]) {
    const fresh = tlbsim(args, NO_MEMO);
    const warm = tlbsim(args);
    const memo = tlbsim(args);
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.equal(memo.status, 0, memo.stderr);
    assert.equal(warm.stdout, fresh.stdout, args.join(' '));
    assert.equal(memo.stdout, fresh.stdout, args.join(' '));
  }
  assert.match(tlbsim(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('the memo is used only for help and version requests, and goes stale when a source file changes', () => {
  assert.equal(helpRequest(['--help']), '');
  assert.equal(helpRequest(['help']), '');
  assert.equal(helpRequest(['-V']), '--version');
  assert.equal(helpRequest(['generate', '--help']), 'generate');
  assert.equal(helpRequest(['help', 'record']), 'record');
  assert.equal(helpRequest(['generate', 'ping-pong', '--help']), null);
  assert.equal(helpRequest(['inspect', 'trace.txt']), null);
  assert.equal(helpRequest(['--json', '--help']), null);
  assert.equal(helpRequest([]), null);

  const file = join(ROOT, 'src/commands/generate.ts');
  // Whole seconds: utimes takes seconds as a double, so restoring a millisecond mtime can
  // land a nanosecond early and change the key by itself (a flaky test in a fresh clone).
  const { atime, mtimeMs } = statSync(file);
  const whole = Math.floor(mtimeMs / 1000);
  utimesSync(file, atime, whole);
  const before = helpCacheKey();
  try {
    utimesSync(file, atime, whole + 1);
    assert.notEqual(helpCacheKey(), before);
  } finally {
    utimesSync(file, atime, whole);
  }
  assert.equal(helpCacheKey(), before);
});

test('unknown commands and options exit 2 with the usage, no stack', () => {
  const r = tlbsim(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  const o = tlbsim(['--frob']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /unknown option '--frob'/);
  // `tlbsim help <unknown>` is not served from the memo and still fails as commander does.
  const h = spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'help', 'frobnicate'], { encoding: 'utf8', cwd: ROOT });
  assert.notEqual(h.status, 0);
});
