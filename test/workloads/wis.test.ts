import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FlushFlags } from '../../src/trace/event.ts';
import { checkMarks, collect, countKinds, cpusOf, mmsOf, ofKind } from './helpers.ts';

describe('wis-tlb-flush2', () => {
  it('threads mode: one mm, per page write/DONTNEED/read, munmap with freed tables per 1 MiB', async () => {
    const tasks = 3, n = 300; // 300 pages = one full region + 44 pages
    const { info, events } = await collect(`wis-tlb-flush2:tasks=${tasks},cpus=4,iterations=${n}`);
    assert.deepEqual(countKinds(events), {
      switch: 2 * tasks + 4, // each task in and out; main blocks in join and comes back
      fork: tasks - 1, exit: tasks, exit_mmap: 1,
      mmap: 2 * tasks, munmap: 2 * tasks,
      access: 2 * n * tasks, madvise: n * tasks,
      flush_request: n * tasks + 2 * tasks + 1,
      iteration: n + 1,
    });
    checkMarks(events, n);
    assert.equal(info.mms.length, 1);
    for (const f of ofKind(events, EventKind.fork)) assert.equal(f.c, 1);
    const cpus = cpusOf(events);
    assert.deepEqual([...cpus.values()].map((s) => [...s][0]).sort(), [0, 1, 2], 'task i pinned to CPU i');
    const flushes = ofKind(events, EventKind.flush_request);
    const pageFlushes = flushes.filter((f) => f.b === 1);
    assert.equal(pageFlushes.length, n * tasks);
    assert.ok(pageFlushes.every((f) => (f.c & FlushFlags.FREED_TABLES) === 0));
    const regionFlushes = flushes.filter((f) => f.b === 256);
    assert.equal(regionFlushes.length, 2 * tasks);
    assert.ok(regionFlushes.every((f) => (f.c & FlushFlags.FREED_TABLES) !== 0));
    for (const m of ofKind(events, EventKind.munmap)) assert.equal(m.b, 1 << 20);
  });

  it('processes mode: one mm per task, fork COW flushes, a teardown per process', async () => {
    const tasks = 3, n = 10;
    const { info, events } = await collect(`wis-tlb-flush2:mode=processes,tasks=${tasks},cpus=4,iterations=${n}`);
    assert.equal(info.mms.length, tasks);
    const mms = mmsOf(events);
    assert.equal(new Set([...mms.values()].map((s) => [...s][0])).size, tasks);
    for (const f of ofKind(events, EventKind.fork)) assert.equal(f.c, 0);
    const k = countKinds(events);
    assert.equal(k.exit_mmap, tasks);
    assert.equal(k.flush_request, n * tasks + tasks /* munmaps */ + (tasks - 1) /* COW */ + tasks /* teardowns */);
    // Each DONTNEED flush targets the mm of the task doing it.
    const madv = ofKind(events, EventKind.madvise);
    const pageFlushes = ofKind(events, EventKind.flush_request).filter((f) => f.b === 1);
    pageFlushes.forEach((f, i) => { assert.equal(f.mm, madv[i].mm); assert.equal(f.tid, madv[i].tid); });
  });

  it('more tasks than CPUs share them round robin', async () => {
    const { events } = await collect('wis-tlb-flush2:tasks=4,cpus=2,iterations=20');
    const byCpu = [...cpusOf(events).values()].map((s) => [...s][0]).sort();
    assert.deepEqual(byCpu, [0, 0, 1, 1]);
  });
});

describe('wis-context-switch1', () => {
  it('every CPU alternates task → idle → task; four switches per round trip per pair', async () => {
    const pairs = 2, n = 20;
    const { info, events } = await collect(`wis-context-switch1:tasks=${pairs},cpus=4,iterations=${n}`);
    checkMarks(events, n);
    assert.equal(info.mms.length, 1, 'threads mode: one mm');
    const switches = ofKind(events, EventKind.switch);
    for (const s of switches) assert.ok(s.tid === 0 || s.a === 0, 'no task→task switch');
    // Per pair: 4 switches per round trip, + the initial switch-in, the final exit, and the
    // parent's wait for its child (for pair 0 also the wait for the other parents).
    assert.ok(switches.length >= 4 * n * pairs && switches.length <= 4 * n * pairs + 8 * pairs, String(switches.length));
    const cpus = cpusOf(events);
    const placement = [...cpus.values()].map((s) => [...s]);
    assert.ok(placement.every((c) => c.length === 1), 'tasks stay on their CPU');
    assert.deepEqual(placement.map((c) => c[0]).sort(), [0, 1, 2, 3]);
    const k = countKinds(events);
    assert.equal(k.fork, 2 * pairs - 1);
    assert.equal(k.exit, 2 * pairs);
    assert.equal(k.flush_request, 1, 'only the final teardown');
    assert.equal(k.access, undefined);
  });

  it('processes mode: every task its own mm', async () => {
    const { info, events } = await collect('wis-context-switch1:mode=processes,tasks=2,cpus=4,iterations=5');
    assert.equal(info.mms.length, 4);
    assert.equal(new Set([...mmsOf(events).values()].map((s) => [...s][0])).size, 4);
    assert.equal(countKinds(events).flush_request, 3 /* fork COW */ + 4 /* teardowns */);
  });

  it('handoffs cross CPUs: each pair uses CPUs 2k and 2k+1', async () => {
    const { events } = await collect('wis-context-switch1:tasks=1,cpus=2,iterations=10');
    const perCpu = [0, 1].map((c) => ofKind(events, EventKind.switch).filter((s) => s.cpu === c).length);
    assert.ok(perCpu[0] >= 20 && perCpu[1] >= 20, String(perCpu));
  });
});
