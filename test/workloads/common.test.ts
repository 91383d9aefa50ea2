// Properties every workload has: exact info, ordering, CPU/task consistency, determinism,
// streaming in batches of any size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind } from '../../src/trace/event.ts';
import { generateWorkload, listWorkloads } from '../../src/workloads/index.ts';
import { checkDeterminism, checkInvariants, collect, ofKind } from './helpers.ts';

/** Small but complete instances of every workload. */
const SMALL: Record<string, string> = {
  'ping-pong': 'ping-pong:pages=8,iterations=20',
  'madv-dontneed-switch': 'madv-dontneed-switch:iterations=20,cpus=3',
  'pthread-mmap': 'pthread-mmap:threads=4,cpus=2,rounds=3,mb=8',
  'madv-threads': 'madv-threads:threads=3,cpus=4,iterations=20',
  'wis-tlb-flush2': 'wis-tlb-flush2:tasks=3,cpus=4,iterations=300',
  'wis-context-switch1': 'wis-context-switch1:tasks=2,cpus=4,iterations=20',
  'fork-churn': 'fork-churn:iterations=5,cpus=3',
  'ptwalk-sync': 'ptwalk-sync:iterations=10',
};

describe('every workload', () => {
  it('has a small instance here', () => {
    assert.deepEqual(Object.keys(SMALL).sort(), listWorkloads().map((w) => w.name).sort());
  });

  for (const [name, spec] of Object.entries(SMALL)) {
    it(`${name}: exact info, time order, consistent CPUs and tasks`, async () => {
      const c = await collect(spec);
      checkInvariants(c);
      assert.match(c.info.source, new RegExp(`^workload:${name}:.*seed=1$`));
      assert.ok(ofKind(c.events, EventKind.iteration).length > 1);
    });

    it(`${name}: deterministic per seed`, async () => {
      await checkDeterminism(spec, 2);
    });

    it(`${name}: same events in batches of any size, batches streamed`, async () => {
      const whole = await collect(spec);
      const src = await generateWorkload(spec, { batchSize: 7 });
      let n = 0, batches = 0;
      for await (const b of src.batches()) {
        assert.ok(b.length <= 7 && b.length > 0);
        for (let i = 0; i < b.length; i++, n++) {
          const e = whole.events[n];
          assert.equal(b.kind[i], e.kind); assert.equal(b.time[i], e.time); assert.equal(b.cpu[i], e.cpu);
          assert.equal(b.tid[i], e.tid); assert.equal(b.a[i], e.a); assert.equal(b.b[i], e.b); assert.equal(b.c[i], e.c);
        }
        batches++;
      }
      assert.equal(n, whole.events.length);
      assert.equal(batches, Math.ceil(n / 7));
      // The source can be read twice.
      let again = 0;
      for await (const b of src.batches()) again += b.length;
      assert.equal(again, n);
    });
  }

  it('a large workload streams without being built in memory first', async () => {
    // 200k iterations ≈ 1.4M events: only counted, then read batch by batch.
    const src = await generateWorkload('madv-dontneed-switch:iterations=200000');
    assert.equal(src.info.events, 7 * 200000 + 8);
    let first = -1;
    for await (const b of src.batches()) { first = b.length; break; }
    assert.equal(first, 1 << 16);
  });

  it('cost overrides change timestamps only', async () => {
    const base = await collect('ping-pong:iterations=5');
    const slow = await collect('ping-pong:iterations=5', { costs: { SYSCALL_NS: 1000 } });
    assert.deepEqual(slow.events.map((e) => [e.kind, e.cpu, e.tid, e.a]), base.events.map((e) => [e.kind, e.cpu, e.tid, e.a]));
    assert.ok(slow.info.lastNs > base.info.lastNs);
  });
});
