// A stale CPU: it ran process A (mm 1), then switched to process B (mm 2) on the same CPU.
// Since 6.14 ("x86/mm: Update mm_cpumask lazily", 209954cbc7d0) switch_mm_irqs_off() no
// longer clears the CPU from the previous mm's cpumask, so A's flushes still see it.
// should_flush_tlb() skips it (loaded_mm != info->mm) unless the request frees page tables
// or it is the once-a-second trim (6db2526c1d69: info->trim_cpumask, next_trim_cpumask =
// jiffies + HZ); then the CPU gets the IPI, flush_tlb_func() finds the wrong mm, clears its
// bit and prints tlb_flush reason 5 (TLB_REMOTE_WRONG_CPU, 2815a56e4b72) with pages 0.
// Before 6.14 (linux-5.13 here) the switch cleared the bit at once: no IPI ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S, TB, run, reasons } from '../machine/trace-helpers.ts';

/** cpu0 runs thread 10 of mm 1; cpu1 ran thread 11 of mm 1, then task 20 of mm 2. */
function start(): TB {
  return new TB(2)
    .sw(0, 0, 0, 10, 1)
    .sw(1, 0, 0, 11, 1)
    .sw(1, 11, 1, 20, 2);
}

test('linux-6.18: a stale CPU gets a reason-5 IPI for freed tables only, and leaves the mask', async () => {
  const tb = start()
    .flush(0, 10, 1, 1) //            e3: not freed, within the first second: skipped
    .flush(0, 10, 1, 1, true) //      e4: freed tables: IPI, reason 5, bit cleared
    .flush(0, 10, 1, 1); //           e5: cpu1 no longer in the mask: local flush only
  const res = await run(tb, ['linux-6.18', 'linux-5.13']);
  const cur = res['linux-6.18'];
  // One IPI, to the stale CPU, for the freed-tables request only.
  assert.equal(cur.metrics.ipis_sent, 1);
  assert.equal(cur.metrics.ipis_to_stale, 1);
  assert.equal(cur.metrics.ipis_to_lazy, 0);
  assert.deepEqual(reasons(cur), {
    // e0, e1, e2: first loads of mm 1, mm 1, mm 2 on their CPUs (new ASID slots).
    0: [3, 0, 0],
    // Every request: the initiator runs mm 1, one page, exactly one generation behind.
    3: [0, 3, 0],
    // e3 and e4 go through native_flush_tlb_multi (cpu1's bit is set) and print reason 4
    // before filtering; e5 finds no other CPU in the mask and flushes locally only.
    4: [0, 2, 0],
    // e4 on cpu1: wrong CPU, pages 0.
    5: [0, 0, 1],
  });
  // cpumask atomics: e0, e1 set cpu0/cpu1 in mm 1, e2 sets cpu1 in mm 2 (mm 1's bit stays),
  // e4's handler clears cpu1 from mm 1.
  assert.equal(cur.metrics.cpumask_atomics, 4);

  const old = res['linux-5.13'];
  // 5.13: e2 cleared cpu1 from mm 1 (and set it in mm 2): every request is local only.
  assert.equal(old.metrics.ipis_sent, 0);
  assert.deepEqual(reasons(old), { 0: [3, 0, 0], 3: [0, 3, 0] });
  assert.equal(old.metrics.cpumask_atomics, 4);
  assert.equal(cur.violations.count + old.violations.count, 0);
});

test('linux-6.18: without freed tables a stale CPU is IPI\'d at most once a second (the trim)', async () => {
  const tb = start()
    // mm 1 was created at jiffies 0 with next_trim_cpumask = 0 + HZ (1000 at HZ=1000).
    .at(2 * S + 500_000).flush(0, 10, 1, 1) // e3: jiffies 2000 > 1000: trim, reason 5; next = 3000
    .sw(1, 20, 2, 11, 1) //                   e4: cpu1 back on mm 1 (sets its bit again)
    .sw(1, 11, 1, 20, 2) //                   e5: and stale again
    .at(2.5 * S).flush(0, 10, 1, 1) //        e6: jiffies 2500 <= 3000: no trim, skipped
    .at(3.5 * S).flush(0, 10, 1, 1); //       e7: jiffies 3500 > 3000: trim, reason 5
  const res = await run(tb, ['linux-6.18', 'linux-5.13']);
  const cur = res['linux-6.18'];
  assert.equal(cur.metrics.ipis_sent, 2);
  assert.equal(cur.metrics.ipis_to_stale, 2);
  assert.deepEqual(reasons(cur), {
    // e0, e1, e2 first loads; e4: ASID 1 holds mm 1 at tlb_gen 0 < 1 (e3's flush): flush;
    // e5: ASID 2 holds mm 2, never flushed: CR3 without flush.
    0: [4, 0, 1],
    3: [0, 3, 0],
    // e3, e6, e7 all see cpu1's bit; two of them trim.
    4: [0, 3, 0],
    5: [0, 0, 2],
  });
  const old = res['linux-5.13'];
  assert.equal(old.metrics.ipis_sent, 0);
  assert.deepEqual(reasons(old), { 0: [4, 0, 1], 3: [0, 3, 0] });
  assert.equal(cur.violations.count + old.violations.count, 0);
});

test('linux-6.18: the initiator itself is stale for the mm it flushes (953753db887f "Also remove local CPU from mm_cpumask if stale")', async () => {
  // cpu0 ran thread 10 of mm 1, then process 20 (mm 2); cpu1 runs thread 11 of mm 1.
  // Task 20 on cpu0 then flushes mm 1 (as khugepaged or an exiting mm's teardown on another
  // mm's CPU would): cpu0 is in mm 1's mask but has mm 2 loaded.
  const build = (freed: boolean) => new TB(2)
    .sw(0, 0, 0, 10, 1).sw(1, 0, 0, 11, 1).sw(0, 10, 1, 20, 2)
    .flush(0, 20, 1, 1, freed);
  for (const freed of [false, true]) {
    const res = await run(build(freed), ['linux-6.18', 'linux-5.13']);
    const cur = res['linux-6.18'];
    // cpu1 runs mm 1: one IPI, one remote one-page flush (reason 1) either way.
    assert.equal(cur.metrics.ipis_sent, 1);
    assert.equal(cur.metrics.ipis_to_stale, 0);
    assert.deepEqual(reasons(cur)['1'], [0, 1, 0]);
    // Local part: flush_tlb_multi() includes the initiator; should_flush_tlb() skips it
    // (mm 2 loaded, no trim) unless page tables are freed, in which case flush_tlb_func()
    // on cpu0 finds the wrong mm, clears cpu0's bit and prints reason 5 (pages 0).
    assert.deepEqual(reasons(cur)['5'], freed ? [0, 0, 1] : undefined, `freed=${freed}`);
    assert.equal(reasons(cur)['3'], undefined, 'mm 1 is not loaded on the initiator: no reason 3');
    // 5.13 cleared cpu0's bit when it switched to mm 2: the initiator is never a target.
    assert.equal(reasons(res['linux-5.13'])['5'], undefined);
    assert.equal(res['linux-5.13'].metrics.ipis_sent, 1);
    assert.equal(cur.violations.count + res['linux-5.13'].violations.count, 0);
  }
});
