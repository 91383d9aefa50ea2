// A user task goes to a kernel thread, then idle, then comes back with nothing flushed in
// between: the row "back to same mm, nothing flushed meanwhile" of docs/design/strategies.md b.8b.
// What differs is what entering and leaving lazy mode costs: CR3 writes, mm_cpumask
// atomics and mm_count atomics.
//
//   e0 cpu0: idle -> 10 (mm 1)     first load of mm 1 (a flushing CR3 write everywhere)
//   e1 cpu0: 10 -> kworker 50       user -> kernel thread: enter_lazy_tlb, mmgrab_lazy_tlb
//   e2 cpu0: kworker 50 -> idle     kernel -> kernel
//   e3 cpu0: idle -> 10 (mm 1)      kernel -> user, same mm: finish_task_switch mmdrop
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run } from '../machine/trace-helpers.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';

// [cr3_writes, cr3_flushes, cpumask_atomics, mm_count_atomics]
const EXPECT: Record<string, [number, number, number, number]> = {
  // v4.13: e0 sets mm 1's bit and clears init_mm's (4.13 does it for init_mm too); lazy is
  // a state store; e3 finds mm 1 still loaded and returns. Scheduler before 5.4
  // (139d025cda1d): mmgrab at e1, mmgrab + mmdrop at e2 (kernel -> kernel), mmdrop at e3.
  'linux-4.13': [1, 1, 2, 4],
  // v4.14 nopcid: tlb_defer_switch_to_init_mm(): is_lazy only; e3 returns (loaded_mm ==
  // next). e0: clear init_mm's bit, set mm 1's (both done for init_mm until 4.19).
  'linux-4.14-nopcid': [1, 1, 2, 4],
  // v4.14 with PCID: e1 switches to init_mm at once (clear mm 1, set init_mm, CR3 NOFLUSH
  // on ASID 0); e2 is already on init_mm; e3 clears init_mm, sets mm 1 and reloads ASID 1,
  // still current (tlb_gen 0): NOFLUSH. 3 CR3 writes, 6 cpumask atomics.
  'linux-4.14': [3, 1, 6, 4],
  // Posted v4: e0 sets mm 1's bit (init_mm's was never set); e1 clears it (lazy = leave
  // the mask, keep CR3); e3 sets it again, tlb_gen unchanged: no CR3 write.
  'pcid-v4-posted': [1, 1, 3, 4],
  // 4.20+: lazy is a plain is_lazy store, the CPU stays in the mask, init_mm's bit is
  // never touched; e3 reads tlb_gen, equal to its slot's: no CR3 write.
  'linux-4.20': [1, 1, 1, 4],
  'async-rfc-2019': [1, 1, 1, 4], // 2019: still the pre-5.4 scheduler
  // 5.4+ scheduler: kernel -> kernel hands the lazy reference over without atomics.
  'linux-5.13': [1, 1, 1, 2],
  'linux-6.18': [1, 1, 1, 2],
  'linux-6.1': [1, 1, 1, 2],
  'linux-6.12': [1, 1, 1, 2],
  'linux-7.3': [1, 1, 1, 2],
  'linux-6.15-invlpgb': [1, 1, 1, 2],
  'ptsync-targeted': [1, 1, 1, 2],
  // MMU_LAZY_TLB_SHOOTDOWN: no mm_count atomics for lazy users at all.
  'lazy-shootdown': [1, 1, 1, 0],
};

test('user -> kernel thread -> idle -> same user mm: CR3 writes and atomics per strategy', async () => {
  assert.deepEqual(Object.keys(EXPECT).sort(), [...STRATEGY_NAMES].sort());
  const tb = new TB(1).sw(0, 0, 0, 10, 1).sw(0, 10, 1, 50, 0).sw(0, 50, 0, 0, 0).sw(0, 0, 0, 10, 1);
  const res = await run(tb, [...STRATEGY_NAMES]);
  for (const name of STRATEGY_NAMES) {
    const m = res[name].metrics;
    assert.deepEqual([m.cr3_writes, m.cr3_flushes, m.cpumask_atomics, m.mm_count_atomics], EXPECT[name], name);
    assert.equal(m.lazy_entries, 1, name);
    assert.equal(res[name].violations.count, 0, name);
  }
});
