// What one replay of one input under one strategy yields. Plain structured-cloneable data
// (it comes back from worker threads) and JSON-serialisable.
import type { StrategyMeta } from './strategy.ts';

export interface FlushClassCounts { full: number; ranged: number; none: number; pages: number }

export interface ViolationRecord {
  /** Index of the event (0-based, in stream order) at which the checker fired. */
  eventIndex: number;
  kind: string;
  cpu: number;
  mm: number;
  what: string;
}

/** Tasks whose charged overhead a result lists one by one (those with the most); the
 *  others are summed in RunResult.taskOverheadOthers. */
export const TASK_OVERHEADS_KEPT = 4096;

export interface RunResult {
  strategy: StrategyMeta;
  profile: string;
  input: string;
  cpus: number;
  events: number;
  metrics: Record<string, number>;
  /** Per metric, one value per CPU. */
  perCpu: Record<string, number[]>;
  /** Flush latency on the initiator (local work + wait): counts[i] requests took
   *  [lowerNs[i], lowerNs[i+1]) ns. */
  latencyHistogram: { lowerNs: number[]; counts: number[] };
  /** Real IPIs by sender and target CPU, non-zero cells only (sparse: machines may have
   *  hundreds of CPUs). Optional for results built by hand. */
  ipiMatrix?: { from: number; to: number; count: number }[];
  timeline: { startNs: number; bucketNs: number; metrics: Record<string, number[]> };
  /** overhead_ns charged to each task (tid 0: idle), non-zero only, for the TASK_OVERHEADS_KEPT
   *  tasks with the most (by tid; the rest in taskOverheadOthers). Overhead on a CPU
   *  before its first event names no task and is not here. Optional for results built by hand. */
  taskOverhead?: { tid: number; ns: number }[];
  /** The tasks with overhead beyond the TASK_OVERHEADS_KEPT with the most, which
   *  taskOverhead leaves out, and their overhead summed. Absent when none was left out. */
  taskOverheadOthers?: { tasks: number; ns: number };
  violations: { count: number; first: ViolationRecord[] };
  /** tlb:tlb_flush the modelled kernel would have printed, by reason number. */
  predicted: {
    tlbFlush: Record<string, FlushClassCounts>; ipiSends: number; ipiTargets: number; csdQueued: number;
    /** Cross-call interrupts whose handlers printed a tlb_flush record. */
    flushIrqs?: number;
  };
  /** What the recorded kernel printed (observed_* events; never fed to the strategy). */
  observed: ObservedRecord;
  /** Modelling notes for this run (assumptions that applied). */
  notes: string[];
}

/** What the recorded kernel printed, counted by ObservedCounts (observed.ts). */
export interface ObservedRecord {
  tlbFlush: Record<string, FlushClassCounts>; ipiSends: number; ipiTargets: number; ipiByKind: Record<string, number>;
  /** Real IPIs that carried a TLB flush (the send inside a sender's flush call, to the
   *  targets queued in it when csd_queue_cpu was recorded: observed.ts). */
  flushIpiSends?: number; flushIpiTargets?: number;
  /** irq_vectors:call_function*_entry (kernels without ipi:* events, e.g. 6.1), and those
   *  followed on their CPU by the handler's tlb_flush record (1, 5, or 0 for a lazy CPU). */
  irqs?: number; flushIrqs?: number;
}
