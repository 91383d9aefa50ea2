// `tlbsim workloads` as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listWorkloads } from '../../src/workloads/index.ts';
import { NO_STACK, tlbsim } from './run.ts';

const CLI_MD_NAMES = ['ping-pong', 'madv-dontneed-switch', 'pthread-mmap', 'madv-threads', 'wis-tlb-flush2',
  'wis-context-switch1', 'fork-churn', 'ptwalk-sync'];

test('workloads --json lists every generator with its parameters; every one takes cpus and seed', () => {
  const r = tlbsim(['workloads', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { name: string; description: string; params: { name: string; default: unknown; type: string }[] }[];
  assert.deepEqual(list.map((w) => w.name), listWorkloads().map((w) => w.name));
  for (const name of CLI_MD_NAMES) assert.ok(list.some((w) => w.name === name), `docs/design/cli.md names ${name}`);
  for (const w of list) {
    assert.ok(w.description.length > 20, w.name);
    const params = w.params.map((p) => p.name);
    assert.ok(params.includes('cpus') && params.includes('seed'), `${w.name}: ${params.join(',')}`);
    for (const p of w.params) assert.ok(['int', 'number', 'bool', 'enum'].includes(p.type), `${w.name}.${p.name}`);
  }
  assert.ok(list.find((w) => w.name === 'ping-pong')!.params.some((p) => p.name === 'pages' && p.default === 0));
  assert.ok(list.find((w) => w.name === 'madv-threads')!.params.some((p) => p.name === 'threads'));
  assert.ok(list.find((w) => w.name === 'wis-tlb-flush2')!.params.some((p) => p.name === 'mode'));
});

test('workloads prints each generator, its parameters with defaults, and how to use one as an input', () => {
  const r = tlbsim(['workloads']);
  assert.equal(r.status, 0, r.stderr);
  for (const w of listWorkloads()) {
    assert.match(r.stdout, new RegExp(`^${w.name}$`, 'm'));
    for (const p of w.params) assert.ok(r.stdout.includes(`${p.name}=${String(p.default)}`), `${w.name} ${p.name}`);
  }
  assert.match(r.stdout, /workload:NAME\[:key=value,\.\.\.\]/);
});

test('workloads: wrong usage exits 2 with a message and no stack', () => {
  const r = tlbsim(['workloads', '--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.equal(tlbsim(['workloads', 'ping-pong']).status, 2);
});
