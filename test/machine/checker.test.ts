// The coherence checker against strategies that are broken on purpose: each skips one
// flush the kernel needs, and the checker must name the event where user code then ran
// with a stale translation (or where freed page tables stayed reachable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from './trace-helpers.ts';
import { defineStrategy, LazyShootdown, Linux618, Linux420 } from '../../src/strategies/index.ts';
import type { RunResult } from '../../src/replay/index.ts';

const located = (r: RunResult) => r.violations.first.map(({ eventIndex, kind, cpu, mm }) => ({ eventIndex, kind, cpu, mm }));

/** linux-6.18 whose should_flush_tlb() is false for every CPU but the initiator, freed
 *  tables included: it flushes locally and leaves the remote TLBs as they were. */
class SkipsRemoteFlush extends Linux618 {
  protected override shouldFlush(cpu: number, mask: Uint32Array): Uint32Array {
    const only = this.m.scratchMask(1);
    if (this.m.maskTest(mask, cpu)) this.m.maskSet(only, cpu);
    return only;
  }
  protected override flushEveryone(): boolean { return false; }
}
const skipsRemote = defineStrategy({
  name: 'broken-skip-remote', title: 'linux-6.18 without remote flushes', kernel: 'test only',
  description: 'never sends a flush IPI', safe: false, create: (m) => new SkipsRemoteFlush(m),
});

/** linux-4.20 whose switch_mm returns when the mm is already loaded, even after a lazy
 *  period: the tlb_gen check of 145f573b89a6 ("make lazy TLB mode lazier") is gone. */
class ForgetsTlbGen extends Linux420 {
  protected override switchMmIrqsOff(cpu: number, next: number): void {
    if (this.m.loadedMm[cpu] === next) { this.m.setLazy(cpu, false); return; }
    super.switchMmIrqsOff(cpu, next);
  }
}
const forgetsGen = defineStrategy({
  name: 'broken-no-gen-check', title: 'linux-4.20 without the lazy tlb_gen check', kernel: 'test only',
  description: 'returns from lazy mode without checking tlb_gen', safe: false, create: (m) => new ForgetsTlbGen(m),
});

test('a strategy that skips the remote flush is caught where the remote CPU next runs user code', async () => {
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //        e0
    .sw(1, 0, 0, 11, 1) //        e1
    .access(1, 11, 1, 8) //       e2  fine: nothing flushed yet
    .flush(0, 10, 1, 1) //        e3  madvise on cpu0: cpu1 must flush too
    .access(0, 10, 1, 8) //       e4  the initiator flushed itself: fine
    .access(1, 11, 1, 8); //      e5  cpu1 still holds the old translation
  const res = await run(tb, [skipsRemote, 'linux-6.18']);
  assert.deepEqual(located(res['broken-skip-remote']), [{ eventIndex: 5, kind: 'stale-tlb', cpu: 1, mm: 1 }]);
  assert.equal(res['broken-skip-remote'].metrics.coherence_violations, 1);
  assert.equal(res['broken-skip-remote'].perCpu.coherence_violations[1], 1);
  assert.equal(res['broken-skip-remote'].metrics.ipis_sent, 0);
  // The real 6.18 sends the IPI and nothing is reported.
  assert.equal(res['linux-6.18'].metrics.ipis_sent, 1);
  assert.equal(res['linux-6.18'].violations.count, 0);
});

test('skipping the remote flush for freed page tables is caught when the request completes', async () => {
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //        e0
    .sw(1, 0, 0, 11, 1) //        e1
    .sw(1, 11, 1, 0, 0) //        e2  cpu1 lazy on mm 1
    .flush(0, 10, 1, 64, true); // e3  munmap freeing page tables: lazy cpu1 must be hit
  const res = await run(tb, [skipsRemote, 'linux-6.18']);
  assert.deepEqual(located(res['broken-skip-remote']), [{ eventIndex: 3, kind: 'freed-tables-walk', cpu: 1, mm: 1 }]);
  assert.equal(res['linux-6.18'].violations.count, 0);
});

