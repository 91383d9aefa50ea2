// Replays recorded traces under every strategy and compares linux-6.18's predictions with
// what the recording kernel (6.18) printed: tlb_flush reason 0 (switch flushes, pages -1
// vs 0), reasons 1/3/4/5 and real flush IPIs.
//
//   node --import tsx reports/real-traces.ts [trace ...]
// (default: every trace under traces/real)
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyse } from '../src/pipeline.ts';

function defaultTraces(): string[] {
  const out: string[] = [];
  for (const root of ['traces/real']) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      for (const f of ['trace.txt', 'trace.txt.gz', 'perf.txt.gz']) {
        const p = join(root, d.name, f);
        if (existsSync(p)) { out.push(p); break; }
      }
    }
  }
  return out;
}

const cls = (r: Record<string, { full: number; ranged: number; none: number }>, reason: string) => {
  const c = r[reason];
  return c ? { full: c.full, ranged: c.ranged, none: c.none } : { full: 0, ranged: 0, none: 0 };
};

const traces = process.argv.length > 2 ? process.argv.slice(2) : defaultTraces();
const rows: string[] = [];
for (const path of traces) {
  const { inputs: [input] } = await analyse([path], { workers: 'auto' });
  const res = input.results;
  console.log(`\n## ${path}  (${input.info.cpus} CPUs, ${input.info.events} events)`);
  console.log('strategy'.padEnd(20) + ['switches', 'cr3_flush', 'ipis', 'to_lazy', 'to_stale', 'misses', 'atomics', 'overhead_us', 'violations'].map((s) => s.padStart(11)).join(''));
  for (const r of res) {
    const m = r.metrics;
    console.log(r.strategy.name.padEnd(20) + [m.context_switches, m.cr3_flushes, m.ipis_sent, m.ipis_to_lazy, m.ipis_to_stale, m.tlb_misses, m.atomic_ops, Math.round(m.overhead_ns / 1000), m.coherence_violations].map((v) => String(v).padStart(11)).join(''));
  }
  const cur = res.find((r) => r.strategy.name === 'linux-6.18')!;
  const o = cur.observed.tlbFlush, p = cur.predicted.tlbFlush;
  const line = (what: string, obs: number | string, pred: number | string) => `| ${path} | ${what} | ${obs} | ${pred} |`;
  rows.push(line('reason 0, pages -1 (switch, CR3 flush)', cls(o, '0').full, cls(p, '0').full));
  rows.push(line('reason 0, pages 0 (switch, CR3 noflush)', cls(o, '0').none, cls(p, '0').none));
  for (const r of ['1', '3', '4', '5']) {
    const a = cls(o, r), b = cls(p, r);
    rows.push(line(`reason ${r} (full/ranged/none)`, `${a.full}/${a.ranged}/${a.none}`, `${b.full}/${b.ranged}/${b.none}`));
  }
  // Observed: every real IPI the recording shows (any cross-call, not only TLB flushes);
  // predicted: flush IPIs only.
  rows.push(line('IPI sends (ipi_send_cpu/cpumask)', cur.observed.ipiSends, cur.predicted.ipiSends));
  rows.push(line('real IPI targets', cur.observed.ipiTargets, cur.predicted.ipiTargets));
}
console.log('\n| trace | what | observed (6.18 kernel) | predicted (linux-6.18) |\n|---|---|---|---|');
for (const r of rows) console.log(r);
