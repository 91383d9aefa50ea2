// The canonical event stream: every input format (ftrace text, trace-cmd report, perf
// script, tlbsim CSV, synthetic workloads) becomes batches of these events. This file is
// the one thing every room of tlbsim may import (see README "How it works").
//
// Events are stored column-wise in typed arrays (an EventBatch) rather than as objects:
// the replay loop reads millions of them per second per strategy, and typed arrays can be
// shared with worker threads without copying or re-parsing.

/** Event kinds. The numeric code is what a batch stores; the key is the public name
 *  (used by `inspect --json`, the CSV `kind` column and the docs). */
export const EventKind = {
  /** Scheduler context switch on `cpu`. tid/mm = previous task; a = next tid, b = next mm,
   *  c = PrevState of the previous task. */
  switch: 0,
  /** A task created another. tid/mm = parent; a = child tid, b = child mm,
   *  c = 1 if the child is a thread sharing the parent's mm, 0 if it is a new process. */
  fork: 1,
  /** exec: tid's address space is replaced. mm = the new mm, a = the old mm. */
  exec: 2,
  /** Task exit. a = 1 if the whole thread group died (the mm loses its last user). */
  exit: 3,
  /** Task migration. tid/mm = the migrated task; a = origin cpu, b = destination cpu. */
  migrate: 4,
  /** mmap syscall. a = address (0 when the kernel chooses), b = length in bytes, c = prot. */
  mmap: 5,
  /** munmap syscall. a = address, b = length in bytes. */
  munmap: 6,
  /** madvise syscall. a = address, b = length in bytes, c = behavior (4 = MADV_DONTNEED). */
  madvise: 7,
  /** mprotect syscall. a = address, b = length in bytes, c = prot. */
  mprotect: 8,
  /** A request to invalidate translations of `mm` (mm = NO_MM: a reclaim batch flush that
   *  concerns every mm, the kernel's info->mm == NULL). a = start address (-1 unknown),
   *  b = pages (FLUSH_ALL = -1 for everything), c = FlushFlags bits. */
  flush_request: 9,
  /** Synthetic traces: the task touched `b` distinct pages starting at address `a`. */
  access: 10,
  /** What the recorded kernel did: a tlb:tlb_flush record. a = reason number, b = pages
   *  as printed (-1 full, 0 no flush). Never fed to a strategy: ground truth only. */
  observed_flush: 11,
  /** What the recorded kernel did: an IPI or cross-call. One event per target CPU.
   *  cpu = sender, a = target cpu, b = 1 on the first target of one send (so summing b
   *  counts sends), c = IpiKind. Ground truth only. */
  observed_ipi: 12,
  /** exit_mmap tracepoint: the address space is being torn down. */
  exit_mmap: 13,
  /** A lockless page-table walk (GUP-fast) begins (a = 1) or ends (a = 0) on cpu. */
  ptwalk: 14,
  /** A page-table-free synchronisation for lockless walkers (tlb_remove_table_sync_one)
   *  requested for mm. c = FlushFlags (FREED_TABLES / UNSHARED_TABLES). */
  pt_sync: 15,
  /** The trace lost events on `cpu` here (ring buffer overrun). a = count (-1 unknown). */
  lost: 16,
  /** Synthetic traces: the measured thread `tid` finished iteration `a` of its workload
   *  (replay derives iteration_ns from these marks). */
  iteration: 17,
} as const;

export type EventKindName = keyof typeof EventKind;
export type EventKindCode = (typeof EventKind)[EventKindName];

/** Names indexed by code, for printing. */
export const EVENT_KIND_NAMES: readonly EventKindName[] = (() => {
  const names: EventKindName[] = [];
  for (const [name, code] of Object.entries(EventKind)) names[code] = name as EventKindName;
  return names;
})();

/** mm id meaning "no address space": kernel threads, idle, and batch flushes of all mms. */
export const NO_MM = 0;
/** pages value meaning "flush everything" (the kernel's TLB_FLUSH_ALL printed as -1). */
export const FLUSH_ALL = -1;

/** State of the task that is switched out (from sched_switch prev_state). */
export const PrevState = {
  /** Still runnable: preempted or yielded (R, R+). */
  runnable: 0,
  /** Blocked: S, I, T, t, P ... */
  blocked: 1,
  /** Dead or zombie (X, Z): the task will not run again. */
  dead: 2,
  /** Blocked uninterruptibly (D): also how a vfork() parent waits for its child's exec. */
  uninterruptible: 3,
} as const;

