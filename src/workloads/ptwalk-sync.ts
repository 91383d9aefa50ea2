// ptwalk-sync: lockless page-table walkers (GUP-fast) on some CPUs while a thread of the
// same process frees or unshares page tables (docs/design/strategies.md b.7: Lance Yang's page-table-free
// sync series; seed 003). The thread's operations emit `pt_sync` requests
// (tlb_remove_table_sync_one) next to their flushes; walkers emit `ptwalk` begin/end.
import { EventKind, FlushFlags, FlushOrigin, flushFlags } from '../trace/event.ts';
import {
  Flag, MADV_COLLAPSE, PAGE_SIZE, PMD_SIZE, PROT_RW, PUD_SIZE, run, setFlag, simulate, spin, WaitQueue, wake,
  type TaskCtx,
} from './scheduler.ts';
import { createThread, exitTask, flush, Join, mmap, munmap, sleepUntil, touch } from './ops.ts';
import { bool, commonParams, num, str, type WorkloadDefinition } from './types.ts';

const OPS = ['collapse', 'unshare', 'munmap'] as const;
type Op = (typeof OPS)[number];

export const ptwalkSync: WorkloadDefinition = {
  name: 'ptwalk-sync',
  description: 'One process: a thread on CPU 0 frees or unshares page tables, `walkers` threads on CPUs '
    + '1..walkers do GUP-fast lockless walks of the same mm (ptwalk begin/end events), `busy` CPUs run an '
    + 'unrelated latency-sensitive process that never idles, and the remaining CPUs are idle (lazy on '
    + 'the process\'s mm when lazy=true: a helper thread ran there and went to sleep). Operations: '
    + 'collapse = MADV_COLLAPSE of 2 MiB of 4 KiB pages (khugepaged path: flush with freed tables, then '
    + 'pt_sync); unshare = munmap of 2 MiB of a shared hugetlb mapping whose PMD table is unshared (flush '
    + 'of the 1 GiB range in 2 MiB strides with UNSHARED_TABLES, then pt_sync); munmap = munmap of 4 MiB '
    + 'spanning whole page-table pages (flush with freed tables; pt_sync only with munmapSync=true, the '
    + 'no-RCU fallback). The freeing thread is measured.',
  iteration: 'one page-table freeing operation (collapse, unshare or munmap) including the gap before it',
  params: [
    { name: 'walkers', default: 2, type: 'int', min: 0, max: 4095, description: 'GUP-fast walker threads, on CPUs 1..walkers' },
    { name: 'busy', default: 2, type: 'int', min: 0, max: 4095,
      description: 'CPUs after the walkers running a latency-sensitive process of another mm (never idle)' },
    { name: 'iterations', default: 200, type: 'int', min: 1, max: 1e8, description: 'page-table freeing operations' },
    { name: 'op', default: 'mixed', type: 'enum', values: ['mixed', ...OPS],
      description: 'which operation frees tables; mixed: a seeded random choice per iteration' },
    { name: 'walkPages', default: 16, type: 'int', min: 1, max: 1 << 20, description: 'pages per GUP-fast walk' },
    { name: 'walkGapNs', default: 5000, type: 'number', min: 0, max: 1e12,
      description: 'mean user time between two walks of a walker (exponentially distributed)' },
    { name: 'opGapNs', default: 20000, type: 'number', min: 0, max: 1e12,
      description: 'user time of the freeing thread before each operation' },
    { name: 'lazy', default: true, type: 'bool', description: 'idle CPUs previously ran a thread of the process (lazy TLB on its mm)' },
    { name: 'munmapSync', default: false, type: 'bool',
      description: 'munmap also requests a pt_sync (__tlb_remove_table_one fallback instead of RCU freeing)' },
    ...commonParams(8, 2),
  ],
  check(p) {
    return 1 + num(p, 'walkers') + num(p, 'busy') > num(p, 'cpus')
      ? 'ptwalk-sync needs cpus >= 1 + walkers + busy (one CPU for the freeing thread).' : null;
  },
  generate(p, costs) {
    const cpus = num(p, 'cpus');
    const walkers = num(p, 'walkers');
    const busy = num(p, 'busy');
    const iterations = num(p, 'iterations');
    const opParam = str(p, 'op');
    const walkPages = num(p, 'walkPages');
    const walkGap = num(p, 'walkGapNs');
    const opGap = Math.round(num(p, 'opGapNs'));
    const lazy = bool(p, 'lazy');
    const munmapSync = bool(p, 'munmapSync');
    return simulate(cpus, costs, num(p, 'seed'), (sim) => {
      const stop = new Flag();
      const helpersWake = new WaitQueue();
      const threads = new Join();
      const others = new Join();

      function* walker(ctx: TaskCtx) {
        const c = ctx.costs;
        // The buffer this walker pins again and again (e.g. an I/O buffer), populated once.
        const buf = yield* mmap(ctx, walkPages * PAGE_SIZE, PROT_RW);
        yield* touch(ctx, buf, walkPages, c.WRITE_FAULT_NS);
        while (!stop.set) {
          yield run(Math.max(1, ctx.rng.exp(walkGap)));
          if (stop.set) break;
          ctx.emit(EventKind.ptwalk, 1, buf, walkPages);
          yield run(c.GUP_FAST_BASE_NS + walkPages * c.GUP_FAST_PER_PAGE_NS);
          ctx.emit(EventKind.ptwalk, 0, buf, walkPages);
        }
        yield* exitTask(ctx, threads);
      }

      function* helper(ctx: TaskCtx) {
        // A worker of the process that ran briefly on this CPU and went to sleep.
        yield run(ctx.costs.THREAD_CREATE_NS);
        yield* sleepUntil(ctx, helpersWake, () => stop.set);
        yield* exitTask(ctx, threads);
      }

      function* latencySensitive(ctx: TaskCtx) {
        yield spin(stop);
        yield* exitTask(ctx, others);
      }

      // The unrelated process runs from the start of the trace on the busy CPUs.
      let rtMm = -1;
      let rtLeader = 0;
      for (let i = 0; i < busy; i++) {
        others.alive++;
        const t = sim.start({
          comm: 'rt-app', cpu: 1 + walkers + i, program: latencySensitive,
          ...(rtMm < 0 ? {} : { mm: rtMm, tgid: rtLeader }),
        });
        if (rtMm < 0) { rtMm = t.mm; rtLeader = t.tid; }
      }

      function* collapse(ctx: TaskCtx) {
        const c = ctx.costs;
        const addr = yield* mmap(ctx, PMD_SIZE, PROT_RW, PMD_SIZE);
        yield* touch(ctx, addr, PMD_SIZE / PAGE_SIZE, c.WRITE_FAULT_NS);
        ctx.emit(EventKind.madvise, addr, PMD_SIZE, MADV_COLLAPSE);
        yield run(c.SYSCALL_NS);
        // collapse_huge_page: pmdp_collapse_flush (flush_tlb_range: freed tables since
        // 3ef938c35035), then tlb_remove_table_sync_one, then the copy into the huge page.
        flush(ctx, addr, PMD_SIZE / PAGE_SIZE, true);
        ctx.emit(EventKind.pt_sync, addr, PMD_SIZE / PAGE_SIZE, flushFlags(FlushOrigin.synthetic, true));
        yield run(c.COLLAPSE_NS);
      }

      function* unshare(ctx: TaskCtx) {
        const c = ctx.costs;
        // A MAP_SHARED hugetlb mapping that another process also maps: its PMD table is shared.
        const addr = yield* mmap(ctx, PUD_SIZE, PROT_RW, PUD_SIZE);
        yield* touch(ctx, addr, 1, c.READ_FAULT_NS);
        ctx.emit(EventKind.munmap, addr, PMD_SIZE, 0);
        yield run(c.MUNMAP_NS);
        const extra = FlushFlags.UNSHARED_TABLES | FlushFlags.HUGE_STRIDE;
        flush(ctx, addr, PUD_SIZE / PMD_SIZE, false, extra);
        ctx.emit(EventKind.pt_sync, addr, PUD_SIZE / PMD_SIZE, flushFlags(FlushOrigin.synthetic, false, extra));
      }

      function* unmapTables(ctx: TaskCtx) {
        const c = ctx.costs;
        const bytes = 2 * PMD_SIZE;
        const pages = bytes / PAGE_SIZE;
        const addr = yield* mmap(ctx, bytes, PROT_RW, PMD_SIZE);
        yield* touch(ctx, addr, pages, c.WRITE_FAULT_NS);
        yield* munmap(ctx, addr, bytes, pages, true);
        if (munmapSync) ctx.emit(EventKind.pt_sync, addr, pages, flushFlags(FlushOrigin.synthetic, true));
      }

      sim.start({
        comm: 'ptwalk', cpu: 0,
        *program(ctx) {
          for (let w = 0; w < walkers; w++) {
            threads.alive++;
            yield* createThread(ctx, { cpu: 1 + w, program: walker });
          }
          if (lazy) {
            for (let cpu = 1 + walkers + busy; cpu < cpus; cpu++) {
              threads.alive++;
              yield* createThread(ctx, { cpu, program: helper });
            }
          }
          ctx.mark(-1);
          for (let i = 0; i < iterations; i++) {
            const op: Op = opParam === 'mixed' ? ctx.rng.pick(OPS) : (opParam as Op);
            yield run(opGap);
            if (op === 'collapse') yield* collapse(ctx);
            else if (op === 'unshare') yield* unshare(ctx);
            else yield* unmapTables(ctx);
            ctx.mark(i);
          }
          yield setFlag(stop);
          yield wake(helpersWake);
          yield* threads.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
