// linux-4.20: Rik van Riel's "x86/mm/tlb: make lazy TLB mode even lazier" (7 patches,
// 2018-09-24; merged for v4.20 after the 4.19 version was reverted on 2018-08-22). Models
// v4.20-v5.12 arch/x86/mm/tlb.c (read at v5.10.13):
//  - "always use lazy TLB mode": enter_lazy_tlb() only sets is_lazy, PCID or not;
//  - lazy CPUs stay in mm_cpumask (145f573b89a6 "make lazy TLB mode lazier"); a flush
//    skips them (on_each_cpu_cond_mask(tlb_is_not_lazy, ...)) unless info->freed_tables
//    ("add freed_tables argument to flush_tlb_mm_range"), and on return switch_mm reads
//    tlb_gen to see whether it missed one;
//  - cpumask atomics are skipped for init_mm ("x86,switch_mm: skip atomic operations for
//    init_mm", July 2018);
//  - the range ceiling compares (end - start) >> stride_shift with 33.
// Quirk reproduced: until 5.13, on_each_cpu_cond_mask() also runs the function on the
// calling CPU when it is in the mask and not lazy, so a non-freed-tables flush makes the
// initiator run flush_tlb_func_remote() on itself after its local flush; it finds its
// tlb_gen caught up and prints tlb_flush reason 1 with pages 0.
// is_lazy shares the cpu_tlbstate line with loaded_mm (privatized only in 5.13).
// Scheduler: pre-5.4 mm_count refcounting.
import { INIT_MM, applyCeilingStride, chooseNewAsid } from './common.ts';
import { Linux414 } from './linux-4.14.ts';
import type { FlushReq } from '../machine/request.ts';
import type { Machine } from '../machine/machine.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-4.20',
  title: 'Linux 4.20-5.12 (lazier lazy TLB)',
  kernel: 'van Riel, "make lazy TLB mode even lazier" (145f573b89a6 and siblings), v4.20-v5.12',
  description: 'lazy CPUs stay in mm_cpumask and are skipped by flushes unless page tables are freed; tlb_gen fixes them up on return',
  safe: true,
} as const;

export class Linux420 extends Linux414 {
  override readonly meta: StrategyMeta = meta;

  constructor(m: Machine) {
    super(m, true);
  }

  /** enter_lazy_tlb() v4.20-v5.12. */
  override enterLazy(cpu: number): void {
    const m = this.m;
    if (m.loadedMm[cpu] === INIT_MM) return;
    m.setLazy(cpu, true);
  }

  /** The is_lazy = false store at the top of switch_mm_irqs_off (unconditional <= 5.12). */
  protected clearLazy(cpu: number, _wasLazy: boolean): void {
    this.m.setLazy(cpu, false);
  }

  /** switch_mm_irqs_off() v4.20-v5.12. */
  protected override switchMmIrqsOff(cpu: number, next: number): void {
    const m = this.m;
    const realPrev = m.loadedMm[cpu];
    const prevAsid = m.loadedAsid[cpu];
    const wasLazy = m.isLazy[cpu] !== 0;
    this.clearLazy(cpu, wasLazy);
    if (realPrev === next) {
      if (!wasLazy) return; // a thread of the same process: nothing to do
      const gen = m.readMmGen(cpu, next); // smp_mb(); atomic64_read(&next->context.tlb_gen)
      if (m.slotGen[cpu * 6 + prevAsid] === gen) return;
      // TLB contents went out of date while we were in lazy mode.
      this.loadMm(cpu, next, prevAsid * 2 + 1, gen);
      return;
    }
    if (realPrev !== INIT_MM) m.cpumaskClear(cpu, realPrev);
    if (next !== INIT_MM) m.cpumaskSet(cpu, next);
    const gen = m.readMmGen(cpu, next);
    this.loadMm(cpu, next, chooseNewAsid(m, cpu, next, gen, false), gen);
  }

  protected override applyCeiling(req: FlushReq): void {
    applyCeilingStride(req, this.flushCeiling);
  }

  /** native_flush_tlb_others() v4.20-v5.12. */
  protected override flushTlbOthers(cpu: number, mask: Uint32Array, req: FlushReq): void {
    const m = this.m;
    m.traceFlush(4, req.sendPages);
    if (req.freedTables) {
      this.sendFlush(cpu, mask, req); // smp_call_function_many(): everyone but self
      m.ipiWait(cpu);
      return;
    }
    // on_each_cpu_cond_mask(tlb_is_not_lazy, flush_tlb_func_remote, info, 1, cpumask)
    // (each CPU's is_lazy read; the initiator's own is read below, and is not a target)
    const targets = m.notLazyIn(cpu, mask, 1);
    this.sendFlush(cpu, targets, req);
    m.ipiWait(cpu);
    if (m.maskTest(mask, cpu) && !m.isLazy[cpu]) this.onFlushIpi(cpu, req); // runs on self too
  }
}

export const linux420: StrategyDefinition = { ...meta, create: (m) => new Linux420(m) };
