// madv-threads: Nadav Amit's microbenchmark from the concurrent-flush RFC (2019): one thread
// loops {touch a page; MADV_DONTNEED it} while the other threads of the same process
// busy-wait on other CPUs, so they stay in mm_cpumask and are never lazy.
// Real C version: traces/real/workloads/madvthreads.c.
import { Flag, PAGE_SIZE, PROT_RW, setFlag, simulate, spin, type TaskCtx } from './scheduler.ts';
import { createThread, exitTask, Join, madviseDontneed, mmap, touch } from './ops.ts';
import { commonParams, num, type WorkloadDefinition } from './types.ts';

export const madvThreads: WorkloadDefinition = {
  name: 'madv-threads',
  description: 'One thread (CPU 0) loops {write a page (fault); madvise(MADV_DONTNEED) it (a 1-page '
    + 'flush request)}; threads-1 other threads of the same process spin on CPUs 1..threads-1 and '
    + 'never go idle, so every flush has threads-1 running remote CPUs to reach.',
  iteration: 'one touch (write fault) + one madvise(MADV_DONTNEED) of that page',
  params: [
    { name: 'threads', default: 2, type: 'int', min: 1, max: 4096,
      description: 'threads in the process: 1 touching + threads-1 spinning (one per CPU)' },
    { name: 'iterations', default: 10000, type: 'int', min: 1, max: 1e9, description: 'measured iterations' },
    ...commonParams(2),
  ],
  check(p) {
    return num(p, 'threads') > num(p, 'cpus') ? 'madv-threads needs at least as many cpus as threads (one thread per CPU).' : null;
  },
  generate(p, costs) {
    const threads = num(p, 'threads');
    const iterations = num(p, 'iterations');
    return simulate(num(p, 'cpus'), costs, num(p, 'seed'), (sim) => {
      const stop = new Flag();
      const spinners = new Join();
      function* spinner(ctx: TaskCtx) {
        yield spin(stop);
        yield* exitTask(ctx, spinners);
      }
      sim.start({
        comm: 'madvthreads', cpu: 0,
        *program(ctx) {
          const c = ctx.costs;
          for (let t = 1; t < threads; t++) {
            spinners.alive++;
            yield* createThread(ctx, { cpu: t, program: spinner });
          }
          const page = yield* mmap(ctx, PAGE_SIZE, PROT_RW);
          ctx.mark(-1);
          for (let i = 0; i < iterations; i++) {
            yield* touch(ctx, page, 1, c.WRITE_FAULT_NS);
            yield* madviseDontneed(ctx, page, 1);
            ctx.mark(i);
          }
          yield setFlag(stop);
          yield* spinners.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
