// The CPU census: how many CPUs the recorded machine had. `#P:` is the number of *online*
// CPUs (num_online_cpus()), so with CPUs offline (nosmt, hotplug) real CPU numbers exceed
// it, while a damaged CPU column shows on a line or two; traces without a CPU count (perf)
// have only the lines to go by. Event lines are counted per CPU as they are read, the first
// few of each CPU kept, and which CPUs are real is decided at the end by how many lines
// name them.
import type { SkippedLine } from '../event.ts';

/** Highest CPU number accepted when the trace does not say how many it has. */
export const MAX_CPUS = 4096;
/** Lines that must name a CPU (beyond the header's count, or far beyond the busy CPUs of a
 *  trace without a count) for it to be taken as real. */
const MIN_LINES_OF_CPU = 16;
/** ...and at least this fraction of the lines of the busiest CPU (1/64). */
const BUSY_SHARE = 64;

/** What a range worker's census counted (parallel ingest). */
export interface RangeCensus { linesOnCpu: Int32Array; maxCpu: number; fewLines: [number, SkippedLine[]][] }

export class CpuCensus {
  /** The header's count (the largest, over concatenated traces) once cpusFromHeader. */
  cpus = 0;
  cpusFromHeader = false;
  /** Highest CPU an event line named. */
  maxCpu = -1;
  private readonly linesOnCpu = new Int32Array(MAX_CPUS);
  private readonly fewLines = new Map<number, SkippedLine[]>();

  /** A count from a header (`#P:`, `cpus=`). */
  declare(n: number): void {
    // Concatenated traces may declare different counts: the machine needs the largest.
    if (!Number.isNaN(n) && n > 0 && n <= MAX_CPUS && (!this.cpusFromHeader || n > this.cpus)) { this.cpus = n; this.cpusFromHeader = true; }
  }

  /** Count an event line on `cpu` (< MAX_CPUS). True when the line is among the first few
   *  of its CPU: the caller then keeps it with `keep`, to report if the CPU proves damage. */
  countLine(cpu: number): boolean {
    if (cpu > this.maxCpu) this.maxCpu = cpu;
    return ++this.linesOnCpu[cpu] < MIN_LINES_OF_CPU;
  }

  keep(cpu: number, line: SkippedLine): void {
    let kept = this.fewLines.get(cpu);
    if (kept === undefined) { kept = []; this.fewLines.set(cpu, kept); }
    kept.push(line);
  }

  rangeResult(): RangeCensus {
    return { linesOnCpu: this.linesOnCpu.slice(0, this.maxCpu + 1), maxCpu: this.maxCpu, fewLines: [...this.fewLines] };
  }

  /** Add a later range's counts (its lines numbered from `offset` + 1): of the lines it
   *  kept, those that are still among the first few of their CPU. */
  absorb(r: RangeCensus, offset: number): void {
    for (const [cpu, lines] of r.fewLines) {
      const room = MIN_LINES_OF_CPU - 1 - this.linesOnCpu[cpu];
      for (let i = 0; i < room && i < lines.length; i++) this.keep(cpu, { ...lines[i], line: lines[i].line + offset });
    }
    for (let c = 0; c < r.linesOnCpu.length; c++) this.linesOnCpu[c] += r.linesOnCpu[c];
    if (r.maxCpu > this.maxCpu) this.maxCpu = r.maxCpu;
  }

  /** Whether any event line named `cpu` yet. */
  seen(cpu: number): boolean {
    return cpu < MAX_CPUS && this.linesOnCpu[cpu] > 0;
  }

  /** Settle the count. With a header: CPUs beyond it named on MIN_LINES_OF_CPU lines or
   *  more are real (the machine grows, a note says so), the others' lines are damage.
   *  Without: a CPU named on few lines and numbered beyond twice the busiest CPUs (and at
   *  least 8) is damage; `maxTarget`, the highest CPU an IPI went to, counts unless it is.
   *  Damaged lines are added to `skipped` with their reason (canonical.ts drops events of
   *  CPUs >= cpus); returns how many lines that is. */
  settle(maxTarget: number, skipped: SkippedLine[], warnings: string[]): number {
    const linesOnCpu = this.linesOnCpu;
    let maxBusy = -1, maxLine = -1, most = 0;
    for (let c = 0; c <= this.maxCpu && c < MAX_CPUS; c++) most = Math.max(most, linesOnCpu[c]);
    // Busy: named on enough lines, absolutely and next to the busiest CPU (damage that
    // repeats one wrong number over a long trace still stays far below the real CPUs).
    const busyLines = Math.max(MIN_LINES_OF_CPU, most / BUSY_SHARE);
    for (let c = 0; c <= this.maxCpu && c < MAX_CPUS; c++) {
      if (linesOnCpu[c] >= busyLines) maxBusy = c;
      if (linesOnCpu[c] > 0) maxLine = c;
    }
    const declared = this.cpus;
    let limit: number;
    if (this.cpusFromHeader) {
      if (maxBusy >= declared) {
        this.cpus = maxBusy + 1;
        const extra = [];
        for (let c = declared; c <= maxBusy; c++) if (linesOnCpu[c] >= busyLines) extra.push(c);
        warnings.push(`the header declares ${declared} CPUs (#P counts the online ones) but lines name CPU ${extra.join(', ')}: simulating ${this.cpus} CPUs`);
      }
      limit = this.cpus;
    } else {
      limit = maxBusy < 0 ? Infinity : Math.max(8, 2 * (maxBusy + 1));
      let keep = -1;
      for (let c = 0; c <= maxLine; c++) if (linesOnCpu[c] > 0 && c < limit) keep = c;
      if (maxTarget < limit && maxTarget > keep) keep = maxTarget;
      this.maxCpu = keep;
    }
    let damaged = 0;
    for (const [cpu, kept] of this.fewLines) {
      if (cpu < limit || linesOnCpu[cpu] >= busyLines) continue;
      const n = linesOnCpu[cpu];
      damaged += n;
      for (const k of kept) {
        k.reason = this.cpusFromHeader
          ? `CPU ${cpu} is beyond the ${declared} CPUs the header declares (and only ${n} line${n === 1 ? ' names' : 's name'} it)`
          : `CPU ${cpu} is named on only ${n} line${n === 1 ? '' : 's'}, far beyond the CPUs the trace is busy on (up to CPU ${maxBusy}): a damaged CPU number`;
        skipped.push(k);
      }
    }
    return damaged;
  }

  /** The settled count. */
  get count(): number {
    return Math.max(this.cpusFromHeader ? this.cpus : this.maxCpu + 1, 1);
  }
}
