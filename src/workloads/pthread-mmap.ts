// pthread-mmap: "Vitaly's pthread_mmap microbenchmark" from Lutomirski's PCID v4 cover letter
// (8 threads on four cores, nrounds = 100, 256M data). Its source was not found: this is a
// RECONSTRUCTION from those four parameters (docs/design/strategies.md §e.1). A later post by the same
// author describes a TLB-thrashing test of his as threads "doing 100 mmap()/munmap() for 16384
// pages with a tiny random nanosleep in between" (lkml, 2 Apr 2018, "[PATCH 0/5] KVM: x86:
// hyperv: PV TLB flush for Windows guests"). It may be the same program, but it says neither
// what is touched nor how 2017's "256M data" was split, so the reconstruction is not rebuilt
// on it; the calibration row's explanation (src/calibrate) bounds what such a shape could save.
import { PAGE_SIZE, PMD_SIZE, PROT_RW, simulate, type TaskCtx } from './scheduler.ts';
import { Barrier, createThread, exitTask, Join, mmap, munmap, touch } from './ops.ts';
import { commonParams, num, type WorkloadDefinition } from './types.ts';

/** Pages per access event while touching a slice (one page-table page's worth). */
const CHUNK_PAGES = 512;

export const pthreadMmap: WorkloadDefinition = {
  name: 'pthread-mmap',
  description: 'RECONSTRUCTION (the original pthread_mmap source was not found): `threads` threads of one '
    + 'process on `cpus` CPUs (thread i on CPU i mod cpus, so threads outnumbering CPUs time-share them). '
    + 'Each round: every thread writes its disjoint slice of a fresh `mb` MiB anonymous mapping '
    + '(faults), barrier; thread 0 munmaps it (a range flush with freed page tables) and maps the next '
    + 'one, barrier. CPUs alternate thread↔thread (same mm) and thread↔idle (lazy). Thread 0 is measured.',
  iteration: 'one round: touch all slices, barrier, munmap + mmap, barrier',
  params: [
    { name: 'threads', default: 8, type: 'int', min: 1, max: 65536, description: 'threads of the process' },
    { name: 'rounds', default: 100, type: 'int', min: 1, max: 1e7, description: 'mmap/touch/munmap rounds (nrounds)' },
    { name: 'mb', default: 256, type: 'int', min: 1, max: 1 << 20, description: 'size of each round\'s mapping in MiB' },
    ...commonParams(4),
  ],
  generate(p, costs) {
    const threads = num(p, 'threads');
    const rounds = num(p, 'rounds');
    const bytes = num(p, 'mb') * (1 << 20);
    const pages = bytes / PAGE_SIZE;
    const cpus = num(p, 'cpus');
    return simulate(cpus, costs, num(p, 'seed'), (sim) => {
      const barrier = new Barrier(threads);
      const joined = new Join();
      let region = 0;

      /** Thread t's slice: pages [t*per, (t+1)*per), the last thread takes the remainder. */
      function* touchSlice(ctx: TaskCtx, t: number) {
        const per = Math.floor(pages / threads);
        const first = t * per;
        const end = t === threads - 1 ? pages : first + per;
        for (let pg = first; pg < end; pg += CHUNK_PAGES) {
          yield* touch(ctx, region + pg * PAGE_SIZE, Math.min(CHUNK_PAGES, end - pg), ctx.costs.WRITE_FAULT_NS);
        }
      }

      function worker(t: number) {
        return function* (ctx: TaskCtx) {
          for (let r = 0; r < rounds; r++) {
            yield* touchSlice(ctx, t);
            yield* barrier.wait(ctx);
            yield* barrier.wait(ctx);
          }
          yield* exitTask(ctx, joined);
        };
      }

      sim.start({
        comm: 'pthread_mmap', cpu: 0,
        *program(ctx) {
          region = yield* mmap(ctx, bytes, PROT_RW, PMD_SIZE);
          for (let t = 1; t < threads; t++) {
            joined.alive++;
            yield* createThread(ctx, { cpu: t % cpus, program: worker(t) });
          }
          ctx.mark(-1);
          for (let r = 0; r < rounds; r++) {
            yield* touchSlice(ctx, 0);
            yield* barrier.wait(ctx);
            yield* munmap(ctx, region, bytes, pages, true);
            if (r + 1 < rounds) region = yield* mmap(ctx, bytes, PROT_RW, PMD_SIZE);
            yield* barrier.wait(ctx);
            ctx.mark(r);
          }
          yield* joined.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
