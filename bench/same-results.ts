// Guard for hot-path work: replays every real fixture and a few generated workloads under
// every strategy and writes the RunResult JSON (plus each input's TraceInfo) to one file.
// Run it before an optimisation with --save, after it with --check: any difference in any
// counter, histogram, timeline or note is printed and the exit code is 1.
//   node --import tsx bench/same-results.ts --save .bench/results-before.json
//   node --import tsx bench/same-results.ts --check .bench/results-before.json
//   --wide (after FILE): also every lab recording (traces/lab) and generated workloads at
//   2, 8, 64 and 256 CPUs (one mm on every CPU, processes, lazy and idle CPUs, freed
//   tables, page-table sync), the inputs the per-target cross-call work depends on.
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openInput } from '../src/inputs.ts';
import { replay } from '../src/replay/replay.ts';

const args = process.argv.slice(2);
const mode = args[0];
const file = args[1];
if ((mode !== '--save' && mode !== '--check') || !file) {
  console.error('usage: same-results.ts --save FILE | --check FILE');
  process.exit(2);
}

const inputs: string[] = [];
for (const dir of readdirSync('traces/real').sort()) {
  const d = join('traces/real', dir);
  for (const f of ['trace.txt.gz', 'perf.txt.gz', 'trace-cmd.txt.gz']) if (existsSync(join(d, f))) inputs.push(join(d, f));
}
inputs.push('workload:wis-tlb-flush2:cpus=8,tasks=8,iterations=600');
inputs.push('workload:ping-pong');
inputs.push('workload:fork-churn');
if (args.includes('--wide')) {
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.txt.gz')) inputs.push(f);
    }
  };
  walk('traces/lab');
  for (const cpus of [2, 8, 64, 256]) {
    inputs.push(`workload:wis-tlb-flush2:cpus=${cpus},tasks=${cpus},iterations=${cpus >= 64 ? 40 : 600}`);
    inputs.push(`workload:madv-threads:cpus=${cpus},threads=${cpus},iterations=${cpus >= 64 ? 200 : 2000}`);
    inputs.push(`workload:wis-context-switch1:cpus=${cpus},tasks=${cpus / 2},iterations=${cpus >= 64 ? 50 : 500}`);
    inputs.push(`workload:pthread-mmap:cpus=${cpus},threads=${cpus * 2},rounds=${cpus >= 64 ? 4 : 20},mb=16`);
  }
  inputs.push('workload:wis-tlb-flush2:mode=processes,cpus=256,tasks=256,iterations=20');
  inputs.push('workload:wis-tlb-flush2:cpus=256,tasks=100,iterations=40');
  inputs.push('workload:fork-churn:cpus=64,iterations=300');
  inputs.push('workload:ptwalk-sync:cpus=64,walkers=8,busy=8,iterations=100');
  inputs.push('workload:ptwalk-sync:cpus=256,walkers=16,busy=32,iterations=40,lazy=false');
  inputs.push('workload:madv-dontneed-switch:cpus=8,iterations=2000');
}

const out: Record<string, unknown> = {};
for (const spec of inputs) {
  const src = await openInput(spec);
  try {
    const results = await replay(src, { workers: 1 });
    const { source: _s, ...info } = src.info;
    out[spec] = { info, results };
  } finally { src.close(); }
}

if (mode === '--save') {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out));
  console.log(`saved ${inputs.length} inputs to ${file}`);
} else {
  const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const after = JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
  let diffs = 0;
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (diffs > 40) return;
    if (typeof a !== typeof b || (a === null) !== (b === null) || Array.isArray(a) !== Array.isArray(b)) {
      diffs++; console.log(`${path}: ${JSON.stringify(a)?.slice(0, 120)} -> ${JSON.stringify(b)?.slice(0, 120)}`); return;
    }
    if (a !== null && typeof a === 'object') {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of keys) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    } else if (a !== b) {
      diffs++; console.log(`${path}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
    }
  };
  walk(before, after, '');
  if (diffs > 0) { console.log(`DIFFERENT (${diffs}+ differences)`); process.exit(1); }
  console.log(`same results on ${inputs.length} inputs`);
}
