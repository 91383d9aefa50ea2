// struct flush_tlb_info, as the machine hands it to a strategy. One object per in-flight
// request, reused (no per-event allocation).

/** new_tlb_gen of a request that carries no generation (batch and kernel flushes). */
export const TLB_GENERATION_INVALID = 0;

export class FlushReq {
  /** The mm (0 = NULL: a reclaim batch flush of everything whose tlb_gen moved). */
  mm = 0;
  /** Start address as traced (-1 unknown). */
  start = -1;
  /** Pages requested, in 4 KiB units (-1 = TLB_FLUSH_ALL), before the ceiling. */
  pages = -1;
  /** After the single-page ceiling (strategy decides): a full flush. */
  full = true;
  /** After the ceiling, for a ranged flush: invalidations needed ((end-start) >> stride). */
  nr = 0;
  /** Stride of the range in 4 KiB pages (1, or 512 for a 2 MiB stride). */
  stride = 1;
  /** Page-table pages are freed (info->freed_tables). */
  freedTables = false;
  /** hugetlb PMD unshare (Lance Yang v7's unshared_tables). */
  unsharedTables = false;
  /** new_tlb_gen (TLB_GENERATION_INVALID for batch flushes and strategies without tlb_gen). */
  gen = TLB_GENERATION_INVALID;
  /** initiating_cpu. */
  initiator = 0;
  /** info->trim_cpumask (6.14+). */
  trimCpumask = false;
  /** FlushOrigin code of the event (0 = synthesized teardown). */
  origin = 0;
  /** Checker only, never read by strategies: this request's place in the mm's sequence of
   *  requests (the "truth" generation, independent of any strategy's tlb_gen). */
  truthGen = 0;

  copyFrom(o: FlushReq): this {
    this.mm = o.mm; this.start = o.start; this.pages = o.pages; this.full = o.full; this.nr = o.nr;
    this.stride = o.stride; this.freedTables = o.freedTables; this.unsharedTables = o.unsharedTables;
    this.gen = o.gen; this.initiator = o.initiator; this.trimCpumask = o.trimCpumask;
    this.origin = o.origin; this.truthGen = o.truthGen;
    return this;
  }

  /** nr_invalidate printed by flush_tlb_func() for a partial flush: (end - start) >>
   *  stride_shift, which is 0 for a range shorter than one stride (a request of 0 pages,
   *  e.g. page tables freed under a PMD-stride mmu_gather) even though the loop still
   *  invalidates once. */
  get tracedNr(): number {
    return this.pages >= 0 && this.pages < this.stride ? 0 : this.nr;
  }

  /** tlb:tlb_flush pages printed by the reason-4 event: (end - start) >> PAGE_SHIFT, always
   *  in 4 KiB units, or -1. */
  get sendPages(): number {
    return this.full ? -1 : this.nr * this.stride;
  }
}
