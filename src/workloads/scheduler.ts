// A small discrete-event scheduler that turns per-task programs into one time-ordered
// event stream. Each workload describes its tasks as generator functions yielding Steps
// (run for N ns, block on a queue, wake a queue, spin on a flag, migrate, exit); the engine
// plays the CPUs: run queues, switches (including to and from idle, tid 0), time slices
// when tasks share a CPU, remote wake-up latency for idle CPUs, and migrations.
//
// Events are emitted at the engine's current time, and the engine always processes the
// earliest pending CPU decision next, so the merged stream is in nondecreasing time order
// across CPUs by construction (no sort, no buffering beyond one batch). Ties are broken by
// the order decisions were scheduled, which is deterministic.
//
// Time is in whole simulated nanoseconds of the workload's own work (costs.ts); TLB-flush
// costs are not in it — the machine adds those.
import {
  createBatch, DEFAULT_BATCH_SIZE, EventKind, FLUSH_ALL, FlushOrigin, flushFlags, NO_MM, PrevState, pushEvent,
  type EventBatch, type MmInfo, type TaskInfo,
} from '../trace/event.ts';
import type { BaseCosts } from './costs.ts';
import { Rng } from './prng.ts';
import type { GeneratedWorkload, WorkloadTables } from './types.ts';

export const PAGE_SIZE = 4096;
export const PMD_SIZE = 2 << 20;
export const PUD_SIZE = 1 << 30;
export const PROT_READ = 1;
export const PROT_RW = 3;
export const MADV_DONTNEED = 4;
export const MADV_COLLAPSE = 25;

/** Tasks blocked until another task wakes them (futex, eventfd, pipe, wait4, barrier). */
export class WaitQueue {
  readonly waiters: SimTask[] = [];
}

/** A flag tasks busy-wait on while staying on their CPU (never idle). */
export class Flag {
  set = false;
  readonly spinners: SimTask[] = [];
}

export type Step =
  | { readonly op: 'run'; readonly ns: number }
  | { readonly op: 'block'; readonly q: WaitQueue }
  | { readonly op: 'wake'; readonly q: WaitQueue; readonly max: number }
  | { readonly op: 'spin'; readonly flag: Flag }
  | { readonly op: 'set'; readonly flag: Flag }
  | { readonly op: 'migrate'; readonly cpu: number }
  | { readonly op: 'exit' };

/** Consume `ns` of CPU time (preemptible when the CPU is shared). */
export const run = (ns: number): Step => ({ op: 'run', ns });
/** Leave the CPU until a `wake` on q (the CPU switches to another task or to idle). */
export const block = (q: WaitQueue): Step => ({ op: 'block', q });
/** Make up to `max` waiters of q runnable (zero time; charge the waker's cost with run). */
export const wake = (q: WaitQueue, max = Infinity): Step => ({ op: 'wake', q, max });
/** Busy-wait on the CPU until the flag is set. */
export const spin = (flag: Flag): Step => ({ op: 'spin', flag });
/** Set a flag (zero time); spinners resume at once. */
export const setFlag = (flag: Flag): Step => ({ op: 'set', flag });
/** Move to another CPU: this CPU switches away now, the task runs there after the wake-up latency. */
export const migrate = (cpu: number): Step => ({ op: 'migrate', cpu });
export const EXIT: Step = { op: 'exit' };

export type TaskProgram = (ctx: TaskCtx) => Generator<Step, void, undefined>;

type TaskState = 'runnable' | 'running' | 'blocked' | 'dead';

export class SimTask {
  state: TaskState = 'runnable';
  spinning: Flag | null = null;
  /** ns left of a run step that was preempted. */
  remaining = 0;
  program!: Generator<Step, void, undefined>;
  ctx!: TaskCtx;
  constructor(
    readonly tid: number,
    readonly tgid: number,
    public mm: number,
    public comm: string,
    /** The CPU the task runs on (tasks never move unless they migrate explicitly). */
    public cpu: number,
  ) {}
}

class Cpu {
  current: SimTask | null = null;
  readonly rq: SimTask[] = [];
  runUntil = Infinity;
  sliceStart = 0;
  version = 0;
  wakePending = false;
  constructor(readonly id: number) {}
}

