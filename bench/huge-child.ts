// Child process of bench/huge.ts: read a trace, replay it under the given strategies on
// worker threads, print what happened and this process's peak RSS as JSON.
import { openTrace } from '../src/trace/index.ts';
import { replay } from '../src/replay/replay.ts';

const [path, strategies] = process.argv.slice(2);
let t0 = performance.now();
const trace = await openTrace(path);
const ingestS = (performance.now() - t0) / 1000;
t0 = performance.now();
const results = await replay(trace, { strategies: strategies.split(','), workers: 'auto' });
const replayS = (performance.now() - t0) / 1000;
trace.close();
console.log(JSON.stringify({
  skippedLines: trace.info.skippedLines, events: trace.info.events, ingestS, replayS,
  // ru_maxrss covers the worker threads too: they are threads of this process.
  peakRssMB: process.resourceUsage().maxRSS / 1024,
  strategies: results.map((r) => `${r.strategy.name}: ${r.events} events, ${r.metrics.ipis_sent} IPIs`),
}));
