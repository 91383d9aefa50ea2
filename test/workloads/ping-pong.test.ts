import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FLUSH_ALL, FlushFlags, NO_MM, PrevState } from '../../src/trace/event.ts';
import { checkMarks, collect, countKinds, cpusOf, mmsOf, ofKind } from './helpers.ts';

describe('ping-pong', () => {
  it('event mix: two switches and two touches per round trip, fork/exit around it', async () => {
    const n = 20;
    const { info, events } = await collect(`ping-pong:pages=8,iterations=${n}`);
    assert.deepEqual(countKinds(events), {
      switch: 2 * n + 4, // idle→A, warm-up A→B→A, n round trips, A→idle at exit
      access: 2 * (n + 1),
      iteration: n + 1,
      fork: 1, exit: 2, exit_mmap: 2, mmap: 2,
      flush_request: 3, // fork's COW flush + two teardowns
    });
    assert.equal(info.cpus, 2);
    for (const a of ofKind(events, EventKind.access)) assert.equal(a.b, 8);
  });

  it('no touches with pages=0', async () => {
    const { events } = await collect('ping-pong:iterations=10');
    assert.equal(ofKind(events, EventKind.access).length, 0);
    assert.equal(ofKind(events, EventKind.switch).length, 24);
  });

  it('two processes, two mms, one CPU, user→user switches only in the loop', async () => {
    const { info, events } = await collect('ping-pong:pages=4,iterations=10');
    const parent = checkMarks(events, 10);
    const mms = mmsOf(events);
    assert.equal(mms.size, 2);
    const [a, b] = [...mms.keys()];
    assert.equal(a, parent);
    assert.notDeepEqual(mms.get(a), mms.get(b));
    assert.equal(info.mms.length, 2);
    for (const cpus of cpusOf(events).values()) assert.deepEqual([...cpus], [0]);
    const fork = ofKind(events, EventKind.fork)[0];
    assert.equal(fork.c, 0, 'the child is a process');
    // Between the first and last mark every switch is user→user between the two tasks.
    const first = events.findIndex((e) => e.kind === EventKind.iteration);
    const last = events.findLastIndex((e) => e.kind === EventKind.iteration);
    const loop = events.slice(first, last).filter((e) => e.kind === EventKind.switch);
    assert.equal(loop.length, 2 * 10);
    for (const s of loop) {
      assert.ok(s.tid !== 0 && s.a !== 0, 'never idle in between');
      assert.notEqual(s.mm, s.b, 'every switch changes mm');
    }
    assert.ok(loop.slice(0, -1).every((s) => s.c === PrevState.blocked));
    assert.equal(loop.at(-1)!.c, PrevState.dead, 'the child exits after its last reply');
    assert.equal(ofKind(events, EventKind.switch).at(-1)!.b, NO_MM);
  });

  it('each side touches its own zero-page mapping', async () => {
    const { events } = await collect('ping-pong:pages=512,iterations=3');
    const maps = ofKind(events, EventKind.mmap);
    assert.equal(maps.length, 2);
    for (const m of maps) { assert.equal(m.b, 512 * 4096); assert.equal(m.c, 1); }
    for (const a of ofKind(events, EventKind.access)) {
      const mine = maps.find((m) => m.tid === a.tid)!;
      assert.equal(a.a, mine.a);
      assert.equal(a.b, 512);
    }
  });

  it('flush requests: fork COW flush of the parent, full teardowns with freed tables', async () => {
    const { events } = await collect('ping-pong:iterations=3');
    const flushes = ofKind(events, EventKind.flush_request);
    assert.equal(flushes.length, 3);
    for (const f of flushes) {
      assert.equal(f.b, FLUSH_ALL);
      assert.equal(f.c & FlushFlags.FREED_TABLES, FlushFlags.FREED_TABLES);
    }
    assert.deepEqual(ofKind(events, EventKind.exit).map((e) => e.a), [1, 1], 'each exit ends its thread group');
  });
});
