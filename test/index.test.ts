// The public API a tsx script imports (`from 'tlbsim'`, i.e. src/index.ts): the names of
// docs/design/cli.md are there, and a script can define a strategy and replay it next to a built-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tlbsim from 'tlbsim';
import { Linux618, METRICS, REGISTRY, STRATEGY_NAMES, defineStrategy, listWorkloads, openInput, replay, type StrategyMeta } from '../src/index.ts';
import { CLI_MD_STRATEGIES } from './contract-names.ts';

test('the package name resolves to src/index.ts for scripts', () => {
  assert.equal(tlbsim.replay, replay);
  assert.equal(tlbsim.openInput, openInput);
});

test('the contract names of docs/design/cli.md are exported', async () => {
  const metrics: string[] = METRICS.map((m) => m.name);
  for (const m of ['context_switches', 'cr3_writes', 'cr3_flushes', 'full_flushes', 'page_flushes', 'flush_requests', 'ipis_sent',
    'ipis_to_lazy', 'ipis_to_stale', 'tlb_misses', 'atomic_ops', 'initiator_wait_ns', 'overhead_ns', 'coherence_violations', 'iteration_ns']) {
    assert.ok(metrics.includes(m), m);
  }
  for (const s of CLI_MD_STRATEGIES) assert.ok(STRATEGY_NAMES.includes(s), s);
  // Every class a registered strategy's file exports is in the API, the same class (the
  // registry is the one list).
  for (const { file } of REGISTRY) {
    const mod = await import(`../src/strategies/${file}.ts`) as Record<string, unknown>;
    const classes = Object.entries(mod).filter(([, v]) => typeof v === 'function' && /^class\b/.test(String(v)));
    assert.ok(classes.length > 0, file);
    for (const [name, cls] of classes) assert.equal((tlbsim as Record<string, unknown>)[name], cls, `${file}: ${name}`);
  }
  const workloads = listWorkloads().map((w) => w.name);
  for (const w of ['ping-pong', 'madv-dontneed-switch', 'pthread-mmap', 'madv-threads', 'wis-tlb-flush2', 'wis-context-switch1',
    'fork-churn', 'ptwalk-sync']) assert.ok(workloads.includes(w), w);
  for (const name of ['openTrace', 'generateWorkload', 'getProfile', 'PROFILES', 'KernelStrategy', 'recordTrace', 'writeTraceCsv', 'writeFtraceFile', 'calibrate']) {
    assert.ok(name in tlbsim, name);
  }
});

test('a strategy defined in a script replays next to a built-in; an unchanged subclass gives identical metrics', async () => {
  const meta: StrategyMeta = { name: 'my-6.18', title: 'a copy of 6.18', kernel: 'v6.18', description: 'unchanged', safe: true };
  class Mine extends Linux618 { override readonly meta = meta; }
  const mine = defineStrategy({ ...meta, create: (m) => new Mine(m) });
  assert.throws(() => defineStrategy({ ...meta, name: '', create: (m) => new Mine(m) }), /"name" is required/);
  const input = await openInput(new URL('../traces/real/pingpong-512/trace.txt.gz', import.meta.url).pathname);
  try {
    const [builtIn, copy] = await replay(input, { strategies: ['linux-6.18', mine], profile: 'kvm-guest', workers: 1 });
    assert.equal(builtIn.strategy.name, 'linux-6.18');
    assert.equal(copy.strategy.name, 'my-6.18');
    assert.deepEqual(copy.metrics, builtIn.metrics);
    assert.ok(builtIn.metrics.context_switches > 0);
  } finally {
    input.close();
  }
});
