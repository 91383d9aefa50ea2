// madv-dontneed-switch: Lutomirski's "MADV_DONTNEED; touch the page; switch CPUs using
// sched_setaffinity" test from the PCID v4 cover letter ("nearly worst-case": before the
// series, the madvise flush IPIs the previous CPU, which sits idle with the mm loaded).
import { migrate, PAGE_SIZE, PROT_RW, run, simulate } from './scheduler.ts';
import { exitTask, madviseDontneed, mmap, touch } from './ops.ts';
import { commonParams, num, type WorkloadDefinition } from './types.ts';

export const madvDontneedSwitch: WorkloadDefinition = {
  name: 'madv-dontneed-switch',
  description: 'One thread alternates between CPU 0 and CPU 1. Each iteration: madvise(MADV_DONTNEED) '
    + 'its one page (a 1-page flush request, no page tables freed), touch the page again (write '
    + 'fault), sched_setaffinity to the other CPU. The CPU it leaves goes idle (lazy) with the mm '
    + 'still loaded. Extra CPUs stay idle.',
  iteration: 'one madvise + touch + migration to the other CPU',
  params: [
    { name: 'iterations', default: 10000, type: 'int', min: 1, max: 1e9, description: 'measured iterations' },
    ...commonParams(2, 2),
  ],
  generate(p, costs) {
    const iterations = num(p, 'iterations');
    return simulate(num(p, 'cpus'), costs, num(p, 'seed'), (sim) => {
      sim.start({
        comm: 'madv-switch', cpu: 0,
        *program(ctx) {
          const c = ctx.costs;
          const page = yield* mmap(ctx, PAGE_SIZE, PROT_RW);
          yield* touch(ctx, page, 1, c.WRITE_FAULT_NS);
          ctx.mark(-1);
          for (let i = 0; i < iterations; i++) {
            yield* madviseDontneed(ctx, page, 1);
            yield* touch(ctx, page, 1, c.WRITE_FAULT_NS);
            yield run(c.SETAFFINITY_NS);
            yield migrate(1 - ctx.cpu);
            ctx.mark(i);
          }
          yield* exitTask(ctx);
        },
      });
    });
  },
};
