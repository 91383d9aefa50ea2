// The compiled CLI (bin/build.mjs -> dist/): bin/tlbsim.mjs runs dist/ while it was compiled
// from the sources now in src/, and the TypeScript sources through tsx as soon as they differ,
// so an edited checkout never runs stale code. Checked on a copy of the package, built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';

const ROOT = join(import.meta.dirname, '..', '..');

function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tlbsim-dist-'));
  for (const f of ['bin', 'src', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    cpSync(join(ROOT, f), join(dir, f), { recursive: true, filter: (p) => !p.includes('help-cache.json') });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const run = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'tlbsim.mjs'), ...args], {
    encoding: 'utf8', env: { ...process.env, TLBSIM_NO_HELP_CACHE: '1', TLBSIM_NO_DIST: '', ...env },
  });

test('bin/tlbsim.mjs runs dist/ while it matches src/, and src/ once they differ', async () => {
  const dir = copyPackage();
  try {
    const build = spawnSync(process.execPath, [join(dir, 'bin', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    assert.ok(existsSync(join(dir, 'dist', 'cli.js')));
    assert.ok(existsSync(join(dir, 'dist', 'start.cjs')));
    // The code cache fits the script as bin/run-compiled.mjs wraps it: V8 takes it.
    const { PARAMETERS } = await import(join(dir, 'bin', 'run-compiled.mjs'));
    const script = new Script(`(function (${(PARAMETERS as string[]).join(', ')}) {${readFileSync(join(dir, 'dist', 'start.cjs'), 'utf8')}\n})`,
      { filename: join(dir, 'dist', 'start.cjs'), cachedData: readFileSync(join(dir, 'dist', 'start.cache')) });
    assert.equal(script.cachedDataRejected, false, 'dist/start.cache is refused by V8');
    assert.ok(existsSync(join(dir, 'dist', 'replay', 'worker.js')));
    // Assets the modules read beside themselves are copied.
    assert.ok(existsSync(join(dir, 'dist', 'measure', 'microbench.c')));

    // Compiled and interpreted give the same answers.
    // The catalogues compiled come from dist/catalogues.json, written by the build from the
    // registries: they must print what the registries do.
    assert.ok(existsSync(join(dir, 'dist', 'catalogues.json')));
    for (const args of [['strategies'], ['strategies', '--json'], ['workloads'], ['workloads', '--json']]) {
      const fromDist = run(dir, args);
      const fromTsx = run(dir, args, { TLBSIM_NO_DIST: '1' });
      assert.equal(fromDist.status, 0, fromDist.stderr);
      assert.ok(fromDist.stdout.length > 100, args.join(' '));
      assert.equal(fromDist.stdout, fromTsx.stdout, args.join(' '));
    }
    const usage = run(dir, ['replay', '--no-such-option']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown option '--no-such-option'/);

    // dist/ is what runs while current: a mark put into the compiled file shows (the bin
    // runs dist/start.cjs: cli.js with the command definitions joined in; V8 refuses the code
    // cache of a script whose source changed).
    const description = 'Replay kernel traces through a simulated x86 machine';
    const start = join(dir, 'dist', 'start.cjs');
    const distCli = readFileSync(start, 'utf8').includes(description) ? start : join(dir, 'dist', 'cli.js');
    writeFileSync(distCli, readFileSync(distCli, 'utf8').replace(description, 'COMPILED-MARK'));
    assert.match(run(dir, ['--help']).stdout, /COMPILED-MARK/);

    // An edit to src/ makes dist/ stale: the edited source runs, not the old JavaScript.
    const srcCli = join(dir, 'src', 'cli.ts');
    writeFileSync(srcCli, readFileSync(srcCli, 'utf8').replace(description, 'EDITED-SOURCE'));
    const edited = run(dir, ['--help']);
    assert.equal(edited.status, 0, edited.stderr);
    assert.match(edited.stdout, /EDITED-SOURCE/);
    assert.doesNotMatch(edited.stdout, /COMPILED-MARK/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a replay over several strategies gives the same JSON compiled and through tsx', () => {
  // The root checkout's own dist/ when it is current (npm ci built it); the bin falls back
  // to tsx otherwise, and then both runs take the same path: still a valid comparison.
  const args = ['replay', join(ROOT, 'traces', 'real', 'pingpong-512', 'trace.txt.gz'), '-s', 'linux-4.13,linux-4.14,linux-6.18', '--json', '--no-report', '--workers', '2'];
  const a = run(ROOT, args);
  const b = run(ROOT, args, { TLBSIM_NO_DIST: '1' });
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
});
