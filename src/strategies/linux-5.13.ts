// linux-5.13: Nadav Amit's "x86/tlb: Concurrent TLB flushes" (v6, 2021-02-20; merged as
// 4ce94eabac16 "x86/mm/tlb: Flush remote and local TLBs concurrently" and siblings for
// v5.13). Models v5.13-v5.19 arch/x86/mm/tlb.c:
//  - flush_tlb_func_local/_remote unified into flush_tlb_func(); the reason is derived
//    from info->initiating_cpu;
//  - flush_tlb_mm_range() calls flush_tlb_multi(mm_cpumask(mm)) — mask INCLUDING the
//    initiator — when any other CPU is in the mask: IPIs are sent first, the initiator's
//    own flush runs while they are in flight (SCF_RUN_LOCAL), then it waits; only when no
//    other CPU is in the mask does it flush locally alone;
//  - "Privatize cpu_tlbstate": is_lazy on its own cache line (cpu_tlbstate_shared), and
//    "Do not make is_lazy dirty for no reason": switch_mm stores false only if it was set.
// The 6.0 early-out (new_tlb_gen <= local_tlb_gen) is not in this version.
// Scheduler: 5.4+ (kthread->kthread transfers the lazy reference without atomics).
import { INIT_MM } from './common.ts';
import { Linux420 } from './linux-4.20.ts';
import type { FlushReq } from '../machine/request.ts';
import type { Machine } from '../machine/machine.ts';
import type { LazyRefcount, StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'linux-5.13',
  title: 'Linux 5.13-5.19 (concurrent local and remote flushes)',
  kernel: 'Amit, "x86/tlb: Concurrent TLB flushes" v6 (4ce94eabac16 and siblings), v5.13',
  description: 'as 4.20, but the initiator flushes locally while its IPIs are in flight; is_lazy on a private line',
  safe: true,
} as const;

export class Linux513 extends Linux420 {
  override readonly meta: StrategyMeta = meta;
  override readonly lazyRefcount: LazyRefcount = '5.4';

  constructor(m: Machine) {
    super(m);
    m.lazyLinePrivate = true;
  }

  protected override clearLazy(cpu: number, wasLazy: boolean): void {
    if (wasLazy) this.m.setLazy(cpu, false);
  }

  /** flush_tlb_func() v5.13 (unified local/remote). */
  protected flushFunc(cpu: number, req: FlushReq): void {
    const m = this.m;
    const local = cpu === req.initiator;
    const loaded = m.loadedMm[cpu];
    if (!local && req.mm !== 0 && req.mm !== loaded) return; // "Can only happen on remote CPUs"
    if (loaded === INIT_MM) return;
    const asid = m.loadedAsid[cpu];
    const mmGen = m.readMmGen(cpu, loaded);
    const localGen = m.slotGen[cpu * 6 + asid];
    if (m.isLazy[cpu]) { this.switchMmIrqsOff(cpu, INIT_MM); return; }
    const reason = !local ? 1 : req.mm === 0 ? 2 : 3;
    this.flushToGen(cpu, asid, req, localGen, mmGen, reason);
  }

  override onFlushIpi(cpu: number, req: FlushReq): void {
    this.flushFunc(cpu, req);
  }

  /** flush_tlb_mm_range() v5.13. */
  override onFlushRequest(cpu: number, req: FlushReq): void {
    const m = this.m;
    if (req.mm === 0) { this.batchFlush(cpu, req); return; }
    this.applyCeiling(req);
    req.gen = m.incMmGen(cpu, req.mm);
    if (m.cpumaskAnyBut(cpu, req.mm)) this.flushTlbMulti(cpu, m.maskCopy(req.mm, 0), req);
    else if (m.loadedMm[cpu] === req.mm) this.flushFunc(cpu, req);
  }

  /** The CPUs of `mask` that pass native_flush_tlb_multi()'s condition when no page tables
   *  are freed: on_each_cpu_cond_mask(tlb_is_not_lazy, ...) reads each CPU's is_lazy
   *  (the machine reads the whole mask at once). Returns a scratch mask. */
  protected shouldFlush(cpu: number, mask: Uint32Array, _req: FlushReq): Uint32Array {
    return this.m.notLazyIn(cpu, mask, 1); // tlb_is_not_lazy()
  }

  /** Whether the cond filter is bypassed (info->freed_tables). */
  protected flushEveryone(req: FlushReq): boolean {
    return req.freedTables;
  }

  /** native_flush_tlb_multi(): on_each_cpu_mask / on_each_cpu_cond_mask with the local
   *  CPU run concurrently (smp_call_function_many_cond with SCF_WAIT | SCF_RUN_LOCAL). */
  protected flushTlbMulti(cpu: number, mask: Uint32Array, req: FlushReq, ack?: number): void {
    const m = this.m;
    m.traceFlush(4, req.sendPages);
    const targets = this.flushEveryone(req) ? mask : this.shouldFlush(cpu, mask, req);
    this.sendFlush(cpu, targets, req, ack);
    if (m.maskTest(targets, cpu)) this.flushFunc(cpu, req); // overlaps the remote flushes
    m.ipiWait(cpu);
  }

  /** arch_tlbbatch_flush() v5.13. */
  protected override batchFlush(cpu: number, req: FlushReq): void {
    const m = this.m;
    req.full = true; req.nr = 0; req.gen = 0;
    const mask = m.batchAddPending(cpu);
    if (m.maskAnyBut(mask, cpu)) this.flushTlbMulti(cpu, mask, req);
    else if (m.maskTest(mask, cpu)) this.flushFunc(cpu, req);
  }
}

export const linux513: StrategyDefinition = { ...meta, create: (m) => new Linux513(m) };