test('returning from lazy mode without the tlb_gen check is caught at the switch back', async () => {
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //        e0
    .sw(1, 0, 0, 11, 1) //        e1
    .sw(1, 11, 1, 0, 0) //        e2  cpu1 lazy: 4.20 skips it for flushes without freed tables
    .flush(0, 10, 1, 1) //        e3
    .sw(1, 0, 0, 11, 1); //       e4  back to mm 1: must notice the missed generation
  const res = await run(tb, [forgetsGen, 'linux-4.20']);
  assert.deepEqual(located(res['broken-no-gen-check']), [{ eventIndex: 4, kind: 'stale-tlb', cpu: 1, mm: 1 }]);
  assert.equal(res['broken-no-gen-check'].metrics.cr3_flushes, 2);
  // 4.20 flushes at e4 (CR3 on ASID 1 without NOFLUSH): 3 flushing CR3 writes, no report.
  assert.equal(res['linux-4.20'].metrics.cr3_flushes, 3);
  assert.equal(res['linux-4.20'].violations.count, 0);
});

test('a reclaim batch flush that skips a remote CPU is caught at that CPU\'s next user access', async () => {
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //             e0  cpu0: mm 1
    .sw(1, 0, 0, 20, 2) //             e1  cpu1: mm 2
    .flush(0, 10, 0, -1) //            e2  arch_tlbbatch_flush (mm NULL): covers mm 1 and mm 2
    .access(0, 10, 1, 4) //            e3  cpu0 flushed itself
    .access(1, 20, 2, 4); //           e4  cpu1 was not flushed
  const res = await run(tb, [skipsRemote, 'linux-6.18', 'linux-4.13']);
  assert.deepEqual(located(res['broken-skip-remote']), [{ eventIndex: 4, kind: 'stale-tlb', cpu: 1, mm: 2 }]);
  assert.equal(res['linux-6.18'].violations.count, 0);
  assert.equal(res['linux-4.13'].violations.count, 0);
});

test('freeing an mm that a lazy CPU still has in CR3 is caught (lazy-shootdown without cleanup_lazy_tlbs)', async () => {
  // MMU_LAZY_TLB_SHOOTDOWN drops the lazy refcount, so __mmdrop can run while CPUs are
  // lazily on the mm: cleanup_lazy_tlbs() must move them to init_mm first. Here nothing
  // else does (the trace has no exit flush), so a variant without it frees a loaded pgd.
  class NoCleanup extends LazyShootdown {
    override onMmDrop(): void { /* forgot cleanup_lazy_tlbs() */ }
  }
  const noCleanup = defineStrategy({
    name: 'broken-no-cleanup', title: 'shoot lazies without the shootdown', kernel: 'test only',
    description: 'no cleanup_lazy_tlbs', safe: false, create: (m) => new NoCleanup(m),
  });
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //          e0
    .sw(1, 0, 0, 11, 1) //          e1
    .exit(1, 11, 1, false) //       e2  thread 11 exits: cpu1 lazy on mm 1
    .sw(1, 11, 1, 0, 0, 2) //       e3
    .exit(0, 10, 1, true) //        e4  thread 10 exits: cpu0 lazy on mm 1
    .exitMmap(0, 10, 1) //          e5  mmput: mm_count 1 -> 0, __mmdrop
    .sw(0, 10, 1, 0, 0, 2); //      e6
  const res = await run(tb, [noCleanup, 'lazy-shootdown', 'linux-6.18']);
  assert.deepEqual(located(res['broken-no-cleanup']), [
    { eventIndex: 5, kind: 'freed-pgd-loaded', cpu: 0, mm: 1 },
    { eventIndex: 5, kind: 'freed-pgd-loaded', cpu: 1, mm: 1 },
  ]);
  // The real one IPIs cpu1 (and runs the shootdown locally) before freeing.
  assert.equal(res['lazy-shootdown'].violations.count, 0);
  assert.equal(res['lazy-shootdown'].metrics.mmdrop_ipis, 1);
  // 6.18 refcounts lazy users: mm 1 is not freed while they hold it.
  assert.equal(res['linux-6.18'].metrics.mm_frees, 0);
  assert.equal(res['linux-6.18'].violations.count, 0);
});
