// linux-4.14-nopcid: the v4.14 code (linux-4.14.ts) booted with `nopcid` ("x86/mm: Add
// nopcid to turn off PCID", part of the same series) or on a CPU without PCID — the cover
// letter's "patched, nopcid" column. choose_new_asid() always returns ASID 0 with a flush;
// enter_lazy_tlb() only sets is_lazy (tlb_defer_switch_to_init_mm() is true without
// PCID), so lazy CPUs stay in mm_cpumask, receive every flush IPI and switch to init_mm.
import { Linux414 } from './linux-4.14.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-4.14-nopcid',
  title: 'Linux 4.14 booted with nopcid',
  kernel: 'v4.14 arch/x86/mm/tlb.c with X86_FEATURE_PCID cleared ("x86/mm: Add nopcid to turn off PCID")',
  description: 'the 4.14 code without PCID: every mm switch flushes; lazy CPUs keep the mm and get flush IPIs',
  safe: true,
} as const;

export class Linux414NoPcid extends Linux414 {
  override readonly meta: StrategyMeta = meta;
}

export const linux414NoPcid: StrategyDefinition = { ...meta, create: (m) => new Linux414NoPcid(m, false) };
