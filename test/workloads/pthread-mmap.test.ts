import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FlushFlags, PrevState } from '../../src/trace/event.ts';
import { getWorkload } from '../../src/workloads/index.ts';
import { checkMarks, collect, countKinds, cpusOf, ofKind } from './helpers.ts';

describe('pthread-mmap', () => {
  it('is flagged as a reconstruction', () => {
    assert.match(getWorkload('pthread-mmap').description, /RECONSTRUCTION/);
  });

  it('event mix per round: slices touched, one munmap with freed tables, one mmap', async () => {
    const rounds = 3;
    const { info, events } = await collect(`pthread-mmap:threads=4,cpus=2,rounds=${rounds},mb=8`);
    const k = countKinds(events);
    assert.equal(k.mmap, rounds);
    assert.equal(k.munmap, rounds);
    assert.equal(k.flush_request, rounds + 1);
    assert.equal(k.access, rounds * 4, '8 MiB / 4 threads = 512 pages = one access each');
    assert.equal(k.fork, 3);
    assert.equal(k.exit, 4);
    checkMarks(events, rounds);
    assert.equal(info.mms.length, 1);
    const flushes = ofKind(events, EventKind.flush_request).filter((f) => f.b !== -1);
    for (const f of flushes) {
      assert.equal(f.b, 2048);
      assert.ok(f.c & FlushFlags.FREED_TABLES);
    }
    // Each round's slices cover the mapping exactly.
    const maps = ofKind(events, EventKind.mmap);
    for (let r = 0; r < rounds; r++) {
      const touches = ofKind(events, EventKind.access).slice(r * 4, (r + 1) * 4).sort((x, y) => x.a - y.a);
      assert.equal(touches[0].a, maps[r].a);
      touches.forEach((t, i) => assert.equal(t.a, maps[r].a + i * 512 * 4096));
    }
  });

  it('defaults: 8 threads on 4 CPUs, two threads per CPU, thread↔thread and thread↔idle switches', async () => {
    const { events } = await collect('pthread-mmap:rounds=2,mb=16');
    const cpus = cpusOf(events);
    assert.equal(cpus.size, 8);
    const perCpu = new Map<number, number>();
    for (const s of cpus.values()) { assert.equal(s.size, 1); const c = [...s][0]; perCpu.set(c, (perCpu.get(c) ?? 0) + 1); }
    assert.deepEqual([...perCpu.entries()].sort(), [[0, 2], [1, 2], [2, 2], [3, 2]]);
    const sw = ofKind(events, EventKind.switch);
    assert.ok(sw.some((s) => s.tid !== 0 && s.a !== 0), 'thread→thread');
    assert.ok(sw.some((s) => s.tid !== 0 && s.a === 0), 'thread→idle');
  });

  it('threads sharing a CPU are time-sliced', async () => {
    // 8192 pages per thread take ~9 ms: longer than a 3 ms slice.
    const { events } = await collect('pthread-mmap:threads=2,cpus=1,rounds=1,mb=64');
    const preempted = ofKind(events, EventKind.switch).filter((s) => s.c === PrevState.runnable && s.tid !== 0 && s.a !== 0);
    assert.ok(preempted.length >= 2, `preemptions: ${preempted.length}`);
  });
});
