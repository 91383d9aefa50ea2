// Two what-ifs on top of linux-6.18:
//  - lazy-shootdown (Nick Piggin's MMU_LAZY_TLB_SHOOTDOWN, 2655421ae69f, v6.3, powerpc):
//    no mm_count atomics for lazy users; __mmdrop()'s cleanup_lazy_tlbs() IPIs
//    mm_cpumask(mm) instead;
//  - ptsync-targeted (Lance Yang, "[PATCH v4 1/3] mm: use targeted IPIs for TLB sync with
//    lockless page table walkers", 2026-02-02): tlb_remove_table_sync_mm() IPIs only CPUs
//    inside a lockless walk of the mm, where 6.15+'s tlb_remove_table_sync_one() IPIs every
//    other online CPU (a37259732a7d made MMU_GATHER_RCU_TABLE_FREE unconditional).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from '../machine/trace-helpers.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { getProfile } from '../../src/machine/profiles.ts';

/** A two-thread process exits while cpu1 is lazy on it; both CPUs then run another one. */
function processExit(): TB {
  return new TB(2)
    .sw(0, 0, 0, 10, 1) //          e0  cpu0 runs thread 10 of mm 1
    .sw(1, 0, 0, 11, 1) //          e1  cpu1 runs thread 11 of mm 1
    .sw(1, 11, 1, 0, 0) //          e2  cpu1 idle: lazy borrow of mm 1
    .sw(1, 0, 0, 11, 1) //          e3  back: the borrow is returned
    .exit(1, 11, 1, false) //       e4  thread 11 exits: exit_mm() keeps mm 1 as lazy active_mm
    .sw(1, 11, 1, 0, 0, 2) //       e5  cpu1 idle: kernel -> kernel (5.4+ hands the lazy reference over)
    .exit(0, 10, 1, true) //        e6  thread 10 exits, group dead: exit_mm() lazy on cpu0
    .flushAll(0, 10, 1, true) //    e7  exit_mmap's final flush: full, page tables freed
    .wait(100_000)
    .exitMmap(0, 10, 1) //          e8  exit_mmap done: mmput drops the users' reference
    .sw(0, 10, 1, 0, 0, 2) //       e9  cpu0 idle
    .sw(0, 0, 0, 20, 2) //          e10 cpu0 runs process 20 (mm 2): finish_task_switch mmdrops
    .sw(1, 0, 0, 21, 2); //         e11 cpu1 runs thread 21 of mm 2: likewise
}

test('lazy-shootdown: no mm_count atomics for lazy users, one shootdown IPI when the mm is freed', async () => {
  const res = await run(processExit(), ['linux-6.18', 'lazy-shootdown']);
  const cur = res['linux-6.18'], ls = res['lazy-shootdown'];

  // linux-6.18 (MMU_LAZY_TLB_REFCOUNT=y, 5.4+ scheduler): mmgrab_lazy_tlb at e2, e4, e6
  // (user -> kernel thread, and exit_mm's grab for its lazy active_mm), mmdrop_lazy_tlb at
  // e3; e8 drops the users' reference (mm_count 3 -> 2); the two lazy references go at e10
  // and e11 in finish_task_switch, and the last one frees mm 1 (__mmdrop). 7 atomics.
  assert.equal(cur.metrics.mm_count_atomics, 7);
  assert.equal(cur.metrics.mmdrop_ipis, 0);
  // e7: freed tables: both CPUs in the mask (lazy) get the flush; cpu1 by IPI.
  assert.equal(cur.metrics.ipis_sent, 1);
  assert.equal(cur.metrics.ipis_to_lazy, 1);
  assert.equal(cur.metrics.mm_frees, 1);

  // lazy-shootdown: only the users' reference remains counted: mmput's drop at e8 takes
  // mm_count from 1 to 0 and __mmdrop runs at once. cleanup_lazy_tlbs() IPIs every CPU in
  // mm_cpumask(mm) but the caller (cpu1: its bit survives the lazy switch to init_mm on
  // 6.14+) and runs do_shoot_lazy_tlb locally. 1 atomic; 2 IPIs (teardown flush + shootdown).
  assert.equal(ls.metrics.mm_count_atomics, 1);
  assert.equal(ls.metrics.mmdrop_ipis, 1);
  assert.equal(ls.metrics.ipis_sent, 2);
  assert.equal(ls.metrics.mm_frees, 1);
  // Everything else is 6.18's.
  assert.equal(ls.metrics.cr3_writes, cur.metrics.cr3_writes);
  assert.equal(ls.metrics.lazy_entries, cur.metrics.lazy_entries);
  assert.equal(cur.violations.count + ls.violations.count, 0);
});

