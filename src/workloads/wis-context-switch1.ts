// wis-context-switch1: will-it-scale context_switch1 ("Context switch via pipes"), laid out
// as in Nick Piggin's worst case for lazy-mm refcounting (context_switch1_threads -t nproc/2):
// each pair's two tasks sit on two CPUs, so every CPU alternates task → idle → task.
import { run, simulate, type TaskCtx, type TaskProgram } from './scheduler.ts';
import { Channel, createThread, exitTask, forkProcess, Join } from './ops.ts';
import { commonParams, num, str, type WorkloadDefinition } from './types.ts';

export const wisContextSwitch1: WorkloadDefinition = {
  name: 'wis-context-switch1',
  description: 'will-it-scale context_switch1: `tasks` pairs ping-pong one byte through two pipes. '
    + 'Pair k\'s parent runs on CPU 2k and its child on CPU 2k+1 (the partners of a pair bound to one '
    + 'SMT core land on the two siblings), so each CPU does task→idle→task on every handoff and each '
    + 'wake-up reaches an idle CPU. mode=threads: every task is a thread of one process (one mm); '
    + 'mode=processes: every task is its own process. Pair 0\'s parent is measured.',
  iteration: 'one round trip of pair 0: parent → child → parent (will-it-scale counts it as 2)',
  params: [
    { name: 'mode', default: 'threads', type: 'enum', values: ['threads', 'processes'],
      description: 'threads: one mm for all tasks; processes: one mm per task' },
    { name: 'tasks', default: 2, type: 'int', min: 1, max: 32768,
      description: 'pairs (will-it-scale -t); pair k uses CPUs 2k and 2k+1' },
    { name: 'iterations', default: 10000, type: 'int', min: 1, max: 1e9, description: 'round trips per pair' },
    ...commonParams(4, 2),
  ],
  check(p) {
    return 2 * num(p, 'tasks') > num(p, 'cpus') ? 'wis-context-switch1 needs cpus >= 2 × tasks (two CPUs per pair).' : null;
  },
  generate(p, costs) {
    const threads = str(p, 'mode') === 'threads';
    const pairs = num(p, 'tasks');
    const iterations = num(p, 'iterations');
    return simulate(num(p, 'cpus'), costs, num(p, 'seed'), (sim) => {
      const parents = new Join();

      function* spawn(ctx: TaskCtx, cpu: number, program: TaskProgram) {
        if (threads) yield* createThread(ctx, { cpu, program });
        else yield* forkProcess(ctx, { cpu, program });
      }

      /** Pair k's parent: start the child, ping-pong, wait for the child. */
      function* pair(ctx: TaskCtx, k: number) {
        const down = new Channel(true);
        const up = new Channel(true);
        const child = new Join();
        child.alive = 1;
        yield* spawn(ctx, 2 * k + 1, function* (cctx: TaskCtx) {
          for (let i = 0; i < iterations; i++) {
            yield* down.read(cctx);
            yield* up.write(cctx);
          }
          yield* exitTask(cctx, child);
        });
        // The pairs start together but not in lockstep: up to one handoff apart.
        yield run(ctx.rng.int(2 * (ctx.costs.SYSCALL_NS + ctx.costs.PIPE_EXTRA_NS) + ctx.costs.REMOTE_WAKEUP_NS));
        if (k === 0) ctx.mark(-1);
        for (let i = 0; i < iterations; i++) {
          yield* down.write(ctx);
          yield* up.read(ctx);
          if (k === 0) ctx.mark(i);
        }
        yield* child.wait(ctx);
      }

      sim.start({
        comm: 'context_switch1', cpu: 0,
        *program(ctx) {
          for (let k = 1; k < pairs; k++) {
            parents.alive++;
            yield* spawn(ctx, 2 * k, function* (pctx: TaskCtx) {
              yield* pair(pctx, k);
              yield* exitTask(pctx, parents);
            });
          }
          yield* pair(ctx, 0);
          yield* parents.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
