// What the recorded kernel did: its tlb:tlb_flush records by reason, its IPIs, and which of
// those IPIs carried a TLB flush. None of it depends on the strategy being replayed, so
// replay() counts it once per trace (on its reading thread) and gives every result the
// same counts; a Simulator built on its own counts it itself (SimOptions.countObserved).
//
// Which real IPIs carried a TLB flush is told by order, not by time or by symbol names: a
// TCG guest prints the steps of one cross-call tens of µs apart, and since 6.5 every IPI
// names generic_smp_call_function_single_interrupt as its callback. native_flush_tlb_multi()
// (arch/x86/mm/tlb.c) prints reason 4, then smp_call_function_many_cond() (kernel/smp.c)
// queues one CSD per target (csd_queue_cpu func=flush_tlb_func, when recorded) and sends
// one ipi_send_cpu(mask) to the targets whose queue was empty, all with preemption off; the
// local flush_tlb_func and any switch come after. So a sender's flush call runs from its
// reason-4 record up to its first send, another tlb_flush record, or a switch; the send
// inside it is the flush's (with csd records: to the targets queued inside it).
// validate --explain pairs recorded flush IPIs with predicted ones by the same rule
// (ObservedCounts.event's return value).
import { CpuPairs } from './cpu-pairs.ts';
import { EventKind, IPI_KIND_NAMES, IpiKind, type EventBatch, type TraceInfo } from '../trace/event.ts';
import type { FlushClassCounts, ObservedRecord } from './result.ts';

/** tlb:tlb_flush reasons 0-5 (TLB_FLUSH_ON_TASK_SWITCH .. TLB_LOCAL_MM_SHOOTDOWN). */
const REASONS = 6;

export class ObservedCounts {
  private readonly nCpu: number;
  /** Per reason x {full, ranged, none}: records; per reason: pages of the ranged ones. */
  private readonly flushes = new Float64Array(REASONS * 3);
  private readonly pages = new Float64Array(REASONS);
  private sends = 0;
  private targets = 0;
  private readonly byKind = new Float64Array(IPI_KIND_NAMES.length);
  private flushSends = 0;
  private flushTargets = 0;
  /** Cross-call interrupts the recording shows (call_function*_entry), and those whose
   *  handler printed a tlb_flush record before the CPU did anything else. */
  private irqs = 0;
  private flushIrqs = 0;
  /** Per CPU: an interrupt entry not yet followed by a flush record or other work. */
  private readonly irqOpen: Uint8Array;
  /** Per sender: reason-4 records so far (the current flush call's number). */
  private readonly call: Float64Array;
  /** Per sender: the call that ended (sent, flushed locally or switched away). */
  private readonly callOver: Float64Array;
  /** Per sender: the send being read (its targets follow its first) carries the flush. */
  private readonly sendIsFlush: Uint8Array;
  /** Per sender x target: the call in which flush_tlb_func was queued for the target. */
  private readonly queuedIn: CpuPairs;
  /** The trace recorded csd_queue_cpu for flush_tlb_func (6.5+ with the csd events on). */
  private readonly csdRecorded: boolean;

  constructor(info: TraceInfo) {
    const n = info.cpus;
    this.nCpu = n;
    this.irqOpen = new Uint8Array(n);
    this.call = new Float64Array(n);
    this.callOver = new Float64Array(n);
    this.sendIsFlush = new Uint8Array(n);
    this.queuedIn = new CpuPairs(n, -1);
    this.csdRecorded = (info.observedIpis?.byKind?.flushQueued ?? 0) > 0;
  }

  processBatch(b: EventBatch, from = 0, to = b.length): void {
    const kind = b.kind, cpuCol = b.cpu, A = b.a, B = b.b, C = b.c;
    for (let i = from; i < to; i++) this.event(kind[i], cpuCol[i], A[i], B[i], C[i]);
  }

  /** Count one event (kind, cpu and its a, b, c columns). Returns true when it is a
   *  recorded real IPI from `cpu` to target `a` that carried a TLB flush. */
  event(k: number, cpu: number, a: number, b: number, c: number): boolean {
    if (cpu >= this.nCpu) return false;
    if (k === EventKind.observed_flush) { this.flush(cpu, a, b); return false; }
    if (k === EventKind.observed_ipi) return this.ipi(cpu, a, b, c);
    this.irqOpen[cpu] = 0; // the CPU went on with other work
    if (k === EventKind.switch) this.callOver[cpu] = this.call[cpu]; // a switch ends any flush call
    return false;
  }

  private flush(cpu: number, reason: number, pages: number): void {
    if (this.irqOpen[cpu] === 1) {
      this.irqOpen[cpu] = 0;
      if (reason !== 4 && reason !== 3 && reason !== 2) this.flushIrqs++; // the handler's flush (1, 5, or 0 when lazy)
    }
    if (reason === 4) this.call[cpu]++;
    else this.callOver[cpu] = this.call[cpu];
    if (reason >= 0 && reason < REASONS) {
      this.flushes[reason * 3 + (pages === -1 ? 0 : pages === 0 ? 2 : 1)]++;
      if (pages > 0) this.pages[reason] += pages;
    }
  }

  private ipi(cpu: number, target: number, first: number, kind: number): boolean {
    if (kind >= 0 && kind < IPI_KIND_NAMES.length) this.byKind[kind]++;
    if (kind === IpiKind.received) { this.irqs++; this.irqOpen[cpu] = 1; return false; }
    let carriedFlush = false;
    if (target >= 0 && target < this.nCpu) {
      const call = this.call[cpu];
      if (kind === IpiKind.flushQueued) this.queuedIn.set(cpu, target, call);
      else if (kind === IpiKind.real) {
        if (first === 1) {
          this.sendIsFlush[cpu] = call > this.callOver[cpu] ? 1 : 0;
          this.callOver[cpu] = call;
        }
        // Without csd_queue_cpu records, the send printed right after the sender's reason-4
        // record is the flush's (smp_call_function_many_cond follows native_flush_tlb_multi's
        // trace at once).
        if (this.sendIsFlush[cpu] === 1 && (!this.csdRecorded || this.queuedIn.get(cpu, target) === call)) {
          this.flushTargets++;
          if (first === 1) this.flushSends++;
          carriedFlush = true;
        }
      }
    }
    if (kind === IpiKind.real) { this.targets++; this.sends += first; }
    return carriedFlush;
  }

  result(): ObservedRecord {
    const tlbFlush: Record<string, FlushClassCounts> = {};
    for (let r = 0; r < REASONS; r++) {
      const full = this.flushes[r * 3], ranged = this.flushes[r * 3 + 1], none = this.flushes[r * 3 + 2];
      if (full + ranged + none > 0) tlbFlush[String(r)] = { full, ranged, none, pages: this.pages[r] };
    }
    const ipiByKind: Record<string, number> = {};
    this.byKind.forEach((v, k) => { if (v > 0) ipiByKind[IPI_KIND_NAMES[k]] = v; });
    return {
      tlbFlush, ipiSends: this.sends, ipiTargets: this.targets, ipiByKind,
      flushIpiSends: this.flushSends, flushIpiTargets: this.flushTargets,
      ...(this.irqs > 0 ? { irqs: this.irqs, flushIrqs: this.flushIrqs } : {}),
    };
  }
}
