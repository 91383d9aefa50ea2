// `tlbsim strategies` as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGIES } from '../../src/strategies/index.ts';
import { NO_STACK, tlbsim } from './run.ts';

import { CLI_MD_STRATEGIES as CLI_MD_NAMES } from '../contract-names.ts';

test('strategies --json prints exactly [{ name, title, kernel, description, safe }] for every registered strategy', () => {
  const r = tlbsim(['strategies', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.deepEqual(list.map((s) => s.name), STRATEGIES.map((s) => s.name));
  for (const name of CLI_MD_NAMES) assert.ok(list.some((s) => s.name === name), `docs/design/cli.md names ${name}`);
  for (const s of list) {
    assert.deepEqual(Object.keys(s), ['name', 'title', 'kernel', 'description', 'safe']);
    for (const k of ['name', 'title', 'kernel', 'description']) assert.ok(typeof s[k] === 'string' && (s[k] as string).length > 0, `${String(s.name)}.${k}`);
    assert.equal(typeof s.safe, 'boolean');
    const def = STRATEGIES.find((d) => d.name === s.name)!;
    assert.equal(s.safe, def.safe);
    assert.equal(s.kernel, def.kernel);
  }
});

test('strategies prints one block per strategy, unsafe ones marked with when they are unsafe', () => {
  const r = tlbsim(['strategies']);
  assert.equal(r.status, 0, r.stderr);
  for (const s of STRATEGIES) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${s.name} `));
    assert.ok(line, `a line for ${s.name}`);
    assert.match(line, s.safe ? /\bsafe\b/ : /\bUNSAFE\b/);
    assert.ok(line.includes(s.title), `${s.name} title`);
    assert.ok(r.stdout.includes(s.description), `${s.name} description`);
    if (!s.safe && s.unsafeWhen) assert.ok(r.stdout.includes(`unsafe when: ${s.unsafeWhen}`), `${s.name} unsafe when`);
  }
});

test('strategies: wrong usage exits 2 with a message and no stack', () => {
  const unknown = tlbsim(['strategies', '--jsn']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option '--jsn'/);
  const extra = tlbsim(['strategies', 'linux-6.18']);
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /too many arguments/);
  assert.doesNotMatch(unknown.stderr + extra.stderr, NO_STACK);
});
