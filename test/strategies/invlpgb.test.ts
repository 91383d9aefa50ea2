// linux-6.15-invlpgb: global ASIDs and broadcast invalidation (Rik van Riel, merged for
// v6.15, tip commit 4afeb0ed1753 "x86/mm: Enable broadcast TLB invalidation for
// multi-threaded processes"). The v6.15 arch/x86/mm/tlb.c:
//
//   flush_tlb_mm_range():  if (mm_global_asid(mm)) broadcast_tlb_flush(info);
//                          else if (other CPUs in mm_cpumask) { flush_tlb_multi(...);
//                                                              consider_global_asid(mm); }
//   consider_global_asid(): if ((current->pid & 0x1f) != (jiffies & 0x1f)) return;
//                           if (mm_active_cpus_exceeds(mm, 3)) use_global_asid(mm);
//
// mm_active_cpus_exceeds(mm, 3) counts CPUs in the mask that have mm loaded and are not
// lazy: a global ASID needs 4 or more ("active on 4 or more CPUs simultaneously").
// use_global_asid() sets asid_transition; broadcast_tlb_flush() then INVLPGBs, and
// finish_asid_transition() IPIs the whole mask (flush_tlb_multi without the lazy filter)
// while some CPU running the mm still uses its dynamic ASID; each handler reloads CR3 on
// the global ASID without a flush (reason 0, pages 0) and returns. Once every running
// CPU is on the global ASID, the transition ends and flushes send no IPIs at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MS, TB, run, reasons } from '../machine/trace-helpers.ts';

/** Threads 10.. of mm 1 running on CPUs 0..n-1; five 1-page flushes from thread 10 on cpu0.
 *  HZ = 1000, so jiffies = floor(t / 1 ms); thread 10's pid & 31 = 10. */
function threads(n: number): TB {
  const tb = new TB(n);
  for (let c = 0; c < n; c++) tb.sw(c, 0, 0, 10 + c, 1);
  tb.at(5.5 * MS).flush(0, 10, 1, 1); //  F1: jiffies 5 != 10: no global-ASID check
  tb.at(10.2 * MS).flush(0, 10, 1, 1); // F2: jiffies 10 == pid 10 & 31: check
  tb.at(10.4 * MS).flush(0, 10, 1, 1); // F3
  tb.at(10.6 * MS).flush(0, 10, 1, 1); // F4
  tb.at(10.8 * MS).flush(0, 10, 1, 1); // F5
  // Every thread touches memory afterwards: the checker verifies the broadcasts kept them fresh.
  for (let c = 0; c < n; c++) tb.access(c, 10 + c, 1, 4);
  return tb;
}

test('an mm running on 4 CPUs gets a global ASID; after the transition its flushes send no IPIs', async () => {
  const res = await run(threads(4), ['linux-6.15-invlpgb', 'linux-6.18']);
  const g = res['linux-6.15-invlpgb'];
  // F2 assigns the global ASID (4 active CPUs > 3).
  assert.equal(g.metrics.global_asids, 1);
  // IPIs: F1 and F2 go to the 3 other CPUs running mm 1; F3's finish_asid_transition IPIs
  // them again (all still on ASID 1); F4 finds everyone on the global ASID and ends the
  // transition; F4 and F5 send none. 3 + 3 + 3.
  assert.equal(g.metrics.ipis_sent, 9);
  // F3, F4, F5 are broadcasts: one INVLPGB each (1 page <= invlpgb_count_max) + TLBSYNC.
  // Plus one at F2: the first allocate_global_asid() finds last_global_asid at its initial
  // MAX_ASID_AVAILABLE and calls reset_global_asid_space(), whose
  // invlpgb_flush_all_nonglobals() is an INVLPGB of every PCID followed by __tlbsync().
  assert.equal(g.metrics.broadcast_flushes, 4);
  assert.equal(g.metrics.tlbsyncs, 4);
  assert.deepEqual(reasons(g), {
    // 4 first loads (ASID 1, flush); F3 moves all 4 CPUs to the global ASID (noflush).
    0: [4, 0, 4],
    // F1, F2: 3 remote one-page flushes each. F3's handlers return after the ASID switch.
    1: [0, 6, 0],
    3: [0, 2, 0],
    // F1, F2 and F3's transition flush_tlb_multi print reason 4; broadcasts print nothing.
    4: [0, 3, 0],
  });
  assert.equal(g.violations.count, 0);

  // linux-6.18 (no INVLPGB): every one of the 5 requests IPIs the 3 others.
  const cur = res['linux-6.18'];
  assert.equal(cur.metrics.global_asids, 0);
  assert.equal(cur.metrics.ipis_sent, 15);
  assert.deepEqual(reasons(cur), { 0: [4, 0, 0], 1: [0, 15, 0], 3: [0, 5, 0], 4: [0, 5, 0] });
  assert.equal(cur.violations.count, 0);
});

