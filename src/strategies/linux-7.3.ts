// linux-7.3: Debian's 7.3 kernel (linux-source-7.3 7.3.4-1~bpo13+1, trixie-backports), read
// in arch/x86/mm/tlb.c, arch/x86/include/asm/tlbflush.h, kernel/smp.c, kernel/sched/core.c
// and mm/mmu_gather.c against linux-6.18 (the model of the >= 6.17-era tree):
//  - switch_mm_irqs_off(), flush_tlb_func(), should_flush_tlb(), should_trim_cpumask(),
//    native_flush_tlb_multi() (freed_tables || mm_in_asid_transition) and the INVLPGB /
//    global-ASID paths read as in linux-6.18; enter_lazy_tlb() moved to tlbflush.h as an
//    __always_inline with the same body; the prev == next cpumask re-set is now only a
//    CONFIG_DEBUG_VM check (it never fired in the model: a running CPU keeps its bit);
//  - flush_tlb_mm_range() keeps struct flush_tlb_info on the stack and calls put_cpu()
//    before the remote flush (flush_tlb_multi() then runs under on_each_cpu_cond_mask()'s
//    own preempt_disable()); trim_cpumask and consider_global_asid() are evaluated after
//    it. The order of the modelled steps — inc_mm_tlb_gen, ceiling, remote flush with
//    trim, then consider_global_asid — is unchanged;
//  - mm/mmu_gather.c: tlb_remove_table_one() now waits with synchronize_rcu()
//    (tlb_remove_table_sync_rcu) instead of an IPI; tlb_remove_table_sync_one(), the
//    khugepaged path tlbsim models as pt_sync, is still smp_call_function() to every
//    other CPU. hugetlb PMD unsharing sets tlb->unshared_tables, but x86's tlb_flush()
//    still passes only tlb->freed_tables;
//  - kernel/sched/core.c context_switch(): mmgrab_lazy_tlb()/mmdrop_lazy_tlb() as 6.3+,
//    which x86 (MMU_LAZY_TLB_REFCOUNT=y) implements with mm_count atomics.
// INVLPGB stays off here, as on every CPU without X86_FEATURE_INVLPGB (all Intel, AMD
// before Zen 3, any TCG guest); linux-6.15-invlpgb shows the same code with it on.
import { Linux618 } from './linux-6.18.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-7.3',
  title: 'Linux 7.3 (Debian trixie-backports: the current kernel)',
  kernel: 'Debian linux 7.3.4 (trixie-backports): tlb.c as linux-6.18 (lazy mm_cpumask, trim, reason 5, RCU table free); no INVLPGB on this CPU',
  description: 'the current kernel: mm_cpumask bits stay set after a switch; stale CPUs are IPI\'d only with freed tables or at the once-a-second trim',
  safe: true,
} as const;

export class Linux73 extends Linux618 {
  override readonly meta: StrategyMeta = meta;
}

export const linux73: StrategyDefinition = { ...meta, create: (m) => new Linux73(m) };
