// reorder.ts: late events go back in time order, stably, in bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStore } from '../../src/trace/store.ts';
import { reorderStore, REORDER_WINDOW_NS } from '../../src/trace/reorder.ts';
import { pushEvent, eventsOf } from '../../src/trace/event.ts';

function storeOf(times: number[], batchSize = 7): EventStore {
  const s = new EventStore({ batchSize, memoryEvents: 14 });
  times.forEach((t, i) => pushEvent(s.reserve(), 1, t, 0, i, 0, 0, 0, 0));
  s.seal();
  return s;
}

test('events late by less than the window come out sorted, equal times in file order', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: REORDER_WINDOW_NS })), { maxLength: 300 }), (steps) => {
    // A clock that goes forward, each event shown up to a window late.
    let clock = 0;
    const times = steps.map(([adv, lag]) => { clock += adv * 1000; return Math.max(0, clock - lag); });
    // What the readers let through: nothing more than the window behind the latest.
    let max = -Infinity;
    const accepted = times.filter((t) => { if (t < max - REORDER_WINDOW_NS) return false; max = Math.max(max, t); return true; });
    const out = new EventStore({ batchSize: 5, memoryEvents: 10 });
    assert.equal(reorderStore(storeOf(accepted), out), 0);
    out.seal();
    const got = [...eventsOf(out.batches())];
    const want = accepted.map((t, i) => ({ t, i })).sort((x, y) => x.t - y.t || x.i - y.i);
    assert.deepEqual(got.map((e) => [e.time, e.tid]), want.map((w) => [w.t, w.i]));
    out.close();
  }), { seed: 7, numRuns: 300 });
});

test('a window denser than the ring holds: the oldest leave early, a later event is placed after them, counted', () => {
  const times = [0, 10, 10, 10, 10, 10, 10, 10, 10, 5, 11];
  const out = new EventStore({ batchSize: 4 });
  const displaced = reorderStore(storeOf(times), out, REORDER_WINDOW_NS, 4);
  out.seal();
  const got = [...eventsOf(out.batches())].map((e) => e.time);
  assert.equal(displaced, 1);
  assert.equal(got.length, times.length);
  for (let i = 1; i < got.length; i++) assert.ok(got[i] >= got[i - 1], `${got}`);
});
