// `--help` everywhere, and the memo that lets the bin shim answer it without TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli.ts';
import { cachedHelp, helpRequest, memoRequest, writeHelpCache } from '../../bin/help-cache.mjs';
import { ROOT, tlbsim } from './run.ts';

const COMMANDS = (await buildProgram()).commands.map((c) => c.name()).filter((n) => n !== 'help');
const NO_MEMO = { env: { TLBSIM_NO_HELP_CACHE: '1' } };

// Each answer of the program itself (no memo) is asked for once and checked by both tests.
const freshRuns = new Map<string, ReturnType<typeof tlbsim>>();
function fresh(args: string[]): ReturnType<typeof tlbsim> {
  const key = args.join('\0');
  if (!freshRuns.has(key)) freshRuns.set(key, tlbsim(args, NO_MEMO));
  return freshRuns.get(key)!;
}

test('every command answers --help with a description and an example, exit 0', () => {
  assert.ok(COMMANDS.length >= 5, COMMANDS.join(','));
  for (const name of ['inspect', 'generate', 'strategies', 'workloads', 'record']) assert.ok(COMMANDS.includes(name), name);
  const top = fresh(['--help']);
  assert.equal(top.status, 0, top.stderr);
  for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'), `tlbsim --help lists ${name}`);
  for (const name of COMMANDS) {
    const r = fresh([name, '--help']);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: tlbsim ${name} `, 'm'), name);
    assert.match(r.stdout, /\nExamples?:\n {2}(sudo )?tlbsim /, `${name} --help has an example`);
  }
});

test('help from the memo is byte-for-byte what the command definitions print', () => {
  // The first request renders the memo (or finds it current); the answers must not differ.
  for (const args of [['--help'], ['--version'], ...COMMANDS.map((c) => [c, '--help']), ['help', 'record']]) {
    const program = fresh(args);
    const warm = tlbsim(args);
    const memo = tlbsim(args);
    assert.equal(program.status, 0, program.stderr);
    assert.equal(memo.status, 0, memo.stderr);
    assert.equal(warm.stdout, program.stdout, args.join(' '));
    assert.equal(memo.stdout, program.stdout, args.join(' '));
  }
  assert.match(fresh(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('the memo is used only for help, version and catalogue requests, and goes stale when a source file changes', () => {
  assert.equal(helpRequest(['--help']), '');
  assert.equal(helpRequest(['help']), '');
  assert.equal(helpRequest(['-V']), '--version');
  assert.equal(helpRequest(['generate', '--help']), 'generate');
  assert.equal(helpRequest(['help', 'record']), 'record');
  assert.equal(helpRequest(['generate', 'ping-pong', '--help']), null);
  assert.equal(helpRequest(['inspect', 'trace.txt']), null);
  assert.equal(helpRequest(['--json', '--help']), null);
  assert.equal(helpRequest([]), null);

  assert.equal(memoRequest(['strategies']), 'run:strategies');
  assert.equal(memoRequest(['workloads', '--json']), 'run:workloads --json');
  assert.equal(memoRequest(['strategies', '--bogus']), null);
  assert.equal(memoRequest(['replay', 'x.txt']), null);

  // A memo of its own (the checkout's may be in use by other tests): a text it holds is
  // answered while the sources are as they were, and not once one changes.
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-memo-'));
  const memo = join(dir, 'help.json');
  const file = join(ROOT, 'src/commands/generate.ts');
  const { atime, mtime } = statSync(file);
  try {
    writeHelpCache({ '': 'MEMO TEXT\n' }, memo);
    assert.equal(cachedHelp(['--help'], memo), 'MEMO TEXT\n');
    assert.equal(cachedHelp(['strategies'], memo), null);
    utimesSync(file, atime, new Date(mtime.getTime() + 1000));
    assert.equal(cachedHelp(['--help'], memo), null);
  } finally {
    utimesSync(file, atime, mtime);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a catalogue from the memo is byte-for-byte what the command prints', () => {
  for (const args of [['strategies'], ['strategies', '--json'], ['workloads'], ['workloads', '--json']]) {
    const program = fresh(args);
    const warm = tlbsim(args);
    const memo = tlbsim(args);
    assert.equal(program.status, 0, program.stderr);
    assert.equal(memo.status, 0, memo.stderr);
    assert.ok(program.stdout.length > 100, args.join(' '));
    assert.equal(warm.stdout, program.stdout, args.join(' '));
    assert.equal(memo.stdout, program.stdout, args.join(' '));
  }
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
