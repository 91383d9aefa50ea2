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
// strategies report zero. A layer of the machine (see counters.ts).
import { CrossCalls } from './cross-calls.ts';
import { MI, VK } from './metrics.ts';
import type { CostProfile } from './profiles.ts';
import { FlushReq } from './request.ts';

export abstract class Checker extends CrossCalls {
  /** Per mm: the last truth generation handed out (grown with the mm table). */
  protected truthGen = new Float64Array(0);
  /** Per mm: the last truth generation whose request completed. */
  private completedGen = new Float64Array(0);
  /** The one request being replayed (requests do not nest). */
  private readonly req = new FlushReq();
  /** The mms a reclaim batch request covers (the checker's side of batchAddPending). */
  private readonly batchMm: Int32Array;
  private batchN = 0;

  constructor(nCpu: number, profile: CostProfile, implicitAccess: boolean, firstNs: number, lastNs: number,
    irqWhenRun: boolean, hostCores: number) {
    super(nCpu, profile, implicitAccess, firstNs, lastNs, irqWhenRun, hostCores);
    this.batchMm = new Int32Array(nCpu);
  }

  /** Room for the generations of `cap` mms. */
  protected growTruth(cap: number): void {
    const t = new Float64Array(cap); t.set(this.truthGen); this.truthGen = t;
    const c = new Float64Array(cap); c.set(this.completedGen); this.completedGen = c;
  }

  /** A new mm starts at generation 0. */
  protected resetTruth(mm: number): void {
    this.truthGen[mm] = 0;
    this.completedGen[mm] = 0;
  }

  /** Start a flush request (the simulator calls this, then the strategy's hook). A batch
   *  request (mm 0) covers, for the checker, the same mms batchAddPending() takes: those
   *  loaded on some CPU now. Each gets its next truth generation here, whatever the
   *  strategy then does, so a strategy that skips part of a batch flush is caught too. */
  beginRequest(cpu: number, mm: number, start: number, pages: number, flags: number, origin: number): FlushReq {
    const r = this.req;
    r.mm = mm; r.start = start; r.pages = pages;
    r.freedTables = (flags & 1) !== 0; r.unsharedTables = (flags & 2) !== 0;
    r.stride = (flags & 4) !== 0 ? 512 : 1;
    r.full = true; r.nr = 0; r.gen = 0; r.initiator = cpu; r.trimCpumask = false; r.origin = origin;
    r.truthGen = mm !== 0 ? ++this.truthGen[mm] : 0;
    this.batchN = 0;
    if (mm === 0) {
      for (let c = 0; c < this.nCpu; c++) {
        const b = this._loadedMm[c];
        if (b === 0) continue;
        let seen = false;
        for (let k = 0; k < this.batchN; k++) if (this.batchMm[k] === b) { seen = true; break; }
        if (!seen) { this.batchMm[this.batchN++] = b; this.truthGen[b]++; }
      }
    }
    this.add(MI.flush_requests, cpu, 1);
    return r;
  }

  /** The initiator returned from the request: it is complete. */
  endRequest(cpu: number, req: FlushReq, startOverhead: number): void {
    this.ipiWait(cpu);
    this.recordLatency(this.cpuOverhead(cpu) - startOverhead);
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
      for (let c = 0; c < this.nCpu; c++) {
        if (this._cr3Mm[c] !== mm || this._curTaskMm[c] === mm) continue;
        // Its flush waits in its queue (irqWhenRun): the tables are freed only after its ack.
        if (this.pendingCsdGen(c, mm) <= req.truthGen) continue;
        const r = this._cr3Row[c];
        if (this.rowFresh[r] < req.truthGen) this.violation(VK.freedTablesWalk, c, mm);
      }
    }
  }

  /** User code of `mm` runs on `cpu` now. */
  checkUser(cpu: number, mm: number): void {
    if (mm <= 0) return;
    if (this._cr3Mm[cpu] !== mm) { this.violation(VK.wrongMm, cpu, mm); return; }
    const r = this._cr3Row[cpu];
    const fresh = this.rowFresh[r];
    if (fresh < 0) { this.violation(VK.pcidAlias, cpu, mm); return; }
    let need = this.completedGen[mm];
    if (fresh >= need) return;
    need = this.pendingNeed(cpu, mm, need);
    // Its flush waits in its queue (irqWhenRun): the initiator is still waiting for it.
    const g = this.pendingCsdGen(cpu, mm);
    if (g === 0) return;
    if (g - 1 < need) need = g - 1;
    if (fresh < need) this.violation(VK.staleTlb, cpu, mm);
  }
}
