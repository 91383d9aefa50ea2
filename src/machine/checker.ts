// The coherence checker ("truth" generations, independent of any strategy's tlb_gen):
// every flush request for mm M gets the next truth generation of M (a reclaim batch
// request, mm NULL, gives one to every mm loaded on some CPU); each PCID row records the
// truth generation its entries are fresh to (tlb-rows.ts: a full flush or a CR3 flush makes
// it current, INVLPG for request g advances it from g-1 to g). When user code of M runs on
// a CPU (switch into a user task, access, syscall events) the checker requires: CR3 holds
// M, the row belongs to M, and the row is fresh to the last *completed* request of M
// (requests complete when the initiator returns; for early-ack strategies, from the
// target's ack). When a request that freed page tables completes, every CPU still holding
// M's page tables in CR3 without running M must have flushed for it (speculative walks).
// When an mm is freed, no CPU may still have its pgd in CR3 (Machine.freeMm). Correct
// strategies report zero.
import type { CrossCalls } from './cross-calls.ts';
import type { Machine } from './machine.ts';
import { VK } from './metrics.ts';
import { FlushReq } from './request.ts';
import type { TlbRows } from './tlb-rows.ts';

export class Checker {
  /** Per mm: the last truth generation handed out, and the last one completed (grown
   *  with the mm table). */
  truthGen = new Float64Array(0);
  completedGen = new Float64Array(0);
  /** The one request being replayed (requests do not nest). */
  private readonly req = new FlushReq();
  /** The mms a reclaim batch request covers (the checker's side of batchAddPending). */
  private readonly batchMm: Int32Array;
  private batchN = 0;

  /** The per-CPU arrays are Machine's: loaded_mm and current->mm. */
  constructor(private readonly m: Machine, private readonly tlb: TlbRows, private readonly xc: CrossCalls,
    private readonly loadedMm: Int32Array, private readonly curTaskMm: Int32Array) {
    this.batchMm = new Int32Array(m.nCpu);
  }

  /** Room for `cap` mms. */
  growMm(cap: number): void {
    const t = new Float64Array(cap); t.set(this.truthGen); this.truthGen = t;
    const c = new Float64Array(cap); c.set(this.completedGen); this.completedGen = c;
  }

  /** A new mm starts at generation 0. */
  resetMm(mm: number): void {
    this.truthGen[mm] = 0;
    this.completedGen[mm] = 0;
  }

  /** A request for mm (0: a reclaim batch) starts: give it the next truth generation, and
   *  a batch one to every mm loaded on some CPU now (the same mms batchAddPending() takes),
   *  whatever the strategy then does, so a strategy that skips part of a batch flush is
   *  caught too. Returns the request, its fields reset. */
  begin(cpu: number, mm: number, start: number, pages: number, flags: number, origin: number): FlushReq {
    const r = this.req;
    r.mm = mm; r.start = start; r.pages = pages;
    r.freedTables = (flags & 1) !== 0; r.unsharedTables = (flags & 2) !== 0;
    r.stride = (flags & 4) !== 0 ? 512 : 1;
    r.full = true; r.nr = 0; r.gen = 0; r.initiator = cpu; r.trimCpumask = false; r.origin = origin;
    r.truthGen = mm !== 0 ? ++this.truthGen[mm] : 0;
    this.batchN = 0;
    if (mm === 0) {
      const nCpu = this.loadedMm.length;
      for (let c = 0; c < nCpu; c++) {
        const b = this.loadedMm[c];
        if (b === 0) continue;
        let seen = false;
        for (let k = 0; k < this.batchN; k++) if (this.batchMm[k] === b) { seen = true; break; }
        if (!seen) { this.batchMm[this.batchN++] = b; this.truthGen[b]++; }
      }
    }
    return r;
  }

  /** The initiator returned from the request: it is complete. */
  complete(req: FlushReq): void {
    const mm = req.mm;
    if (mm === 0) {
      for (let k = 0; k < this.batchN; k++) {
        const b = this.batchMm[k];
        if (this.truthGen[b] > this.completedGen[b]) this.completedGen[b] = this.truthGen[b];
      }
      return;
    }
    if (req.truthGen > this.completedGen[mm]) this.completedGen[mm] = req.truthGen;
    if (req.freedTables || req.unsharedTables) {
      // Speculative walks: every CPU with mm's page tables in CR3 that does not run mm's
      // user code (lazy) must have flushed for this request. A flush that is only
      // acknowledged (early ack) does not count: the initiator frees the page tables as
      // soon as it returns, while the target may still walk them until its flush runs —
      // why Nadav Amit's async RFC (v2 11/12, 2019) kept freed-tables flushes synchronous.
      const tlb = this.tlb, nCpu = this.loadedMm.length;
      for (let c = 0; c < nCpu; c++) {
        if (tlb.cr3Mm[c] !== mm || this.curTaskMm[c] === mm) continue;
        // Its flush waits in its queue (irqWhenRun): the tables are freed only after its ack.
        if (this.xc.pendingCsdGen(c, mm) <= req.truthGen) continue;
        const r = tlb.cr3Row[c];
        if (tlb.rowFresh[r] < req.truthGen) this.m.violation(VK.freedTablesWalk, c, mm);
      }
    }
  }

  /** User code of `mm` runs on `cpu` now. */
  checkUser(cpu: number, mm: number): void {
    if (mm <= 0) return;
    const tlb = this.tlb;
    if (tlb.cr3Mm[cpu] !== mm) { this.m.violation(VK.wrongMm, cpu, mm); return; }
    const r = tlb.cr3Row[cpu];
    const fresh = tlb.rowFresh[r];
    if (fresh < 0) { this.m.violation(VK.pcidAlias, cpu, mm); return; }
    let need = this.completedGen[mm];
    if (fresh >= need) return;
    need = this.xc.pendingNeed(cpu, mm, need);
    // Its flush waits in its queue (irqWhenRun): the initiator is still waiting for it.
    const g = this.xc.pendingCsdGen(cpu, mm);
    if (g === 0) return;
    if (g - 1 < need) need = g - 1;
    if (fresh < need) this.m.violation(VK.staleTlb, cpu, mm);
  }
}
