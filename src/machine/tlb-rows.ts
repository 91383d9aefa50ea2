// The TLB model (counts, not pages) and CR3. Each CPU has NROWS PCID rows: 0..5 are the
// dynamic ASIDs, 6..7 the two most recently used global ASIDs. A row belongs to one address
// space (ctx_id) and caches `pages` translations of it; a CPU caches at most tlbEntries
// translations (least recently used rows give way). An access of n pages of mm M on a CPU
// whose CR3 row holds c of them costs max(0, n - c) misses (n if n > capacity): accesses
// are assumed to re-touch the task's hot set, the cached pages being part of it. INVLPG of
// k pages drops min(c, k); a full flush drops the row. Real traces carry no accesses: with
// `implicitAccess`, pages invalidated under a running user task are refilled at once.
//
// Each row also records the coherence checker's truth generation its entries are fresh to
// (rowFresh; -1: entries of another address space tagged as this one; checker.ts owns the
// generations). A layer of the machine (see counters.ts).
import { CacheLines } from './cache-lines.ts';
import { MI } from './metrics.ts';
import type { CostProfile } from './profiles.ts';
import type { FlushReq } from './request.ts';

export const TLB_NR_DYN_ASIDS = 6;
/** PCID rows per CPU in the TLB model: row cpu * NROWS + i. */
export const NROWS = 8;
/** The first of the two global-ASID rows (6 and 7). */
export const GLOBAL_ROW = TLB_NR_DYN_ASIDS;

export abstract class TlbRows extends CacheLines {
  readonly implicitAccess: boolean;
  /** What CR3 holds per CPU: the mm and its row. */
  protected readonly _cr3Mm: Int32Array;
  protected readonly _cr3Row: Int32Array;
  /** Per row: ctx_id of the address space its entries belong to, its mm (-1: none), the
   *  PCID it stands for (-1: unused), cached pages, truth generation, last use (trace ns). */
  protected readonly rowCtx: Float64Array;
  protected readonly rowMm: Int32Array;
  protected readonly rowPcid: Int32Array;
  protected readonly rowPages: Float64Array;
  protected readonly rowFresh: Float64Array;
  protected readonly rowUse: Float64Array;
  /** Pages cached per CPU (all rows). */
  private readonly cpuPages: Float64Array;
  // From the layers above:
  /** CR4.PCIDE (machine.ts). */
  abstract pcid: boolean;
  /** Trace time of the event being replayed (machine.ts). */
  abstract now: number;
  /** The scheduler's current->mm per CPU (machine.ts), for refills. */
  protected abstract readonly _curTaskMm: Int32Array;
  /** ctx_id per mm (machine.ts). */
  protected abstract mmCtx: Float64Array;
  /** Truth generation per mm (checker.ts). */
  protected abstract truthGen: Float64Array;

  constructor(nCpu: number, profile: CostProfile, implicitAccess: boolean, firstNs: number, lastNs: number) {
    super(nCpu, profile, firstNs, lastNs);
    this.implicitAccess = implicitAccess;
    const n = nCpu * NROWS;
    this._cr3Mm = new Int32Array(nCpu);
    this._cr3Row = new Int32Array(nCpu);
    this.rowCtx = new Float64Array(n);
    this.rowMm = new Int32Array(n).fill(-1);
    this.rowPcid = new Int32Array(n).fill(-1);
    this.rowPages = new Float64Array(n);
    this.rowFresh = new Float64Array(n);
    this.rowUse = new Float64Array(n);
    this.cpuPages = new Float64Array(nCpu);
    // Every CPU starts on init_mm (ctx_id 1) in ASID 0.
    for (let c = 0; c < nCpu; c++) {
      this.rowMm[c * NROWS] = 0; this.rowCtx[c * NROWS] = 1; this.rowPcid[c * NROWS] = 0;
    }
  }

  /** Set the hardware of a CPU first seen running `mm`: CR3 holds mm in ASID 0, fresh. */
  protected bootRows(cpu: number, mm: number): void {
    const r = cpu * NROWS;
    this.rowPcid[r] = 0; this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtx[mm]; this.rowFresh[r] = this.truthGen[mm];
    this._cr3Mm[cpu] = mm; this._cr3Row[cpu] = r;
  }

