// ping-pong: two processes (two mms) pinned to the same CPU bounce a token through eventfds
// (Lutomirski's PCID v4 cover letter; traces/real/workloads/pingpong.c).
import { PAGE_SIZE, PROT_READ, simulate, type TaskCtx } from './scheduler.ts';
import { Channel, exitTask, forkProcess, Join, mmap, touch } from './ops.ts';
import { commonParams, num, type WorkloadDefinition } from './types.ts';

export const pingPong: WorkloadDefinition = {
  name: 'ping-pong',
  description: 'Two processes (two mms) on the same CPU bounce a token through eventfds; each side '
    + 'touches `pages` distinct pages of an untouched read-only mapping (all the zero page) per '
    + 'iteration. Every round trip is two user→user mm switches with no idle in between. The '
    + 'parent is measured; a warm-up round trip (first-touch faults) precedes iteration 0.',
  iteration: 'one round trip A→B→A (2 context switches, 2 × pages touches)',
  params: [
    { name: 'pages', default: 0, type: 'int', min: 0, max: 1 << 20,
      description: 'distinct pages each side touches per iteration (Andy used 0 and 512)' },
    { name: 'iterations', default: 10000, type: 'int', min: 1, max: 1e9, description: 'measured round trips' },
    ...commonParams(2),
  ],
  generate(p, costs) {
    const pages = num(p, 'pages');
    const iterations = num(p, 'iterations');
    return simulate(num(p, 'cpus'), costs, num(p, 'seed'), (sim) => {
      const toChild = new Channel();
      const toParent = new Channel();
      const children = new Join();
      const bytes = Math.max(pages, 1) * PAGE_SIZE;

      function* child(ctx: TaskCtx) {
        const region = yield* mmap(ctx, bytes, PROT_READ);
        for (let i = -1; i < iterations; i++) {
          yield* toChild.read(ctx);
          yield* touch(ctx, region, pages, i < 0 ? ctx.costs.READ_FAULT_NS : 0);
          yield* toParent.write(ctx);
        }
        yield* exitTask(ctx, children);
      }

      sim.start({
        comm: 'pingpong', cpu: 0,
        *program(ctx) {
          children.alive++;
          yield* forkProcess(ctx, { cpu: 0, program: child });
          const region = yield* mmap(ctx, bytes, PROT_READ);
          for (let i = -1; i < iterations; i++) {
            yield* touch(ctx, region, pages, i < 0 ? ctx.costs.READ_FAULT_NS : 0);
            yield* toChild.write(ctx);
            yield* toParent.read(ctx);
            ctx.mark(i);
          }
          yield* children.wait(ctx);
          yield* exitTask(ctx);
        },
      });
    });
  },
};
