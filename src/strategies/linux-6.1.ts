// linux-6.1: Debian's 6.1 kernel (linux-source-6.1 6.1.192, bookworm), arch/x86/mm/tlb.c,
// kernel/smp.c, kernel/sched/core.c and mm/mmu_gather.c of that tree. On top of linux-5.13:
//  - 6.0 aa44284960d5 "x86/mm/tlb: Avoid reading mm_tlb_gen when possible":
//    flush_tlb_func() returns without a trace when f->new_tlb_gen <= local_tlb_gen (after
//    the is_lazy check, which is unchanged);
//  - tlb_is_not_lazy() became should_flush_tlb() with the stable backport of the
//    once-a-second trim (6db2526c1d69 and the flush_tlb_mm_range() hunk that sets
//    info->trim_cpumask = should_trim_cpumask(mm) for remote flushes): a non-lazy CPU is
//    IPI'd when it runs the mm, for mm == NULL, or on the periodic trim. switch_mm still
//    clears the previous mm's bit (209954cbc7d0 "lazy mm_cpumask" is 6.14, not in 6.1), so
//    a non-lazy CPU in the mask normally runs the mm and the trim rarely finds anyone;
//  - Debian builds with CONFIG_PARAVIRT=y, and arch/x86/Kconfig selects
//    MMU_GATHER_RCU_TABLE_FREE if PARAVIRT: tlb_remove_table_sync_one() is
//    smp_call_function(tlb_remove_table_smp_sync, NULL, 1), an IPI to every other online
//    CPU (khugepaged's collapse path), as in 6.15+ where the select became unconditional.
// Not in this kernel: the ipi:* and csd:* tracepoints (6.5); a recording shows the targets'
// irq_vectors:call_function*_entry instead. Scheduler: 5.4+ refcounting (x86 keeps
// MMU_LAZY_TLB_REFCOUNT=y).
import { IpiPurpose, TLB_NR_DYN_ASIDS } from './common.ts';
import { Linux513 } from './linux-5.13.ts';
import type { FlushReq } from '../machine/request.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-6.1',
  title: 'Linux 6.1 (Debian bookworm: concurrent flushes, tlb_gen early-out, trim backport)',
  kernel: 'Debian linux 6.1.192 (bookworm): v5.13 + aa44284960d5 (6.0) + the stable backport of 6db2526c1d69 should_flush_tlb/trim_cpumask',
  description: 'as 5.13, plus: a flush that finds the CPU already at its generation returns untraced; non-lazy CPUs are IPI\'d only when running the mm or at the once-a-second trim',
  safe: true,
} as const;

export class Linux61 extends Linux513 {
  override readonly meta: StrategyMeta = meta;

  /** flush_tlb_func() of 6.1 (unchanged through 6.12). */
  protected override flushFunc(cpu: number, req: FlushReq): void {
    const m = this.m;
    const local = cpu === req.initiator;
    const loaded = m.loadedMm[cpu];
    if (!local && req.mm !== 0 && req.mm !== loaded) return; // "Can only happen on remote CPUs"
    if (loaded === 0) return; // init_mm
    const asid = m.loadedAsid[cpu];
    if (m.isLazy[cpu]) { this.switchMmIrqsOff(cpu, 0); return; }
    const localGen = m.slotGen[cpu * TLB_NR_DYN_ASIDS + asid];
    // aa44284960d5: an earlier flush already brought this CPU to (at least) this request's
    // generation: skip reading mm->context.tlb_gen, and print nothing.
    if (req.gen !== 0 && req.gen <= localGen) return;
    const mmGen = m.readMmGen(cpu, loaded);
    const reason = !local ? 1 : req.mm === 0 ? 2 : 3;
    this.flushToGen(cpu, asid, req, localGen, mmGen, reason, req.tracedNr);
  }

  /** 6.1's handler prints (end - start) >> stride_shift (see flushFunc). */
  override remoteFlushTracedPages(req: FlushReq): number { return req.tracedNr; }

  /** should_flush_tlb() of every CPU of `mask`: reads each one's is_lazy line, and the
   *  loaded_mm line of those that are not lazy. */
  protected override shouldFlush(cpu: number, mask: Uint32Array, req: FlushReq): Uint32Array {
    const m = this.m;
    const notLazy = m.notLazyIn(cpu, mask, 1); // a lazy CPU is flushed at its next switch
    if (req.mm === 0) return notLazy; // no mm: a kernel or batch flush, everyone
    const running = m.loadedIn(cpu, notLazy, req.mm, 4); // loaded_mm == info->mm
    return req.trimCpumask ? notLazy : running; // else only on the periodic trim
  }

  /** flush_tlb_mm_range() of 6.1: the ceiling, inc_mm_tlb_gen(), then the remote flush with
   *  trim_cpumask, or a local flush_tlb_func() when no other CPU is in the mask. */
  override onFlushRequest(cpu: number, req: FlushReq): void {
    const m = this.m;
    if (req.mm === 0) { this.batchFlush(cpu, req); return; }
    this.applyCeiling(req);
    req.gen = m.incMmGen(cpu, req.mm);
    if (m.cpumaskAnyBut(cpu, req.mm)) {
      req.trimCpumask = m.shouldTrimCpumask(req.mm);
      this.flushTlbMulti(cpu, m.maskCopy(req.mm, 0), req);
    } else if (m.loadedMm[cpu] === req.mm) {
      this.flushFunc(cpu, req);
    }
  }

  /** tlb_remove_table_sync_one() with MMU_GATHER_RCU_TABLE_FREE (PARAVIRT=y). */
  override onPageTableFreeSync(cpu: number, mm: number, _flags: number): void {
    const m = this.m;
    const all = m.scratchMask(2);
    for (let c = 0; c < m.nCpu; c++) if (c !== cpu) m.maskSet(all, c);
    m.sendIpis(cpu, all, IpiPurpose.ptSync, null, mm);
    m.ipiWait(cpu);
  }
}

export const linux61: StrategyDefinition = { ...meta, create: (m) => new Linux61(m) };
