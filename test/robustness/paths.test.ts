// Paths given on the command line are used as given: spaces, quotes, `$(...)`, a leading
// dash; never interpolated into a shell, also not when a trace.dat is handed to trace-cmd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const HOSTILE = `-odd 'name' "q" $(touch PWNED) \`touch PWNED2\` ;x`;

function tlbsim(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd, env });
}

test('a text trace under a hostile name is read as given, relative or after --', () => {
  const dir = join(tmp, 'paths-text');
  mkdirSync(dir, { recursive: true });
  const name = `${HOSTILE}.txt`;
  copyFileSync(join(ROOT, 'test/corpus/clean.txt'), join(dir, name));
  for (const args of [['inspect', '--json', '--', name], ['inspect', '--json', `./${name}`], ['inspect', '--json', join(dir, name)]]) {
    const r = tlbsim(dir, process.env, ...args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).format, 'ftrace');
  }
  // Without `--` a leading dash is an option: a usage error (exit 2), not a file opened.
  assert.equal(tlbsim(dir, process.env, 'inspect', name).status, 2);
  assert.ok(!existsSync(join(dir, 'PWNED')) && !existsSync(join(dir, 'PWNED2')), 'no shell ran the name');
});

test('a trace.dat under a hostile name reaches trace-cmd as one argument, unchanged', () => {
  const dir = join(tmp, 'paths-dat');
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const name = `${HOSTILE}.dat`;
  copyFileSync(join(ROOT, 'traces/real/trace-cmd-madvthreads/trace.dat'), join(dir, name));
  // A stand-in trace-cmd that records the argument vector it was given and prints a real
  // trace-cmd report.
  const argvOut = join(dir, 'argv.json');
  const report = join(dir, 'report.txt');
  writeFileSync(report, 'cpus=2\n' + readFileSync(join(ROOT, 'test/corpus/clean.txt'), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n'));
  writeFileSync(join(bin, 'trace-cmd'), `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
if (args[0] === 'report') fs.writeFileSync(${JSON.stringify(argvOut)}, JSON.stringify(args));
if (args[0] === 'report') process.stdout.write(fs.readFileSync(${JSON.stringify(report)}));
`);
  chmodSync(join(bin, 'trace-cmd'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` };
  const r = tlbsim(dir, env, 'inspect', '--json', '--', name);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(readFileSync(argvOut, 'utf8')), ['report', '-i', name]);
  assert.equal(JSON.parse(r.stdout).format, 'trace-cmd');
  assert.ok(!existsSync(join(dir, 'PWNED')) && !existsSync(join(dir, 'PWNED2')), 'no shell ran the name');
});

test('with the real trace-cmd (when installed), the hostile-named trace.dat reads like the original', { skip: spawnSync('trace-cmd', ['-h']).error !== undefined }, () => {
  const dir = join(tmp, 'paths-dat-real');
  mkdirSync(dir, { recursive: true });
  const name = `${HOSTILE}.dat`;
  copyFileSync(join(ROOT, 'traces/real/trace-cmd-madvthreads/trace.dat'), join(dir, name));
  const hostile = tlbsim(dir, process.env, 'inspect', '--json', '--', name);
  const original = tlbsim(ROOT, process.env, 'inspect', '--json', 'traces/real/trace-cmd-madvthreads/trace.dat');
  assert.equal(hostile.status, 0, hostile.stderr);
  assert.deepEqual(JSON.parse(hostile.stdout).events, JSON.parse(original.stdout).events);
  assert.ok(!existsSync(join(dir, 'PWNED')) && !existsSync(join(dir, 'PWNED2')));
});
