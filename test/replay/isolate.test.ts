// Per-strategy engine copies (src/replay/isolate.ts): each registered strategy gets code of
// its own, and a replay on copies gives exactly the results of a replay on the shared code,
// in-process and in workers, for a recorded trace and for a generated workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/index.ts';
import { isolatedEngine } from '../../src/replay/isolate.ts';
import { Simulator } from '../../src/machine/sim.ts';
import { Linux618, REGISTRY, STRATEGY_NAMES, defineStrategy, getStrategy } from '../../src/strategies/index.ts';

test('each strategy name gets its own copy of the engine, loaded once', async () => {
  const a = await isolatedEngine('linux-6.18');
  const b = await isolatedEngine('linux-4.13');
  assert.ok(a !== null && b !== null, 'tsx can load isolated copies under the test runner');
  assert.notEqual(a.Simulator, Simulator);
  assert.notEqual(a.Simulator, b.Simulator);
  assert.equal(await isolatedEngine('linux-6.18'), a);
  // The copy's definition builds the copy's classes.
  const main = getStrategy('linux-6.18');
  assert.equal(a.strategy.name, 'linux-6.18');
  assert.notEqual(a.strategy.create, main.create);
  assert.deepEqual({ ...a.strategy, create: null }, { ...main, create: null });
});

test('every registered strategy is defined in the file its registry entry names (what a copy loads)', async () => {
  for (const { file, definition: { name } } of REGISTRY) {
    const mod = await import(`../../src/strategies/${file}.ts`) as Record<string, unknown>;
    const defs = Object.values(mod).filter((v) => typeof v === 'object' && v !== null && (v as { name?: unknown }).name === name
      && typeof (v as { create?: unknown }).create === 'function');
    assert.equal(defs.length, 1, `${name}: one definition exported by its own file`);
    assert.equal(defs[0], getStrategy(name), `${name}: the registry's definition`);
  }
});

for (const spec of ['traces/real/madvthreads-2/trace.txt.gz', 'workload:fork-churn:iterations=25']) {
  test(`${spec}: engine copies give the shared engine's results (in-process and workers)`, async () => {
    const run = async (isolate: boolean, workers: number) => {
      const input = await openInput(spec);
      try { return await replay(input, { isolate, workers }); } finally { input.close(); }
    };
    const shared = await run(false, 1);
    assert.equal(shared.length, STRATEGY_NAMES.length);
    assert.deepEqual(await run(true, 1), shared);
    assert.deepEqual(await run(true, 2), shared);
  });
}

test('a script-defined strategy replays next to isolated registered ones', async () => {
  const custom = defineStrategy({
    name: 'my-6.18', title: 'copy', kernel: 'v6.18', description: 'Linux618 under another name', safe: true,
    create: (m) => new Linux618(m),
  });
  const input = await openInput('workload:wis-tlb-flush2:tasks=4,cpus=4,iterations=50');
  try {
    const [mine, registered] = await replay(input, { strategies: [custom, 'linux-6.18'], isolate: true, workers: 1 });
    assert.equal(mine.strategy.name, 'my-6.18');
    assert.deepEqual({ ...mine, strategy: registered.strategy }, registered);
  } finally { input.close(); }
});
