// Where a cold replay's CPU goes, one strategy after the other in one process, each on its
// own engine copy (as replay() and the bench's replay stage run traces of >= 3 M events):
// loading the copy, the first 10% of the events (the JIT warms up), the rest, and the CPU
// of the process's other threads (V8's background compiler: TurboFan jobs run there, and
// the bench counts them, as it counts every thread of the stage's process).
//   node --import tsx/esm bench/replay-cold.ts [INPUT] [strategy,strategy,...]
// Linux only (per-thread CPU from /proc/self/task/*/stat, 10 ms ticks).
import { readdirSync, readFileSync } from 'node:fs';
import { openInput } from '../src/inputs.ts';
import { resolveProfile } from '../src/machine/profiles.ts';
import { createSimulator } from '../src/replay/isolate.ts';
import { STRATEGY_NAMES, getStrategy } from '../src/strategies/index.ts';
import { copyBatch, type EventBatch } from '../src/trace/event.ts';

const spec = process.argv[2] ?? 'workload:wis-tlb-flush2:cpus=2,tasks=2,iterations=568887';
const names = process.argv[3] ? process.argv[3].split(',') : [...STRATEGY_NAMES];

/** CPU ms of this process's main thread and of all its other threads. */
function threadCpu(): { main: number; others: number } {
  let main = 0, others = 0;
  for (const t of readdirSync('/proc/self/task')) {
    let stat: string;
    try { stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8'); } catch { continue; } // thread ended
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ = 100
    if (t === String(process.pid)) main += ms; else others += ms;
  }
  return { main, others };
}
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };

const src = await openInput(spec);
const batches: EventBatch[] = [];
// A reader reuses its batch buffers: keep copies.
for await (const b of src.batches()) batches.push(copyBatch(b));
const events = batches.reduce((a, b) => a + b.length, 0);
const cut = Math.max(1, Math.round(batches.length / 10));
const firstEvents = batches.slice(0, cut).reduce((a, b) => a + b.length, 0);
const profile = resolveProfile(undefined);
console.log(`${spec}: ${events} events; M ev/s per CPU second; first = the first ${cut} of ${batches.length} batches`);
console.log('strategy'.padEnd(20), 'load ms', ' first', '  rest', ' total', ' main ms', ' other threads ms');
for (const name of names) {
  const th0 = threadCpu(), c0 = cpuMs();
  const sim = await createSimulator(src.info, getStrategy(name), name, profile, {}, true);
  const c1 = cpuMs();
  for (let i = 0; i < cut; i++) sim.processBatch(batches[i]);
  const c2 = cpuMs();
  for (let i = cut; i < batches.length; i++) sim.processBatch(batches[i]);
  sim.result();
  const c3 = cpuMs(), th1 = threadCpu();
  const rate = (n: number, ms: number) => (n / ms / 1e3).toFixed(2).padStart(6);
  console.log(name.padEnd(20), (c1 - c0).toFixed(0).padStart(7), rate(firstEvents, c2 - c1), rate(events - firstEvents, c3 - c2),
    rate(events, c3 - c0), String(th1.main - th0.main).padStart(8), String(th1.others - th0.others).padStart(17));
}
src.close();
