import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FLUSH_ALL, FlushFlags, PrevState } from '../../src/trace/event.ts';
import { checkMarks, collect, countKinds, cpusOf, ofKind } from './helpers.ts';

describe('fork-churn', () => {
  it('event mix: fork, exec, startup maps, exit per child', async () => {
    const n = 5;
    const { info, events } = await collect(`fork-churn:iterations=${n},cpus=3`);
    assert.deepEqual(countKinds(events), {
      switch: 4 * n + 2, fork: n, exec: n, exit: n + 1, exit_mmap: 2 * n + 1,
      mmap: 4 * n, munmap: n,
      flush_request: 4 * n + 1, // COW at fork, teardown of the forked copy at exec, ld.so.cache munmap, exit teardown; + parent
      iteration: n + 1,
    });
    checkMarks(events, n);
    assert.equal(info.mms.length, 2 * n + 1);
    assert.equal(info.tasks.length, n + 2);
    const children = info.tasks.filter((t) => t.comm === 'true');
    assert.equal(children.length, n, 'children are listed under the exec\'d name');
  });

  it('children run round robin on CPUs 1..cpus-1; the parent waits on CPU 0', async () => {
    const { events } = await collect('fork-churn:iterations=6,cpus=3');
    const parent = ofKind(events, EventKind.iteration)[0].tid;
    const cpus = cpusOf(events);
    assert.deepEqual([...cpus.get(parent)!], [0]);
    const childCpus = ofKind(events, EventKind.fork).map((f) => [...cpus.get(f.a)!][0]);
    assert.deepEqual(childCpus, [1, 2, 1, 2, 1, 2]);
    // The parent sleeps in wait4 (CPU 0 idle) while each child runs.
    const parentOut = ofKind(events, EventKind.switch).filter((s) => s.tid === parent && s.c === PrevState.blocked);
    assert.equal(parentOut.length, 6);
    assert.ok(parentOut.every((s) => s.a === 0));
  });

  it('exec replaces the forked copy, which is torn down with a full flush', async () => {
    const { events } = await collect('fork-churn:iterations=2');
    for (const x of ofKind(events, EventKind.exec)) {
      const fork = ofKind(events, EventKind.fork).find((f) => f.a === x.tid)!;
      assert.equal(x.a, fork.b, 'exec drops the mm fork created');
      assert.notEqual(x.mm, x.a);
      const i = events.indexOf(x);
      // tlb_finish_mmu's flush, then trace_exit_mmap at the end of the teardown
      assert.equal(events[i + 1].kind, EventKind.flush_request);
      assert.equal(events[i + 1].mm, x.a);
      assert.equal(events[i + 1].b, FLUSH_ALL);
      assert.ok(events[i + 1].c & FlushFlags.FREED_TABLES);
      assert.equal(events[i + 2].kind, EventKind.exit_mmap);
      assert.equal(events[i + 2].mm, x.a);
    }
    const small = ofKind(events, EventKind.flush_request).filter((f) => f.b === 10);
    assert.equal(small.length, 2, 'ld.so.cache munmap');
    assert.ok(small.every((f) => (f.c & FlushFlags.FREED_TABLES) === 0));
  });

  it('exec=false: fork and exit only', async () => {
    const { events } = await collect('fork-churn:iterations=5,exec=false');
    const k = countKinds(events);
    assert.equal(k.exec, undefined);
    assert.equal(k.mmap, undefined);
    assert.equal(k.flush_request, 2 * 5 + 1);
    assert.equal(k.exit_mmap, 5 + 1);
  });

  it('cpus=1: children run on CPU 0 while the parent sleeps', async () => {
    const { events } = await collect('fork-churn:iterations=3,cpus=1');
    for (const s of cpusOf(events).values()) assert.deepEqual([...s], [0]);
  });
});