  private rowFor(cpu: number, asid: number): number {
    const base = cpu * NROWS;
    if (asid < TLB_NR_DYN_ASIDS) {
      const r = base + asid;
      if (this.rowPcid[r] !== asid) { this.dropRow(cpu, r); this.rowPcid[r] = asid; this.rowMm[r] = -1; this.rowCtx[r] = 0; }
      return r;
    }
    const r6 = base + GLOBAL_ROW, r7 = base + GLOBAL_ROW + 1;
    if (this.rowPcid[r6] === asid) return r6;
    if (this.rowPcid[r7] === asid) return r7;
    const r = this.rowUse[r6] <= this.rowUse[r7] ? r6 : r7;
    this.dropRow(cpu, r);
    this.rowPcid[r] = asid; this.rowMm[r] = -1; this.rowCtx[r] = 0;
    return r;
  }

  /** Drop a row's translations. Under implicit accesses, pages dropped under a running
   *  user task of that mm are refilled at once (the task keeps touching them). */
  private dropRow(cpu: number, r: number): void {
    const pages = this.rowPages[r];
    if (pages > 0) {
      this.rowPages[r] = 0;
      this.cpuPages[cpu] -= pages;
      if (this.implicitAccess && this._cr3Row[cpu] === r && this._curTaskMm[cpu] === this.rowMm[r] && this.rowMm[r] > 0) {
        this.refill(cpu, r, pages);
      }
    }
  }

  private refill(cpu: number, r: number, n: number): void {
    this.add(MI.tlb_misses, cpu, n);
    this.cost(MI.refill_ns, cpu, n * this.p.tlbMissNs);
    this.fill(cpu, r, this.rowPages[r] + n);
  }

  private fill(cpu: number, r: number, target: number): void {
    const cap = this.p.tlbEntries;
    if (target > cap) target = cap;
    const add = target - this.rowPages[r];
    if (add <= 0) return;
    let over = this.cpuPages[cpu] + add - cap;
    const base = cpu * NROWS;
    while (over > 0) {
      let victim = -1, use = Infinity;
      for (let i = base; i < base + NROWS; i++) {
        if (i !== r && this.rowPages[i] > 0 && this.rowUse[i] < use) { use = this.rowUse[i]; victim = i; }
      }
      if (victim < 0) break;
      const take = Math.min(over, this.rowPages[victim]);
      this.rowPages[victim] -= take; this.cpuPages[cpu] -= take; over -= take;
    }
    this.rowPages[r] += add;
    this.cpuPages[cpu] += add;
  }

  /** Write CR3: load mm's page tables with PCID `asid` (asid+1 in hardware), flushing that
   *  PCID or not (NOFLUSH). Without PCID every write flushes all non-global entries. */
  cr3Write(cpu: number, mm: number, asid: number, flush: boolean): void {
    const p = this.p;
    this.add(MI.cr3_writes, cpu, 1);
    if (this._cr3Mm[cpu] !== mm) this.add(MI.mm_switches, cpu, 1);
    if (!this.pcid) { asid = 0; flush = true; }
    const r = this.rowFor(cpu, asid);
    if (flush) {
      this.inc(MI.cr3_flushes, cpu);
      this.cost(MI.cr3_ns, cpu, p.cr3WriteNs + p.cr3FlushExtraNs);
      if (!this.pcid) { for (let i = cpu * NROWS; i < cpu * NROWS + NROWS; i++) this.dropRow(cpu, i); }
      else this.dropRow(cpu, r);
      this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtx[mm]; this.rowFresh[r] = this.truthGen[mm];
    } else {
      this.cost(MI.cr3_ns, cpu, p.cr3WriteNs);
      if (this.rowCtx[r] !== this.mmCtx[mm]) {
        if (this.rowMm[r] < 0 && this.rowPages[r] === 0) {
          // An empty PCID (a global ASID seen for the first time): trivially fresh.
          this.rowFresh[r] = this.truthGen[mm];
        } else {
          this.rowFresh[r] = -1; // entries of another address space now tagged as mm's
        }
        this.rowMm[r] = mm; this.rowCtx[r] = this.mmCtx[mm];
      }
    }
    this._cr3Mm[cpu] = mm;
    this._cr3Row[cpu] = r;
    this.rowUse[r] = this.now;
  }

  /** flush_tlb_local(): rewrite CR3 with its own value, flushing the current PCID. */
  flushLocalFull(cpu: number): void {
    this.inc(MI.full_flushes, cpu);
    this.cost(MI.invalidate_ns, cpu, this.p.flushLocalNs);
    const r = this._cr3Row[cpu];
    if (!this.pcid) { for (let i = cpu * NROWS; i < cpu * NROWS + NROWS; i++) this.dropRow(cpu, i); }
    else this.dropRow(cpu, r);
    const mm = this._cr3Mm[cpu];
    this.rowFresh[r] = this.truthGen[mm];
  }

