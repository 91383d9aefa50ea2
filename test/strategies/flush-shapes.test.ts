// The shape of a request: the single-page ceiling (tlb_single_page_flush_ceiling = 33)
// and its huge-page rule, and the reclaim batch flush (arch_tlbbatch_flush, info->mm ==
// NULL), for every strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TB, run, reasons } from '../machine/trace-helpers.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { FLUSH_ALL, FlushFlags } from '../../src/trace/event.ts';

const PRE_420 = new Set(['linux-4.13', 'pcid-v4-posted', 'linux-4.14', 'linux-4.14-nopcid']);

test('the 33-page ceiling, and 2 MiB pages: full before 4.20 (VM_HUGETLB), two INVLPGs from 4.20 (stride_shift)', async () => {
  // One CPU running mm 1 (no remote CPUs: only the local decision matters).
  const tb = new TB(1)
    .sw(0, 0, 0, 10, 1)
    .flush(0, 10, 1, 33) //                              at the ceiling: 33 INVLPGs
    .flush(0, 10, 1, 34) //                              above it: full flush
    .flush(0, 10, 1, 1024, false, FlushFlags.HUGE_STRIDE); // 4 MiB of 2 MiB pages
  const res = await run(tb, [...STRATEGY_NAMES]);
  for (const name of STRATEGY_NAMES) {
    const r = res[name];
    // Each request is exactly one generation ahead of the CPU (4.14+ tlb_gen), so the
    // range decision alone decides partial vs full.
    if (PRE_420.has(name)) {
      // flush_tlb_mm_range() <= 4.19: partial iff !VM_HUGETLB and (end-start)>>PAGE_SHIFT <= 33.
      assert.equal(r.metrics.page_flushes, 33, name);
      assert.equal(r.metrics.full_flushes, 2, name);
      assert.deepEqual(reasons(r)['3'], [2, 1, 0], name);
    } else {
      // 4.20+: (end-start) >> stride_shift = 2 huge pages <= 33: two INVLPGs.
      assert.equal(r.metrics.page_flushes, 35, name);
      assert.equal(r.metrics.full_flushes, 1, name);
      assert.deepEqual(reasons(r)['3'], [1, 2, 0], name);
    }
    assert.equal(r.violations.count, 0, name);
  }
});

test('reclaim batch flush (info->mm == NULL): a full flush of every CPU with a user mm loaded', async () => {
  const tb = new TB(2)
    .sw(0, 0, 0, 10, 1) //             cpu0: mm 1
    .sw(1, 0, 0, 20, 2) //             cpu1: mm 2
    .flush(0, 10, 0, FLUSH_ALL) //     kswapd-style batch flush from cpu0
    .access(0, 10, 1, 4) //            both CPUs run user code afterwards: the checker
    .access(1, 20, 2, 4); //           requires both mms flushed
  const res = await run(tb, [...STRATEGY_NAMES]);
  const IPI_BATCH = { 0: [2, 0, 0], 1: [1, 0, 0], 2: [1, 0, 0], 4: [1, 0, 0] };
  for (const name of STRATEGY_NAMES) {
    const r = res[name];
    assert.equal(r.violations.count, 0, name);
    if (name === 'linux-6.15-invlpgb') {
      // 6.15+ with INVLPGB and unmapped pages in the batch: invlpgb_flush_all_nonglobals()
      // (every PCID on every CPU, then TLBSYNC); no IPI, no tlb_flush event.
      assert.equal(r.metrics.ipis_sent, 0);
      assert.equal(r.metrics.broadcast_flushes, 1);
      assert.equal(r.metrics.tlbsyncs, 1);
      assert.deepEqual(reasons(r), { 0: [2, 0, 0] });
      continue;
    }
    // Everyone else: the initiator flushes itself fully (reason 2, pages -1), prints reason
    // 4 (-1) and IPIs cpu1, which flushes fully (reason 1, -1): tlb_gen moved for every mm
    // in the batch, and a NULL-mm request always takes the full path.
    assert.equal(r.metrics.ipis_sent, 1, name);
    assert.equal(r.metrics.full_flushes, 2, name);
    if (name === 'linux-4.20') {
      // 4.20-5.12: on_each_cpu_cond_mask() also runs flush_tlb_func_remote() on the
      // initiator after its local flush: reason 1, pages 0.
      assert.deepEqual(reasons(r), { ...IPI_BATCH, 1: [1, 0, 1] }, name);
    } else {
      assert.deepEqual(reasons(r), IPI_BATCH, name);
    }
  }
});
