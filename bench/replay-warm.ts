// Warm replay speed, in-process, one strategy at a time: the events are read into memory
// first; each strategy runs once to warm the JIT, then REPS more times (best one printed).
//   REPS=5 node --import tsx bench/replay-warm.ts ...
//   ISOLATE=1 ...: each strategy on its own engine copy (src/replay/isolate.ts), as replay()
//   runs traces of >= 3 M events; default: one shared copy, as shorter traces run.
//   node --import tsx bench/replay-warm.ts [INPUT] [strategy,strategy,...]
// (npm run bench measures cold runs in child processes; this isolates the replay loop.)
import { openInput } from '../src/inputs.ts';
import { createSimulator } from '../src/replay/isolate.ts';
import { resolveProfile } from '../src/machine/profiles.ts';
import { getStrategy, STRATEGY_NAMES } from '../src/strategies/index.ts';
import { copyBatch, type EventBatch } from '../src/trace/event.ts';
const spec = process.argv[2] ?? 'workload:wis-tlb-flush2:cpus=2,tasks=2,iterations=100000';
const names = process.argv[3] ? process.argv[3].split(',') : [...STRATEGY_NAMES];
const src = await openInput(spec);
const batches: EventBatch[] = [];
// A trace reader reuses its batch buffers (a yielded batch is valid until the next one is
// requested): keep copies, or the replay reads whatever the reader wrote there later.
for await (const b of src.batches()) batches.push(copyBatch(b));
const n = batches.reduce((a, b) => a + b.length, 0);
const prof = resolveProfile(undefined);
const isolate = process.env.ISOLATE === '1';
// Run 0 of every strategy warms the JIT (and, as in a worker that replays several
// strategies, makes the strategy hooks' call sites polymorphic); the best of runs
// 1..REPS (REPS=3 unless set) is printed.
const reps = Number(process.env.REPS ?? 3);
const best = names.map(() => Infinity);
for (let rep = 0; rep <= reps; rep++) {
  for (const [k, name] of names.entries()) {
    const sim = await createSimulator(src.info, getStrategy(name), name, prof, {}, isolate);
    const t0 = performance.now();
    for (const b of batches) sim.processBatch(b);
    sim.result();
    const dt = performance.now() - t0;
    if (rep > 0 && dt < best[k]) best[k] = dt;
  }
}
names.forEach((name, k) => {
  const rate = n / best[k] / 1000;
  console.log(name.padEnd(20), rate.toFixed(rate < 1 ? 3 : 2), 'M ev/s', n, 'events');
});
