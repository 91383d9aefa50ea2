// fork-churn: a parent forks children one after another; each child execs a small program
// that starts up and exits. Exercises mm creation and teardown: fork's COW flush of the
// parent, exec dropping the forked copy, exit flushes with freed tables, and CPUs left lazy
// on address spaces that are dying.
import { PAGE_SIZE, PROT_READ, PROT_RW, run, simulate, type TaskCtx } from './scheduler.ts';
import { exitTask, forkProcess, Join, mmap, munmap } from './ops.ts';
import { bool, commonParams, num, type WorkloadDefinition } from './types.ts';

/** What ld.so maps when a small dynamically linked program starts (cf. the sys_mmap lines
 *  after sched_process_exec in traces/real/shared-pingpong-100): ld.so.cache, libc text,
 *  data, bss. Sizes in pages. */
const STARTUP_MAPS: readonly { pages: number; prot: number }[] = [
  { pages: 10, prot: PROT_READ },   // /etc/ld.so.cache (unmapped again below)
  { pages: 482, prot: PROT_READ },  // libc
  { pages: 6, prot: PROT_RW },      // libc .data
  { pages: 13, prot: PROT_RW },     // .bss / TLS
];

export const forkChurn: WorkloadDefinition = {
  name: 'fork-churn',
  description: 'A parent on CPU 0 repeatedly forks a child (COW flush of its own mm), which runs on '
    + 'another CPU (round robin over CPUs 1..cpus-1), execs a small program (the forked copy of the mm '
    + 'is torn down), maps its libraries, unmaps ld.so.cache (a small flush), and exits (teardown flush '
    + 'with freed tables). The parent waits in wait4 meanwhile, so CPU 0 idles lazily on the parent\'s mm '
    + 'and the child\'s CPU on the dead child\'s. exec=false: children exit right after fork.',
  iteration: 'one child: fork, exec, startup, exit, reaped by the parent',
  params: [
    { name: 'iterations', default: 1000, type: 'int', min: 1, max: 1e8, description: 'children forked, one at a time' },
    { name: 'exec', default: true, type: 'bool', description: 'children exec a new program (false: they exit at once)' },
    ...commonParams(2),
  ],
  generate(p, costs) {
    const iterations = num(p, 'iterations');
    const doExec = bool(p, 'exec');
    const cpus = num(p, 'cpus');
    return simulate(cpus, costs, num(p, 'seed'), (sim) => {
      const children = new Join();

      function* child(ctx: TaskCtx) {
        const c = ctx.costs;
        if (doExec) {
          yield run(c.EXEC_NS);
          ctx.exec('true');
          const maps: number[] = [];
          for (const m of STARTUP_MAPS) maps.push(yield* mmap(ctx, m.pages * PAGE_SIZE, m.prot));
          // ld.so.cache was read (its PTEs are present); unmapping it leaves the PTE table in use.
          yield* munmap(ctx, maps[0], STARTUP_MAPS[0].pages * PAGE_SIZE, STARTUP_MAPS[0].pages, false);
          yield run(c.PROCESS_STARTUP_NS);
        }
        yield* exitTask(ctx, children);
      }

      sim.start({
        comm: 'forkchurn', cpu: 0,
        *program(ctx) {
          ctx.mark(-1);
          for (let i = 0; i < iterations; i++) {
            children.alive++;
            const cpu = cpus > 1 ? 1 + (i % (cpus - 1)) : 0;
            yield* forkProcess(ctx, { cpu, program: child });
            yield* children.wait(ctx);
            yield run(ctx.costs.WAIT_REAP_NS);
            ctx.mark(i);
          }
          yield* exitTask(ctx);
        },
      });
    });
  },
};
