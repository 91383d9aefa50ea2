// A strategy of your own, next to the built-in ones, on a recorded trace.
//
//   npx tsx reports/custom-strategy.ts [INPUT...] [--profile NAME] [--workers N]
//
// INPUT is a trace file or workload:NAME:k=v,... (default: a bundled 6.18 trace of a
// small parallel build, and a synthetic madvise(DONTNEED)-then-sleep loop).
//
// Two what-ifs on top of Linux 6.18, each a few lines subclassing the registered strategy:
//  - linux-6.18-never-lazy: no lazy TLB mode at all. A CPU that switches to idle or a
//    kernel thread loads init_mm at once (4.14 did this with PCID, 4.20 reverted it), so
//    flushes never need to reach it, at the price of a CR3 write per such switch.
//  - linux-6.18-ipi-lazy: undo 4.20's "lazier lazy TLB" (145f573b89a6): lazy CPUs are
//    sent every flush again, as before 4.20, instead of being skipped.
// Both are replayed with linux-4.13 (the baseline) and linux-6.18 on the same events; the
// table shows what each change costs. Copy this file and change the overridden methods to
// try your own idea: the hooks and machine primitives are described in
// src/machine/strategy.ts and src/strategies/common.ts.
import {
  INIT_MM, analyse, defineStrategy, getProfile, Linux618, type FlushReq, type RunResult, type StrategyMeta,
} from 'tlbsim';

const NEVER_LAZY: StrategyMeta = {
  name: 'linux-6.18-never-lazy',
  title: 'Linux 6.18 that never stays lazy',
  kernel: 'v6.18 with enter_lazy_tlb() switching to init_mm at once (what 4.14 did with PCID)',
  description: 'a CPU going idle or to a kernel thread leaves the mm: no lazy flush IPIs, but a CR3 write each time',
  safe: true,
};

class Linux618NeverLazy extends Linux618 {
  override readonly meta = NEVER_LAZY;
  override enterLazy(cpu: number): void {
    if (this.m.loadedMm[cpu] !== INIT_MM) this.switchMmIrqsOff(cpu, INIT_MM);
  }
}

const IPI_LAZY: StrategyMeta = {
  name: 'linux-6.18-ipi-lazy',
  title: 'Linux 6.18 sending flushes to lazy CPUs',
  kernel: 'v6.18 minus 145f573b89a6 (4.20, "make lazy TLB mode lazier")',
  description: 'lazy CPUs in mm_cpumask get every flush IPI, as before 4.20',
  safe: true,
};

class Linux618IpiLazy extends Linux618 {
  override readonly meta = IPI_LAZY;
  /** should_flush_tlb() of each CPU of the mask, returned as a mask. */
  protected override shouldFlush(cpu: number, mask: Uint32Array, req: FlushReq): Uint32Array {
    const m = this.m;
    const flush = super.shouldFlush(cpu, mask, req); // reads every CPU's is_lazy
    return m.maskOr(flush, m.lazyIn(mask, 5)); // 4.19 and older: lazy CPUs flush at once
  }
}

const neverLazy = defineStrategy({ ...NEVER_LAZY, create: (m) => new Linux618NeverLazy(m) });
const ipiLazy = defineStrategy({ ...IPI_LAZY, create: (m) => new Linux618IpiLazy(m) });

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--')));
const inputs = positional.length > 0 ? positional
  : ['traces/real/build/trace.txt.gz', 'workload:madv-dontneed-switch:iterations=2000'];
const profile = getProfile(option('--profile', 'kvm-guest'));
const workers = Number(option('--workers', '2'));

const columns: [string, (r: RunResult) => string][] = [
  ['strategy', (r) => r.strategy.name],
  ['flush_requests', (r) => String(r.metrics.flush_requests)],
  ['ipis_sent', (r) => String(r.metrics.ipis_sent)],
  ['ipis_to_lazy', (r) => String(r.metrics.ipis_to_lazy)],
  ['ipis_to_stale', (r) => String(r.metrics.ipis_to_stale)],
  ['cr3_writes', (r) => String(r.metrics.cr3_writes)],
  ['reason 5', (r) => String(r.predicted.tlbFlush['5'] ? r.predicted.tlbFlush['5'].full + r.predicted.tlbFlush['5'].ranged + r.predicted.tlbFlush['5'].none : 0)],
  ['wait µs', (r) => (r.metrics.initiator_wait_ns / 1000).toFixed(1)],
  ['overhead µs', (r) => (r.metrics.overhead_ns / 1000).toFixed(1)],
  ['violations', (r) => String(r.metrics.coherence_violations)],
];
const widths = columns.map(([h]) => h.length);
const tables: { title: string; cells: string[][] }[] = [];
for (const spec of inputs) {
  const { inputs: [input] } = await analyse([spec], { strategies: ['linux-4.13', 'linux-6.18', neverLazy, ipiLazy], profile, workers, calibration: false });
  const runs = input.results;
  const cells = runs.map((r) => columns.map(([, f]) => f(r)));
  cells.forEach((row) => row.forEach((c, i) => { widths[i] = Math.max(widths[i], c.length); }));
  tables.push({ title: `${spec}: ${input.info.events} events on ${input.info.cpus} CPUs, profile ${profile.name}`, cells });
}
const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
for (const t of tables) {
  console.log(t.title);
  console.log(line(columns.map(([h]) => h)));
  for (const row of t.cells) console.log(line(row));
  console.log('');
}