test('an mm running on only 3 CPUs never gets a global ASID (mm_active_cpus_exceeds(mm, 3))', async () => {
  const res = await run(threads(3), ['linux-6.15-invlpgb']);
  const g = res['linux-6.15-invlpgb'];
  assert.equal(g.metrics.global_asids, 0);
  assert.equal(g.metrics.broadcast_flushes, 0);
  // 5 requests x 2 other CPUs.
  assert.equal(g.metrics.ipis_sent, 10);
  assert.deepEqual(reasons(g), { 0: [3, 0, 0], 1: [0, 10, 0], 3: [0, 5, 0], 4: [0, 5, 0] });
});

test('the global-ASID check only runs when pid & 31 == jiffies & 31', async () => {
  // Same 4-CPU trace but the flushes come from thread 13 on cpu3 (13 & 31 = 13): F2's
  // jiffies 10 does not match, so no global ASID and IPIs every time.
  const tb = new TB(4);
  for (let c = 0; c < 4; c++) tb.sw(c, 0, 0, 10 + c, 1);
  for (const t of [5.5, 10.2, 10.4, 10.6, 10.8]) tb.at(t * MS).flush(3, 13, 1, 1);
  const res = await run(tb, ['linux-6.15-invlpgb']);
  assert.equal(res['linux-6.15-invlpgb'].metrics.global_asids, 0);
  assert.equal(res['linux-6.15-invlpgb'].metrics.ipis_sent, 15);
});

test('with a global ASID a lazy CPU needs no IPI even when page tables are freed, and returns without a CR3 write', async () => {
  // As above until the transition is over (F4), then thread 13 on cpu3 goes idle (lazy on
  // mm 1, still on the global ASID) and cpu0 unmaps with freed page tables.
  const tb = threads(4);
  tb.sw(3, 13, 1, 0, 0); //                   e: cpu3 lazy
  tb.at(11.5 * MS).flush(0, 10, 1, 64, true); // F6: broadcast, freed tables
  tb.sw(3, 0, 0, 13, 1); //                   cpu3 back on mm 1
  tb.access(3, 13, 1, 4);
  const base = (await run(threads(4), ['linux-6.15-invlpgb']))['linux-6.15-invlpgb'];
  const g = (await run(tb, ['linux-6.15-invlpgb', 'linux-6.18']))['linux-6.15-invlpgb'];
  // F6 is one more INVLPGB (64 pages > 33: a full flush of the PCID) + TLBSYNC, and no IPI:
  // INVLPGB also drops the lazy CPU's paging-structure caches for that PCID.
  assert.equal(g.metrics.ipis_sent, base.metrics.ipis_sent);
  assert.equal(g.metrics.broadcast_flushes, base.metrics.broadcast_flushes + 1);
  // switch_mm_irqs_off() back to the loaded mm on a global ASID returns at once
  // ("Broadcast ASIDs are always kept up to date with INVLPGB"): no CR3 write.
  assert.equal(g.metrics.cr3_writes, base.metrics.cr3_writes);
  assert.equal(g.violations.count, 0);
});