/** Where a flush request came from, stored in bits 8..15 of an event's `c`. */
export const FlushOrigin = {
  /** tlb_flush reason 3 on the initiator (local MM shootdown) without a reason 4. */
  tracedLocal: 1,
  /** tlb_flush reason 4 (remote IPI send), possibly followed by the initiator's reason 3. */
  tracedRemote: 2,
  /** tlb_flush reason 2 (local shootdown, mm == NULL: reclaim batch). */
  tracedBatch: 3,
  /** Derived from munmap (trace without tlb_flush records). */
  derivedMunmap: 4,
  /** Derived from madvise DONTNEED / FREE / REMOVE. */
  derivedMadvise: 5,
  /** Derived from mprotect. */
  derivedMprotect: 6,
  /** Derived from the teardown of an address space (exit_mmap, last thread exit). */
  derivedExit: 7,
  /** Written by a synthetic workload generator. */
  synthetic: 8,
} as const;
export type FlushOriginName = keyof typeof FlushOrigin;
export const FLUSH_ORIGIN_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, code] of Object.entries(FlushOrigin)) names[code] = name;
  return names;
})();

/** Bits of `c` on flush_request and pt_sync events. */
export const FlushFlags = {
  /** Page-table pages are freed by this change (the kernel's info->freed_tables):
   *  lazy CPUs must be reached too. */
  FREED_TABLES: 1,
  /** Page tables are unshared (hugetlb PMD unshare): Lance Yang's v7 treats it as freed. */
  UNSHARED_TABLES: 2,
  /** The range is of huge pages (stride 2 MiB instead of 4 KiB). */
  HUGE_STRIDE: 4,
  ORIGIN_SHIFT: 8,
  ORIGIN_MASK: 0xff00,
} as const;

export function flushFlags(origin: number, freedTables: boolean, extra = 0): number {
  return (origin << FlushFlags.ORIGIN_SHIFT) | (freedTables ? FlushFlags.FREED_TABLES : 0) | extra;
}
export function flushOrigin(c: number): number {
  return (c & FlushFlags.ORIGIN_MASK) >> FlushFlags.ORIGIN_SHIFT;
}

/** What an observed_ipi event records (its `c`). */
export const IpiKind = {
  /** A real IPI (6.5+: callback=generic_smp_call_function_single_interrupt). */
  real: 0,
  /** 6.4-style ipi_send_* whose callback is flush_tlb_func: one cross-call of a TLB flush. */
  flushCall: 1,
  /** csd:csd_queue_cpu with func=flush_tlb_func: a flush queued for the target. */
  flushQueued: 2,
  /** Any other cross-call callback (6.4 semantics) or csd function. */
  otherCall: 3,
  /** irq_vectors:call_function_entry / call_function_single_entry: the CPU took a
   *  cross-call interrupt (the receiving side; kernels before 6.5 trace nothing else). */
  received: 4,
} as const;
/** IpiKind names, by value (TraceInfo.observedIpis.byKind, RunResult.observed.ipiByKind). */
export const IPI_KIND_NAMES: readonly string[] = Object.keys(IpiKind);

/** tlb:tlb_flush reasons (include/trace/events/tlb.h). */
export const TlbFlushReason = {
  taskSwitch: 0,
  remoteShootdown: 1,
  localShootdown: 2,
  localMmShootdown: 3,
  remoteSendIpi: 4,
  remoteWrongCpu: 5,
} as const;
/** TlbFlushReason names as the 6.18 kernel prints them in `reason:NAME (N)` (traces/real),
 *  by value: the one wording every output uses. Older kernels print "local mm shootdown" and
 *  "remote ipi send"; reason 5 (TLB_REMOTE_WRONG_CPU) came with 2815a56e4b72. */
export const TLB_FLUSH_REASON_NAMES: readonly string[] = [
  'flush on task switch', 'remote shootdown', 'local shootdown', 'local MM shootdown', 'remote IPI send', 'remote wrong CPU',
];

/** One event as a plain object: for tests, scripts and small generators. The replay
 *  loop never builds these; it reads EventBatch columns. */
export interface TraceEvent {
  kind: EventKindCode;
  /** Nanoseconds since an arbitrary origin (the trace clock). */
  time: number;
  cpu: number;
  tid: number;
  mm: number;
  a: number;
  b: number;
  c: number;
}

/** A column-wise batch of events. `length` events are valid; the arrays may be longer. */
export interface EventBatch {
  length: number;
  kind: Uint8Array;
  cpu: Uint16Array;
  time: Float64Array;
  tid: Int32Array;
  mm: Int32Array;
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
}

/** Bytes one event takes in a batch (1 + 2 + 8 + 4 + 4 + 3 * 8). */
export const BYTES_PER_EVENT = 43;
export const DEFAULT_BATCH_SIZE = 1 << 16;

