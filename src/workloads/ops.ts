// Reusable pieces of task programs: syscalls with their events and base costs, and the
// synchronisation objects the benchmarks use (eventfd/pipe channels, barriers, joins).
// Each function is a generator of engine Steps: call it with `yield*` inside a program.
import { EventKind, FlushFlags, FlushOrigin, flushFlags } from '../trace/event.ts';
import {
  EXIT, MADV_DONTNEED, PAGE_SIZE, block, run, wake, WaitQueue,
  type SimTask, type SpawnOptions, type Step, type TaskCtx,
} from './scheduler.ts';

type Steps<T = void> = Generator<Step, T, undefined>;

/** Flush request for the task's mm (or `mm`), origin synthetic. */
export function flush(ctx: TaskCtx, addr: number, pages: number, freedTables: boolean, extra = 0, mm = ctx.mm): void {
  ctx.emit(EventKind.flush_request, addr, pages, flushFlags(FlushOrigin.synthetic, freedTables, extra), mm);
}

/** Touch `pages` distinct pages from addr (one access event); each costs TOUCH_PAGE_NS plus
 *  `faultNs` when the touch faults (first touch, or after MADV_DONTNEED). */
export function* touch(ctx: TaskCtx, addr: number, pages: number, faultNs = 0): Steps {
  if (pages <= 0) return;
  ctx.emit(EventKind.access, addr, pages, 0);
  yield run(pages * (ctx.costs.TOUCH_PAGE_NS + faultNs));
}

/** mmap of an anonymous region at a fresh address of this mm; returns the address. */
export function* mmap(ctx: TaskCtx, bytes: number, prot: number, align = PAGE_SIZE): Steps<number> {
  const addr = ctx.reserve(bytes, align);
  ctx.emit(EventKind.mmap, addr, bytes, prot);
  yield run(ctx.costs.MMAP_NS);
  return addr;
}

/** madvise(MADV_DONTNEED) of `pages` present pages: the syscall record, then its flush
 *  request (no page tables freed), then the return. */
export function* madviseDontneed(ctx: TaskCtx, addr: number, pages: number): Steps {
  const c = ctx.costs;
  ctx.emit(EventKind.madvise, addr, pages * PAGE_SIZE, MADV_DONTNEED);
  yield run(c.MADVISE_BEFORE_FLUSH_NS + (pages - 1) * c.MUNMAP_PER_PAGE_NS);
  flush(ctx, addr, pages, false);
  yield run(c.MADVISE_AFTER_FLUSH_NS);
}

/** munmap of a region with `present` mapped pages. Page tables are freed when the region
 *  spans whole page-table pages (the benchmarks' regions do), which the flush says. */
export function* munmap(ctx: TaskCtx, addr: number, bytes: number, present: number, freedTables: boolean): Steps {
  const c = ctx.costs;
  ctx.emit(EventKind.munmap, addr, bytes, 0);
  yield run(c.MUNMAP_NS + present * c.MUNMAP_PER_PAGE_NS);
  // No PTE was cleared and no table freed: the kernel's mmu_gather sends no flush.
  if (present > 0 || freedTables) flush(ctx, addr, Math.ceil(bytes / PAGE_SIZE), freedTables);
}

/** fork(): copy the address space (its COW write-protection ends with flush_tlb_mm of the
 *  parent's mm: everything, page tables "freed" as flush_tlb_mm always says), then the child. */
export function* forkProcess(ctx: TaskCtx, opts: Omit<SpawnOptions, 'thread'>): Steps<SimTask> {
  yield run(ctx.costs.FORK_NS);
  flush(ctx, -1, -1, true);
  return ctx.spawn({ ...opts, thread: false });
}

/** pthread_create: a thread of this process on opts.cpu. */
export function* createThread(ctx: TaskCtx, opts: Omit<SpawnOptions, 'thread'>): Steps<SimTask> {
  yield run(ctx.costs.THREAD_CREATE_NS);
  return ctx.spawn({ ...opts, thread: true });
}

/** A blocking syscall: enter (SYSCALL_NS), and if `ready()` is false sleep on q until it is;
 *  the switch back in costs SCHEDULE_NS (charged when the task runs again, so the CPU is
 *  handed over at the moment the task commits to sleeping). */
export function* sleepUntil(ctx: TaskCtx, q: WaitQueue, ready: () => boolean): Steps {
  yield run(ctx.costs.SYSCALL_NS);
  if (ready()) return;
  while (!ready()) yield block(q);
  yield run(ctx.costs.SCHEDULE_NS);
}

/** Counts live tasks so a parent can wait for them (pthread_join / wait4). */
export class Join {
  alive = 0;
  readonly q = new WaitQueue();
  /** The parent: block until every registered task has exited. */
  *wait(ctx: TaskCtx): Steps {
    yield* sleepUntil(ctx, this.q, () => this.alive === 0);
  }
  /** An exiting task: count down and wake the waiter. */
  *done(ctx: TaskCtx): Steps {
    this.alive--;
    if (this.alive === 0 && this.q.waiters.length > 0) {
      yield run(ctx.costs.WAKEUP_NS);
      yield wake(this.q);
    }
  }
}

/** Exit a thread or process: cost, exit record (+ teardown when last user), optional
 *  join notification, and leave the CPU for good. */
export function* exitTask(ctx: TaskCtx, join?: Join): Steps {
  const lastUser = ctx.sim.mm(ctx.mm).users === 1;
  yield run(lastUser ? ctx.costs.EXIT_NS : ctx.costs.THREAD_EXIT_NS);
  ctx.exitRecord();
  if (join) yield* join.done(ctx);
  yield EXIT;
}

/** An eventfd (counter semantics) or a pipe carrying single tokens between tasks. */
export class Channel {
  tokens = 0;
  readonly q = new WaitQueue();
  constructor(readonly pipe = false) {}

  /** write(): one token, visible once the syscall has done its work; wakes a blocked
   *  reader (try_to_wake_up, charged to the writer). */
  *write(ctx: TaskCtx): Steps {
    const c = ctx.costs;
    yield run(c.SYSCALL_NS + (this.pipe ? c.PIPE_EXTRA_NS : 0));
    this.tokens++;
    if (this.q.waiters.length > 0) {
      yield wake(this.q, 1);
      yield run(c.WAKEUP_NS);
    }
  }

  /** read(): take a token, blocking (the CPU switches away) while there is none. */
  *read(ctx: TaskCtx): Steps {
    yield* sleepUntil(ctx, this.q, () => this.tokens > 0);
    this.tokens--;
  }
}

/** pthread_barrier_t: the last arriving thread wakes the others (futex wake). */
export class Barrier {
  private arrived = 0;
  private generation = 0;
  private readonly q = new WaitQueue();
  constructor(readonly parties: number) {}

  *wait(ctx: TaskCtx): Steps {
    const c = ctx.costs;
    if (++this.arrived === this.parties) {
      this.arrived = 0;
      this.generation++;
      yield run(c.SYSCALL_NS + this.q.waiters.length * c.WAKEUP_NS);
      yield wake(this.q);
      return;
    }
    const gen = this.generation;
    yield* sleepUntil(ctx, this.q, () => this.generation !== gen);
  }
}

