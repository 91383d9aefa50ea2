// Every metric the machine counts, declared once. Tables, CSV columns, the CLI summary
// and the report read this list; the machine indexes its Float64Arrays with MI.<name>.
// Names are a contract (README's command and metric tables): add freely, never rename.

export type MetricUnit = 'count' | 'ns' | 'pages';

export interface MetricDecl {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly meaning: string;
  /** Shown in the CLI summary table. */
  readonly key?: boolean;
  /** Also kept as a time series (timeline buckets). */
  readonly timeline?: boolean;
}

export const METRICS = [
  { name: 'context_switches', unit: 'count', key: true, meaning: 'scheduler context switches replayed (sched_switch events)' },
  { name: 'mm_switches', unit: 'count', meaning: 'switch_mm_irqs_off calls that changed the loaded address space (including to and from init_mm)' },
  { name: 'cr3_writes', unit: 'count', key: true, meaning: 'CR3 writes that load an address space (switch_mm, leave_mm); flush_tlb_local is counted in full_flushes' },
  { name: 'cr3_flushes', unit: 'count', key: true, timeline: true, meaning: 'CR3 writes without the NOFLUSH bit: the PCID (or, without PCID, the whole non-global TLB) is flushed' },
  { name: 'full_flushes', unit: 'count', key: true, timeline: true, meaning: 'local full flushes of the current PCID (flush_tlb_local: CR3 rewritten with its own value)' },
  { name: 'page_flushes', unit: 'count', key: true, meaning: 'single-page invalidations (INVLPG; one per stride-sized page)' },
  { name: 'flush_requests', unit: 'count', key: true, meaning: 'TLB flush requests replayed (flush_tlb_mm_range / arch_tlbbatch_flush calls), including teardown flushes the replay had to supply' },
  { name: 'synthesized_requests', unit: 'count', meaning: 'teardown flushes supplied by the replay because the recorded kernel printed no request for them (local-only exit_mmap flushes of a lazy CPU print only reason 0)' },
  { name: 'shootdown_rounds', unit: 'count', meaning: 'flush requests that cross-called at least one other CPU' },
  { name: 'ipis_sent', unit: 'count', key: true, timeline: true, meaning: 'real IPIs sent (a cross-call to a CPU whose call_single_queue was empty); all purposes' },
  { name: 'ipis_received', unit: 'count', meaning: 'cross-call handlers run on target CPUs (one per queued call, IPI or not)' },
  { name: 'csd_queued', unit: 'count', meaning: 'cross-calls queued (csd:csd_queue_cpu); ipis_sent <= csd_queued' },
  { name: 'ipis_to_lazy', unit: 'count', key: true, meaning: 'flush cross-calls to CPUs in lazy TLB mode (a kernel thread or idle borrowing the mm)' },
  { name: 'ipis_to_stale', unit: 'count', meaning: 'flush cross-calls to CPUs whose loaded mm is not the flushed mm (a stale mm_cpumask bit)' },
  { name: 'ipis_to_idle', unit: 'count', meaning: 'cross-calls that had to wake an idle CPU (target running the idle task)' },
  { name: 'pt_sync_ipis', unit: 'count', meaning: 'cross-calls made by tlb_remove_table_sync_one / _mm (page-table free sync for lockless walkers)' },
  { name: 'ipis_to_nonwalkers', unit: 'count', meaning: 'page-table sync cross-calls to CPUs that were not inside a lockless walk of that mm' },
  { name: 'mmdrop_ipis', unit: 'count', meaning: 'cross-calls made at __mmdrop to shoot down lazy users (MMU_LAZY_TLB_SHOOTDOWN)' },
  { name: 'broadcast_flushes', unit: 'count', meaning: 'INVLPGB instructions issued (broadcast invalidations)' },
  { name: 'tlbsyncs', unit: 'count', meaning: 'TLBSYNC instructions (wait for this CPU\'s broadcasts to complete)' },
  { name: 'global_asids', unit: 'count', meaning: 'global ASIDs assigned (INVLPGB)' },
  { name: 'tlb_misses', unit: 'count', key: true, meaning: 'page walks: accesses to pages whose translation was not cached (count model, see machine.ts)' },
  { name: 'refill_ns', unit: 'ns', meaning: 'time spent in page walks (tlb_misses x tlbMissNs)' },
  { name: 'atomic_ops', unit: 'count', key: true, meaning: 'locked read-modify-writes on shared lines (mm_cpumask, mm_count, tlb_gen, CSD queue)' },
  { name: 'cpumask_atomics', unit: 'count', meaning: 'atomic set/clear of a bit in an mm_cpumask' },
  { name: 'mm_count_atomics', unit: 'count', meaning: 'atomics on mm_count (mmgrab/mmdrop, lazy TLB refcounting)' },
  { name: 'line_transfers', unit: 'count', meaning: 'cache-line transfers from another CPU (HITM) charged to atomics, stores and remote reads' },
  { name: 'initiator_wait_ns', unit: 'ns', key: true, meaning: 'time an initiator spent waiting for remote flushes (IPI acknowledgement or TLBSYNC) beyond its own local work' },
  { name: 'ipi_handler_ns', unit: 'ns', meaning: 'time target CPUs spent in cross-call handlers (interrupt entry/exit plus the handler body)' },
  { name: 'overhead_ns', unit: 'ns', key: true, timeline: true, meaning: 'all time the machine charged: CR3 writes, flushes, refills, atomics, line transfers, IPI send/handle/wait' },
  // Overhead by cause: these five plus refill_ns and initiator_wait_ns add up to overhead_ns
  // (every charge has exactly one cause; see OVERHEAD_CAUSES).
  { name: 'cr3_ns', unit: 'ns', meaning: 'overhead of CR3 writes (address-space switches and leave_mm), including the extra cost of the ones that flush' },
  { name: 'invalidate_ns', unit: 'ns', meaning: 'overhead of explicit invalidations: flush_tlb_local, INVLPG, INVLPGB issue' },
  { name: 'ipi_ns', unit: 'ns', meaning: 'overhead of cross-calls themselves: IPI send on the initiator, interrupt entry/exit or queued-call dispatch on targets (the flush work a handler does is counted under its own cause)' },
  { name: 'atomic_ns', unit: 'ns', meaning: 'overhead of locked RMWs and cache-line transfers (mm_cpumask, mm_count, tlb_gen, CSD queue)' },
  { name: 'ptwalk_track_ns', unit: 'ns', meaning: 'overhead of lockless-walk bookkeeping (targeted page-table sync)' },
  { name: 'coherence_violations', unit: 'count', key: true, meaning: 'coherence checker findings: user code ran with a translation older than the last completed flush, a lazy CPU kept freed page tables loaded, or a freed pgd stayed in CR3' },
  { name: 'iteration_ns', unit: 'ns', key: true, meaning: 'mean simulated time per iteration on the measured thread: trace time between iteration marks plus the overhead on its critical path: charged to that thread, or to a task that ran before it on the same CPU and so delayed it (synthetic workloads; 0 when the trace has no marks)' },
  { name: 'lazy_entries', unit: 'count', meaning: 'switches into lazy TLB mode (user task to kernel thread or idle, and exit_mm)' },
  { name: 'teardowns', unit: 'count', meaning: 'address spaces torn down (exit_mmap)' },
  { name: 'mm_frees', unit: 'count', meaning: 'address spaces freed (__mmdrop: mm_count reached zero)' },
  { name: 'resyncs', unit: 'count', meaning: 'events whose task was not the one the machine believed current on that CPU (lost or missing sched_switch); the machine switched to it' },
] as const satisfies readonly MetricDecl[];