/** Allocate a batch, on a SharedArrayBuffer when it is to be shared with workers. */
export function createBatch(capacity = DEFAULT_BATCH_SIZE, shared = false): EventBatch {
  const bytes = capacity * BYTES_PER_EVENT + 16;
  return viewsOver(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), capacity, 0);
}

/** The buffer under a batch (all columns are views of it). */
export function batchBuffer(batch: EventBatch): ArrayBufferLike {
  return batch.time.buffer;
}

/** Rebuild a batch's views over a buffer made by createBatch (e.g. in a worker). */
export function batchFromBuffer(buf: ArrayBufferLike, length: number): EventBatch {
  return viewsOver(buf, Math.floor((buf.byteLength - 16) / BYTES_PER_EVENT), length);
}

function viewsOver(buf: ArrayBufferLike, capacity: number, length: number): EventBatch {
  // Float64 columns first so every view is aligned.
  let off = 0;
  const f64 = () => { const v = new Float64Array(buf, off, capacity); off += capacity * 8; return v; };
  const time = f64(), a = f64(), b = f64(), c = f64();
  const tid = new Int32Array(buf, off, capacity); off += capacity * 4;
  const mm = new Int32Array(buf, off, capacity); off += capacity * 4;
  const cpu = new Uint16Array(buf, off, capacity); off += capacity * 2;
  const kind = new Uint8Array(buf, off, capacity);
  return { length, kind, cpu, time, tid, mm, a, b, c };
}

export function pushEvent(batch: EventBatch, kind: number, time: number, cpu: number, tid: number,
  mm: number, a: number, b: number, c: number): void {
  const i = batch.length++;
  batch.kind[i] = kind; batch.time[i] = time; batch.cpu[i] = cpu; batch.tid[i] = tid;
  batch.mm[i] = mm; batch.a[i] = a; batch.b[i] = b; batch.c[i] = c;
}

/** Copy events [from, from + n) of `src` to the start of `dst`, whose columns hold at least
 *  n events, and set dst.length to n. */
export function copyEvents(src: EventBatch, from: number, n: number, dst: EventBatch): void {
  const to = from + n;
  dst.kind.set(src.kind.subarray(from, to)); dst.cpu.set(src.cpu.subarray(from, to));
  dst.time.set(src.time.subarray(from, to)); dst.tid.set(src.tid.subarray(from, to));
  dst.mm.set(src.mm.subarray(from, to));
  dst.a.set(src.a.subarray(from, to)); dst.b.set(src.b.subarray(from, to)); dst.c.set(src.c.subarray(from, to));
  dst.length = n;
}

/** A batch of its own holding the events of `src` (readers reuse the batches they yield). */
export function copyBatch(src: EventBatch): EventBatch {
  const copy = createBatch(Math.max(1, src.length));
  copyEvents(src, 0, src.length, copy);
  return copy;
}

export function eventAt(batch: EventBatch, i: number): TraceEvent {
  return {
    kind: batch.kind[i] as EventKindCode, time: batch.time[i], cpu: batch.cpu[i],
    tid: batch.tid[i], mm: batch.mm[i], a: batch.a[i], b: batch.b[i], c: batch.c[i],
  };
}

