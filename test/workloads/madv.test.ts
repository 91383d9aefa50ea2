import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FlushFlags, NO_MM, PrevState } from '../../src/trace/event.ts';
import { checkMarks, collect, countKinds, cpusOf, mmsOf, ofKind } from './helpers.ts';

describe('madv-dontneed-switch', () => {
  it('event mix: madvise + 1-page flush + touch + migration per iteration', async () => {
    const n = 20;
    const { events } = await collect(`madv-dontneed-switch:iterations=${n}`);
    assert.deepEqual(countKinds(events), {
      switch: 2 * n + 2, migrate: n, madvise: n, access: n + 1, iteration: n + 1,
      flush_request: n + 1, mmap: 1, exit: 1, exit_mmap: 1,
    });
    const madv = ofKind(events, EventKind.madvise);
    const flushes = ofKind(events, EventKind.flush_request);
    for (let i = 0; i < n; i++) {
      assert.equal(madv[i].c, 4, 'MADV_DONTNEED');
      assert.equal(madv[i].b, 4096);
      assert.equal(flushes[i].a, madv[i].a);
      assert.equal(flushes[i].b, 1);
      assert.equal(flushes[i].c & FlushFlags.FREED_TABLES, 0, 'no page tables freed');
    }
  });

  it('alternates CPUs 0 and 1; the CPU left behind goes idle', async () => {
    const { events } = await collect('madv-dontneed-switch:iterations=6,cpus=4');
    checkMarks(events, 6);
    const tid = ofKind(events, EventKind.iteration)[0].tid;
    assert.deepEqual([...cpusOf(events).get(tid)!].sort(), [0, 1], 'extra CPUs stay unused');
    const migrations = ofKind(events, EventKind.migrate);
    migrations.forEach((m, i) => { assert.equal(m.a, i % 2); assert.equal(m.b, 1 - (i % 2)); });
    // Each migration: the old CPU switches to idle (the task is still runnable), the new one
    // switches the task in later.
    const switches = ofKind(events, EventKind.switch);
    for (const m of migrations) {
      const away = switches.find((s) => s.time === m.time && s.cpu === m.cpu)!;
      assert.equal(away.a, 0); assert.equal(away.b, NO_MM); assert.equal(away.c, PrevState.runnable);
      const arrive = switches.find((s) => s.time > m.time && s.cpu === m.b)!;
      assert.equal(arrive.tid, 0); assert.equal(arrive.a, tid);
    }
    // Marks land on alternating CPUs.
    ofKind(events, EventKind.iteration).slice(1).forEach((it, i) => assert.equal(it.cpu, (i + 1) % 2));
  });
});

describe('madv-threads', () => {
  it('event mix: touch + madvise + flush per iteration; spinners never switch', async () => {
    const n = 20;
    const { events } = await collect(`madv-threads:threads=3,cpus=4,iterations=${n}`);
    assert.deepEqual(countKinds(events), {
      switch: 8, // idle→main, idle→2 spinners, main→idle (join), spinners→idle (exit), idle→main, main→idle
      fork: 2, exit: 3, exit_mmap: 1, mmap: 1,
      access: n, madvise: n, flush_request: n + 1, iteration: n + 1,
    });
  });

  it('one mm; spinners on CPUs 1..threads-1 run through the whole measurement', async () => {
    const { info, events } = await collect('madv-threads:threads=4,cpus=4,iterations=30');
    const main = checkMarks(events, 30);
    assert.equal(info.mms.length, 1);
    const mms = mmsOf(events);
    assert.equal(new Set([...mms.values()].flatMap((s) => [...s])).size, 1);
    const cpus = cpusOf(events);
    assert.deepEqual([...cpus.get(main)!], [0]);
    const spinners = [...cpus.keys()].filter((t) => t !== main);
    assert.deepEqual(spinners.map((t) => [...cpus.get(t)!][0]).sort(), [1, 2, 3]);
    for (const f of ofKind(events, EventKind.fork)) assert.equal(f.c, 1, 'threads');
    // All spinners are switched in before the first flush and out after the last mark.
    const marks = ofKind(events, EventKind.iteration);
    const firstFlush = ofKind(events, EventKind.flush_request)[0];
    for (const s of ofKind(events, EventKind.switch).filter((e) => spinners.includes(e.a))) assert.ok(s.time < firstFlush.time);
    for (const s of ofKind(events, EventKind.switch).filter((e) => spinners.includes(e.tid))) {
      assert.ok(s.time > marks.at(-1)!.time);
      assert.equal(s.c, PrevState.dead);
    }
  });

  it('threads=1 is a single thread', async () => {
    const { events } = await collect('madv-threads:threads=1,cpus=1,iterations=5');
    assert.equal(ofKind(events, EventKind.fork).length, 0);
    assert.equal(ofKind(events, EventKind.switch).length, 2);
  });
});
