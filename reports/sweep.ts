// How each strategy scales with threads and CPUs: madv-threads (one thread flushes, the
// others spin on their own CPUs) and wis-tlb-flush2 in threads mode (every thread flushes),
// each with N threads on N CPUs for N = 1, 2, 4, 8, 12 ... 256. Prints, per workload, the measured
// thread's iteration_ns and the initiator wait per shootdown by CPU count and strategy;
// writes a CSV and a self-contained HTML page (SVG charts rendered here; no script runs in
// the page).
//
//   node --import tsx reports/sweep.ts [--sizes 1,2,4,8,12,...,256] [--workloads madv-threads,wis-tlb-flush2]
//        [-s linux-4.13,linux-5.13,...] [--profile NAME] [--iterations N] [-o reports/out/sweep]
//
// Reading the numbers: iteration_ns is the measured thread's time per iteration (work plus
// what the strategy charged to it: its own waits and the handlers it ran for the other
// threads). wait_per_shootdown_ns is initiator_wait_ns per flush request (DONTNEEDs and
// the munmap per 1 MiB). handler_share is the part of the measured thread's loop spent in
// cross-call handlers for the others: in wis-tlb-flush2 threads mode it approaches 1 as
// N grows, the machine's real limit (every CPU serves N-1 shootdowns per iteration).
// Cross-calls are timed in delayed time (machine.ts, "cross-calls"): slowed initiators
// send later, so the curves are rates that do not depend on the length of the run.
// linux-6.15-invlpgb switches an mm to broadcast flushes only once consider_global_asid()
// fires ((pid & 31) == (jiffies & 31)); the global_asids column says whether it did.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { analyse } from '../src/pipeline.ts';
import { getProfile } from '../src/machine/profiles.ts';
import { STRATEGY_NAMES } from '../src/strategies/index.ts';

const WORKLOADS = ['madv-threads', 'wis-tlb-flush2'] as const;
type Workload = (typeof WORKLOADS)[number];
const DEFAULT_STRATEGIES = ['linux-4.13', 'linux-4.20', 'linux-5.13', 'async-rfc-2019', 'linux-6.18', 'linux-6.15-invlpgb'];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,2,4,8,12,16,24,32,36,48,64,96,128,192,256' },
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
  handler_share: number; global_asids: number; coherence_violations: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const rows: Row[] = [];
for (const w of workloads as Workload[]) {
  for (const n of sizes) {
    const spec = specFor(w, n);
    process.stderr.write(`sweep: ${spec}\n`);
    const { inputs: [{ results }] } = await analyse([spec], { strategies, profile, workers: 'auto', calibration: false });
    for (const r of results) {
      const m = r.metrics;
      // The measured thread runs on CPU 0.
      const loopNs = m.iteration_ns * iterationsFor(w, n);
      rows.push({
        workload: w, threads: n, strategy: r.strategy.name, iterations: iterationsFor(w, n),
        iteration_ns: round1(m.iteration_ns),
        ipis_per_iteration: round1(m.ipis_sent / iterationsFor(w, n)),
        initiator_wait_ns_per_flush: round1(m.flush_requests > 0 ? m.initiator_wait_ns / m.flush_requests : 0),
        handler_share: loopNs > 0 ? Math.round(100 * r.perCpu.ipi_handler_ns[0] / loopNs) / 100 : 0,
        global_asids: m.global_asids,
        coherence_violations: m.coherence_violations,
      });
    }
  }
}

mkdirSync(values.o, { recursive: true });
const columns = Object.keys(rows[0] ?? {}) as (keyof Row)[];
const csv = [columns.join(','), ...rows.map((r) => columns.map((c) => String(r[c])).join(','))].join('\n') + '\n';
writeFileSync(join(values.o, 'sweep.csv'), csv);

// The curves as text: one table per workload, a row per CPU count, per strategy
// "iteration_ns / wait per shootdown" in microseconds.
const us = (ns: number) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
for (const w of workloads) {
  const names = strategies;
  const head = ['CPUs', ...names];
  const body = sizes.map((n) => [String(n), ...names.map((s) => {
    const r = rows.find((x) => x.workload === w && x.threads === n && x.strategy === s);
    return r === undefined ? '-' : `${us(r.iteration_ns)} / ${us(r.initiator_wait_ns_per_flush)}`;
  })]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(width[i])).join('  ');
  process.stdout.write(`\n${w}: iteration_ns / initiator wait per shootdown (us), profile ${profile.name}\n`);
  process.stdout.write(line(head) + '\n' + body.map(line).join('\n') + '\n');
}

async function chart(workload: string, field: 'iteration_ns' | 'ipis_per_iteration' | 'initiator_wait_ns_per_flush', title: string): Promise<string> {
  const data = rows.filter((r) => r.workload === workload);
  const spec: vl.TopLevelSpec = {
    title, width: 520, height: 300, data: { values: data },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: { field: 'threads', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'threads = CPUs' },
      y: { field, type: 'quantitative', scale: { type: 'symlog' }, title: field.replace(/_/g, ' ') },
      color: { field: 'strategy', type: 'nominal' },
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
  // Every thread of wis-tlb-flush2 threads mode initiates: how long each waits for its acks.
  if (w === 'wis-tlb-flush2') sections.push(await chart(w, 'initiator_wait_ns_per_flush', `${w}: initiator wait per shootdown`));
  sections.push(await chart(w, 'ipis_per_iteration', `${w}: IPIs sent per iteration`));
}
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlbsim sweep</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}svg{display:block;margin:1em 0}</style></head>
<body><h1>How each strategy scales with threads and CPUs</h1>
<p>Profile ${esc(profile.name)}; strategies ${esc(strategies.join(', '))}; N threads on N CPUs. Data: sweep.csv (handler_share: part of the measured thread's loop spent in handlers for the other threads).</p>
${sections.join('\n')}
</body></html>
`;
writeFileSync(join(values.o, 'sweep.html'), html);
process.stderr.write(`sweep: wrote ${join(values.o, 'sweep.csv')} and ${join(values.o, 'sweep.html')}\n`);
