// linux-4.14: "PCID and improved laziness" as shipped (Andy Lutomirski; v4.14, with the
// 4.14-rc5 fix "x86/mm: Flush more aggressively in lazy TLB mode"). Models v4.14
// arch/x86/mm/tlb.c: unique ctx_id per mm, per-mm tlb_gen and per-slot tlb_gen
// ("Track the TLB's tlb_gen and update the flushing algorithm"), six dynamic ASIDs with
// round-robin reuse ("Try to preserve old TLB entries using PCID", 10af6235e0d3).
// Lazy mode: with PCID, enter_lazy_tlb() switches to init_mm at once (cheap: usually
// CR3 noflush), so lazy CPUs leave mm_cpumask and receive no flush IPIs; without PCID
// (tlb_defer_switch_to_init_mm()) the CPU sets is_lazy, stays in the mask and leaves on
// the first flush IPI. cpumask atomics are done even for init_mm (skipped from 4.19).
// PTI (4.15+) is not modelled. Scheduler: pre-5.4 mm_count refcounting.
import { INIT_MM, KernelStrategy, RemoteFlush, applyCeilingPre420, asidOf, chooseNewAsid, needFlush } from './common.ts';
import type { FlushReq } from '../machine/request.ts';
import type { Machine } from '../machine/machine.ts';
import type { LazyRefcount, StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-4.14',
  title: 'Linux 4.14 (PCID, lazy CPUs switch to init_mm)',
  kernel: 'v4.14 arch/x86/mm/tlb.c: PCID series incl. 10af6235e0d3, as shipped after 4.14-rc5 (4.14-4.18)',
  description: 'PCID keeps 6 ASIDs per CPU; with PCID a lazy CPU switches to init_mm at once and leaves mm_cpumask',
  safe: true,
} as const;

export class Linux414 extends KernelStrategy {
  readonly meta: StrategyMeta = meta;
  readonly lazyRefcount: LazyRefcount = 'pre-5.4';

  constructor(m: Machine, pcid = true) {
    super(m);
    m.pcid = pcid;
  }

  /** enter_lazy_tlb() v4.14. */
  enterLazy(cpu: number): void {
    const m = this.m;
    if (m.loadedMm[cpu] === INIT_MM) return;
    if (!m.pcid) m.setLazy(cpu, true); // tlb_defer_switch_to_init_mm()
    else this.switchMmIrqsOff(cpu, INIT_MM);
  }

  switchMm(cpu: number, next: number): void {
    this.switchMmIrqsOff(cpu, next);
  }

  /** switch_mm_irqs_off() v4.14. */
  protected switchMmIrqsOff(cpu: number, next: number): void {
    const m = this.m;
    const realPrev = m.loadedMm[cpu];
    m.setLazy(cpu, false);
    if (realPrev === next) return; // lazy CPUs still get IPIs: no tlb_gen check needed
    m.cpumaskClear(cpu, realPrev); // "Stop remote flushes for the previous mm"
    m.cpumaskSet(cpu, next); // "Start remote flushes and then read tlb_gen"
    const gen = m.readMmGen(cpu, next);
    this.loadMm(cpu, next, chooseNewAsid(m, cpu, next, gen, false), gen);
  }

  /** The CR3 write at the end of switch_mm_irqs_off (all versions from 4.14). */
  protected loadMm(cpu: number, next: number, code: number, gen: number): void {
    const m = this.m;
    const asid = asidOf(code);
    if (needFlush(code)) {
      m.setSlot(cpu, asid, next, gen);
      m.cr3Write(cpu, next, asid, true);
      m.traceFlush(0, -1);
    } else {
      m.cr3Write(cpu, next, asid, false);
      m.traceFlush(0, 0);
    }
    m.setLoaded(cpu, next, asid);
  }

  /** flush_tlb_func_common() v4.14-v5.12 ("F" of docs/design/strategies.md without the 6.0 early-out).
   *  `local` only selects which vm event counter the kernel bumps; the trace reason says it. */
  protected flushFuncCommon(cpu: number, req: FlushReq, _local: boolean, reason: number): void {
    const m = this.m;
    const loaded = m.loadedMm[cpu];
    const asid = m.loadedAsid[cpu];
    if (loaded === INIT_MM) return;
    const mmGen = m.readMmGen(cpu, loaded);
    const localGen = m.slotGen[cpu * 6 + asid];
    if (m.isLazy[cpu]) {
      // "We're in lazy mode. We need to at least flush our paging-structure cache ...
      //  just switch to init_mm."
      this.switchMmIrqsOff(cpu, INIT_MM);
      return;
    }
    this.flushToGen(cpu, asid, req, localGen, mmGen, reason);
  }

  /** On a target that runs the mm, is not lazy and is one generation behind, every
   *  flush_tlb_func() from here to 6.18 (4.14's, 5.13's, 6.1's, 6.18's) reads tlb_gen and
   *  runs flushToGen() with reason 1; linux-6.15-invlpgb says otherwise. */
  override remoteFlushShape(_req: FlushReq): number { return RemoteFlush.tlbGen; }

  /** flush_tlb_func_remote() v4.14-v5.12. */
  onFlushIpi(cpu: number, req: FlushReq): void {
    if (req.mm !== 0 && req.mm !== this.m.loadedMm[cpu]) return;
    this.flushFuncCommon(cpu, req, false, 1);
  }

  /** flush_tlb_mm_range() v4.14. */
  onFlushRequest(cpu: number, req: FlushReq): void {
    const m = this.m;
    if (req.mm === 0) { this.batchFlush(cpu, req); return; }
    req.gen = m.incMmGen(cpu, req.mm); // "also a barrier that synchronizes with switch_mm()"
    this.applyCeiling(req);
    if (m.loadedMm[cpu] === req.mm) this.flushFuncCommon(cpu, req, true, 3);
    if (m.cpumaskAnyBut(cpu, req.mm)) this.flushTlbOthers(cpu, m.maskCopy(req.mm, 0), req);
  }

  protected applyCeiling(req: FlushReq): void {
    applyCeilingPre420(req, this.flushCeiling);
  }

  /** native_flush_tlb_others() v4.14: smp_call_function_many(cpumask, .., wait=1). */
  protected flushTlbOthers(cpu: number, mask: Uint32Array, req: FlushReq): void {
    const m = this.m;
    m.traceFlush(4, req.sendPages);
    this.sendFlush(cpu, mask, req);
    m.ipiWait(cpu);
  }

  /** arch_tlbbatch_flush() v4.14-v5.12: local shootdown first, then the others. */
  protected batchFlush(cpu: number, req: FlushReq): void {
    const m = this.m;
    req.full = true; req.nr = 0; req.gen = 0;
    const mask = m.batchAddPending(cpu);
    if (m.maskTest(mask, cpu)) this.flushFuncCommon(cpu, req, true, 2);
    if (m.maskAnyBut(mask, cpu)) this.flushTlbOthers(cpu, mask, req);
  }
}

export const linux414: StrategyDefinition = { ...meta, create: (m) => new Linux414(m, true) };
