// lazy-shootdown: Nick Piggin's "lazy tlb: shoot lazies, non-refcounting lazy tlb mm
// reference handling scheme" (v7 4/5, 2023-02-03; upstream 2655421ae69f, v6.3, selected
// only by powerpc/64s as MMU_LAZY_TLB_SHOOTDOWN) applied to x86 as a what-if, on top of
// linux-6.18:
//  - mmgrab_lazy_tlb()/mmdrop_lazy_tlb() are no-ops: no mm_count atomics when a CPU
//    switches between a user task and a kernel thread or idle;
//  - requirement: at the final mmdrop, mm_cpumask(mm) contains every CPU that may still be
//    lazily using mm (true on 6.14+ x86: bits are only cleared by the reason-5 path, which
//    runs on a CPU that no longer has mm loaded);
//  - __mmdrop() first calls cleanup_lazy_tlbs(): on_each_cpu_mask(mm_cpumask(mm),
//    do_shoot_lazy_tlb, mm, wait) — every CPU in the mask, the caller included — and each
//    CPU whose current->active_mm is mm switches to init_mm.
// Andy Lutomirski's 2018 ARCH_NO_TASK_ACTIVE_MM / arch_shoot_down_dead_mm idea and Peter
// Zijlstra's x86/lazy branch are variants of the same trade; not modelled separately.
import { INIT_MM, IpiPurpose } from './common.ts';
import { Linux618 } from './linux-6.18.ts';
import type { LazyRefcount, StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'lazy-shootdown',
  title: 'Shoot lazies at mm drop instead of refcounting them (MMU_LAZY_TLB_SHOOTDOWN on x86)',
  kernel: 'Piggin, "lazy tlb: shoot lazies" (2655421ae69f, v6.3, powerpc only) applied to linux-6.18 as a what-if',
  description: 'no mm_count atomics for lazy users; when an mm is freed, every CPU in its mm_cpumask is IPI\'d to drop it',
  safe: true,
} as const;

export class LazyShootdown extends Linux618 {
  override readonly meta: StrategyMeta = meta;
  override readonly lazyRefcount: LazyRefcount = 'none';

  /** __mmdrop() -> cleanup_lazy_tlbs(mm). */
  override onMmDrop(cpu: number, mm: number): void {
    const m = this.m;
    m.readMask(cpu, mm);
    const mask = m.maskCopy(mm, 2);
    m.sendIpis(cpu, mask, IpiPurpose.mmDrop, null, mm);
    if (m.maskTest(mask, cpu)) this.onIpi(cpu, IpiPurpose.mmDrop, mm);
    m.ipiWait(cpu);
  }

  /** do_shoot_lazy_tlb(): if (current->active_mm == mm) switch to init_mm. */
  override onIpi(cpu: number, purpose: number, mm: number): void {
    if (purpose !== IpiPurpose.mmDrop) return;
    const m = this.m;
    if (m.activeMm[cpu] === mm && m.curTaskMm[cpu] === 0) {
      this.switchMmIrqsOff(cpu, INIT_MM);
      m.setActiveMm(cpu, INIT_MM);
    }
  }
}

export const lazyShootdown: StrategyDefinition = { ...meta, create: (m) => new LazyShootdown(m) };