  /** INVLPG x n in the current PCID, for request `req` (its truth generation advances the
   *  row only if the row was fresh up to the previous request). */
  flushPages(cpu: number, n: number, req: FlushReq): void {
    this.add(MI.page_flushes, cpu, n);
    this.cost(MI.invalidate_ns, cpu, n * this.p.invlpgNs);
    const r = this._cr3Row[cpu];
    const drop = Math.min(this.rowPages[r], n * req.stride);
    if (drop > 0) {
      this.rowPages[r] -= drop; this.cpuPages[cpu] -= drop;
      if (this.implicitAccess && this._curTaskMm[cpu] === this.rowMm[r] && this.rowMm[r] > 0) this.refill(cpu, r, drop);
    }
    if (req.mm !== 0 && req.mm === this.rowMm[r] && this.rowFresh[r] >= req.truthGen - 1 && this.rowFresh[r] < req.truthGen) {
      this.rowFresh[r] = req.truthGen;
    }
  }

  /** A task touched n pages of mm on cpu (synthetic `access` events, implicit working set). */
  access(cpu: number, mm: number, n: number): void {
    if (n <= 0 || this._cr3Mm[cpu] !== mm) return;
    const r = this._cr3Row[cpu];
    const c = this.rowPages[r];
    const cap = this.p.tlbEntries;
    const miss = n > cap ? n : (n > c ? n - c : 0);
    this.rowUse[r] = this.now;
    if (miss > 0) {
      this.add(MI.tlb_misses, cpu, miss);
      this.cost(MI.refill_ns, cpu, miss * this.p.tlbMissNs);
      this.fill(cpu, r, n > c ? n : c);
    }
  }

  /** Pages of the current CR3 row (tests, assertions). */
  cachedPages(cpu: number): number { return this.rowPages[this._cr3Row[cpu]]; }

  // ---------------------------------------------------------------- INVLPGB / TLBSYNC

  /** broadcast_tlb_flush(): INVLPGB for PCID of global `asid` over the request's range on
   *  every CPU (no IPI, no target-side cost). */
  invlpgb(cpu: number, asid: number, req: FlushReq): void {
    const ops = req.full ? 1 : Math.max(1, Math.ceil(req.nr / this.p.invlpgbMaxPages));
    this.inc(MI.broadcast_flushes, cpu, ops);
    this.inc(MI.invalidate_ns, cpu, ops * this.p.invlpgbNs);
    this.charge(cpu, ops * this.p.invlpgbNs);
    for (let c = 0; c < this.nCpu; c++) {
      const base = c * NROWS;
      for (let r = base + GLOBAL_ROW; r < base + NROWS; r++) {
        if (this.rowPcid[r] !== asid) continue;
        if (req.full) {
          const pages = this.rowPages[r];
          if (pages > 0) { this.rowPages[r] = 0; this.cpuPages[c] -= pages; if (this.implicitAccess && this._cr3Row[c] === r && this._curTaskMm[c] === this.rowMm[r]) this.refill(c, r, pages); }
          this.rowFresh[r] = this.truthGen[req.mm];
        } else {
          const drop = Math.min(this.rowPages[r], req.nr * req.stride);
          if (drop > 0) { this.rowPages[r] -= drop; this.cpuPages[c] -= drop; if (this.implicitAccess && this._cr3Row[c] === r && this._curTaskMm[c] === this.rowMm[r]) this.refill(c, r, drop); }
          if (this.rowMm[r] === req.mm && this.rowFresh[r] >= req.truthGen - 1 && this.rowFresh[r] < req.truthGen) this.rowFresh[r] = req.truthGen;
        }
      }
    }
  }

  /** invlpgb_flush_all_nonglobals(): every PCID on every CPU, then TLBSYNC (the helper in
   *  arch/x86/include/asm/tlb.h, v6.15+, ends with __tlbsync()). */
  invlpgbFlushAllNonglobals(cpu: number): void {
    this.inc(MI.broadcast_flushes, cpu);
    this.inc(MI.invalidate_ns, cpu, this.p.invlpgbNs);
    this.charge(cpu, this.p.invlpgbNs);
    this.tlbsync(cpu);
    for (let c = 0; c < this.nCpu; c++) {
      for (let r = c * NROWS; r < c * NROWS + NROWS; r++) {
        this.dropRow(c, r);
        const mm = this.rowMm[r];
        if (mm >= 0) this.rowFresh[r] = this.truthGen[mm];
      }
    }
  }

  /** TLBSYNC: the initiator waits until its broadcasts completed everywhere. */
  tlbsync(cpu: number): void {
    this.inc(MI.tlbsyncs, cpu);
    this.inc(MI.initiator_wait_ns, cpu, this.p.tlbsyncNs);
    this.charge(cpu, this.p.tlbsyncNs);
  }
}
