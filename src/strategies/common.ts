// Helpers shared by the strategies: the kernel functions several versions have in common
// (choose_new_asid, the single-page flush ceiling) and a base class with the default
// hooks. The per-version flush_tlb_func ("F" in docs/design/strategies.md) lives in the class of the
// version that introduced it and is inherited by later ones.
import { AckMode, IpiPurpose, type Machine } from '../machine/machine.ts';
import { MI } from '../machine/metrics.ts';
import type { FlushReq } from '../machine/request.ts';
import { RemoteFlush, type LazyRefcount, type Strategy, type StrategyMeta } from '../machine/strategy.ts';

export { AckMode, IpiPurpose, INIT_MM, TLB_NR_DYN_ASIDS } from '../machine/machine.ts';
export { TLB_GENERATION_INVALID } from '../machine/request.ts';
export { RemoteFlush } from '../machine/strategy.ts';

/** tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c, all versions modelled): 33 pages. */
export const FLUSH_CEILING = 33;

/** choose_new_asid() result, packed to avoid an allocation: asid * 2 + need_flush. */
export function asidOf(code: number): number { return code >>> 1; }
export function needFlush(code: number): boolean { return (code & 1) !== 0; }

/**
 * choose_new_asid(next, next_tlb_gen) (v4.14 .. v6.18 arch/x86/mm/tlb.c):
 *  - no PCID: ASID 0, always flush;
 *  - (6.15+, INVLPGB) the mm has a global ASID: use it, never flush;
 *  - a dynamic slot already holds next's ctx_id: reuse it, flush if its tlb_gen is behind;
 *  - else take slot next_asid++ (round robin, wrapping to 0 with the cursor at 1): flush.
 * (The PTI invalidate_other step is not modelled: PTI is off in every profile.)
 */
export function chooseNewAsid(m: Machine, cpu: number, next: number, nextGen: number, globalAsids: boolean): number {
  if (!m.pcid) return 1;
  if (globalAsids) {
    const g = m.mmGlobalAsid(next);
    if (g !== 0) return g * 2;
  }
  const ctx = m.ctxId(next);
  const base = cpu * 6;
  for (let asid = 0; asid < 6; asid++) {
    if (m.slotCtx[base + asid] !== ctx) continue;
    return asid * 2 + (m.slotGen[base + asid] < nextGen ? 1 : 0);
  }
  let asid = m.nextAsid[cpu];
  m.setNextAsid(cpu, asid + 1);
  if (asid >= 6) { asid = 0; m.setNextAsid(cpu, 1); }
  return asid * 2 + 1;
}

/** Until 4.19 (flush_tlb_mm_range): flush the range page by page iff it is not
 *  TLB_FLUSH_ALL, not hugetlb, and at most `ceiling` pages. */
export function applyCeilingPre420(req: FlushReq, ceiling: number): void {
  if (req.pages !== -1 && req.stride === 1 && req.pages <= ceiling) {
    req.full = false; req.nr = Math.max(1, req.pages);
  } else {
    req.full = true; req.nr = 0;
  }
}

/** 4.20+ (flush_tlb_mm_range, then init_flush_tlb_info): full iff TLB_FLUSH_ALL or
 *  ((end - start) >> stride_shift) > ceiling. */
export function applyCeilingStride(req: FlushReq, ceiling: number): void {
  const units = req.pages === -1 ? -1 : Math.max(1, Math.ceil(req.pages / req.stride));
  if (units === -1 || units > ceiling) { req.full = true; req.nr = 0; } else { req.full = false; req.nr = units; }
}

/** Default hooks; every strategy extends this (directly or through a kernel version). */
export abstract class KernelStrategy implements Strategy {
  abstract readonly meta: StrategyMeta;
  abstract readonly lazyRefcount: LazyRefcount;
  /** tlb_single_page_flush_ceiling (debugfs x86/tlb_single_page_flush_ceiling). */
  flushCeiling = FLUSH_CEILING;
  protected readonly m: Machine;

  constructor(m: Machine) { this.m = m; }

  abstract enterLazy(cpu: number): void;
  abstract switchMm(cpu: number, next: number): void;
  abstract onFlushRequest(cpu: number, req: FlushReq): void;
  abstract onFlushIpi(cpu: number, req: FlushReq): void;

  /** The tail of flush_tlb_func() from v4.14 on (PCID series, "x86/mm: Track the TLB's
   *  tlb_gen and update the flushing algorithm"), unchanged through v6.18: bring the CPU's
   *  ASID slot from localGen up to the mm's mmGen. `tracedPages` is what tlb_flush prints
   *  for a ranged flush (6.18 prints (end - start) >> stride_shift). */
  protected flushToGen(cpu: number, asid: number, req: FlushReq, localGen: number, mmGen: number, reason: number,
    tracedPages: number = req.nr): void {
    const m = this.m;
    // An earlier request's flush already brought this CPU up to date ("spurious" flush).
    if (localGen === mmGen) { m.traceFlush(reason, 0); return; }
    // INVLPG of just this range is enough only if this request is the one generation the
    // CPU is missing: with older ones missed too, their ranges are unknown here, so a full
    // flush catches up every missed generation at once.
    if (!req.full && req.gen === localGen + 1 && req.gen === mmGen) {
      m.flushPages(cpu, req.nr, req);
      m.traceFlush(reason, tracedPages);
    } else {
      m.flushLocalFull(cpu);
      m.traceFlush(reason, -1);
    }
    m.setSlotGen(cpu, asid, mmGen);
  }

  /** onFlushIpi for every target unless a version says what its handler does in the
   *  plain case (Strategy.remoteFlushShape). */
  remoteFlushShape(_req: FlushReq): number { return RemoteFlush.handler; }
  remoteFlushTracedPages(req: FlushReq): number { return req.nr; }

  onIpi(_cpu: number, _purpose: number, _mm: number): void { /* empty handler */ }
  onMmDrop(_cpu: number, _mm: number): void { /* x86 refcounts lazy users: nothing to do */ }

  /** tlb_remove_table_sync_one() on bare-metal x86 before a37259732a7d (6.15) was a no-op:
   *  MMU_GATHER_RCU_TABLE_FREE was only selected for paravirt, and the synchronous flush
   *  IPI was the synchronisation (Lance Yang v2 3/3). */
  onPageTableFreeSync(_cpu: number, _mm: number, _flags: number): void { /* no-op */ }

  /** Lockless walks are not tracked by the kernel (the machine still notes them, free). */
  onPtWalk(cpu: number, mm: number, _begin: boolean): void { this.m.setWalkMm(cpu, mm, false); }

  /** Cross-call the flush to the CPUs of `mask` other than `cpu`; counts a shootdown round. */
  protected sendFlush(cpu: number, mask: Uint32Array, req: FlushReq, ack: number = AckMode.sync): number {
    const n = this.m.sendIpis(cpu, mask, IpiPurpose.flush, req, req.mm, ack);
    if (n > 0) this.m.inc(MI.shootdown_rounds, cpu);
    return n;
  }
}