interface MmState {
  info: MmInfo;
  users: number;
  /** Top-down mmap cursor (each mm has its own randomised base, like ASLR). */
  nextAddr: number;
}

/** Min-heap of CPU decisions ordered by (time, sequence). */
class DecisionHeap {
  private time: number[] = [];
  private seq: number[] = [];
  private cpu: number[] = [];
  private ver: number[] = [];
  private counter = 0;
  get size(): number { return this.time.length; }
  push(time: number, cpu: number, ver: number): void {
    let i = this.time.length;
    this.time.push(time); this.seq.push(this.counter++); this.cpu.push(cpu); this.ver.push(ver);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p); i = p;
    }
  }
  /** Pops into `out` ([time, cpu, ver]). */
  pop(out: number[]): void {
    out[0] = this.time[0]; out[1] = this.cpu[0]; out[2] = this.ver[0];
    const last = this.time.length - 1;
    this.swap(0, last);
    this.time.pop(); this.seq.pop(); this.cpu.pop(); this.ver.pop();
    let i = 0;
    const n = this.time.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m); i = m;
    }
  }
  private less(a: number, b: number): boolean {
    return this.time[a] < this.time[b] || (this.time[a] === this.time[b] && this.seq[a] < this.seq[b]);
  }
  private swap(a: number, b: number): void {
    const t = this.time[a]; this.time[a] = this.time[b]; this.time[b] = t;
    const s = this.seq[a]; this.seq[a] = this.seq[b]; this.seq[b] = s;
    const c = this.cpu[a]; this.cpu[a] = this.cpu[b]; this.cpu[b] = c;
    const v = this.ver[a]; this.ver[a] = this.ver[b]; this.ver[b] = v;
  }
}

export interface SpawnOptions {
  cpu: number;
  /** true: a thread sharing the parent's mm (clone CLONE_VM); false: a new process. */
  thread: boolean;
  comm?: string;
  program: TaskProgram;
}

/** First tid handed out (pids of a freshly booted machine's user processes). */
export const FIRST_TID = 1000;

export class WorkloadScheduler {
  readonly cpus: Cpu[];
  readonly rng: Rng;
  now = 0;
  private readonly heap = new DecisionHeap();
  private out: EventBatch;
  private readonly ready: EventBatch[] = [];
  private nextTid = FIRST_TID;
  private nextMm = 1;
  private advancing: Cpu | null = null;
  private readonly taskInfo = new Map<number, TaskInfo>();
  private readonly mmState = new Map<number, MmState>();

  constructor(cpuCount: number, readonly costs: BaseCosts, seed: number, private readonly batchSize: number) {
    this.cpus = Array.from({ length: cpuCount }, (_, i) => new Cpu(i));
    this.rng = new Rng(seed);
    this.out = createBatch(batchSize);
  }

  // ---- setup --------------------------------------------------------------------------

  /** A task that exists when the trace starts (no fork event): it is switched in on its CPU
   *  at time 0. mm: an existing mm to share, or omitted for a new address space. */
  start(opts: { comm: string; cpu: number; program: TaskProgram; mm?: number; tgid?: number }): SimTask {
    const tid = this.nextTid++;
    const mm = opts.mm ?? this.newMm(opts.comm, tid);
    if (opts.mm !== undefined) this.mm(opts.mm).users++;
    const task = this.addTask(tid, opts.tgid ?? tid, mm, opts.comm, opts.cpu, opts.program);
    this.makeRunnable(task, opts.cpu);
    return task;
  }

  // ---- the run loop ----------------------------------------------------------------------

  *events(): Generator<EventBatch, WorkloadTables, undefined> {
    const d = [0, 0, 0];
    while (this.heap.size > 0) {
      this.heap.pop(d);
      const cpu = this.cpus[d[1]];
      if (d[2] !== cpu.version) continue;
      if (d[0] < this.now) throw new Error(`internal: workload time went backwards (${d[0]} < ${this.now})`);
      this.now = d[0];
      this.decide(cpu);
      while (this.ready.length > 0) yield this.ready.shift()!;
    }
    if (this.out.length > 0) { const last = this.out; this.out = createBatch(0); yield last; }
    return {
      tasks: [{ tid: 0, comm: 'swapper', tgid: 0, mm: NO_MM, route: 'idle' }, ...this.taskInfo.values()],
      mms: [...this.mmState.values()].map((s) => s.info),
    };
  }

