// `--help` everywhere, and the memo that lets the bin shim answer it without TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** What the memo holds for each request, as the bin shim would read it: looked up in one
 *  child process (its stdout a pipe, like the runs that wrote the memo) rather than one bin
 *  run each. That the shim prints what it looks up is checked on one request, by a run. */
function memoAnswers(requests: string[][]): (string | null)[] {
  const lookup = `import { cachedHelp } from ${JSON.stringify(pathToFileURL(join(ROOT, 'bin/help-cache.mjs')).href)};
    process.stdout.write(JSON.stringify(${JSON.stringify(requests)}.map((args) => cachedHelp(args))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', lookup], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as (string | null)[];
}

/** Each request answered by the program (no memo), then by the bin with the memo allowed
 *  (which renders the memo, or finds it current): the same bytes; then the memo itself. */
function assertMemoMatches(requests: string[][]): void {
  for (const args of requests) {
    const program = fresh(args);
    const warm = tlbsim(args);
    assert.equal(program.status, 0, program.stderr);
    assert.equal(warm.status, 0, warm.stderr);
    assert.equal(warm.stdout, program.stdout, args.join(' '));
  }
  // An entry may be missing (another test's run replaced the memo meanwhile: the bin then
  // runs the program, as the warm run did); an entry there must be the program's bytes.
  const memos = memoAnswers(requests);
  assert.ok(memos.some((m) => m !== null), 'the memo holds the texts just printed');
  memos.forEach((memo, i) => { if (memo !== null) assert.equal(memo, fresh(requests[i]).stdout, `memo of ${requests[i].join(' ')}`); });
  const shown = tlbsim(requests[0]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.equal(shown.stdout, fresh(requests[0]).stdout, `${requests[0].join(' ')} from the memo`);
}

test('help from the memo is byte-for-byte what the command definitions print', () => {
  assertMemoMatches([['--help'], ['--version'], ...COMMANDS.map((c) => [c, '--help']), ['help', 'record']]);
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
  const catalogues = [['strategies'], ['strategies', '--json'], ['workloads'], ['workloads', '--json']];
  for (const args of catalogues) assert.ok(fresh(args).stdout.length > 100, args.join(' '));
  assertMemoMatches(catalogues);
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
