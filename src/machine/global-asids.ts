// The global-ASID allocator of INVLPGB (arch/x86/mm/tlb.c, v6.15+): allocate_global_asid()
// is next-fit over [first, MAX_ASID_AVAILABLE), first = TLB_NR_DYN_ASIDS (the dynamic
// ASIDs come before); a freed ASID is only reusable after reset_global_asid_space(), which
// runs when the cursor reaches the end, right after the caller (Machine.assignGlobalAsid)
// flushed every non-global PCID everywhere. Cold: one call per mm that turns global.

/** MAX_ASID_AVAILABLE without PTI: (1 << 12) - 2. */
export const MAX_ASID_AVAILABLE = 4094;

export class GlobalAsids {
  private readonly used = new Uint8Array(MAX_ASID_AVAILABLE + 1);
  /** Freed since the last reset (global_asid_freed). */
  private readonly freed = new Uint8Array(MAX_ASID_AVAILABLE + 1);
  private last = MAX_ASID_AVAILABLE;
  /** global_asid_available. */
  available: number;

  constructor(private readonly first: number) {
    this.available = MAX_ASID_AVAILABLE - first - 1;
  }

  /** The next-fit cursor is at the end: reset_global_asid_space() is due. */
  needsReset(): boolean { return this.last >= MAX_ASID_AVAILABLE - 1; }

  /** reset_global_asid_space() after its flush: freed ASIDs become usable again. */
  reset(): void {
    for (let a = 0; a <= MAX_ASID_AVAILABLE; a++) if (this.freed[a]) { this.used[a] = 0; this.freed[a] = 0; }
    this.last = this.first;
  }

  /** The next free ASID from the cursor, or 0. */
  allocate(): number {
    let asid = this.last;
    while (asid < MAX_ASID_AVAILABLE && this.used[asid]) asid++;
    if (asid >= MAX_ASID_AVAILABLE) return 0;
    this.used[asid] = 1;
    this.last = asid;
    this.available--;
    return asid;
  }

  /** destroy_context(): reusable after the next reset. */
  free(asid: number): void {
    this.freed[asid] = 1;
    this.available++;
  }
}
