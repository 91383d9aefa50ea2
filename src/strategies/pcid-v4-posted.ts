// pcid-v4-posted: Andy Lutomirski's "[PATCH v4 00/10] PCID and improved laziness" as
// posted (2017-06-29), the variant behind the cover letter's "patched" numbers. Lazy mode
// "simply removes the CPU from mm_cpumask" (v3 06/11 "Rework lazy TLB mode and TLB
// freshness tracking", as quoted in Borislav Petkov's review of 2017-06-22): no CR3 write,
// no is_lazy; when the CPU returns to the same mm it sets its bit again and compares the
// ASID slot's tlb_gen with the mm's to decide whether it missed a flush.
//
// UNSAFE: a lazy CPU keeps the old CR3, so its paging-structure caches may speculatively
// walk page tables that munmap/exit_mmap freed while it was out of mm_cpumask. This is why
// 4.14-rc5 switched lazy PCID CPUs to init_mm at once (linux-4.14) and why Rik van Riel's
// 4.20 rework IPIs lazy CPUs when freed_tables is set. The coherence checker reports it as
// 'freed-tables-walk'.
import { INIT_MM, chooseNewAsid } from './common.ts';
import { Linux414 } from './linux-4.14.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'pcid-v4-posted',
  title: 'PCID v4 series as posted (lazy CPUs leave mm_cpumask)',
  kernel: 'Lutomirski, "[PATCH v4 00/10] PCID and improved laziness", 2017-06-29 (not merged in this form)',
  description: 'lazy mode clears the CPU from mm_cpumask and keeps CR3; tlb_gen tells it on return whether to flush',
  safe: false,
  unsafeWhen: 'page tables are freed (munmap, exit) while another CPU is lazy on the mm: that CPU gets no IPI and may walk freed page tables',
} as const;

export class PcidV4Posted extends Linux414 {
  override readonly meta: StrategyMeta = meta;

  /** enter_lazy_tlb(): if (cpumask_test_cpu(cpu, mm_cpumask(mm))) cpumask_clear_cpu(...) */
  override enterLazy(cpu: number): void {
    const m = this.m;
    const mm = m.loadedMm[cpu];
    if (mm === INIT_MM) return;
    if (m.cpumaskTest(cpu, mm, cpu)) m.cpumaskClear(cpu, mm);
  }

  /** switch_mm_irqs_off() of the posted series. */
  protected override switchMmIrqsOff(cpu: number, next: number): void {
    const m = this.m;
    const realPrev = m.loadedMm[cpu];
    if (realPrev === next) {
      if (next === INIT_MM || m.cpumaskTest(cpu, next, cpu)) return; // was not lazy
      // We were lazy: rejoin mm_cpumask, then check whether a flush was missed.
      m.cpumaskSet(cpu, next);
      const gen = m.readMmGen(cpu, next);
      const asid = m.loadedAsid[cpu];
      if (m.slotGen[cpu * 6 + asid] < gen) {
        m.setSlotGen(cpu, asid, gen);
        m.cr3Write(cpu, next, asid, true);
        m.traceFlush(0, -1);
      }
      return;
    }
    // A lazy CPU already left realPrev's mask: test before the locked op.
    if (m.cpumaskTest(cpu, realPrev, cpu)) m.cpumaskClear(cpu, realPrev);
    m.cpumaskSet(cpu, next);
    const gen = m.readMmGen(cpu, next);
    this.loadMm(cpu, next, chooseNewAsid(m, cpu, next, gen, false), gen);
  }
}

export const pcidV4Posted: StrategyDefinition = { ...meta, create: (m) => new PcidV4Posted(m, true) };
