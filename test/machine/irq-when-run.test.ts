// A TCG guest's vCPUs outnumber the host's cores: an IPI is taken only when the host runs
// the target vCPU, so CSDs from several initiators pile up in its call_single_queue and
// one interrupt handles them (MachineOptions.irqWhenRun, set from the trace header).
//
// Trace (4 CPUs, one process mm 1, threads 10..13 each on its own CPU):
//   e0..e3  each CPU switches to its thread (first loads of mm 1)
//   e4      cpu0 flushes 1 page (gen 1): IPIs to cpus 1, 2, 3 (queues were empty)
//   e5      cpu1 flushes 1 page (gen 2)
//   e6      cpu2 enters madvise (it runs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from '../../src/machine/sim.ts';
import { getProfile } from '../../src/machine/profiles.ts';
import { getStrategy } from '../../src/strategies/index.ts';
import { TB } from './trace-helpers.ts';

function replay(irqWhenRun: boolean) {
  const tb = new TB(4).sw(0, 0, 0, 10, 1).sw(1, 0, 0, 11, 1).sw(2, 0, 0, 12, 1).sw(3, 0, 0, 13, 1)
    .flush(0, 10, 1, 1) // e4
    .flush(1, 11, 1, 1) // e5
    .madvise(2, 12, 1); // e6
  const src = tb.source();
  const sim = new Simulator(src.info, getStrategy('linux-6.12'), getProfile(), { irqWhenRun, implicitAccess: false, hostCpus: 1 });
  return { sim, src };
}

async function run(irqWhenRun: boolean) {
  const { sim, src } = replay(irqWhenRun);
  for await (const b of src.batches()) sim.processBatch(b);
  return sim.result();
}

test('irqWhenRun: queued CSDs are handled in one interrupt; the later ones find the CPU caught up', async () => {
  const now = await run(false), late = await run(true);
  const remote = (r: Awaited<ReturnType<typeof run>>) => r.predicted.tlbFlush['1'] ?? { full: 0, ranged: 0, none: 0 };
  // At once: each of the 5 CSDs (3 from cpu0, 2 more from cpu1 to cpus 2 and 3, cpu1's to
  // cpu0) runs when sent: one generation behind each time, a 1-page INVLPG (reason 1).
  assert.deepEqual([remote(now).full, remote(now).ranged, remote(now).none], [0, 6, 0]);
  // Deferred:
  //  - e5: cpu1 runs, so it first handles e4's CSD (1 behind: INVLPG, reason 1 pages 1);
  //    its own request then reaches cpu0 (an IPI: cpu0's queue is empty) and joins the
  //    queues of cpus 2 and 3 (no IPI there);
  //  - e6: cpu2 takes its interrupt with both CSDs queued: gen 0 -> mm gen 2 is two
  //    generations, so the first does a full flush (reason 1 pages -1); the second finds
  //    new_tlb_gen (2) <= local_tlb_gen (2): the 6.0 early-out, no record;
  //  - cpu0 (cpu1's CSD) and cpu3 (two CSDs) never run again: the end of the trace serves
  //    them: cpu0 one behind (INVLPG, pages 1), cpu3 like cpu2 (full, then nothing).
  assert.deepEqual([remote(late).full, remote(late).ranged, remote(late).none], [2, 2, 0]);
  // Real IPIs: at once, every queue is empty again when the next call comes (3 + 3);
  // deferred, e5 finds e4's CSDs still queued at cpus 2 and 3: an IPI to cpu0 only.
  assert.equal(now.metrics.ipis_sent, 6);
  assert.equal(late.metrics.ipis_sent, 4);
  assert.equal(now.violations.count + late.violations.count, 0);
});