  private decide(cpu: Cpu): void {
    const cur = cpu.current;
    if (!cur) {
      cpu.wakePending = false;
      const next = cpu.rq.shift();
      if (next) this.switchTo(cpu, null, next, PrevState.runnable);
      return;
    }
    if (cur.spinning) {
      if (cur.spinning.set) { cur.spinning = null; this.advance(cpu, cur); }
      else if (cpu.rq.length > 0) this.preempt(cpu, cur);
      return;
    }
    if (this.now >= cpu.runUntil) { this.advance(cpu, cur); return; }
    if (cpu.rq.length === 0) { this.schedule(cpu); return; }
    cur.remaining = cpu.runUntil - this.now;
    this.preempt(cpu, cur);
  }

  private preempt(cpu: Cpu, cur: SimTask): void {
    cur.state = 'runnable';
    cpu.rq.push(cur);
    const next = cpu.rq.shift()!;
    this.switchTo(cpu, cur, next, PrevState.runnable);
  }

  /** Switch `cpu` from prev (null = idle) to next (null = idle) now. */
  private switchTo(cpu: Cpu, prev: SimTask | null, next: SimTask | null, prevState: number): void {
    this.push(EventKind.switch, cpu.id, prev ? prev.tid : 0, prev ? prev.mm : NO_MM,
      next ? next.tid : 0, next ? next.mm : NO_MM, prevState);
    this.occupy(cpu, next);
  }

  /** After a switch record: `next` runs on `cpu` from now, or the CPU idles (null). */
  private occupy(cpu: Cpu, next: SimTask | null): void {
    cpu.current = next;
    if (next) {
      next.state = 'running';
      cpu.sliceStart = this.now;
      this.resume(cpu, next);
    } else {
      cpu.runUntil = Infinity;
      cpu.version++;
    }
  }

  private resume(cpu: Cpu, t: SimTask): void {
    if (t.spinning) {
      if (t.spinning.set) { t.spinning = null; this.advance(cpu, t); return; }
      cpu.runUntil = Infinity;
      this.schedule(cpu);
      return;
    }
    if (t.remaining > 0) {
      cpu.runUntil = this.now + t.remaining;
      t.remaining = 0;
      this.schedule(cpu);
      return;
    }
    this.advance(cpu, t);
  }

  /** Run t's program from its current point until it consumes time or leaves the CPU. */
  private advance(cpu: Cpu, t: SimTask): void {
    const outer = this.advancing;
    this.advancing = cpu;
    try {
      for (;;) {
        const r = t.program.next();
        const step = r.done ? EXIT : r.value;
        switch (step.op) {
          case 'run':
            if (step.ns > 0) { cpu.runUntil = this.now + step.ns; this.schedule(cpu); return; }
            break;
          case 'block':
            t.state = 'blocked';
            step.q.waiters.push(t);
            this.leave(cpu, t, PrevState.blocked, -1);
            return;
          case 'wake': {
            let n = Math.min(step.max, step.q.waiters.length);
            while (n-- > 0) this.makeRunnable(step.q.waiters.shift()!, cpu.id);
            break;
          }
          case 'spin':
            if (step.flag.set) break;
            t.spinning = step.flag;
            step.flag.spinners.push(t);
            cpu.runUntil = Infinity;
            this.schedule(cpu);
            return;
          case 'set':
            this.raise(step.flag);
            break;
          case 'migrate':
            if (step.cpu === t.cpu) break;
            if (step.cpu < 0 || step.cpu >= this.cpus.length) throw new Error(`internal: migrate to cpu ${step.cpu}`);
            this.leave(cpu, t, PrevState.runnable, step.cpu);
            return;
          case 'exit':
            t.state = 'dead';
            this.leave(cpu, t, PrevState.dead, -1);
            return;
        }
      }
    } finally {
      this.advancing = outer;
    }
  }

