// linux-6.18: the current kernel (read from a >= 6.17-era tree with INVLPGB support,
// CachyOS/linux arch/x86/mm/tlb.c), here on a CPU without INVLPGB. On top of linux-6.12
// (which has 6.0's aa44284960d5 early-out, should_flush_tlb() and the trim, inherited here):
//  - 6.14 209954cbc7d0 "Update mm_cpumask lazily": switch_mm no longer clears the
//         previous mm's bit and sets next's only if absent; 2815a56e4b72 adds tlb_flush
//         reason 5 (TLB_REMOTE_WRONG_CPU): a CPU that receives a flush for an mm it no
//         longer runs clears its bit; 6db2526c1d69 "Only trim the mm_cpumask once a
//         second": should_flush_tlb() IPIs such stale CPUs only when info->trim_cpumask
//         (next_trim_cpumask deadline, jiffies + HZ; Debian's 6.1 and 6.12 carry it as a
//         stable backport, where switch_mm still clears the bit); 953753db887f "Also remove local CPU
//         from mm_cpumask if stale" (the wrong-CPU clause applies to the initiator too);
//  - 6.15 a37259732a7d MMU_GATHER_RCU_TABLE_FREE unconditional: tlb_remove_table_sync_one()
//         IPIs every other online CPU and waits (as Debian's PARAVIRT=y 6.1/6.12 already
//         did, inherited); 3ef938c35035 flush_tlb_range sets
//         freed_tables (decided when the request is derived, not here);
//  - the INVLPGB / global-ASID paths (6.15) are present but X86_FEATURE_INVLPGB is off;
//    linux-6.15-invlpgb turns them on.
// Scheduler: 5.4+ refcounting (MMU_LAZY_TLB_REFCOUNT=y on x86).
import { INIT_MM, RemoteFlush, TLB_NR_DYN_ASIDS, applyCeilingStride, chooseNewAsid } from './common.ts';
import { Linux612 } from './linux-6.12.ts';
import type { FlushReq } from '../machine/request.ts';
import type { StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-6.18',
  title: 'Linux 6.18 (lazy mm_cpumask with trimming, reason 5, RCU table free)',
  kernel: 'v6.14-v6.18 arch/x86/mm/tlb.c: 209954cbc7d0, 2815a56e4b72, 6db2526c1d69, 953753db887f, a37259732a7d; no INVLPGB',
  description: 'the current kernel: mm_cpumask bits stay set after a switch; stale CPUs are IPI\'d only with freed tables or at the once-a-second trim',
  safe: true,
} as const;

export class Linux618 extends Linux612 {
  override readonly meta: StrategyMeta = meta;
  /** X86_FEATURE_INVLPGB (broadcast flushes with global ASIDs). */
  invlpgb = false;
  /** mm_active_cpus_exceeds(mm, 3) in consider_global_asid(). */
  globalAsidThreshold = 3;

  protected isGlobalAsid(asid: number): boolean { return asid >= TLB_NR_DYN_ASIDS; }

  /** mm_needs_global_asid(): the mm got a global ASID that this CPU does not use yet. */
  protected mmNeedsGlobalAsid(mm: number, asid: number): boolean {
    if (!this.invlpgb) return false;
    const g = this.m.mmGlobalAsid(mm);
    return g !== 0 && asid !== g;
  }

  /** An mm older than the trace whose first recorded flush went remote: since 6.14 a
   *  CPU's bit stays in mm_cpumask after it switches away, until a wrong-CPU flush or the
   *  once-a-second trim clears it, so take every CPU to be in it. */
  adoptMm(mm: number): void {
    this.m.presetCpumaskAll(mm);
  }

  /** switch_mm_irqs_off() v6.18. */
  protected override switchMmIrqsOff(cpu: number, next: number): void {
    const m = this.m;
    const prev = m.loadedMm[cpu];
    const prevAsid = m.loadedAsid[cpu];
    const wasLazy = m.isLazy[cpu] !== 0;
    if (wasLazy) m.setLazy(cpu, false);
    let code: number, gen: number;
    if (prev === next) {
      if (this.mmNeedsGlobalAsid(next, prevAsid)) {
        gen = m.readMmGen(cpu, next);
        code = chooseNewAsid(m, cpu, next, gen, this.invlpgb);
      } else {
        if (this.isGlobalAsid(prevAsid)) return; // broadcast flushes keep it up to date
        if (!wasLazy) return;
        gen = m.readMmGen(cpu, next); // smp_mb(); atomic64_read(tlb_gen)
        if (m.slotGen[cpu * TLB_NR_DYN_ASIDS + prevAsid] === gen) return;
        code = prevAsid * 2 + 1; // went out of date while lazy
      }
    } else {
      // loaded_mm = LOADED_MM_SWITCHING; set our bit only if absent (else smp_mb()).
      if (next !== INIT_MM && !m.cpumaskTest(cpu, next, cpu)) m.cpumaskSet(cpu, next);
      gen = m.readMmGen(cpu, next);
      code = chooseNewAsid(m, cpu, next, gen, this.invlpgb);
      // prev's mm_cpumask bit is left set (209954cbc7d0): clearing it on every switch made
      // the mask's cache line bounce between CPUs; a stale bit is cleared later by the
      // reason-5 path, when a freed-tables flush or the once-a-second trim reaches it.
    }
    this.loadMm(cpu, next, code, gen);
  }

  /** With INVLPGB the handler may first move the CPU to the mm's global ASID
   *  (mmNeedsGlobalAsid): always run it then. */
  override remoteFlushShape(req: FlushReq): number {
    return this.invlpgb ? RemoteFlush.handler : super.remoteFlushShape(req);
  }