export type MetricName = (typeof METRICS)[number]['name'];
export const METRIC_COUNT = METRICS.length;
export const METRIC_NAMES: readonly MetricName[] = METRICS.map((m) => m.name);

/** Metric indexes: MI.cr3_writes etc. Its first key is a symbol of its own (Object.keys
 *  and JSON leave it out), so that its hidden class is not the one a plain {} takes when
 *  the metric names are added to it in this order: every record keyed by metric
 *  (metricRecord() and the results') does that with double values, which deprecated the
 *  shared class, and each optimised load of MI.x then failed its map check ("wrong map"
 *  deoptimisations, thousands per 256-CPU replay). */
const METRIC_INDEXES_TAG = Symbol('metric indexes');
export const MI = Object.freeze(
  Object.fromEntries([[METRIC_INDEXES_TAG, true], ...METRICS.map((m, i) => [m.name, i])]),
) as { readonly [K in MetricName]: number };

export function metricDecl(name: string): MetricDecl | undefined {
  return METRICS.find((m) => m.name === name);
}

/** Metrics kept as time series, in this order (result.timeline.metrics keys). */
export const TIMELINE_METRICS: readonly MetricName[] = METRICS.filter((m) => 'timeline' in m && m.timeline).map((m) => m.name);
/** Number of fixed timeline buckets across [info.firstNs, info.lastNs]. */
export const TIMELINE_BUCKETS = 200;
/** Flush latency histogram: bucket i counts requests with latency in [2^(i-1), 2^i) ns
 *  (bucket 0: below 1 ns). */
export const LATENCY_BUCKETS = 40;

/** Metrics printed by default in the CLI summary, in declaration order. */
export const KEY_METRICS: readonly MetricName[] = METRICS.filter((m) => 'key' in m && m.key).map((m) => m.name);

/** Kinds of coherence violation (result.violations.first[].kind). */
export const VIOLATION_KINDS = [
  /** A CPU ran user code of mm M with an older translation than M's last completed flush. */
  'stale-tlb',
  /** A CPU ran user code of mm M while CR3 held another address space. */
  'wrong-mm-loaded',
  /** A PCID was loaded without flushing while its entries belonged to another mm. */
  'pcid-alias',
  /** A flush that freed page tables completed while a CPU that was not running M's user
   *  code still had M's page tables in CR3 and had not flushed (speculative walks of freed
   *  page-table pages). */
  'freed-tables-walk',
  /** An mm was freed while some CPU still had its pgd in CR3. */
  'freed-pgd-loaded',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];
export const VK = {
  staleTlb: 0, wrongMm: 1, pcidAlias: 2, freedTablesWalk: 3, freedPgd: 4,
} as const;
export const VIOLATION_TEXT: readonly string[] = [
  'user code ran with a TLB entry older than the last completed flush of its mm',
  'user code ran while CR3 held a different address space',
  'a PCID was reused without a flush while it held another mm\'s entries',
  'page tables were freed while a lazy CPU still had them loaded and was not flushed',
  'an mm was freed while a CPU still had its pgd in CR3',
];
/** How many violations are kept with their event index (the rest are only counted). */
export const MAX_VIOLATIONS_KEPT = 20;

/** The causes overhead_ns is made of, with a label for charts; they sum to overhead_ns. */
export const OVERHEAD_CAUSES: readonly { metric: MetricName; label: string }[] = [
  { metric: 'cr3_ns', label: 'CR3 writes (switches)' },
  { metric: 'invalidate_ns', label: 'invalidations' },
  { metric: 'refill_ns', label: 'TLB refills' },
  { metric: 'ipi_ns', label: 'IPIs' },
  { metric: 'initiator_wait_ns', label: 'waiting for remote flushes' },
  { metric: 'atomic_ns', label: 'atomics and line transfers' },
  { metric: 'ptwalk_track_ns', label: 'walk tracking' },
];
