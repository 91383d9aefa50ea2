// The contract between the machine (mechanism) and a strategy (policy).
//
// The machine owns all state and all costs; a strategy owns the decisions. The machine
// calls the hooks below at the points where the kernel calls the corresponding x86 code;
// a strategy reads machine state freely and changes it only through machine primitives
// (cr3Write, flushLocalFull, flushPages, sendIpis, cpumaskSet, ...), each of which counts
// and charges. See src/strategies/common.ts for the shared kernel helpers.
import type { Machine } from './machine.ts';
import type { FlushReq } from './request.ts';

export interface StrategyMeta {
  /** Registry name (a contract: the names `tlbsim strategies` lists). */
  readonly name: string;
  readonly title: string;
  /** Kernel version or patch series modelled, with commit ids / dates. */
  readonly kernel: string;
  /** One line. */
  readonly description: string;
  /** false when the strategy is known to break TLB coherence in some situation. */
  readonly safe: boolean;
  /** When it is unsafe (or conditionally safe). */
  readonly unsafeWhen?: string;
}

/** How the scheduler refcounts lazy TLB users (kernel/sched/core.c context_switch):
 *  'pre-5.4': every switch into a kernel thread grabs active_mm and every switch out of one
 *             drops it (kthread->kthread = 2 atomics);
 *  '5.4':     the borrowed reference is transferred between kernel threads (139d025cda1d);
 *  'none':    no mm_count atomics for lazy users (MMU_LAZY_TLB_REFCOUNT=n). */
export type LazyRefcount = 'pre-5.4' | '5.4' | 'none';

export interface Strategy {
  readonly meta: StrategyMeta;
  readonly lazyRefcount: LazyRefcount;
  /** enter_lazy_tlb(): a user task is switched out for a kernel thread or idle, or a task
   *  dropped its mm in exit_mm. The scheduler already keeps active_mm. */
  enterLazy(cpu: number): void;
  /** switch_mm_irqs_off(prev->active_mm, next) before a user task with mm `next` runs
   *  (context_switch, and activate_mm at exec). */
  switchMm(cpu: number, next: number): void;
  /** flush_tlb_mm_range() on `cpu` (req.mm != 0) or arch_tlbbatch_flush() (req.mm == 0). */
  onFlushRequest(cpu: number, req: FlushReq): void;
  /** The flush cross-call handler running on target `cpu` (flush_tlb_func). */
  onFlushIpi(cpu: number, req: FlushReq): void;
  /** Whether the machine may run this request's flush cross-call handler itself on a
   *  target in the plain state (it runs req.mm, is not lazy, and, for
   *  RemoteFlush.tlbGen, uses a dynamic ASID exactly one tlb_gen behind the request),
   *  doing what onFlushIpi does there with the same primitives: a 256-CPU shootdown then
   *  makes no strategy call per target. Asked once per synchronous flush cross-call. */
  remoteFlushShape(req: FlushReq): number;
  /** What tlb:tlb_flush prints for a ranged flush in that plain case (req.nr, or
   *  req.tracedNr from 6.1 on). */
  remoteFlushTracedPages(req: FlushReq): number;
  /** A cross-call of another purpose (IpiPurpose.*) this strategy sent, on target `cpu`. */
  onIpi(cpu: number, purpose: number, mm: number): void;
  /** __mmdrop(mm) on `cpu`: mm_count reached zero, just before the mm is freed. */
  onMmDrop(cpu: number, mm: number): void;
  /** tlb_remove_table_sync_one() for `mm` on `cpu` (flags: FlushFlags bits). */
  onPageTableFreeSync(cpu: number, mm: number, flags: number): void;
  /** A lockless page-table walk of `mm` begins (begin) or ends on `cpu`. */
  onPtWalk(cpu: number, mm: number, begin: boolean): void;
  /** Optional: `mm` existed before the trace began (not made by a fork or exec in it),
   *  and its first recorded flush request went remote: the recorded kernel had CPUs other
   *  than the initiator in its mm_cpumask. Set what that unseen history left. */
  adoptMm?(mm: number): void;
}

/** Shapes of a plain remote flush (Strategy.remoteFlushShape). */
export const RemoteFlush = {
  /** Call onFlushIpi for every target. */
  handler: 0,
  /** flush_tlb_func() from 4.14 on: read mm->context.tlb_gen, INVLPG the range (or flush
   *  the PCID when the request is full), print reason 1, store the new tlb_gen in the
   *  CPU's ASID slot (KernelStrategy.flushToGen's one-generation case). */
  tlbGen: 1,
  /** flush_tlb_func_remote() of 4.13: INVLPG the range or flush, print reason 1. */
  noGen: 2,
} as const;

/** A strategy as the registry and the public API know it. */
export interface StrategyDefinition extends StrategyMeta {
  create(machine: Machine): Strategy;
}

export function metaOf(d: StrategyMeta): StrategyMeta {
  const m: StrategyMeta = { name: d.name, title: d.title, kernel: d.kernel, description: d.description, safe: d.safe };
  return d.unsafeWhen !== undefined ? { ...m, unsafeWhen: d.unsafeWhen } : m;
}
