// The timeline bucket of an event is floor((t - firstNs) / bucketNs), clamped to the
// buckets, whatever order the times come in: the machine skips the division while events
// stay inside the previous event's bucket, and must notice every boundary crossing —
// forwards, backwards, exactly on a boundary, a hair below it, and outside the span.
// Per-CPU counters and the totals agree (the per-CPU array is laid out CPU-major).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../src/machine/machine.ts';
import { MI, TIMELINE_BUCKETS, TIMELINE_METRICS } from '../../src/machine/metrics.ts';
import { getProfile } from '../../src/machine/profiles.ts';
import { linux618 } from '../../src/strategies/linux-6.18.ts';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/index.ts';

test('each count lands in the bucket floor((t - first) / bucketNs) of its event time', () => {
  // A span that does not divide evenly, so boundaries are not whole nanoseconds.
  const first = 1_000_003, last = first + 7_777_777;
  const m = new Machine(3, getProfile(), { firstNs: first, lastNs: last });
  m.strategy = linux618.create(m);
  const width = (last - first) / TIMELINE_BUCKETS;
  const times: number[] = [];
  for (let b = 0; b < TIMELINE_BUCKETS; b += 7) {
    const edge = first + b * width;
    times.push(edge, edge + width / 2, first + (b + 1) * width - 1e-3, first + (b + 1) * width, edge - 1e-3);
  }
  times.push(first - 5_000, last, last + 1e9, first + 3 * width + 1, first + 150 * width + 2, first + 3 * width + 2, first);
  const expected = new Float64Array(TIMELINE_BUCKETS);
  times.forEach((t, i) => {
    m.setTime(t, i);
    m.inc(MI.cr3_flushes, i % 3);
    const b = Math.min(TIMELINE_BUCKETS - 1, Math.max(0, Math.floor((t - first) / width)));
    expected[b]++;
  });
  const row = TIMELINE_METRICS.indexOf('cr3_flushes');
  const got = Array.from(m.timeline.subarray(row * TIMELINE_BUCKETS, (row + 1) * TIMELINE_BUCKETS));
  assert.deepEqual(got, Array.from(expected));
  assert.equal(m.metrics[MI.cr3_flushes], times.length);
});

test('a replay\'s per-CPU counters add up to its totals', async () => {
  const src = await openInput('workload:wis-tlb-flush2:cpus=4,tasks=4,iterations=50');
  try {
    const [r] = await replay(src, { strategies: ['linux-6.18'], workers: 1 });
    let checked = 0;
    for (const name of ['csd_queued', 'ipis_sent', 'ipis_received', 'atomic_ops', 'line_transfers', 'full_flushes', 'page_flushes']) {
      const sum = r.perCpu[name].reduce((a, b) => a + b, 0);
      assert.equal(sum, r.metrics[name], name);
      if (sum > 0) checked++;
    }
    assert.ok(checked >= 5, 'the workload exercises the counters');
    assert.equal(r.perCpu.ipis_received.length, 4);
  } finally { src.close(); }
});
