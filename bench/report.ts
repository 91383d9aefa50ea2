// How long the report takes once the replay is done, and how big it is, for 11 strategies
// on a trace of about a million events (issue 5: under 3 s and under 3 MB).
//   node --import tsx bench/report.ts [workload spec]
import { statSync } from 'node:fs';
import { openInput } from '../src/inputs.ts';
import { replay } from '../src/replay/replay.ts';
import { findViolationEvents } from '../src/analysis/index.ts';

const spec = process.argv[2] ?? 'workload:madv-threads:threads=4,cpus=8,iterations=250000';
const src = await openInput(spec);
const t0 = performance.now();
const results = await replay(src, {});
const violationEvents = await findViolationEvents(src, results);
const t1 = performance.now();
const { writeReport } = await import('../src/report/index.ts');
const t2 = performance.now();
const out = 'reports/out/bench-report.html';
await writeReport({ inputs: [{ info: src.info, results, violationEvents }], profile: 'skylake-laptop' }, out);
const t3 = performance.now();
src.close();
console.log(`${spec}: ${src.info.events} events, ${src.info.cpus} CPUs, ${results.length} strategies`);
console.log(`replay ${((t1 - t0) / 1000).toFixed(2)} s; report modules loaded in ${((t2 - t1) / 1000).toFixed(2)} s; report written in ${((t3 - t2) / 1000).toFixed(2)} s; ${(statSync(out).size / 1e6).toFixed(2)} MB -> ${out}`);