  /** t leaves cpu (blocked, dead, or migrating to `migrateTo`); the CPU takes the next task. */
  private leave(cpu: Cpu, t: SimTask, state: number, migrateTo: number): void {
    const next = cpu.rq.shift() ?? null;
    if (migrateTo < 0) { this.switchTo(cpu, t, next, state); return; }
    // Migration: the switch away, the migrate record, then the task queued on its new CPU.
    this.push(EventKind.switch, cpu.id, t.tid, t.mm, next ? next.tid : 0, next ? next.mm : NO_MM, state);
    this.push(EventKind.migrate, cpu.id, t.tid, t.mm, cpu.id, migrateTo, 0);
    t.cpu = migrateTo;
    cpu.current = null;
    this.makeRunnable(t, cpu.id);
    this.occupy(cpu, next);
  }

  private makeRunnable(t: SimTask, fromCpu: number): void {
    t.state = 'runnable';
    const dest = this.cpus[t.cpu];
    dest.rq.push(t);
    if (!dest.current) {
      if (!dest.wakePending) {
        dest.wakePending = true;
        dest.version++;
        const latency = dest.id === fromCpu ? 0 : this.costs.REMOTE_WAKEUP_NS;
        this.heap.push(this.now + latency, dest.id, dest.version);
      }
    } else if (dest !== this.advancing) {
      this.schedule(dest);
    }
  }

  private raise(flag: Flag): void {
    flag.set = true;
    for (const s of flag.spinners) {
      const c = this.cpus[s.cpu];
      if (c.current === s && c !== this.advancing) this.schedule(c);
    }
    flag.spinners.length = 0;
  }

  /** (Re)compute when a running CPU next needs attention: end of the step or of the slice. */
  private schedule(cpu: Cpu): void {
    const cur = cpu.current;
    if (!cur) return;
    cpu.version++;
    let t = cur.spinning ? (cur.spinning.set ? this.now : Infinity) : cpu.runUntil;
    if (cpu.rq.length > 0) t = Math.min(t, Math.max(this.now, cpu.sliceStart + this.costs.SCHED_SLICE_NS));
    if (t !== Infinity) this.heap.push(t, cpu.id, cpu.version);
  }

  // ---- tasks, address spaces, events ------------------------------------------------------

  private addTask(tid: number, tgid: number, mm: number, comm: string, cpu: number, program: TaskProgram): SimTask {
    if (cpu < 0 || cpu >= this.cpus.length) throw new Error(`internal: task on cpu ${cpu} of ${this.cpus.length}`);
    const task = new SimTask(tid, tgid, mm, comm, cpu);
    task.ctx = new TaskCtx(this, task);
    task.program = program(task.ctx);
    this.taskInfo.set(tid, { tid, comm, tgid, mm, route: 'synthetic' });
    return task;
  }

  newMm(comm: string, leader: number, copyOf?: number): number {
    const id = this.nextMm++;
    const nextAddr = copyOf !== undefined ? this.mm(copyOf).nextAddr
      // Randomised mmap base below 0x7f1000000000, page aligned (28 bits of entropy, like x86-64 ASLR).
      : 0x7f0000000000 + this.rng.int(1 << 28) * PAGE_SIZE;
    this.mmState.set(id, { info: { id, leader, comm }, users: 1, nextAddr });
    return id;
  }

  mm(id: number): MmState {
    const s = this.mmState.get(id);
    if (!s) throw new Error(`internal: unknown mm ${id}`);
    return s;
  }

  spawn(parent: SimTask, opts: SpawnOptions): SimTask {
    const tid = this.nextTid++;
    const comm = opts.comm ?? parent.comm;
    let mm: number, tgid: number;
    if (opts.thread) {
      mm = parent.mm; tgid = parent.tgid;
      this.mm(mm).users++;
    } else {
      mm = this.newMm(comm, tid, parent.mm); tgid = tid;
    }
    const child = this.addTask(tid, tgid, mm, comm, opts.cpu, opts.program);
    this.push(EventKind.fork, parent.cpu, parent.tid, parent.mm, tid, mm, opts.thread ? 1 : 0);
    this.makeRunnable(child, parent.cpu);
    return child;
  }

