// Writes an EventSource as raw tracefs text (docs/design/trace-formats.md §1, the record-tgid layout),
// so generated workloads can be fed to anything that reads real traces, and `tlbsim
// generate -o x.txt` has a writer before the ingestion room's writers exist.
//
// Streaming: two passes over the source (the first only counts event lines for the
// `entries-in-buffer` header), output handed to the sink in chunks; nothing is kept.
//
// Mapping (kept deliberately simple):
// - switch → sched_switch (prio 120 for every task; idle is `swapper/N`, tid 0; prev_state
//   R for runnable, S for blocked, Z for dead).
// - fork/exec/exit/migrate → sched_process_fork/exec/exit and sched_migrate_task
//   (exec filename = /usr/bin/<new comm>).
// - mmap/munmap/madvise/mprotect → sys_mmap(...) etc. (mmap flags printed as 0x22).
// - exit_mmap → exit_mmap: mt_mod <pointer derived from the mm id>, DESTROY.
// - exec → sched_process_exec after the old mm's exit_mmap, as 6.18 prints it; the old
//   mm's teardown flush is not printed (see Renderer.render).
// - flush_request → the initiator's tlb_flush records: `reason:local MM shootdown (3)`,
//   preceded by `reason:remote IPI send (4)` when another CPU's current task uses the same
//   mm (from the switches seen so far; lazy CPUs are not considered). pages is printed as
//   the kernel does: -1 for full flushes and for ranges above the 33-page ceiling.
// - observed_flush / observed_ipi / lost → tlb_flush, ipi_send_cpu, `CPU:N [LOST n EVENTS]`.
// - access, iteration, ptwalk, pt_sync have no ftrace form: written as comment lines
//   `# tlbsim: KIND time=NS cpu=C tid=T mm=M a=A b=B c=C` (or skipped with comments: false).
//   The file header says which.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import {
  EVENT_KIND_NAMES, EventKind, FLUSH_ALL, NO_MM, PrevState, TLB_FLUSH_REASON_NAMES, TlbFlushReason,
  type EventSource, type TaskInfo,
} from '../trace/event.ts';

export interface FtraceWriteOptions {
  /** Write events without an ftrace form as `# tlbsim:` comment lines (default true). */
  comments?: boolean;
  /** Timestamps with 9 decimals (ns) instead of the default 6 (µs). */
  nsTimestamps?: boolean;
  /** Seconds added to every timestamp (real traces start at the machine's uptime). Default 0. */
  offsetSeconds?: number;
}

export interface FtraceWriteResult {
  eventLines: number;
  commentLines: number;
}

/** tlb.c's tlb_single_page_flush_ceiling: larger ranges are flushed (and printed) as full. */
const FLUSH_CEILING = 33;
const PRIO = 120;
const CHUNK_CHARS = 1 << 16;

const HEADER_LEGEND = [
  '#                                          _-----=> irqs-off/BH-disabled',
  '#                                         / _----=> need-resched',
  '#                                        | / _---=> hardirq/softirq',
  '#                                        || / _--=> preempt-depth',
  '#                                        ||| / _-=> migrate-disable',
  '#                                        |||| /     delay',
  '#           TASK-PID       TGID    CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |           |       |   |||||     |         |',
];

const hex = (v: number): string => (v === 0 ? '0' : `0x${Math.trunc(v).toString(16)}`);
/** A small syscall argument (prot, behavior) as print_syscall_enter prints it since 2025:
 *  below 10 in decimal, then 0x-hex (the reader takes a bare token as hex, as kernels up to
 *  6.12 printed every argument). */
const arg = (v: number): string => (v >= 0 && v < 10 ? String(v) : hex(v));

/** Renders events to lines, tracking what it needs (comms, what each CPU runs). */
class Renderer {
  private readonly comm = new Map<number, string>();
  private readonly finalComm = new Map<number, string>();
  private readonly tgid = new Map<number, number>();
  private readonly cpuMm: number[] = [];
  /** A sched_process_exec line waiting for the teardown of the old mm (see render). */
  private readonly heldExec: string[] = [];
  private heldTid = -1;
  private heldOldMm = -1;
  constructor(tasks: readonly TaskInfo[], private readonly opts: Required<FtraceWriteOptions>) {
    for (const t of tasks) {
      this.finalComm.set(t.tid, t.comm);
      if (t.tgid >= 0) this.tgid.set(t.tid, t.tgid);
    }
  }

  private commOf(tid: number, cpu: number): string {
    if (tid === 0) return `swapper/${cpu}`;
    return this.comm.get(tid) ?? this.finalComm.get(tid) ?? `<...>`;
  }

