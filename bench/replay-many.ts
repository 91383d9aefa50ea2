// Warm replay speed of the many-CPU cases against a reference measured in the same run.
// The host's speed varies up to 3x within the hour, so every figure is printed with a
// reference taken right next to it: a plain charCodeAt loop (the bench's calibration),
// run before each strategy's replay; `ratio` is the replay's events per second divided by
// the loop's characters per second (x 1000). With ROOT=DIR the simulator is loaded from
// another checkout (a `git archive` copy of a base commit, node_modules linked), so base
// and branch can alternate in one shell loop.
//   node --import tsx/esm bench/replay-many.ts [INPUT...]      (default: the two below)
//   REPS=3 ROOT=/tmp/base node --import tsx/esm bench/replay-many.ts
// Each strategy runs on its own engine copy (as replay() runs long traces), once to warm
// up, then REPS times; the best run is printed (process CPU time, both threads).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.env.ROOT ?? resolve(import.meta.dirname, '..'));
const imp = (p: string) => import(pathToFileURL(resolve(root, p)).href);
const { openInput } = await imp('src/inputs.ts');
const { createSimulator } = await imp('src/replay/isolate.ts');
const { resolveProfile } = await imp('src/machine/profiles.ts');
const { getStrategy, STRATEGY_NAMES } = await imp('src/strategies/index.ts');
const { copyBatch } = await imp('src/trace/event.ts');

const specs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (specs.length === 0) {
  specs.push('workload:wis-tlb-flush2:cpus=256,tasks=256,iterations=123');
  specs.push('workload:wis-tlb-flush2:cpus=2,tasks=2,iterations=100000');
}
const names: string[] = process.env.STRATEGIES ? process.env.STRATEGIES.split(',') : [...STRATEGY_NAMES];
const reps = Number(process.env.REPS ?? 2);
const profile = resolveProfile(undefined);

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const refText = Buffer.alloc(4 << 20, 'sched_switch: prev_comm=a prev_pid=1 ').toString('latin1');
/** ns per character of the reference loop, best of 3. */
function reference(): number {
  let best = Infinity, x = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = cpu();
    for (let i = 0; i < refText.length; i++) x += refText.charCodeAt(i);
    best = Math.min(best, cpu() - t0);
  }
  if (x === 42) console.log('');
  return best * 1e9 / refText.length;
}

for (const spec of specs) {
  const src = await openInput(spec);
  // A reader reuses its batch buffers: keep copies.
  const batches: { length: number }[] = [];
  for await (const b of src.batches()) batches.push(copyBatch(b));
  const n = batches.reduce((a, b) => a + b.length, 0);
  console.log(`${spec}: ${n} events, ${src.info.cpus} CPUs, root ${root}`);
  console.log('strategy              M ev/s   ref ns/char  ratio x1000   cross-call targets/event');
  for (const name of names) {
    const run = async () => {
      const sim = await createSimulator(src.info, getStrategy(name), name, profile, {}, true);
      const t0 = cpu();
      for (const b of batches) sim.processBatch(b);
      const res = sim.result();
      return { s: cpu() - t0, targets: res.metrics.csd_queued as number };
    };
    await run();
    let best = Infinity, refAt = 0, targets = 0;
    for (let r = 0; r < reps; r++) {
      const ref = reference();
      const { s, targets: t } = await run();
      targets = t;
      if (s < best) { best = s; refAt = ref; }
    }
    const rate = n / best;
    const ratio = rate * refAt * 1e-9 * 1000;
    console.log(`${name.padEnd(20)} ${(rate / 1e6).toFixed(3).padStart(7)}   ${refAt.toFixed(2).padStart(11)}  ${ratio.toFixed(3).padStart(11)}   ${(targets / n).toFixed(1)}`);
  }
  src.close();
}
