// Issue 21, item 9: Unicode bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and the
// rest: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) in task names or paths must
// not reach the terminal, where they display the pids and mm numbers after them reversed.
// They are neutralised like C0/C1 controls: "?" in text, a \u escape in JSON (which then
// parses to the name the trace gave).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIDI = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const ANY_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// The recorded forkchurn trace with its `date` task renamed: every bidi control once.
const NAME = `d${BIDI.slice(0, 6).join('')}at${BIDI.slice(6).join('')}e`;
const SHOWN = `d${'?'.repeat(6)}at${'?'.repeat(6)}e`;

const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });

function hostileTrace(): string {
  const text = gunzipSync(readFileSync(join(ROOT, 'traces/real/forkchurn/trace.txt.gz'))).toString('utf8');
  // Plus one line that is skipped (its pages field is no number): inspect quotes it.
  const renamed = `${text.replace(/\bdate\b/g, NAME).trimEnd()}\n            ${NAME}-7709    [001] d..2.  9453.999999: tlb_flush: pages:zz reason:local MM shootdown (3)\n`;
  assert.ok(renamed.length > text.length, 'the task is in the trace');
  const dir = join(tmp, 'bidi');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'forkchurn-bidi.txt.gz');
  writeFileSync(path, gzipSync(renamed));
  return path;
}

function noBidi(r: { stdout: string; stderr: string }, what: string): void {
  assert.doesNotMatch(r.stdout, ANY_BIDI, `${what}: stdout`);
  assert.doesNotMatch(r.stderr, ANY_BIDI, `${what}: stderr`);
}

test('validate --explain shows a hostile task name neutralised, text and JSON', () => {
  const trace = hostileTrace();
  const text = cli(['validate', trace, '--explain', '2']);
  assert.equal(text.status, 0, text.stderr);
  noBidi(text, 'validate --explain');
  assert.ok(text.stdout.includes(`${SHOWN}-7709`), 'the task shows, its controls as "?"');

  const json = cli(['validate', trace, '--explain', '2', '--json']);
  assert.equal(json.status, 0, json.stderr);
  noBidi(json, 'validate --explain --json');
  // Escaped, not replaced: the JSON still says what the trace said.
  const parsed: unknown = JSON.parse(json.stdout);
  assert.ok(JSON.stringify(parsed).includes(`${NAME}-7709`), 'the name survives in JSON');
  assert.ok(json.stdout.includes('\\u202e') && json.stdout.includes('\\u2066'));
});

test('inspect and replay print the hostile trace without a bidi control', () => {
  const trace = hostileTrace();
  for (const args of [['inspect', '--verbose', trace], ['inspect', '--json', trace], ['replay', '--no-report', '-s', 'linux-6.18', trace], ['replay', '--no-report', '--json', '-s', 'linux-6.18', trace]]) {
    const r = cli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    noBidi(r, args.join(' '));
  }
  const verbose = cli(['inspect', '--verbose', trace]);
  assert.ok(verbose.stdout.includes(`${SHOWN}-7709`), `the skipped line is quoted:\n${verbose.stdout}`);
});

test('paths holding bidi controls, in errors and in what commands say they wrote', () => {
  const dir = join(tmp, `out\u202e\u2066lmth.x`);
  mkdirSync(dir, { recursive: true });
  // Commander quotes a mistyped option back.
  const option = cli(['inspect', '--bo\u202egus', 'x.txt']);
  assert.equal(option.status, 2);
  noBidi(option, 'an unknown option');
  assert.match(option.stderr, /unknown option '--bo\?gus'/);

  const missing = cli(['inspect', join(dir, 'no-such\u202efile.txt')]);
  assert.equal(missing.status, 1);
  noBidi(missing, 'inspect of a missing file');
  assert.match(missing.stderr, /out\?\?lmth\.x\/no-such\?file\.txt: no such file/);

  const gen = cli(['generate', 'ping-pong', '--set', 'iterations=20', '-o', join(dir, 'p\u202eing.csv')]);
  assert.equal(gen.status, 0, gen.stderr);
  noBidi(gen, 'generate -o');
  assert.match(gen.stderr, /to .*out\?\?lmth\.x\/p\?ing\.csv/);

  const rep = cli(['replay', '--json', '-s', 'linux-6.18', '-o', join(dir, 'r\u2067.html'), '--csv', join(dir, 'c\u200fsv'), 'workload:ping-pong:iterations=20']);
  assert.equal(rep.status, 0, rep.stderr);
  noBidi(rep, 'replay -o --csv');
  assert.match(rep.stderr, /report: .*r\?\.html/);
  assert.match(rep.stderr, /csv: \d+ tables in .*c\?sv/);
});
