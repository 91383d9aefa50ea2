// Replay worker: one Simulator per strategy name, fed from the shared batches the main
// thread posts (see replay.ts). Loaded through worker-entry.mjs (tsx registration).
import { parentPort, workerData } from 'node:worker_threads';
import { batchFromBuffer, type TraceInfo } from '../trace/event.ts';
import type { CostProfile } from '../machine/profiles.ts';
import type { SimOptions } from '../machine/sim.ts';
import { getStrategy } from '../strategies/index.ts';
import { createSimulator } from './isolate.ts';

/** runs: which strategy under which of `profiles` (id: the run's index in replay()). */
interface Init { runs: { name: string; profile: number; id: number }[]; profiles: CostProfile[]; info: TraceInfo; simOpts: SimOptions; isolate: boolean; slots: SharedArrayBuffer[] }

const port = parentPort!;
try {
  const init = workerData as Init;
  const sims = await Promise.all(init.runs.map((r) => createSimulator(init.info, getStrategy(r.name), r.name, init.profiles[r.profile], init.simOpts, init.isolate)));
  const views = init.slots.map((buf) => batchFromBuffer(buf, 0));
  port.on('message', (msg: { t: string; slot?: number; length?: number }) => {
    try {
      if (msg.t === 'batch') {
        const b = views[msg.slot!];
        b.length = msg.length!;
        for (const s of sims) s.processBatch(b);
        port.postMessage({ t: 'done', slot: msg.slot });
      } else if (msg.t === 'end') {
        port.postMessage({ t: 'result', results: sims.map((s, i) => ({ id: init.runs[i].id, result: s.result() })) });
      }
    } catch (e) {
      port.postMessage({ t: 'error', error: (e as Error).stack ?? String(e) });
    }
  });
} catch (e) {
  port.postMessage({ t: 'error', error: (e as Error).stack ?? String(e) });
}
