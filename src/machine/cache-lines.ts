// Cache lines that bounce between CPUs: each has an owner (the CPU holding it modified,
// -1: none) and the last CPU that read it. A locked RMW or a load of a line another CPU
// holds modified costs a transfer (lineTransferNs, times crossSocketFactor across sockets);
// a plain store takes ownership without a charge (stores are buffered).
//
// Lines per CPU (CPU_LINES of them, at cpu * CPU_LINES + offset) and per mm (MM_LINES, at
// mm * MM_LINES + offset): the offsets below name them. A layer of the machine (see
// counters.ts).
import { Counters, I_ANS, I_AOPS, I_LT, NM } from './counters.ts';
import type { CostProfile } from './profiles.ts';

/** Lines per CPU. */
export const CPU_LINES = 5;
/** is_lazy on its own line (5.13+ cpu_tlbstate_shared). */
export const LINE_LAZY = 0;
/** cpu_tlbstate: loaded_mm (and is_lazy before 5.13). */
export const LINE_TLBSTATE = 1;
/** The CSD (cfd slot) an initiator fills for this CPU; the target unlocks it. */
export const LINE_CSD = 2;
/** The head of this CPU's call_single_queue (llist_add / llist_del_all). */
export const LINE_QUEUE = 3;
/** The lockless-walk slot (Lance Yang's targeted sync). */
export const LINE_WALK = 4;

/** Lines per mm. */
export const MM_LINES = 3;
export const LINE_CPUMASK = 0;
export const LINE_MM_COUNT = 1;
export const LINE_TLB_GEN = 2;

export abstract class CacheLines extends Counters {
  readonly p: CostProfile;
  /** Per-CPU lines: owner and last reader, at cpu * CPU_LINES + LINE_*. */
  protected readonly cpuLineOwner: Int32Array;
  protected readonly cpuLineReader: Int32Array;
  /** Per-mm lines, at mm * MM_LINES + LINE_* (grown with the mm table). */
  protected mmLineOwner = new Int32Array(0);
  protected mmLineReader = new Int32Array(0);
  /** Every CPU is on socket 0: a line transfer never crosses sockets. */
  private readonly oneSocket: boolean;

  constructor(nCpu: number, profile: CostProfile, firstNs: number, lastNs: number) {
    super(nCpu, firstNs, lastNs);
    this.p = profile;
    this.oneSocket = Math.floor((nCpu - 1) / profile.cpusPerSocket) === 0;
    this.cpuLineOwner = new Int32Array(nCpu * CPU_LINES).fill(-1);
    this.cpuLineReader = new Int32Array(nCpu * CPU_LINES).fill(-1);
  }

  /** Room for the lines of `cap` mms. */
  protected growMmLines(cap: number): void {
    const lo = new Int32Array(cap * MM_LINES).fill(-1); lo.set(this.mmLineOwner); this.mmLineOwner = lo;
    const lr = new Int32Array(cap * MM_LINES).fill(-1); lr.set(this.mmLineReader); this.mmLineReader = lr;
  }

  protected transferNs(from: number, to: number): number {
    const p = this.p;
    if (this.oneSocket) return p.lineTransferNs;
    const same = Math.floor(from / p.cpusPerSocket) === Math.floor(to / p.cpusPerSocket);
    return same ? p.lineTransferNs : p.lineTransferNs * p.crossSocketFactor;
  }

  /** A locked RMW by `cpu` on a line: local if it owns the line, else a transfer. */
  protected lineAtomic(owner: Int32Array, reader: Int32Array, idx: number, cpu: number): void {
    let ns = this.p.atomicLocalNs;
    const o = owner[idx];
    const from = o >= 0 ? (o !== cpu ? o : -1) : reader[idx] !== cpu ? reader[idx] : -1;
    const total = this.metrics, per = this.perCpu, at = cpu * NM;
    // None of these three is on the timeline (checked in counters.ts): plain adds.
    if (from >= 0) { ns += this.transferNs(from, cpu); total[I_LT]++; per[at + I_LT]++; }
    owner[idx] = cpu; reader[idx] = -1;
    total[I_AOPS]++; per[at + I_AOPS]++;
    total[I_ANS] += ns; per[at + I_ANS] += ns;
    this.charge(cpu, ns);
  }

  /** A plain store: takes ownership (the transfer is not charged: stores are buffered). */
  protected lineStore(owner: Int32Array, reader: Int32Array, idx: number, cpu: number): void {
    owner[idx] = cpu; reader[idx] = -1;
  }

  /** A load: a transfer if another CPU holds the line modified. */
  protected lineRead(owner: Int32Array, reader: Int32Array, idx: number, cpu: number): void {
    const o = owner[idx];
    if (o >= 0 && o !== cpu) {
      this.add(I_LT, cpu, 1);
      this.cost(I_ANS, cpu, this.transferNs(o, cpu));
      owner[idx] = -1;
    }
    reader[idx] = cpu;
  }
}
