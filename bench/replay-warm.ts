// Warm replay speed, in-process, one strategy at a time: the events are generated into
// memory first, each strategy runs twice and the second run is timed (after JIT warm-up).
//   node --import tsx bench/replay-warm.ts [INPUT] [strategy,strategy,...]
// (npm run bench measures cold runs in child processes; this isolates the replay loop.)
import { openInput } from '../src/inputs.ts';
import { Simulator } from '../src/machine/sim.ts';
import { resolveProfile } from '../src/machine/profiles.ts';
import { getStrategy, STRATEGY_NAMES } from '../src/strategies/index.ts';
import type { EventBatch } from '../src/trace/event.ts';
const spec = process.argv[2] ?? 'workload:wis-tlb-flush2:cpus=2,tasks=2,iterations=100000';
const names = process.argv[3] ? process.argv[3].split(',') : [...STRATEGY_NAMES];
const src = await openInput(spec);
const batches: EventBatch[] = [];
for await (const b of src.batches()) batches.push(b);
const n = batches.reduce((a, b) => a + b.length, 0);
const prof = resolveProfile(undefined);
for (let rep = 0; rep < 2; rep++) for (const name of names) {
  const sim = new Simulator(src.info, getStrategy(name), prof, {});
  const t0 = performance.now();
  for (const b of batches) sim.processBatch(b);
  sim.result();
  const dt = performance.now() - t0;
  if (rep === 1) console.log(name.padEnd(20), (n / dt / 1000).toFixed(2), 'M ev/s', n, 'events');
}
