// Where a warm replay spends its time: V8's sampling profiler around REPS replays of one
// strategy (on its own engine copy, as replay() runs long traces), after WARM unprofiled
// ones. Prints self time per function (inlined functions are attributed to themselves) and
// writes the .cpuprofile (open it in Chrome DevTools or speedscope).
//   node --import tsx bench/replay-profile.ts INPUT STRATEGY [OUT.cpuprofile]
//   e.g. ... workload:wis-tlb-flush2:cpus=256,tasks=256,iterations=56 linux-6.18 .bench/256.cpuprofile
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { openInput } from '../src/inputs.ts';
import { resolveProfile } from '../src/machine/profiles.ts';
import { createSimulator } from '../src/replay/isolate.ts';
import { getStrategy } from '../src/strategies/index.ts';
import { copyBatch, type EventBatch } from '../src/trace/event.ts';

const [spec, name, out] = process.argv.slice(2);
if (!spec || !name) {
  console.error('usage: replay-profile.ts INPUT STRATEGY [OUT.cpuprofile]');
  process.exit(2);
}
const reps = Number(process.env.REPS ?? 3), warm = Number(process.env.WARM ?? 5);
const src = await openInput(spec);
const batches: EventBatch[] = [];
// The reader reuses its buffers: keep copies.
for await (const b of src.batches()) batches.push(copyBatch(b));
const events = batches.reduce((a, b) => a + b.length, 0);
const profile = resolveProfile(undefined);
const run = async () => {
  const sim = await createSimulator(src.info, getStrategy(name), name, profile, {}, true);
  for (const b of batches) sim.processBatch(b);
  sim.result();
};
for (let i = 0; i < warm; i++) await run();

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const t0 = performance.now();
for (let i = 0; i < reps; i++) await run();
const ms = performance.now() - t0;
const { profile: cpu } = await session.post('Profiler.stop');
if (out) writeFileSync(out, JSON.stringify(cpu));

const nodes = new Map(cpu.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
cpu.samples!.forEach((id, i) => {
  const dt = cpu.timeDeltas![i] ?? 0;
  total += dt;
  const f = nodes.get(id)!.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${f.url.split('?')[0].split('/').slice(-2).join('/')}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
console.log(`${name} on ${spec}: ${events} events x ${reps}, ${(events * reps / ms / 1000).toFixed(3)} M ev/s while profiled`);
for (const [k, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${(100 * us / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}
src.close();
