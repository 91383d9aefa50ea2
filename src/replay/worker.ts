// Replay worker: for each pass of replay() (replay.ts), one Simulator per strategy name it
// is given, fed from the shared batches the main thread posts; at the pass's end it posts
// their results and drops them. Loaded through worker-entry.mjs (tsx registration).
import { parentPort, workerData } from 'node:worker_threads';
import { batchFromBuffer, type TraceInfo } from '../trace/event.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { SimOptions, Simulator } from '../machine/sim.ts';
import { getStrategy } from '../strategies/index.ts';
import { createSimulator } from './isolate.ts';

interface Init { profiles: CostProfile[]; info: TraceInfo; simOpts: SimOptions; isolate: boolean; slots: SharedArrayBuffer[] }
/** runs: which strategy under which of `profiles` (id: the run's index in replay()). */
type Message =
  | { t: 'runs'; runs: { name: string; profile: number; id: number }[] }
  | { t: 'batch'; slot: number; length: number }
  | { t: 'end' };

const port = parentPort!;
const init = workerData as Init;
const views = init.slots.map((buf) => batchFromBuffer(buf, 0));
let runs: { id: number }[] = [];
let sims: Simulator[] = [];

async function handle(msg: Message): Promise<void> {
  if (msg.t === 'runs') {
    runs = msg.runs;
    sims = await Promise.all(msg.runs.map((r) => createSimulator(init.info, getStrategy(r.name), r.name, init.profiles[r.profile], init.simOpts, init.isolate)));
  } else if (msg.t === 'batch') {
    const b = views[msg.slot];
    b.length = msg.length;
    for (const s of sims) s.processBatch(b);
    port.postMessage({ t: 'done', slot: msg.slot });
  } else {
    port.postMessage({ t: 'result', results: sims.map((s, i) => ({ id: runs[i].id, result: s.result() })) });
    runs = []; sims = [];
  }
}

// Messages are handled in order: the batches of a pass wait for its simulators to be made.
let chain = Promise.resolve();
port.on('message', (msg: Message) => {
  chain = chain.then(() => handle(msg)).catch((e: unknown) => {
    port.postMessage({ t: 'error', error: (e as Error).stack ?? String(e) });
  });
});
