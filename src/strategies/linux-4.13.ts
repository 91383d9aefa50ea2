// linux-4.13: the kernel before PCID ("unpatched" in Andy Lutomirski's PCID v4 cover
// letter, 2017-06-29). Models arch/x86/mm/tlb.c and mmu_context.h of v4.13: the
// loaded_mm rework is in, tlb_gen is not; no PCID (every CR3 write flushes); lazy TLB is
// cpu_tlbstate.state = TLBSTATE_LAZY with the CPU left in mm_cpumask, so flush IPIs reach
// lazy CPUs, which leave_mm() to init_mm and pay a CR3 flush when their task returns.
// Scheduler of that era: kthread->kthread switches grab and drop mm_count (pre-5.4).
// Not modelled: the idle-path leave_mm() of intel_idle (removed by "x86/mm: Stop calling
// leave_mm() in idle code" in the 4.14 series) — idle CPUs stay lazy here.
import { INIT_MM, KernelStrategy, RemoteFlush, applyCeilingPre420 } from './common.ts';
import type { FlushReq } from '../machine/request.ts';
import type { Machine } from '../machine/machine.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-4.13',
  title: 'Linux 4.13 (no PCID, TLBSTATE lazy mode)',
  kernel: 'v4.13 arch/x86/mm/tlb.c (before "PCID and improved laziness", Lutomirski, merged for v4.14)',
  description: 'pre-PCID baseline: every mm switch flushes; flush IPIs reach lazy CPUs, which leave the mm',
  safe: true,
} as const;

export class Linux413 extends KernelStrategy {
  readonly meta = meta;
  readonly lazyRefcount = 'pre-5.4' as const;

  constructor(m: Machine) {
    super(m);
    m.pcid = false;
  }

  /** enter_lazy_tlb(): if (state == TLBSTATE_OK) state = TLBSTATE_LAZY. */
  enterLazy(cpu: number): void {
    if (!this.m.isLazy[cpu]) this.m.setLazy(cpu, true);
  }

  switchMm(cpu: number, next: number): void {
    this.switchMmIrqsOff(cpu, next);
  }

  /** switch_mm_irqs_off() v4.13. */
  protected switchMmIrqsOff(cpu: number, next: number): void {
    const m = this.m;
    const realPrev = m.loadedMm[cpu];
    m.setLazy(cpu, false); // this_cpu_write(cpu_tlbstate.state, TLBSTATE_OK)
    if (realPrev === next) return;
    m.setLoaded(cpu, next, 0);
    m.cpumaskSet(cpu, next);
    m.cr3Write(cpu, next, 0, true); // load_cr3(next->pgd)
    m.traceFlush(0, -1);
    m.cpumaskClear(cpu, realPrev); // also for init_mm in 4.13
  }

  /** leave_mm(): a lazy CPU switches to init_mm (switch_mm(NULL, &init_mm, NULL)). */
  protected leaveMm(cpu: number): void {
    if (this.m.loadedMm[cpu] === INIT_MM) return;
    this.switchMmIrqsOff(cpu, INIT_MM);
  }

  /** flush_tlb_func_common() v4.13. */
  protected flushFuncCommon(cpu: number, req: FlushReq, reason: number): void {
    const m = this.m;
    if (m.isLazy[cpu]) { this.leaveMm(cpu); return; }
    if (req.full) {
      m.flushLocalFull(cpu);
      m.traceFlush(reason, -1);
    } else {
      m.flushPages(cpu, req.nr, req);
      m.traceFlush(reason, req.nr);
    }
  }

  /** On a target that runs the mm and is not lazy, flushFuncCommon() flushes and prints
   *  reason 1 with req.nr. */
  override remoteFlushShape(_req: FlushReq): number { return RemoteFlush.noGen; }

  /** flush_tlb_func_remote() v4.13. */
  onFlushIpi(cpu: number, req: FlushReq): void {
    if (req.mm !== 0 && req.mm !== this.m.loadedMm[cpu]) return;
    this.flushFuncCommon(cpu, req, 1);
  }

  /** flush_tlb_mm_range() v4.13 (local part first, then flush_tlb_others with wait). */
  onFlushRequest(cpu: number, req: FlushReq): void {
    const m = this.m;
    applyCeilingPre420(req, this.flushCeiling);
    if (req.mm === 0) { this.batchFlush(cpu, req); return; }
    // smp_mb(); no tlb_gen before 4.14
    if (m.loadedMm[cpu] === req.mm) this.flushFuncCommon(cpu, req, 3);
    if (m.cpumaskAnyBut(cpu, req.mm)) {
      m.traceFlush(4, req.sendPages); // native_flush_tlb_others
      this.sendFlush(cpu, m.maskCopy(req.mm, 0), req); // smp_call_function_many(.., wait=1)
      m.ipiWait(cpu);
    }
  }

  /** arch_tlbbatch_flush() v4.13: local shootdown, then the others. */
  protected batchFlush(cpu: number, req: FlushReq): void {
    const m = this.m;
    req.full = true;
    const mask = m.batchAddPending(cpu, false);
    if (m.maskTest(mask, cpu)) this.flushFuncCommon(cpu, req, 2);
    if (m.maskAnyBut(mask, cpu)) {
      m.traceFlush(4, -1);
      this.sendFlush(cpu, mask, req);
      m.ipiWait(cpu);
    }
  }
}

export const linux413: StrategyDefinition = { ...meta, create: (m) => new Linux413(m) };
