// The machine runs a synchronous flush cross-call's handler itself on targets in the plain
// state (Strategy.remoteFlushShape; Machine.sendIpis and plainRemoteFlush). It must change
// exactly what the strategy's own onFlushIpi would: every strategy replays each input twice,
// as registered and with the shortcut refused (every target through onFlushIpi), and the
// two results must be equal in every counter, histogram, timeline and note. The first run
// must also have taken the shortcut where the strategy offers it (fewer handler calls than
// cross-call targets), or the comparison would prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { Simulator } from '../../src/machine/sim.ts';
import { getProfile } from '../../src/machine/profiles.ts';
import { RemoteFlush, type StrategyDefinition } from '../../src/machine/strategy.ts';
import { STRATEGY_NAMES, getStrategy } from '../../src/strategies/index.ts';
import type { EventBatch } from '../../src/trace/event.ts';
import { copyBatch } from '../../src/trace/event.ts';

const INPUTS: [string, string?][] = [
  // one mm on 16 CPUs: every flush reaches 15 targets that run it
  ['workload:wis-tlb-flush2:cpus=16,tasks=16,iterations=40'],
  // the same on three sockets (18 CPUs each): transfers priced by distance
  ['workload:wis-tlb-flush2:cpus=40,tasks=40,iterations=20', 'haswell-server'],
  // threads that sleep: lazy and idle targets, stale mm_cpumask bits
  ['workload:madv-threads:cpus=8,threads=8,iterations=200'],
  // a real recording (Linux 6.18, implicit accesses: refills under running tasks)
  ['traces/real/madvthreads-2/trace.txt.gz'],
];

async function load(spec: string) {
  const src = await openInput(spec);
  const batches: EventBatch[] = [];
  for await (const b of src.batches()) batches.push(copyBatch(b));
  src.close();
  return { info: src.info, batches };
}

/** Replays under `def`, counting the strategy's onFlushIpi calls. */
function run(input: Awaited<ReturnType<typeof load>>, def: StrategyDefinition, profile: string | undefined, refuse: boolean) {
  let handlerCalls = 0;
  const counted: StrategyDefinition = {
    ...def,
    create: (m) => {
      const s = def.create(m);
      const onFlushIpi = s.onFlushIpi.bind(s);
      s.onFlushIpi = (cpu, req) => { handlerCalls++; onFlushIpi(cpu, req); };
      if (refuse) s.remoteFlushShape = () => RemoteFlush.handler;
      return s;
    },
  };
  const sim = new Simulator(input.info, counted, getProfile(profile));
  for (const b of input.batches) sim.processBatch(b);
  return { result: sim.result(), handlerCalls };
}

for (const [spec, profile] of INPUTS) {
  test(`plain remote flushes run by the machine equal the strategies' handlers: ${spec}${profile ? ` (${profile})` : ''}`, async () => {
    const input = await load(spec);
    for (const name of STRATEGY_NAMES) {
      const def = getStrategy(name);
      const fast = run(input, def, profile, false), slow = run(input, def, profile, true);
      assert.deepEqual(fast.result, slow.result, `${name} on ${spec}`);
      const targets = slow.result.metrics.csd_queued;
      if (spec.includes('wis-tlb-flush2') && name !== 'linux-6.15-invlpgb' && name !== 'async-rfc-2019') {
        assert.ok(targets > 0 && fast.handlerCalls < targets / 2, `${name}: the shortcut ran (${fast.handlerCalls} handler calls for ${targets} targets)`);
      }
    }
  });
}
