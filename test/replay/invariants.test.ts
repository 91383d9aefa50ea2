// Replay invariants (docs/design/architecture.md "Invariants worth a test each"): the same input gives
// identical results; the worker-thread path gives the same results as the in-process
// path; and feeding the stream in one batch or in many small ones (streaming) changes
// nothing. Inputs: generated workloads that exercise every hook (fork/exec/exit teardown,
// lazy CPUs, multi-CPU shootdowns, page-table-free syncs) and a recorded real trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay, type RunResult } from '../../src/replay/index.ts';
import { Linux618, STRATEGY_NAMES, defineStrategy } from '../../src/strategies/index.ts';
import { batchesFromEvents, eventsOf, memorySource, type EventSource, type TraceEvent } from '../../src/trace/event.ts';

// [input, also compare the worker path] (worker start-up is the slow part of this file).
const INPUTS: [string, boolean][] = [
  ['workload:fork-churn:iterations=25', true],
  ['workload:madv-dontneed-switch:iterations=100', false],
  ['workload:wis-tlb-flush2:tasks=4,cpus=4,iterations=50', true],
  ['workload:ptwalk-sync:iterations=10', false],
  ['traces/real/pingpong-512/trace.txt.gz', true],
];

async function load(spec: string): Promise<{ source: EventSource; events: TraceEvent[] }> {
  const input = await openInput(spec);
  const events: TraceEvent[] = [];
  try {
    for await (const b of input.batches()) for (const e of eventsOf([b])) events.push(e);
  } finally { input.close(); }
  return { source: input, events };
}

function rechunk(info: EventSource['info'], events: TraceEvent[], size: number): EventSource {
  return memorySource(info, batchesFromEvents(events, size));
}

const byName = (rs: RunResult[]) => Object.fromEntries(rs.map((r) => [r.strategy.name, r]));

for (const [spec, viaWorkers] of INPUTS) {
  test(`${spec}: deterministic${viaWorkers ? ', workers == in-process' : ''}, one batch == small batches`, async () => {
    const { source, events } = await load(spec);
    const info = source.info;
    assert.ok(events.length > 100, 'the input has events');
    const strategies = [...STRATEGY_NAMES];
    const whole = await replay(rechunk(info, events, events.length), { strategies, workers: 1 });
    const again = await replay(rechunk(info, events, events.length), { strategies, workers: 1 });
    assert.deepEqual(again, whole, 'same input, same results');
    // Odd small batches cut the stream at arbitrary places (mid-switch pairs, between a
    // flush request and its consequences).
    const small = await replay(rechunk(info, events, 97), { strategies, workers: 1 });
    assert.deepEqual(small, whole, 'streaming in batches of 97 events');
    if (viaWorkers) {
      const workers = await replay(rechunk(info, events, 4096), { strategies, workers: 2 });
      assert.deepEqual(byName(workers), byName(whole), 'two worker threads');
    }
    // Sanity: the runs did something and the safe strategies stayed coherent.
    for (const r of whole) {
      assert.equal(r.events, events.length);
      if (r.strategy.safe) assert.equal(r.violations.count, 0, `${spec} ${r.strategy.name}`);
    }
  });
}

test('a strategy defined in a script runs in-process next to worker-run registry strategies, with the same results', async () => {
  const { source, events } = await load('workload:wis-tlb-flush2:tasks=4,cpus=4,iterations=30');
  const mine = defineStrategy({
    name: 'my-6.18', title: 'linux-6.18 under another name', kernel: 'v6.18', description: 'same code',
    safe: true, create: (m) => new Linux618(m),
  });
  const mixed = byName(await replay(rechunk(source.info, events, 1000), { strategies: [mine, 'linux-6.18', 'linux-4.13'], workers: 2 }));
  assert.deepEqual(Object.keys(mixed).sort(), ['linux-4.13', 'linux-6.18', 'my-6.18']);
  assert.equal(mixed['my-6.18'].strategy.title, 'linux-6.18 under another name');
  assert.deepEqual(mixed['my-6.18'].metrics, mixed['linux-6.18'].metrics);
  assert.deepEqual(mixed['my-6.18'].predicted, mixed['linux-6.18'].predicted);
  assert.ok(mixed['linux-6.18'].metrics.ipis_sent > 0);
});