  private prefix(tid: number, cpu: number, time: number, flags: string): string {
    const comm = tid === 0 ? '<idle>' : this.commOf(tid, cpu);
    const g = tid === 0 ? undefined : this.tgid.get(tid);
    const tgid = g === undefined ? '-------' : String(g);
    const ns = Math.max(0, Math.round(time + this.opts.offsetSeconds * 1e9));
    const secs = Math.floor(ns / 1e9);
    const frac = this.opts.nsTimestamps
      ? String(ns - secs * 1e9).padStart(9, '0')
      : String(Math.floor((ns - secs * 1e9) / 1000)).padStart(6, '0');
    return `${comm.padStart(16)}-${String(tid).padEnd(7)} (${tgid.padStart(7)}) [${String(cpu).padStart(3, '0')}] ${flags} ${String(secs).padStart(5)}.${frac}: `;
  }

  /** Appends the lines for one event to `out`; returns [event lines, comment lines]. */
  render(kind: number, time: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number,
    out: string[]): [number, number] {
    const line = (flags: string, payload: string) => out.push(this.prefix(tid, cpu, time, flags) + payload);
    // The kernel tears the old mm down inside exec (exec_mmap loads the new mm, then mmput
    // -> exit_mmap) before sched_process_exec fires, so a real trace prints exit_mmap first;
    // the generators emit exec first. Hold the exec line until the old mm's teardown is
    // written. The teardown's flush prints nothing in the kernel (the old mm is no longer
    // loaded on this CPU, so flush_tlb_mm_range has no local flush to trace), and a tlb_flush
    // there would read back as the new mm's (shift_arg_pages); it is left out, and the
    // replay supplies it (synthesized_requests), as for a recorded exec.
    if (this.heldExec.length > 0) {
      const teardown = tid === this.heldTid && mm === this.heldOldMm;
      if (teardown && kind === EventKind.flush_request) return [0, 0];
      if (!(teardown && kind === EventKind.exit_mmap)) this.finish(out);
    }
    switch (kind) {
      case EventKind.switch: {
        const state = c === PrevState.blocked ? 'S' : c === PrevState.uninterruptible ? 'D' : c === PrevState.dead ? 'Z' : 'R';
        line('d..2.', `sched_switch: prev_comm=${this.commOf(tid, cpu)} prev_pid=${tid} prev_prio=${PRIO} prev_state=${state}`
          + ` ==> next_comm=${this.commOf(a, cpu)} next_pid=${a} next_prio=${PRIO}`);
        this.cpuMm[cpu] = b;
        return [1, 0];
      }
      case EventKind.fork: {
        const parent = this.commOf(tid, cpu);
        this.comm.set(a, parent);
        if (!this.tgid.has(a)) this.tgid.set(a, c === 1 ? (this.tgid.get(tid) ?? tid) : a);
        line('.....', `sched_process_fork: comm=${parent} pid=${tid} child_comm=${parent} child_pid=${a}`);
        return [1, 0];
      }
      case EventKind.exec: {
        const comm = this.finalComm.get(tid) ?? this.commOf(tid, cpu);
        this.comm.set(tid, comm);
        this.cpuMm[cpu] = mm;
        line('.....', `sched_process_exec: filename=/usr/bin/${comm} pid=${tid} old_pid=${tid}`);
        this.heldExec.push(out.pop()!);
        this.heldTid = tid;
        this.heldOldMm = a;
        return [1, 0];
      }
      case EventKind.exit:
        line('.....', `sched_process_exit: comm=${this.commOf(tid, cpu)} pid=${tid} prio=${PRIO} group_dead=${a === 1}`);
        return [1, 0];
      case EventKind.migrate:
        line('d..3.', `sched_migrate_task: comm=${this.commOf(tid, cpu)} pid=${tid} prio=${PRIO} orig_cpu=${a} dest_cpu=${b}`);
        return [1, 0];
      case EventKind.mmap:
        line('.....', `sys_mmap(addr: ${hex(a)}, len: ${hex(b)}, prot: ${arg(c)}, flags: 0x22, fd: 0xffffffff, off: 0)`);
        return [1, 0];
      case EventKind.munmap:
        line('.....', `sys_munmap(addr: ${hex(a)}, len: ${hex(b)})`);
        return [1, 0];
      case EventKind.madvise:
        line('.....', `sys_madvise(start: ${hex(a)}, len_in: ${hex(b)}, behavior: ${arg(c)})`);
        return [1, 0];
      case EventKind.mprotect:
        line('.....', `sys_mprotect(start: ${hex(a)}, len: ${hex(b)}, prot: ${arg(c)})`);
        return [1, 0];
      case EventKind.exit_mmap:
        line('.....', `exit_mmap: mt_mod ${(0x10000000 + mm * 0x1000).toString(16).padStart(16, '0')}, DESTROY`);
        return [1, 0];
      case EventKind.flush_request: {
        const pages = b === FLUSH_ALL || b > FLUSH_CEILING ? -1 : b;
        let remote = false;
        if (mm !== NO_MM) for (let i = 0; i < this.cpuMm.length; i++) if (i !== cpu && this.cpuMm[i] === mm) remote = true;
        if (remote) line('...1.', `tlb_flush: pages:${pages} reason:${TLB_FLUSH_REASON_NAMES[TlbFlushReason.remoteSendIpi]} (${TlbFlushReason.remoteSendIpi})`);
        line('d..1.', `tlb_flush: pages:${pages} reason:${TLB_FLUSH_REASON_NAMES[TlbFlushReason.localMmShootdown]} (${TlbFlushReason.localMmShootdown})`);
        return [remote ? 2 : 1, 0];
      }
      case EventKind.observed_flush:
        line('d..1.', `tlb_flush: pages:${b} reason:${TLB_FLUSH_REASON_NAMES[a] ?? 'unknown'} (${a})`);
        return [1, 0];
      case EventKind.observed_ipi:
        line('d..2.', `ipi_send_cpu: cpu=${a} callsite=tlbsim+0x0/0x0 callback=`
          + (c === 0 ? 'generic_smp_call_function_single_interrupt+0x0/0x10' : 'flush_tlb_func+0x0/0x0'));
        return [1, 0];
      case EventKind.lost:
        out.push(`CPU:${cpu} [LOST ${a < 0 ? 0 : a} EVENTS]`);
        return [0, 0];
      default:
        if (!this.opts.comments) return [0, 0];
        out.push(`# tlbsim: ${EVENT_KIND_NAMES[kind] ?? kind} time=${time} cpu=${cpu} tid=${tid} mm=${mm} a=${a} b=${b} c=${c}`);
        return [0, 1];
    }
  }

