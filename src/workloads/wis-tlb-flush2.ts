// wis-tlb-flush2: will-it-scale tlb_flush2 ("anonymous memory private mapping",
// antonblanchard/will-it-scale tests/tlb_flush2.c; docs/design/strategies.md §e.3).
import { PAGE_SIZE, PROT_RW, run, simulate, WaitQueue, wake, type TaskCtx } from './scheduler.ts';
import { createThread, exitTask, forkProcess, Join, madviseDontneed, mmap, munmap, sleepUntil, touch } from './ops.ts';
import { commonParams, num, str, type WorkloadDefinition } from './types.ts';

const REGION_PAGES = 256; // 1 MiB

export const wisTlbFlush2: WorkloadDefinition = {
  name: 'wis-tlb-flush2',
  description: 'will-it-scale tlb_flush2: each task maps 1 MiB of anonymous memory (256 pages) and, '
    + 'per page, writes it (fault), madvise(MADV_DONTNEED)s it (1-page flush request) and reads it back '
    + '(zero-page fault); after the 256 pages it munmaps the region (flush with freed page tables) and '
    + 'maps a new one. mode=threads: one process, task i a thread pinned to CPU i mod cpus (every '
    + 'DONTNEED must reach the other running threads); mode=processes: one single-threaded process '
    + 'per task (local flushes only). Task 0 is measured; will-it-scale\'s sampling parent is not modelled.',
  iteration: 'one page of task 0: write (fault), MADV_DONTNEED, read back (fault)',
  params: [
    { name: 'mode', default: 'threads', type: 'enum', values: ['threads', 'processes'],
      description: 'threads: all tasks share one mm; processes: one mm per task' },
    { name: 'tasks', default: 4, type: 'int', min: 1, max: 65536,
      description: 'tasks (will-it-scale -t), task i pinned to CPU i mod cpus' },
    { name: 'iterations', default: 2560, type: 'int', min: 1, max: 1e9,
      description: 'pages each task processes (256 per 1 MiB region)' },
    ...commonParams(4),
  ],
  generate(p, costs) {
    const threads = str(p, 'mode') === 'threads';
    const tasks = num(p, 'tasks');
    const iterations = num(p, 'iterations');
    const cpus = num(p, 'cpus');
    return simulate(cpus, costs, num(p, 'seed'), (sim) => {
      const release = new WaitQueue();
      let released = false;
      const workers = new Join();

      function* testLoop(ctx: TaskCtx, measured: boolean) {
        const c = ctx.costs;
        // Desynchronise the tasks by up to one iteration (the harness releases them together,
        // but they never stay in lockstep).
        yield run(ctx.rng.int(c.WRITE_FAULT_NS + c.MADVISE_BEFORE_FLUSH_NS + c.MADVISE_AFTER_FLUSH_NS + c.READ_FAULT_NS));
        if (measured) ctx.mark(-1);
        let done = 0;
        while (done < iterations) {
          const region = yield* mmap(ctx, REGION_PAGES * PAGE_SIZE, PROT_RW);
          const n = Math.min(REGION_PAGES, iterations - done);
          for (let j = 0; j < n; j++) {
            const page = region + j * PAGE_SIZE;
            yield* touch(ctx, page, 1, c.WRITE_FAULT_NS);
            yield* madviseDontneed(ctx, page, 1);
            yield* touch(ctx, page, 1, c.READ_FAULT_NS);
            if (measured) ctx.mark(done);
            done++;
          }
          // Every page read back maps the zero page: n present PTEs; the PTE table is freed.
          yield* munmap(ctx, region, REGION_PAGES * PAGE_SIZE, n, true);
        }
      }

      function* worker(ctx: TaskCtx) {
        yield* sleepUntil(ctx, release, () => released);
        yield* testLoop(ctx, false);
        yield* exitTask(ctx, workers);
      }

      sim.start({
        comm: 'tlb_flush2', cpu: 0,
        *program(ctx) {
          for (let t = 1; t < tasks; t++) {
            workers.alive++;
            const opts = { cpu: t % cpus, program: worker };
            if (threads) yield* createThread(ctx, opts);
            else yield* forkProcess(ctx, opts);
          }
          // Release all tasks at once (will-it-scale writes to a pipe they all wait on).
          released = true;
          yield run(ctx.costs.SYSCALL_NS + release.waiters.length * ctx.costs.WAKEUP_NS);
          yield wake(release);
          yield* testLoop(ctx, true);
          yield* workers.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
