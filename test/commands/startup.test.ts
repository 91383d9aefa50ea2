// What a command loads before its first output: the catalogues, help and usage errors
// must not pay for the trace readers (zlib, child_process), the cost profiles, the replay
// or the report. Observed, not timed: a module hook given to node with --import records
// every module the run loads, as the bin shim runs it: dist/start.cjs when dist/ is current
// (a script, not a module: the hook sees what it imports, not the script itself; the command
// definitions are joined into it, bin/start-bundle.mjs), else src/ through tsx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from './run.ts';
import { PROFILES } from '../../src/machine/profiles.ts';
import { profileNames } from '../../src/machine/profile-names.ts';

const dir = mkdtempSync(join(tmpdir(), 'tlbsim-startup-'));
const hook = join(dir, 'hook.mjs');
writeFileSync(hook, `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.TLBSIM_TEST_MODULE_LOG, url + '\\n');
  return next(url, context);
}`)}));
`);

let n = 0;
/** Run tlbsim without the help memo; the modules it loaded, as paths under the checkout
 *  without extension (src/cli, dist/cli are both 'cli') and node:* names. */
function loads(args: string[]): { status: number | null; stdout: string; ours: Set<string>; builtins: Set<string>; compiled: boolean; joined: boolean } {
  const log = join(dir, `log${n++}`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', hook, BIN, ...args], {
    encoding: 'utf8', cwd: ROOT, env: { ...process.env, TLBSIM_NO_HELP_CACHE: '1', TLBSIM_TEST_MODULE_LOG: log },
  });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const root = new URL(`file://${ROOT.endsWith('/') ? ROOT : `${ROOT}/`}`).href;
  const ours = new Set<string>();
  let compiled = false;
  for (const u of urls) {
    if (!u.startsWith(root)) continue;
    const rel = u.slice(root.length);
    const m = /^(src|dist)\/(.*)\.(ts|js)$/.exec(rel);
    if (!m) continue;
    if (m[1] === 'dist') compiled = true;
    ours.add(m[2]);
  }
  assert.ok(ours.has('cli') || compiled, `tlbsim ${args.join(' ')} loaded no entry point: ${[...ours].join(' ')}`);
  // dist/start.cjs holds cli.js and the command definitions: they are not files of their own there.
  const joined = compiled && !ours.has('cli');
  return { status: r.status, stdout: r.stdout, ours, builtins: new Set(urls.filter((u) => u.startsWith('node:'))), compiled, joined };
}

// Modules that only reading, replaying or reporting needs.
const HEAVY = ['trace/input', 'trace/index', 'inputs', 'machine/profiles', 'replay/draws', 'replay/replay', 'analysis/index', 'report/index', 'calibrate/index'];

function assertLight(run: ReturnType<typeof loads>, what: string, alsoAbsent: string[] = []) {
  for (const m of [...HEAVY, ...alsoAbsent]) assert.ok(!run.ours.has(m), `${what} loaded ${m}: ${[...run.ours].join(' ')}`);
  // tsx, when dist/ is stale, loads what it needs itself: the built-ins are checked compiled.
  if (run.compiled) for (const b of ['node:zlib', 'node:child_process', 'node:crypto']) assert.ok(!run.builtins.has(b), `${what} loaded ${b}`);
}

test('the hook sees what a command loads: inspect of a gzipped trace loads the reader and zlib', () => {
  const r = loads(['inspect', join(ROOT, 'traces/real/pingpong-512/trace.txt.gz')]);
  assert.equal(r.status, 0);
  assert.ok(r.ours.has('trace/input') && (r.joined || r.ours.has('commands/inspect')), [...r.ours].join(' '));
  if (r.compiled) assert.ok(r.builtins.has('node:zlib'), [...r.builtins].join(' '));
});

test('tlbsim strategies and workloads load their catalogue and no other command', () => {
  // Compiled, the catalogues come from dist/catalogues.json (bin/build.mjs), not from the
  // registries: no strategy implementation or workload generator is loaded. Under tsx the
  // registries are read.
  const s = loads(['strategies']);
  assert.equal(s.status, 0);
  assert.match(s.stdout, /linux-6\.18/);
  assert.ok(s.joined || s.ours.has('commands/strategies'), [...s.ours].join(' '));
  assert.equal(s.ours.has('strategies/index'), !s.compiled, [...s.ours].join(' '));
  assertLight(s, 'strategies', ['commands/replay', 'commands/inspect', 'commands/generate', 'workloads/index', ...(s.compiled ? ['strategies/linux-6.18', 'machine/machine'] : [])]);
  const w = loads(['workloads', '--json']);
  assert.equal(w.status, 0);
  assert.ok(JSON.parse(w.stdout).length > 3);
  assert.equal(w.ours.has('workloads/index'), !w.compiled, [...w.ours].join(' '));
  assertLight(w, 'workloads', ['commands/replay', 'commands/strategies', 'strategies/index', ...(w.compiled ? ['workloads/ping-pong'] : [])]);
});

test('inspect of a file that is not there loads none of the trace readers', () => {
  const r = loads(['inspect', join(dir, 'no-such-trace.txt')]);
  assert.equal(r.status, 1);
  assertLight(r, 'inspect MISSING', ['trace/csv', 'trace/cache']);
});

test('--help without the memo registers every command but loads none of their work', () => {
  const r = loads(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['inspect', 'replay', 'validate', 'generate', 'strategies', 'workloads', 'record']) {
    assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.ok(r.joined || r.ours.has(`commands/${c}`), c);
  }
  assertLight(r, '--help', ['strategies/index', 'workloads/index']);
});

test('a usage error loads only its command', () => {
  const r = loads(['replay', '--no-such-option']);
  assert.equal(r.status, 2);
  assert.ok(r.joined || r.ours.has('commands/replay'), [...r.ours].join(' '));
  assertLight(r, 'replay --no-such-option', ['commands/inspect', 'commands/sweep', 'strategies/index', 'workloads/index']);
  const h = loads(['replay', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--profile <name>\s+cost profile: skylake-laptop, /);
  assertLight(h, 'replay --help', ['commands/inspect', 'strategies/index']);
});

test('the option help names every cost profile, fitted ones included, without loading them', () => {
  const names = profileNames();
  assert.deepEqual(names, Object.keys(PROFILES));
  assert.ok(names.some((n) => n.endsWith('-fitted')), names.join(' '));
  const h = loads(['replay', '--help']);
  const listed = /--profile <name>\s+cost profile: ([^(]*)\(default/.exec(h.stdout)?.[1].replace(/\s+/g, ' ').trim();
  assert.equal(listed, names.join(', '));
  assertLight(h, 'replay --help');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
