import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from './trace-helpers.ts';
import { getProfile } from '../../src/machine/profiles.ts';

// iteration_ns follows the measured thread's critical path: in a same-CPU ping-pong the
// other side's refills delay the measured side as much as its own do.
function pingpong(rounds: number, pages: number, gapNs: number): TB {
  const tb = new TB(1);
  tb.sw(0, 1, 1, 2, 2).sw(0, 2, 2, 1, 1);
  for (let i = 0; i < rounds; i++) {
    tb.iteration(0, 1, 1, i);
    tb.access(0, 1, 1, pages).sw(0, 1, 1, 2, 2);
    tb.access(0, 2, 2, pages);
    // straight back to mm 1, or through the idle task after a gap
    if (gapNs === 0) tb.sw(0, 2, 2, 1, 1);
    else tb.wait(gapNs).sw(0, 2, 2, 0, 0).wait(gapNs).sw(0, 0, 0, 1, 1);
  }
  tb.iteration(0, 1, 1, rounds);
  return tb;
}

test('iteration_ns: refills of the other task on the same CPU lengthen the measured round trip', async () => {
  const R = 20, P = 100;
  const tb = pingpong(R, P, 0);
  const res = await run(tb, ['linux-4.13']);
  const r = res['linux-4.13'];
  const p = getProfile();
  // Per round: 5 events spaced 1 us apart in the trace, plus both sides' refills of P pages
  // after their flushing CR3 writes.
  const traceNs = 5 * 1000;
  const perRoundMisses = r.metrics.tlb_misses / R;
  assert.ok(perRoundMisses >= 2 * P, `both sides refill: ${perRoundMisses}`);
  const ownOnly = traceNs + P * p.tlbMissNs;
  assert.ok(r.metrics.iteration_ns > ownOnly + P * p.tlbMissNs * 0.9,
    `iteration_ns ${r.metrics.iteration_ns} includes the other side's ${P} refills (own only would be ${ownOnly})`);
});

test('iteration_ns: an idle gap longer than the delay absorbs it', async () => {
  const R = 20, P = 100;
  const res = await run(pingpong(R, P, 1_000_000), ['linux-4.13']);
  const r = res['linux-4.13'];
  const p = getProfile();
  const traceNs = 6 * 1000 + 2 * 1_000_000;
  // Only the measured task's own overhead counts (its refills, CR3 writes); mm 2's refills
  // happened before a 1 ms idle gap.
  assert.ok(r.metrics.iteration_ns < traceNs + P * p.tlbMissNs * 1.5, `${r.metrics.iteration_ns}`);
  assert.ok(r.metrics.iteration_ns > traceNs + P * p.tlbMissNs * 0.9, `${r.metrics.iteration_ns}`);
});