  exec(t: SimTask, comm: string): void {
    const old = t.mm;
    const mm = this.newMm(comm, t.tid);
    t.mm = mm; t.comm = comm;
    const info = this.taskInfo.get(t.tid)!;
    info.mm = mm; info.comm = comm;
    this.push(EventKind.exec, t.cpu, t.tid, mm, old, 0, 0);
    this.dropMm(t, old);
  }

  /** The task's exit record, and the teardown of its mm if it was the last user. */
  exitTask(t: SimTask): void {
    const s = this.mm(t.mm);
    const groupDead = s.users === 1;
    this.push(EventKind.exit, t.cpu, t.tid, t.mm, groupDead ? 1 : 0, 0, 0);
    this.dropMm(t, t.mm);
  }

  private dropMm(t: SimTask, mm: number): void {
    const s = this.mm(mm);
    if (--s.users > 0) return;
    // exit_mmap (mm/mmap.c): unmap everything and free the page tables; the final flush of
    // the fullmm mmu_gather (tlb_finish_mmu) covers the whole address space with freed
    // tables, and trace_exit_mmap() comes after it, at the end of the teardown. In the
    // other order the replay would free the mm at exit_mmap and see the flush name a
    // dead mm (a new one, for a simulator).
    this.push(EventKind.flush_request, t.cpu, t.tid, mm, -1, FLUSH_ALL, flushFlags(FlushOrigin.synthetic, true));
    this.push(EventKind.exit_mmap, t.cpu, t.tid, mm, 0, 0, 0);
  }

  /** Push an event at the current time. */
  push(kind: number, cpu: number, tid: number, mm: number, a: number, b: number, c: number): void {
    if (this.out.length === this.batchSize) {
      this.ready.push(this.out);
      this.out = createBatch(this.batchSize);
    }
    pushEvent(this.out, kind, this.now, cpu, tid, mm, a, b, c);
  }
}

/** What a task's program sees: its identity, the clock, and event helpers. Events are
 *  stamped with the current time and the task's CPU. */
export class TaskCtx {
  constructor(readonly sim: WorkloadScheduler, readonly task: SimTask) {}

  get tid(): number { return this.task.tid; }
  get mm(): number { return this.task.mm; }
  get cpu(): number { return this.task.cpu; }
  get now(): number { return this.sim.now; }
  get costs(): BaseCosts { return this.sim.costs; }
  get rng(): Rng { return this.sim.rng; }

  emit(kind: number, a: number, b: number, c: number, mm = this.task.mm): void {
    this.sim.push(kind, this.task.cpu, this.task.tid, mm, a, b, c);
  }

  /** End of iteration i of the measured thread (i = -1: end of warm-up, start of iteration 0). */
  mark(i: number): void {
    this.emit(EventKind.iteration, i, 0, 0);
  }

  /** Reserve `bytes` of this mm's address space (top-down, aligned); no event. */
  reserve(bytes: number, align = PAGE_SIZE): number {
    const s = this.sim.mm(this.task.mm);
    const addr = Math.floor((s.nextAddr - bytes) / align) * align;
    s.nextAddr = addr;
    return addr;
  }

  spawn(opts: SpawnOptions): SimTask {
    return this.sim.spawn(this.task, opts);
  }

  exec(comm: string): void {
    this.sim.exec(this.task, comm);
  }

  /** The exit record (and mm teardown when last user). Follow with `yield EXIT`. */
  exitRecord(): void {
    this.sim.exitTask(this.task);
  }
}

/** Wrap a setup function as a repeatable generated workload. */
export function simulate(cpus: number, costs: BaseCosts, seed: number, setup: (sim: WorkloadScheduler) => void): GeneratedWorkload {
  return {
    cpus,
    batches(batchSize = DEFAULT_BATCH_SIZE): Generator<EventBatch, WorkloadTables, undefined> {
      const sim = new WorkloadScheduler(cpus, costs, seed, batchSize);
      setup(sim);
      return sim.events();
    },
  };
}
