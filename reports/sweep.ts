// How each strategy scales with threads and CPUs: madv-threads (one thread flushes, the
// others spin on their own CPUs) and wis-tlb-flush2 in threads mode (every thread flushes),
// each with N threads on N CPUs for N = 1, 2, 4 ... 256. Writes a CSV and a self-contained
// HTML page (SVG charts rendered here; no script runs in the page).
//
//   node --import tsx reports/sweep.ts [--sizes 1,2,4,...,256] [--workloads madv-threads,wis-tlb-flush2]
//        [-s linux-4.13,linux-5.13,...] [--profile NAME] [--iterations N] [-o reports/out/sweep]
//
// Reading the charts: iteration_ns is the measured thread's time per iteration (work plus
// what the strategy charged to it). A point drawn hollow is "saturated": some CPU spent
// more than 90% of the run in cross-call handlers. The replay is open-loop (the trace's
// timing does not slow down when the machine falls behind), so a saturated point's
// backlog keeps growing with the run and its iteration_ns is an upper bound, not a rate.
// linux-6.15-invlpgb switches an mm to broadcast flushes only once consider_global_asid()
// fires ((pid & 31) == (jiffies & 31)); the global_asids column says whether it did.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { openInput } from '../src/inputs.ts';
import { getProfile } from '../src/machine/profiles.ts';
import { replay } from '../src/replay/replay.ts';
import { STRATEGY_NAMES } from '../src/strategies/index.ts';

const WORKLOADS = ['madv-threads', 'wis-tlb-flush2'] as const;
type Workload = (typeof WORKLOADS)[number];
const DEFAULT_STRATEGIES = ['linux-4.13', 'linux-4.20', 'linux-5.13', 'async-rfc-2019', 'linux-6.18', 'linux-6.15-invlpgb'];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,2,4,8,16,32,64,128,256' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    s: { type: 'string', short: 's', default: DEFAULT_STRATEGIES.join(',') },
    profile: { type: 'string' },
    iterations: { type: 'string' },
    o: { type: 'string', short: 'o', default: 'reports/out/sweep' },
  },
});

function fail(msg: string): never {
  process.stderr.write(`sweep: ${msg}\n`);
  process.exit(2);
}

const sizes = values.sizes.split(',').map((x) => Number(x.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) fail(`--sizes wants whole numbers from 1 to 4096, got "${values.sizes}"`);
const workloads = values.workloads.split(',').map((w) => w.trim());
for (const w of workloads) if (!(WORKLOADS as readonly string[]).includes(w)) fail(`unknown workload "${w}" (known: ${WORKLOADS.join(', ')})`);
const strategies = values.s.split(',').map((x) => x.trim());
for (const s of strategies) if (!STRATEGY_NAMES.includes(s)) fail(`unknown strategy "${s}" (known: ${STRATEGY_NAMES.join(', ')})`);
const profile = getProfile(values.profile);
const fixedIterations = values.iterations === undefined ? undefined : Number(values.iterations);
if (fixedIterations !== undefined && (!Number.isInteger(fixedIterations) || fixedIterations < 1)) fail('--iterations wants a whole number >= 1');

/** Iterations per run: long enough (> 32 ms of trace time) for the global-ASID check to
 *  fire in small runs; wis-tlb-flush2 runs N flushing threads, so it needs fewer each. */
function iterationsFor(w: Workload, n: number): number {
  if (fixedIterations !== undefined) return fixedIterations;
  if (w === 'madv-threads') return 12000;
  return Math.max(256, Math.ceil(8192 / n / 256) * 256);
}

function specFor(w: Workload, n: number): string {
  const it = iterationsFor(w, n);
  return w === 'madv-threads'
    ? `workload:madv-threads:threads=${n},cpus=${n},iterations=${it}`
    : `workload:wis-tlb-flush2:mode=threads,tasks=${n},cpus=${n},iterations=${it}`;
}

interface Row {
  workload: string; threads: number; strategy: string; iterations: number;
  iteration_ns: number; ipis_per_iteration: number; initiator_wait_ns_per_flush: number;
  global_asids: number; coherence_violations: number; saturated: boolean;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const rows: Row[] = [];
for (const w of workloads as Workload[]) {
  for (const n of sizes) {
    const spec = specFor(w, n);
    process.stderr.write(`sweep: ${spec}\n`);
    const input = await openInput(spec);
    const results = await replay(input, { strategies, profile, workers: 'auto' });
    input.close();
    for (const r of results) {
      const m = r.metrics;
      const span = r.timeline.bucketNs * r.timeline.metrics.ipis_sent.length;
      const busiest = Math.max(...r.perCpu.ipi_handler_ns);
      rows.push({
        workload: w, threads: n, strategy: r.strategy.name, iterations: iterationsFor(w, n),
        iteration_ns: round1(m.iteration_ns),
        ipis_per_iteration: round1(m.ipis_sent / iterationsFor(w, n)),
        initiator_wait_ns_per_flush: round1(m.flush_requests > 0 ? m.initiator_wait_ns / m.flush_requests : 0),
        global_asids: m.global_asids,
        coherence_violations: m.coherence_violations,
        saturated: span > 0 && busiest > 0.9 * span,
      });
    }
  }
}

mkdirSync(values.o, { recursive: true });
const columns = Object.keys(rows[0] ?? {}) as (keyof Row)[];
const csv = [columns.join(','), ...rows.map((r) => columns.map((c) => String(r[c])).join(','))].join('\n') + '\n';
writeFileSync(join(values.o, 'sweep.csv'), csv);

async function chart(workload: string, field: 'iteration_ns' | 'ipis_per_iteration', title: string): Promise<string> {
  const data = rows.filter((r) => r.workload === workload).map((r) => ({ ...r, state: r.saturated ? 'saturated (upper bound)' : 'keeps up' }));
  const spec: vl.TopLevelSpec = {
    title, width: 520, height: 300, data: { values: data },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: { field: 'threads', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'threads = CPUs' },
      y: { field, type: 'quantitative', scale: { type: 'symlog' }, title: field.replace(/_/g, ' ') },
      color: { field: 'strategy', type: 'nominal' },
      shape: { field: 'state', type: 'nominal', title: 'replay' },
      tooltip: [{ field: 'strategy' }, { field: 'threads' }, { field, format: '.1f' }],
    },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const sections: string[] = [];
for (const w of workloads) {
  sections.push(`<h2>${esc(w)}</h2>`);
  sections.push(await chart(w, 'iteration_ns', `${w}: time per iteration of the measured thread`));
  sections.push(await chart(w, 'ipis_per_iteration', `${w}: IPIs sent per iteration`));
}
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlbsim sweep</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}svg{display:block;margin:1em 0}</style></head>
<body><h1>How each strategy scales with threads and CPUs</h1>
<p>Profile ${esc(profile.name)}; strategies ${esc(strategies.join(', '))}; N threads on N CPUs. Hollow points: some CPU spent more than 90% of the run in cross-call handlers; the open-loop replay lets that backlog grow, so those values are upper bounds. Data: sweep.csv.</p>
${sections.join('\n')}
</body></html>
`;
writeFileSync(join(values.o, 'sweep.html'), html);
process.stderr.write(`sweep: wrote ${join(values.o, 'sweep.csv')} and ${join(values.o, 'sweep.html')}\n`);
