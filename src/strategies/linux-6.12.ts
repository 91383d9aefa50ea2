// linux-6.12: Debian's 6.12 kernel (linux-source-6.12 6.12.117, bookworm-security). Read
// against linux-6.1 in arch/x86/mm/tlb.c, kernel/smp.c, kernel/sched/core.c and
// mm/mmu_gather.c, the paths tlbsim models did not change:
//  - switch_mm_irqs_off() gained LAM (6.4: new_lam, cpu_tlbstate_update_lam) and renamed
//    real_prev to prev; its mm_cpumask, tlb_gen and ASID logic is the same;
//  - flush_tlb_func(), should_flush_tlb(), native_flush_tlb_multi(), arch_tlbbatch_flush()
//    and enter_lazy_tlb() are identical; flush_tlb_mm_range() only adds
//    mmu_notifier_arch_invalidate_secondary_tlbs() (6.6, IOMMU SVA);
//  - kernel/smp.c gained the ipi_send_cpu/ipi_send_cpumask tracepoints and csd:* (6.5).
//    Since 6.5 the IPI events print callback=generic_smp_call_function_single_interrupt,
//    not the cross-called function: a flush IPI is told by the csd_queue_cpu(func=
//    flush_tlb_func) before it, or by the sender's reason-4 record, never by the callback;
//  - kernel/sched/core.c: mmgrab_lazy_tlb()/mmdrop_lazy_tlb() (6.3) are mmgrab()/mmdrop()
//    on x86 (MMU_LAZY_TLB_REFCOUNT=y), so the lazy refcounting is that of 5.4+;
//  - mm/mmu_gather.c: tlb_remove_table_sync_one() is still an IPI to every other CPU.
// So this is linux-6.1 under the name of the kernel users run; it is a separate strategy
// so that recordings of 6.12 are checked against a model that says which kernel it is.
import { Linux61 } from './linux-6.1.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-6.12',
  title: 'Linux 6.12 (Debian: as 6.1 in the flush paths)',
  kernel: 'Debian linux-6.12 6.12.117 (bookworm-security): tlb.c flush paths as in 6.1 (LAM 6.4, secondary-TLB notifier 6.6 aside)',
  description: 'the 6.1 flush logic (concurrent flushes, tlb_gen early-out, trim backport); ipi/csd tracepoints present',
  safe: true,
} as const;

export class Linux612 extends Linux61 {
  override readonly meta: StrategyMeta = meta;
}

export const linux612: StrategyDefinition = { ...meta, create: (m) => new Linux612(m) };
