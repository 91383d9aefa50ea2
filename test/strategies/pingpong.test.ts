import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from '../machine/trace-helpers.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';

// Two mms ping-ponging on one CPU, each side touching P pages per turn (Andy Lutomirski's
// ping-pong test with 512 pages).
function pingpong(rounds: number, pages: number): TB {
  const tb = new TB(1);
  for (let i = 0; i < rounds; i++) {
    tb.sw(0, 1, 1, 2, 2).access(0, 2, 2, pages);
    tb.sw(0, 2, 2, 1, 1).access(0, 1, 1, pages);
  }
  return tb;
}

const NO_PCID = new Set(['linux-4.13', 'linux-4.14-nopcid']);

test('ping-pong: without PCID every switch flushes and refills; with PCID none after warm-up', async () => {
  const R = 50, P = 512;
  const res = await run(pingpong(R, P), [...STRATEGY_NAMES]);
  for (const name of STRATEGY_NAMES) {
    const m = res[name].metrics;
    assert.equal(m.context_switches, 2 * R, name);
    assert.equal(m.cr3_writes, 2 * R, name);
    if (NO_PCID.has(name)) {
      assert.equal(m.cr3_flushes, 2 * R, `${name} flushes on every switch`);
      assert.equal(m.tlb_misses, 2 * R * P, `${name} refills P pages after every switch`);
      assert.deepEqual(res[name].predicted.tlbFlush['0'], { full: 2 * R, ranged: 0, none: 0, pages: 0 });
    } else {
      // Only the first switch to mm 2 takes a new ASID slot (a flush); mm 1 kept slot 0.
      assert.equal(m.cr3_flushes, 1, `${name}: one flush for the first load of mm 2`);
      assert.equal(m.tlb_misses, 2 * P, `${name}: each side misses its P pages once`);
      assert.deepEqual(res[name].predicted.tlbFlush['0'], { full: 1, ranged: 0, none: 2 * R - 1, pages: 0 });
    }
    assert.equal(m.ipis_sent, 0, name);
    assert.equal(m.coherence_violations, 0, name);
  }
});

test('ping-pong among 7 mms on one CPU: round-robin ASID reuse flushes once the 6 slots are used', async () => {
  const tb = new TB(1);
  const N = 7, R = 3;
  let prev = 1;
  for (let r = 0; r < R; r++) {
    for (let k = 0; k < N; k++) {
      const next = ((prev) % N) + 1;
      tb.sw(0, prev, prev, next, next);
      prev = next;
    }
  }
  const res = await run(tb, ['linux-4.14', 'linux-6.18']);
  for (const name of ['linux-4.14', 'linux-6.18']) {
    // 7 mms cycling through 6 slots with round-robin eviction: every load misses its slot.
    assert.equal(res[name].metrics.cr3_flushes, N * R, name);
  }
});

test('ASID slots are recycled round-robin (choose_new_asid), not least-recently-used', async () => {
  // One CPU that boots running mm 1 in ASID 0 (next_asid = 1). Mms 2..6 take ASIDs 1..5
  // (5 flushes). Back to mm 1: its slot is current, no flush. Mm 7: next_asid reached
  // TLB_NR_DYN_ASIDS, so it wraps to ASID 0 and the cursor to 1 — evicting mm 1, the most
  // recently used mm (an LRU would have evicted mm 2). Mm 2 still owns ASID 1: no flush.
  // Mm 1 takes ASID 1 (evicting mm 2), mm 2 then ASID 2 (evicting mm 3): two flushes. Mm 4
  // still owns ASID 3: no flush. PCID: 5 + 1 + 1 + 1 = 8 flushing CR3 writes, 3 without.
  // Without PCID every one of the 11 mm changes flushes.
  const order = [2, 3, 4, 5, 6, 1, 7, 2, 1, 2, 4];
  const tb = new TB(1);
  let prev = 1;
  for (const next of order) { tb.sw(0, prev, prev, next, next); prev = next; }
  const res = await run(tb, [...STRATEGY_NAMES]);
  for (const name of STRATEGY_NAMES) {
    const r = res[name];
    assert.equal(r.metrics.cr3_writes, order.length, name);
    if (NO_PCID.has(name)) {
      assert.deepEqual(r.predicted.tlbFlush['0'], { full: 11, ranged: 0, none: 0, pages: 0 }, name);
    } else {
      assert.deepEqual(r.predicted.tlbFlush['0'], { full: 8, ranged: 0, none: 3, pages: 0 }, name);
    }
    assert.equal(r.metrics.cr3_flushes, NO_PCID.has(name) ? 11 : 8, name);
    assert.equal(r.violations.count, 0, name);
  }
});