  /** Write out a held exec line (at the next unrelated event and at the end). */
  finish(out: string[]): void {
    for (const l of this.heldExec) out.push(l);
    this.heldExec.length = 0;
    this.heldTid = -1;
    this.heldOldMm = -1;
  }
}

function resolve(opts: FtraceWriteOptions): Required<FtraceWriteOptions> {
  return { comments: opts.comments ?? true, nsTimestamps: opts.nsTimestamps ?? false, offsetSeconds: opts.offsetSeconds ?? 0 };
}

/** Write `source` as tracefs text through `sink` (called with chunks of ~64 KiB; awaited). */
export async function writeFtrace(source: EventSource, sink: (chunk: string) => void | Promise<void>,
  options: FtraceWriteOptions = {}): Promise<FtraceWriteResult> {
  const opts = resolve(options);
  const scratch: string[] = [];

  // Pass 1: count the event lines for the header.
  let eventLines = 0;
  {
    const r = new Renderer(source.info.tasks, opts);
    for await (const batch of source.batches()) {
      for (let i = 0; i < batch.length; i++) {
        scratch.length = 0;
        eventLines += r.render(batch.kind[i], batch.time[i], batch.cpu[i], batch.tid[i], batch.mm[i], batch.a[i], batch.b[i], batch.c[i], scratch)[0];
      }
    }
  }

  const header = [
    '# tracer: nop',
    '#',
    `# entries-in-buffer/entries-written: ${eventLines}/${eventLines}   #P:${source.info.cpus}`,
    '#',
    ...HEADER_LEGEND,
    `# tlbsim: generated from ${source.info.source}; timestamps are simulated time.`,
    opts.comments
      ? '# tlbsim: access, iteration, ptwalk and pt_sync events have no ftrace form and are written as "# tlbsim:" comment lines.'
      : '# tlbsim: access, iteration, ptwalk and pt_sync events have no ftrace form and were skipped.',
    '# tlbsim: flush requests are written as the initiator\'s tlb_flush records (reason 3, after reason 4 when another CPU runs the mm);'
      + ' an exec\'s teardown of the old mm is not printed, as in the kernel.',
  ];
  let buf = header.join('\n') + '\n';
  let commentLines = 0;
  let written = 0;

  // Pass 2: write.
  const r = new Renderer(source.info.tasks, opts);
  for await (const batch of source.batches()) {
    for (let i = 0; i < batch.length; i++) {
      scratch.length = 0;
      const [ev, cm] = r.render(batch.kind[i], batch.time[i], batch.cpu[i], batch.tid[i], batch.mm[i], batch.a[i], batch.b[i], batch.c[i], scratch);
      written += ev;
      commentLines += cm;
      for (const l of scratch) buf += l + '\n';
      if (buf.length >= CHUNK_CHARS) { await sink(buf); buf = ''; }
    }
  }
  scratch.length = 0;
  r.finish(scratch);
  for (const l of scratch) buf += l + '\n';
  if (buf.length > 0) await sink(buf);
  if (written !== eventLines) throw new Error(`internal: the event source changed between passes (${eventLines} then ${written} lines)`);
  return { eventLines, commentLines };
}

/** Write `source` as tracefs text to a file. */
export async function writeFtraceFile(source: EventSource, path: string, options: FtraceWriteOptions = {}): Promise<FtraceWriteResult> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const failed = once(out, 'error').then(([err]) => { throw err; });
  failed.catch(() => undefined);
  try {
    const result = await writeFtrace(source, async (chunk) => {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
    }, options);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    return result;
  } catch (err) {
    out.destroy();
    throw err;
  }
}
