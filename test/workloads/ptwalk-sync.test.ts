import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventKind, FlushFlags, NO_MM } from '../../src/trace/event.ts';
import { checkMarks, collect, countKinds, cpusOf, mmsOf, ofKind } from './helpers.ts';

describe('ptwalk-sync', () => {
  it('collapse: madvise(MADV_COLLAPSE), flush with freed tables, then pt_sync', async () => {
    const n = 5;
    const { events } = await collect(`ptwalk-sync:op=collapse,iterations=${n}`);
    const k = countKinds(events);
    assert.equal(k.madvise, n);
    assert.equal(k.pt_sync, n);
    assert.equal(k.flush_request, n + 2, 'one per collapse + two teardowns');
    checkMarks(events, n);
    for (const s of ofKind(events, EventKind.pt_sync)) {
      const i = events.indexOf(s);
      const f = events[i - 1];
      assert.equal(f.kind, EventKind.flush_request);
      assert.equal(f.mm, s.mm);
      assert.ok(f.c & FlushFlags.FREED_TABLES);
      assert.ok(s.c & FlushFlags.FREED_TABLES);
      assert.equal(events[i - 2].kind, EventKind.madvise);
      assert.equal(events[i - 2].c, 25);
    }
  });

  it('unshare: hugetlb unshare flush in 2 MiB strides, pt_sync with UNSHARED_TABLES', async () => {
    const { events } = await collect('ptwalk-sync:op=unshare,iterations=4');
    const syncs = ofKind(events, EventKind.pt_sync);
    assert.equal(syncs.length, 4);
    for (const s of syncs) {
      assert.ok(s.c & FlushFlags.UNSHARED_TABLES);
      const f = events[events.indexOf(s) - 1];
      assert.equal(f.kind, EventKind.flush_request);
      assert.equal(f.c & (FlushFlags.UNSHARED_TABLES | FlushFlags.HUGE_STRIDE), FlushFlags.UNSHARED_TABLES | FlushFlags.HUGE_STRIDE);
      assert.equal(f.b, 512);
    }
  });

  it('munmap: freed tables; pt_sync only with munmapSync', async () => {
    const a = await collect('ptwalk-sync:op=munmap,iterations=5');
    assert.equal(countKinds(a.events).pt_sync, undefined);
    const big = ofKind(a.events, EventKind.flush_request).filter((f) => f.b === 1024);
    assert.equal(big.length, 5);
    assert.ok(big.every((f) => f.c & FlushFlags.FREED_TABLES));
    const b = await collect('ptwalk-sync:op=munmap,iterations=5,munmapSync=true');
    assert.equal(countKinds(b.events).pt_sync, 5);
  });

  it('walkers walk the process mm on their own CPUs, begin/end paired', async () => {
    const { events } = await collect('ptwalk-sync:iterations=10,walkers=3,busy=1,cpus=8');
    const walks = ofKind(events, EventKind.ptwalk);
    assert.ok(walks.length > 20);
    const freer = checkMarks(events, 10);
    const processMm = [...mmsOf(events).get(freer)!][0];
    const open = new Map<number, boolean>();
    for (const w of walks) {
      assert.ok(w.cpu >= 1 && w.cpu <= 3, 'walkers on CPUs 1..walkers');
      assert.equal(w.mm, processMm);
      assert.equal(w.a, open.get(w.cpu) ? 0 : 1, 'begin and end alternate per CPU');
      open.set(w.cpu, w.a === 1);
    }
    assert.ok([...open.values()].every((o) => !o), 'every walk ends');
  });

  it('busy CPUs run another mm and never idle; idle CPUs are lazy on the process mm', async () => {
    const { events } = await collect('ptwalk-sync:iterations=10,walkers=2,busy=2,cpus=8');
    const freer = ofKind(events, EventKind.iteration)[0].tid;
    const processMm = [...mmsOf(events).get(freer)!][0];
    const cpus = cpusOf(events);
    const mms = mmsOf(events);
    const onCpu = (c: number) => [...cpus.entries()].filter(([, s]) => s.has(c)).map(([t]) => t);
    for (const c of [3, 4]) {
      const [t] = onCpu(c);
      assert.notEqual([...mms.get(t)!][0], processMm);
      const sw = ofKind(events, EventKind.switch).filter((s) => s.cpu === c);
      assert.equal(sw.length, 2, 'switched in at the start, out at the end');
    }
    for (const c of [5, 6, 7]) {
      const sw = ofKind(events, EventKind.switch).filter((s) => s.cpu === c);
      assert.equal(sw[0].b, processMm, 'a thread of the process ran here');
      assert.equal(sw[1].a, 0);
      assert.equal(sw[1].b, NO_MM);
      assert.ok(sw[1].time < ofKind(events, EventKind.iteration)[1].time, 'and went to sleep before the first operation');
    }
    const lazyOff = await collect('ptwalk-sync:iterations=3,lazy=false');
    assert.equal(ofKind(lazyOff.events, EventKind.switch).filter((s) => s.cpu >= 5).length, 0);
  });

  it('mixed operations are a seeded choice', async () => {
    const a = await collect('ptwalk-sync:iterations=30');
    const syscalls = (c: typeof a) => c.events.filter((e) => e.kind === EventKind.madvise || e.kind === EventKind.munmap).map((e) => e.kind);
    const b = await collect('ptwalk-sync:iterations=30,seed=7');
    assert.notDeepEqual(syscalls(b), syscalls(a));
    const kinds = countKinds(a.events);
    assert.ok(kinds.madvise > 0 && kinds.munmap > 0);
  });
});