/** Events as batches: small traces and tests. */
export function batchesFromEvents(events: Iterable<TraceEvent>, batchSize = DEFAULT_BATCH_SIZE): EventBatch[] {
  const out: EventBatch[] = [];
  let cur = createBatch(batchSize);
  for (const e of events) {
    if (cur.length === batchSize) { out.push(cur); cur = createBatch(batchSize); }
    pushEvent(cur, e.kind, e.time, e.cpu, e.tid, e.mm, e.a, e.b, e.c);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function* eventsOf(batches: Iterable<EventBatch>): Generator<TraceEvent> {
  for (const b of batches) for (let i = 0; i < b.length; i++) yield eventAt(b, i);
}

/** A task as the trace knows it. */
export interface TaskInfo {
  tid: number;
  /** Last comm seen (task names are untrusted text: escape before display). */
  comm: string;
  /** Thread group id when known, else -1. */
  tgid: number;
  /** Final mm id (NO_MM for kernel threads and idle). After exec, the last mm. */
  mm: number;
  /** How the task's address space was determined. */
  route: TaskRoute;
}

/** How a task's address space was found: from the tgid column; from fork history (a
 *  thread / a process, proven by its exit; or assumed a process for lack of evidence);
 *  from exec; idle (pid 0); a kernel thread by parentage or by name; an unknown task
 *  guessed to have an mm of its own; or written by a generator. */
export const TASK_ROUTES = ['tgid', 'fork-thread', 'fork-process', 'fork-guess', 'exec', 'idle',
  'kernel-thread-parent', 'kernel-thread-name', 'guess-own-mm', 'synthetic'] as const;
export type TaskRoute = (typeof TASK_ROUTES)[number];

/** An address space. */
export interface MmInfo {
  id: number;
  /** tid of the first task seen using it (the thread group leader when known). */
  leader: number;
  comm: string;
}

/** Everything known about a trace besides its events. */
export interface TraceInfo {
  /** Path or workload spec. */
  source: string;
  format: TraceFormat;
  cpus: number;
  firstNs: number;
  lastNs: number;
  events: number;
  countsByKind: Record<string, number>;
  tasks: TaskInfo[];
  /** Set when `tasks` lists only the first tasks seen (MAX_TASKS_LISTED, tasks.ts): how
   *  many the trace has, and how many of them took each route to their mm. */
  taskCount?: number;
  taskRoutes?: Record<string, number>;
  mms: MmInfo[];
  /** The most of `mms` alive at once (state-census.ts), when known: the replay's per-mm state is
   *  sized by it (estimateStateBytes). */
  peakMms?: number;
  /** The highest tid the events name (state-census.ts), when known: the replay's per-task
   *  arrays are indexed by tid. */
  maxTid?: number;
  /** true when flush requests come from tlb_flush records (derived ones were dropped). */
  tracedFlushRequests: boolean;
  flushRequestsByOrigin: Record<string, number>;
  observedFlushByReason: Record<string, number>;
  /** Observed tlb_flush by reason and pages class: key `${reason}`, value counts. */
  observedFlushPages: Record<string, { full: number; ranged: number; none: number; pages: number }>;
  observedIpis: { sends: number; targets: number; byKind: Record<string, number> };
  skippedLines: number;
  skipped: SkippedLine[];
  lostEvents: number;
  lostMarkers: number;
  /** Lines that were not events and not errors: headers, comments, blank lines. */
  ignoredLines: number;
  /** Well-formed events of kinds tlbsim does not use, by event name. */
  unusedEvents: Record<string, number>;
  /** Fields the format did not carry (perf script -F without cpu, ...). */
  warnings: string[];
  /** What the recording says of the machine it ran on (`# tlbsim-vm:` header lines that
   *  `tlbsim record --vm` writes); absent when the trace does not say. */
  machine?: RecordedMachine;
}

/** The recorded machine, as a trace header states it. */
export interface RecordedMachine {
  /** `uname -r` of the recorded kernel. */
  kernel?: string;
  cpus?: number;
  /** CPU flags from /proc/cpuinfo: X86_FEATURE_PCID, INVPCID, INVLPGB. */
  pcid?: boolean;
  invpcid?: boolean;
  invlpgb?: boolean;
  /** How the guest ran: tcg or kvm. */
  accel?: string;
  /** Cores of the host that ran the guest (its vCPUs share them). */
  hostCpus?: number;
}


export type TraceFormat = 'ftrace' | 'trace-cmd' | 'perf' | 'csv' | 'workload';
export const TRACE_FORMATS: readonly TraceFormat[] = ['ftrace', 'trace-cmd', 'perf', 'csv'];

export interface SkippedLine {
  file: string;
  line: number;
  reason: string;
  /** The beginning of the offending line, for the report (untrusted). */
  text: string;
}

/** A trace ready to replay: what is known about it, and its events in time order. */
export interface EventSource {
  info: TraceInfo;
  /** Iterate the events in time order; may be called more than once. A yielded batch is
   *  only valid until the next one is requested (readers may reuse its buffer). */
  batches(): AsyncIterable<EventBatch>;
}

/** Wrap in-memory batches (tests, small generated traces) as an EventSource. */
export function memorySource(info: TraceInfo, batches: EventBatch[]): EventSource {
  return {
    info,
    async *batches() { yield* batches; },
  };
}

/** A TraceInfo with nothing in it, to be filled by a reader or generator. */
export function emptyTraceInfo(source: string, format: TraceFormat, cpus: number): TraceInfo {
  return {
    source, format, cpus, firstNs: 0, lastNs: 0, events: 0, countsByKind: {}, tasks: [], mms: [],
    tracedFlushRequests: false, flushRequestsByOrigin: {}, observedFlushByReason: {},
    observedFlushPages: {}, observedIpis: { sends: 0, targets: 0, byKind: {} },
    skippedLines: 0, skipped: [], lostEvents: 0, lostMarkers: 0, ignoredLines: 0,
    unusedEvents: {}, warnings: [],
  };
}
