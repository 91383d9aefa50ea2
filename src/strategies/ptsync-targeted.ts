// ptsync-targeted: Lance Yang, "[PATCH v4 1/3] mm: use targeted IPIs for TLB sync with
// lockless page table walkers" (2026-02-02), on top of linux-6.18:
//  - each lockless walker (GUP-fast, perf_get_page_size) records the mm it walks in a
//    per-CPU slot: pt_walk_lockless_start(mm) = store + smp_mb, _end() = store-release NULL;
//  - tlb_remove_table_sync_mm(mm) scans every online CPU's slot and IPIs (and waits for)
//    only those walking mm, instead of tlb_remove_table_sync_one()'s IPI to every other
//    online CPU.
// Not modelled: the fallback to a broadcast when the cpumask allocation fails, and the
// "skip the sync when the preceding flush already IPI'd everyone" property of v4 2/3 and
// v5-v7 (tlb_table_flush_implies_ipi_broadcast) — this strategy isolates the targeting.
import { IpiPurpose } from './common.ts';
import { Linux618 } from './linux-6.18.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'ptsync-targeted',
  title: 'Targeted page-table-free sync IPIs (only CPUs inside a lockless walk)',
  kernel: 'Lance Yang, "[PATCH v4 1/3] mm: use targeted IPIs for TLB sync with lockless page table walkers", 2026-02-02 (on linux-6.18)',
  description: 'tlb_remove_table_sync_one IPIs only CPUs currently in a lockless walk of that mm; walkers pay a store + barrier',
  safe: true,
} as const;

export class PtsyncTargeted extends Linux618 {
  override readonly meta: StrategyMeta = meta;

  /** pt_walk_lockless_start(mm) / pt_walk_lockless_end(). */
  override onPtWalk(cpu: number, mm: number, begin: boolean): void {
    this.m.setWalkMm(cpu, begin ? mm : 0, true);
  }

  /** tlb_remove_table_sync_mm(mm). */
  override onPageTableFreeSync(cpu: number, mm: number, _flags: number): void {
    const m = this.m;
    const targets = m.scratchMask(2);
    for (let c = 0; c < m.nCpu; c++) {
      if (c !== cpu && m.readWalkMm(cpu, c) === mm) m.maskSet(targets, c);
    }
    m.sendIpis(cpu, targets, IpiPurpose.ptSync, null, mm);
    m.ipiWait(cpu);
  }
}

export const ptsyncTargeted: StrategyDefinition = { ...meta, create: (m) => new PtsyncTargeted(m) };
