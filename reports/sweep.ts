// How the flush strategies scale with the number of CPUs: Nadav Amit's madv-threads (one
// thread flushing, the others running on every other CPU) and will-it-scale tlb_flush2
// (every task flushing), one thread per CPU, for 1 to 256 CPUs.
//
//   npx tsx reports/sweep.ts [--cpus 1,2,4,...] [--iterations N] [--strategies a,b,...]
//                            [--profile NAME] [--workers N|auto] [--out DIR]
//
// Writes DIR/sweep.csv (one row per workload, CPU count and strategy: iteration_ns,
// ipis_sent and csd_queued, also per iteration), DIR/sweep.vl.json (the Vega-Lite spec, data inlined) and DIR/sweep.svg (the
// chart, rendered here without a browser). DIR defaults to reports/out/sweep.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { STRATEGY_NAMES, getProfile, openInput, replay } from 'tlbsim';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
function positiveInts(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1) {
      process.stderr.write(`sweep: ${what}: "${text}" is not a list of positive integers\n`);
      process.exit(2);
    }
  }
  return values;
}

const cpuCounts = positiveInts(option('--cpus', '1,2,4,8,16,32,64,128,256'), '--cpus');
const iterations = positiveInts(option('--iterations', '200'), '--iterations')[0];
const strategies = option('--strategies', STRATEGY_NAMES.join(',')).split(',');
const profile = getProfile(option('--profile', 'skylake-laptop'));
const outDir = option('--out', 'reports/out/sweep');
const workersOption = option('--workers', 'auto');
const workers = workersOption === 'auto' ? 'auto' : positiveInts(workersOption, '--workers')[0];

/** One thread (or process) per CPU: the sweep variable is the machine size. */
const WORKLOADS: Record<string, (cpus: number) => string> = {
  'madv-threads': (n) => `workload:madv-threads:threads=${n},cpus=${n},iterations=${iterations}`,
  'wis-tlb-flush2': (n) => `workload:wis-tlb-flush2:mode=threads,tasks=${n},cpus=${n},iterations=${iterations}`,
};

interface Row {
  workload: string; cpus: number; strategy: string; iteration_ns: number; ipis_sent: number; csd_queued: number;
  ipis_per_iteration: number; cross_calls_per_iteration: number;
}
const rows: Row[] = [];
for (const [workload, spec] of Object.entries(WORKLOADS)) {
  for (const cpus of cpuCounts) {
    const input = await openInput(spec(cpus));
    try {
      const runs = await replay(input, { strategies, profile, workers });
      for (const r of runs) {
        rows.push({
          workload, cpus, strategy: r.strategy.name, iteration_ns: r.metrics.iteration_ns, ipis_sent: r.metrics.ipis_sent,
          csd_queued: r.metrics.csd_queued, ipis_per_iteration: r.metrics.ipis_sent / iterations,
          cross_calls_per_iteration: r.metrics.csd_queued / iterations,
        });
      }
    } finally {
      input.close();
    }
    process.stderr.write(`${workload} cpus=${cpus}: ${strategies.length} strategies replayed\n`);
  }
}

const table = aq.from(rows);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'sweep.csv'), table.toCSV());

// Long form for the chart: one panel per (metric, workload), one line per strategy.
// ipis_sent counts real interrupts: a cross-call to a CPU whose call queue is already
// non-empty rides on the pending IPI, so with many CPUs flushing each other cross-calls
// (csd_queued) keep growing while IPIs may not. Both are plotted.
const long = table.fold(['iteration_ns', 'ipis_per_iteration', 'cross_calls_per_iteration'], { as: ['metric', 'value'] }).objects();
const spec: vl.TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `TLB-flush strategies by machine size (${iterations} iterations, profile ${profile.name})`,
  data: { values: long },
  facet: {
    row: { field: 'metric', type: 'nominal', title: null },
    column: { field: 'workload', type: 'nominal', title: null },
  },
  resolve: { scale: { y: 'independent' } },
  spec: {
    width: 320,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'cpus', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'CPUs (one thread each)' },
      // symlog: the values span 0 to millions across machine sizes and strategies.
      y: { field: 'value', type: 'quantitative', title: null, scale: { type: 'symlog', zero: false } },
      // 20 colours: eleven strategies must not share one.
      color: { field: 'strategy', type: 'nominal', sort: strategies, scale: { scheme: 'tableau20' } },
      tooltip: [{ field: 'strategy' }, { field: 'cpus' }, { field: 'value', format: ',.1f' }],
    },
  },
};
writeFileSync(join(outDir, 'sweep.vl.json'), JSON.stringify(spec, null, 2));
const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
writeFileSync(join(outDir, 'sweep.svg'), await view.toSVG());
view.finalize();

// A small text summary: each strategy's iteration_ns at the largest machine.
const largest = Math.max(...cpuCounts);
console.log(`iteration_ns, IPIs and cross-calls per iteration at ${largest} CPUs:`);
console.log(table.filter(aq.escape((d: Row) => d.cpus === largest))
  .select('workload', 'strategy', 'iteration_ns', 'ipis_per_iteration', 'cross_calls_per_iteration')
  .toMarkdown({ format: { iteration_ns: (v: number) => v.toFixed(0), ipis_per_iteration: (v: number) => v.toFixed(2), cross_calls_per_iteration: (v: number) => v.toFixed(2) } }));
console.log(`wrote ${join(outDir, 'sweep.csv')}, ${join(outDir, 'sweep.svg')} and ${join(outDir, 'sweep.vl.json')}`);