  override remoteFlushTracedPages(req: FlushReq): number { return req.tracedNr; }

  /** flush_tlb_func() v6.18. */
  protected override flushFunc(cpu: number, req: FlushReq): void {
    const m = this.m;
    const local = cpu === req.initiator;
    const loaded = m.loadedMm[cpu];
    if (req.mm !== 0 && req.mm !== loaded) {
      // "The CPU was left in the mm_cpumask of the target mm. Clear it."
      m.cpumaskClear(cpu, req.mm);
      m.traceFlush(5, 0);
      return;
    }
    if (loaded === INIT_MM) return;
    let asid = m.loadedAsid[cpu];
    if (this.mmNeedsGlobalAsid(loaded, asid)) {
      this.switchMmIrqsOff(cpu, loaded);
      asid = m.loadedAsid[cpu];
    }
    if (this.isGlobalAsid(asid)) return;
    if (m.isLazy[cpu]) { this.switchMmIrqsOff(cpu, INIT_MM); return; }
    const localGen = m.slotGen[cpu * TLB_NR_DYN_ASIDS + asid];
    if (req.gen !== 0 && req.gen <= localGen) return; // 6.0: already up to date, no trace
    const mmGen = m.readMmGen(cpu, loaded);
    const reason = !local ? 1 : req.mm === 0 ? 2 : 3;
    this.flushToGen(cpu, asid, req, localGen, mmGen, reason, req.tracedNr);
  }

  protected override flushEveryone(req: FlushReq): boolean {
    return req.freedTables || (req.mm !== 0 && this.m.inAsidTransition(req.mm));
  }

  /** should_trim_cpumask(): at most once per second per mm. */
  protected shouldTrimCpumask(mm: number): boolean {
    return this.m.shouldTrimCpumask(mm);
  }

  /** flush_tlb_mm_range() v6.18. */
  override onFlushRequest(cpu: number, req: FlushReq): void {
    const m = this.m;
    if (req.mm === 0) { this.batchFlush(cpu, req); return; }
    req.gen = m.incMmGen(cpu, req.mm); // also the barrier against switch_mm()
    applyCeilingStride(req, this.flushCeiling); // init_flush_tlb_info()
    if (this.invlpgb && m.mmGlobalAsid(req.mm) !== 0) {
      this.broadcastTlbFlush(cpu, req);
    } else if (m.cpumaskAnyBut(cpu, req.mm)) {
      req.trimCpumask = this.shouldTrimCpumask(req.mm);
      this.flushTlbMulti(cpu, m.maskCopy(req.mm, 0), req);
      this.considerGlobalAsid(cpu, req.mm);
    } else if (m.loadedMm[cpu] === req.mm) {
      this.flushFunc(cpu, req);
    }
  }

  /** arch_tlbbatch_flush() v6.18. */
  protected override batchFlush(cpu: number, req: FlushReq): void {
    const m = this.m;
    req.full = true; req.nr = 0; req.gen = 0;
    if (this.invlpgb) {
      // batch->unmapped_pages: invlpgb_flush_all_nonglobals(), no IPIs
      m.batchAddPending(cpu);
      m.invlpgbFlushAllNonglobals(cpu); // includes its TLBSYNC
      return;
    }
    super.batchFlush(cpu, req);
  }

  /** broadcast_tlb_flush(): INVLPGB for the mm's global PCID, then TLBSYNC. */
  protected broadcastTlbFlush(cpu: number, req: FlushReq): void {
    const m = this.m;
    m.invlpgb(cpu, m.mmGlobalAsid(req.mm), req);
    this.finishAsidTransition(cpu, req);
    m.tlbsync(cpu);
  }

  /** finish_asid_transition(): IPI the whole mask while a CPU running mm still uses a
   *  dynamic ASID; else the transition is over. */
  protected finishAsidTransition(cpu: number, req: FlushReq): void {
    const m = this.m;
    const mm = req.mm;
    if (!m.inAsidTransition(mm)) return;
    const bc = m.mmGlobalAsid(mm);
    m.readMask(cpu, mm);
    for (let c = m.maskNext(mm, 0); c >= 0; c = m.maskNext(mm, c + 1)) {
      if (m.readLoadedMm(cpu, c) !== mm) continue;
      if (m.loadedAsid[c] !== bc) {
        this.flushTlbMulti(cpu, m.maskCopy(mm, 0), req);
        return;
      }
    }
    m.setAsidTransition(mm, false);
  }

  /** consider_global_asid(): every once in a while, a global ASID for an mm actively
   *  running on more than 3 CPUs. */
  protected considerGlobalAsid(cpu: number, mm: number): void {
    const m = this.m;
    if (!this.invlpgb) return;
    if ((m.curTid[cpu] & 0x1f) !== (m.jiffies() & 0x1f)) return;
    if (this.mmActiveCpusExceeds(cpu, mm, this.globalAsidThreshold)) m.assignGlobalAsid(cpu, mm);
  }

  /** mm_active_cpus_exceeds(). */
  protected mmActiveCpusExceeds(cpu: number, mm: number, threshold: number): boolean {
    const m = this.m;
    if (m.maskWeight(mm) <= threshold) return false;
    let count = 0;
    for (let c = m.maskNext(mm, 0); c >= 0; c = m.maskNext(mm, c + 1)) {
      if (m.readLoadedMm(cpu, c) !== mm) continue;
      if (m.readIsLazy(cpu, c)) continue;
      if (++count > threshold) return true;
    }
    return false;
  }
}

export const linux618: StrategyDefinition = { ...meta, create: (m) => new Linux618(m) };
