// Colour only at a terminal, and never with NO_COLOR. A pseudo-terminal comes from
// util-linux `script`; without it only the no-terminal half runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { STRATEGIES } from '../../src/strategies/index.ts';
import { BIN, ROOT, tlbsim } from './run.ts';

const ESC = '\u001b[';
const hasScript = !spawnSync('script', ['--version'], { stdio: 'ignore' }).error;

function atTerminal(args: string[], env: Record<string, string> = {}): string {
  const command = [process.execPath, BIN, ...args].join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TERM: 'xterm', ...env } });
  return r.stdout;
}

test('no escape sequences in pipes: output, usage errors, input errors', () => {
  for (const args of [['strategies'], ['inspect', '--bogus'], ['inspect', 'no/such/file.txt']]) {
    const r = tlbsim(args);
    assert.ok(!r.stdout.includes(ESC) && !r.stderr.includes(ESC), args.join(' '));
  }
});

test('at a terminal: errors in red and unsafe strategies marked in red, unless NO_COLOR', { skip: !hasScript && 'needs util-linux script for a pseudo-terminal' }, () => {
  const error = atTerminal(['inspect', 'no/such/file.txt']);
  assert.match(error, /\u001b\[31mtlbsim:\u001b\[39m no\/such\/file\.txt: no such file/);
  const usage = atTerminal(['inspect', '--bogus']);
  assert.match(usage, /\u001b\[31merror: unknown option '--bogus'\u001b\[39m/);
  const list = atTerminal(['strategies']);
  const unsafe = STRATEGIES.filter((s) => !s.safe).length;
  assert.equal(list.split(`${ESC}31mUNSAFE${ESC}39m`).length - 1, unsafe, 'each unsafe strategy marked in red');
  assert.ok(list.includes(`${ESC}1mlinux-6.18`), 'names in bold');
  for (const args of [['inspect', 'no/such/file.txt'], ['inspect', '--bogus'], ['strategies']]) {
    const plain = atTerminal(args, { NO_COLOR: '1' });
    assert.ok(plain.length > 0 && !plain.includes(ESC), `NO_COLOR ${args.join(' ')}`);
  }
});
