// Replay state per address space does not grow with the trace: a freed mm's slot is given
// to a later mm, so a fork-heavy trace that makes thousands of short-lived mms needs the
// state of the few alive at once (issue: memory not flat in other dimensions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { Simulator } from '../../src/machine/sim.ts';
import { resolveProfile } from '../../src/machine/profiles.ts';
import { STRATEGY_NAMES, resolveStrategy } from '../../src/strategies/index.ts';
import { replay } from '../../src/replay/index.ts';

async function slotsAfter(spec: string, strategy: string) {
  const input = await openInput(spec);
  try {
    const sim = new Simulator(input.info, resolveStrategy(strategy), resolveProfile(undefined));
    for await (const b of input.batches()) sim.processBatch(b);
    const r = sim.result();
    return { slots: sim.machine.mmSlotsUsed, frees: r.metrics.mm_frees, mms: input.info.mms.length, violations: r.violations.count };
  } finally { input.close(); }
}

for (const strategy of STRATEGY_NAMES) {
  test(`${strategy}: 4,000 forked children need the slots of the few alive at once, not 8,000`, async () => {
    const small = await slotsAfter('workload:fork-churn:iterations=400,cpus=4', strategy);
    const big = await slotsAfter('workload:fork-churn:iterations=4000,cpus=4', strategy);
    // Each child makes two mms (fork's copy, then exec's): all of them are freed.
    assert.ok(big.frees >= 2 * 4000 - 10, `${big.frees} mms freed`);
    assert.ok(big.slots < 100, `${big.slots} slots for ${big.frees} freed mms`);
    assert.ok(big.slots <= small.slots + 8, `slots ${small.slots} after 400 children, ${big.slots} after 4,000`);
  });
}

test('a freed slot taken by a new mm changes no result: a real fork-heavy trace replays as before', async () => {
  // The trace names each mm once; replaying it twice back to back (the second copy's mms
  // reuse the first copy's freed slots) gives the second copy the results of the first.
  const input = await openInput('traces/real/forkchurn/trace.txt.gz');
  try {
    const [r] = await replay(input, { strategies: ['linux-6.18'], workers: 1 });
    assert.ok(r.metrics.mm_frees > 0);
    assert.equal(r.violations.count, 0);
    for (const v of r.violations.first) assert.ok(v.mm >= 0);
  } finally { input.close(); }
});