test('page-table-free sync: every other CPU on 6.15+, only the walkers with ptsync-targeted, none before 6.15', async () => {
  const tb = new TB(4)
    .sw(0, 0, 0, 10, 1) //        cpu0: thread 10 of mm 1 (frees page tables)
    .sw(1, 0, 0, 11, 1) //        cpu1: thread 11 of mm 1, inside a GUP-fast walk below
    .sw(2, 0, 0, 12, 1) //        cpu2: thread 12 of mm 1, not walking
    .sw(3, 0, 0, 20, 2) //        cpu3: another process
    .ptwalk(1, 11, 1, true)
    .ptSync(0, 10, 1) //          e5: tlb_remove_table_sync_one() / _sync_mm()
    .ptwalk(1, 11, 1, false);
  const res = await run(tb, [...STRATEGY_NAMES]);
  const expectIpis: Record<string, [number, number]> = {
    // [sync IPIs, of which to CPUs not walking mm 1]
    // Before 6.15 bare-metal x86 had no MMU_GATHER_RCU_TABLE_FREE unless built with
    // PARAVIRT: the sync was a no-op (the synchronous flush IPI already excluded IRQs-off
    // walkers).
    'linux-4.13': [0, 0], 'pcid-v4-posted': [0, 0], 'linux-4.14': [0, 0], 'linux-4.14-nopcid': [0, 0],
    'linux-4.20': [0, 0], 'linux-5.13': [0, 0], 'async-rfc-2019': [0, 0],
    // 6.15+: smp_call_function(tlb_remove_table_smp_sync, NULL, 1): cpus 1, 2, 3.
    'linux-6.18': [3, 2], 'linux-6.15-invlpgb': [3, 2], 'lazy-shootdown': [3, 2], 'linux-7.3': [3, 2],
    // Debian's 6.1 and 6.12 are built with PARAVIRT=y, which selects MMU_GATHER_RCU_TABLE_FREE:
    // the same smp_call_function() to every other CPU.
    'linux-6.1': [3, 2], 'linux-6.12': [3, 2],
    // Lance Yang v4: only cpu1, whose active_lockless_pt_walk_mm is mm 1.
    'ptsync-targeted': [1, 0],
  };
  for (const name of STRATEGY_NAMES) {
    const m = res[name].metrics;
    assert.deepEqual([m.pt_sync_ipis, m.ipis_to_nonwalkers], expectIpis[name], name);
    assert.equal(m.ipis_sent, expectIpis[name][0], `${name}: every target's queue was empty`);
    assert.equal(res[name].violations.count, 0, name);
  }
  // The targeted variant's price on the walker: pt_walk_lockless_start() and _end() each
  // store to its per-CPU slot with a barrier (ptwalkTrackNs). Both designs IPI cpu1.
  const extra = res['ptsync-targeted'].perCpu.overhead_ns[1] - res['linux-6.18'].perCpu.overhead_ns[1];
  assert.equal(extra, 2 * getProfile().ptwalkTrackNs);
});

test('process exit with a lazy CPU: teardown IPIs, mm_count atomics and the freed-tables walk, per strategy', async () => {
  const res = await run(processExit(), [...STRATEGY_NAMES]);
  // [teardown flush IPIs + shootdown IPIs, mm_count atomics]
  const expect: Record<string, [number, number]> = {
    // Lazy CPUs stay in mm_cpumask: the exit_mmap flush (e7) IPIs cpu1. Pre-5.4 scheduler:
    // the 7 atomics of 5.4 (see above) plus mmgrab + mmdrop at each kernel -> kernel switch
    // (e5: exited thread 11 -> idle; e9: exited thread 10 -> idle): 11.
    'linux-4.13': [1, 11], 'linux-4.14-nopcid': [1, 11], 'linux-4.20': [1, 11], 'async-rfc-2019': [1, 11],
    // 4.14 with PCID: both CPUs switched to init_mm when their threads left (e4, e6) and
    // cleared their bits: the exit flush has nobody to flush, not even locally.
    'linux-4.14': [0, 11],
    // Posted v4: cpu1 left the mask at e4 but kept CR3: no IPI (the unsafe case).
    'pcid-v4-posted': [0, 11],
    'linux-5.13': [1, 7], 'linux-6.18': [1, 7], 'linux-6.15-invlpgb': [1, 7], 'ptsync-targeted': [1, 7],
    'linux-6.1': [1, 7], 'linux-6.12': [1, 7], 'linux-7.3': [1, 7],
    'lazy-shootdown': [2, 1],
  };
  for (const name of STRATEGY_NAMES) {
    const m = res[name].metrics;
    assert.deepEqual([m.ipis_sent, m.mm_count_atomics], expect[name], name);
    assert.equal(m.mm_frees, 1, `${name}: mm 1 is freed once its last lazy user is gone`);
    assert.equal(m.teardowns, 1, name);
    if (name === 'pcid-v4-posted') {
      // The exit flush freed every page table of mm 1 while cpu1 still had them in CR3.
      assert.deepEqual(res[name].violations.first.map(({ eventIndex, kind, cpu }) => ({ eventIndex, kind, cpu })),
        [{ eventIndex: 7, kind: 'freed-tables-walk', cpu: 1 }]);
    } else {
      assert.equal(res[name].violations.count, 0, name);
    }
  }
});
