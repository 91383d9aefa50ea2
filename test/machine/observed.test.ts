// What the recorded kernel did is counted once per replay, on the reading thread, and every
// result carries the same counts as a simulator that counts them itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/index.ts';
import { Simulator } from '../../src/machine/sim.ts';
import { resolveProfile } from '../../src/machine/profiles.ts';
import { resolveStrategy } from '../../src/strategies/index.ts';

// A 16-vCPU 7.3 guest with csd_queue_cpu records, and a 6.1 guest without ipi:* events.
const INPUTS = ['traces/lab/7.3/16cpu/madvstorm.txt.gz', 'traces/lab/6.1/8cpu/forkexec.txt.gz', 'traces/real/forkchurn/trace.txt.gz'];

for (const path of INPUTS) {
  test(`${path}: every strategy's result carries the counts a simulator of its own keeps`, async () => {
    const input = await openInput(path);
    try {
      const own = new Simulator(input.info, resolveStrategy('linux-6.12'), resolveProfile(undefined));
      for await (const b of input.batches()) own.processBatch(b);
      const expected = own.result().observed;
      assert.ok(Object.keys(expected.tlbFlush).length > 0, 'the recording has tlb_flush records');
      for (const workers of [1, 2]) {
        const results = await replay(input, { strategies: ['linux-4.13', 'linux-6.12', 'linux-6.18'], workers });
        for (const r of results) assert.deepEqual(r.observed, expected, `${r.strategy.name}, ${workers} worker(s)`);
      }
      // Two strategies that predict different things still see the same recording.
      const [a, b] = await replay(input, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
      assert.notDeepEqual(a.predicted, b.predicted);
    } finally { input.close(); }
  });
}
