// Warm replay speed, in-process, one strategy at a time: the events are generated into
// memory first, each strategy runs twice and the second run is timed (after JIT warm-up).
//   node --import tsx bench/replay-warm.ts [INPUT] [strategy,strategy,...]
// (npm run bench measures cold runs in child processes; this isolates the replay loop.)
import { openInput } from '../src/inputs.ts';
import { Simulator } from '../src/machine/sim.ts';
import { resolveProfile } from '../src/machine/profiles.ts';
import { getStrategy, STRATEGY_NAMES } from '../src/strategies/index.ts';
import { createBatch, type EventBatch } from '../src/trace/event.ts';
const spec = process.argv[2] ?? 'workload:wis-tlb-flush2:cpus=2,tasks=2,iterations=100000';
const names = process.argv[3] ? process.argv[3].split(',') : [...STRATEGY_NAMES];
const src = await openInput(spec);
const batches: EventBatch[] = [];
// A trace reader reuses its batch buffers (a yielded batch is valid until the next one is
// requested): keep copies, or the replay reads whatever the reader wrote there later.
for await (const b of src.batches()) batches.push(copyBatch(b));
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

function copyBatch(b: EventBatch): EventBatch {
  const c = createBatch(Math.max(1, b.length));
  c.length = b.length;
  c.kind.set(b.kind.subarray(0, b.length)); c.cpu.set(b.cpu.subarray(0, b.length));
  c.time.set(b.time.subarray(0, b.length)); c.tid.set(b.tid.subarray(0, b.length));
  c.mm.set(b.mm.subarray(0, b.length));
  c.a.set(b.a.subarray(0, b.length)); c.b.set(b.b.subarray(0, b.length)); c.c.set(b.c.subarray(0, b.length));
  return c;
}
