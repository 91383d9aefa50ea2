// kernel/smp.c: a cross-call is queued on the target's call_single_queue (llist_add) and a
// real IPI is sent only when that queue was empty; a call queued behind a pending one is
// handled by the same interrupt. Threads 10, 11, 12 of mm 1 run on cpu0..cpu2; cpu0 and
// cpu2 each flush one page, `gap` ns apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from './trace-helpers.ts';
import { getProfile } from '../../src/machine/profiles.ts';

function twoInitiators(gapNs: number): TB {
  return new TB(3).sw(0, 0, 0, 10, 1).sw(1, 0, 0, 11, 1).sw(2, 0, 0, 12, 1)
    .at(100_000).flush(0, 10, 1, 1)
    .at(100_000 + gapNs).flush(2, 12, 1, 1);
}

test('a flush queued behind a pending one on the same target sends no IPI of its own', async () => {
  const p = getProfile();
  // cpu0's call is still queued on cpu1 for ipiDeliverNs + its handler: 100 ns later
  // cpu1's queue is not empty, cpu0's is.
  assert.ok(100 < p.ipiDeliverNs);
  const close = (await run(twoInitiators(100), ['linux-6.18']))['linux-6.18'];
  // First request: IPIs to cpu1 and cpu2 (one send of a cpumask). Second: calls queued for
  // cpu0 (empty queue: IPI) and cpu1 (busy: no IPI).
  assert.equal(close.metrics.csd_queued, 4);
  assert.equal(close.metrics.ipis_received, 4);
  assert.equal(close.metrics.ipis_sent, 3);
  assert.equal(close.predicted.ipiSends, 2);
  // Every CPU still flushed its page for both requests (the initiators locally).
  assert.deepEqual(close.perCpu.page_flushes, [2, 2, 2]);
  assert.deepEqual(close.predicted.tlbFlush['1'], { full: 0, ranged: 4, none: 0, pages: 4 });

  const apart = (await run(twoInitiators(100_000), ['linux-6.18']))['linux-6.18'];
  assert.equal(apart.metrics.ipis_sent, 4);
  assert.equal(apart.predicted.ipiSends, 2);
  assert.equal(apart.metrics.csd_queued, 4);
  // The queued call on cpu1 cost only csdHandleNs, not a whole interrupt.
  assert.equal(apart.perCpu.ipi_handler_ns[1] - close.perCpu.ipi_handler_ns[1], p.ipiHandlerNs - p.csdHandleNs);
  assert.equal(close.violations.count + apart.violations.count, 0);
});
