// linux-6.15-invlpgb: Rik van Riel's "AMD broadcast TLB invalidation" (v2..v7, Dec 2024 -
// Feb 2025, merged for v6.15) on a CPU with INVLPGB (AMD Zen 3 and later). The code is
// that of linux-6.18 (the paths live in the same arch/x86/mm/tlb.c) with
// X86_FEATURE_INVLPGB set:
//  - consider_global_asid() after an IPI-based flush: when (current->pid & 31) ==
//    (jiffies & 31) and the mm is loaded and not lazy on more than 3 CPUs, the mm gets a
//    global ASID (>= TLB_NR_DYN_ASIDS, next-fit, reusable only after the wrap-around
//    invlpgb_flush_all_nonglobals()), held until the mm is freed;
//  - flushes of such an mm are INVLPGB broadcasts + TLBSYNC, with no IPIs, except that
//    while a CPU running the mm still uses its dynamic ASID (asid_transition) the whole
//    mm_cpumask is IPI'd and moves to the global ASID (CR3 noflush);
//  - reclaim batch flushes use invlpgb_flush_all_nonglobals().
// Global ASIDs need PCID (the May 2026 nopcid fix is not relevant here: PCID is on).
// Broadcasts cost the targets nothing in the model (the hardware does the work).
import { Linux618 } from './linux-6.18.ts';
import type { Machine } from '../machine/machine.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-6.15-invlpgb',
  title: 'Linux 6.15+ with AMD INVLPGB (global ASIDs, broadcast flushes)',
  kernel: 'van Riel, "AMD broadcast TLB invalidation" v7 (Feb 2025), v6.15+; code as in linux-6.18 with X86_FEATURE_INVLPGB',
  description: 'an mm active on more than 3 CPUs gets a global ASID; its flushes are INVLPGB + TLBSYNC instead of IPIs',
  safe: true,
} as const;

export class Linux615Invlpgb extends Linux618 {
  override readonly meta: StrategyMeta = meta;

  constructor(m: Machine) {
    super(m);
    this.invlpgb = true;
  }
}

export const linux615Invlpgb: StrategyDefinition = { ...meta, create: (m) => new Linux615Invlpgb(m) };
