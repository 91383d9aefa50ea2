// How well the model of each recorded kernel agrees with what that kernel printed, over
// every recording of the many-CPU lab (traces/lab/manifest.json: Debian's 6.1, 6.12 and
// 7.3 booted under QEMU with 2-64 vCPUs) and the 2-vCPU recordings of traces/real: the
// `tlbsim validate` rows of each, by kernel and CPU count.
//
//   node --import tsx reports/lab-agreement.ts [--md FILE] [--csv FILE]
// (default: reports/out/lab-agreement.md and .csv; prints the summary table)
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { openInput } from '../src/inputs.ts';
import { replay } from '../src/replay/index.ts';
import { CURRENT_STRATEGY, strategyForKernel } from '../src/strategies/index.ts';
import { validateRun, type Validation } from '../src/validate/index.ts';

/** A row counts as checked when either side has at least this many records. */
export const MIN_RECORDS = 50;

export interface RecordingAgreement {
  file: string;
  kernel: string;
  cpus: number;
  workload: string;
  strategy: string;
  validation: Validation;
  /** Rows with >= MIN_RECORDS records on either side, and those of them within +-10%. */
  checkedRows: number;
  rowsWithin10: number;
}

interface Manifest { recordings: { kernel: string; cpus: number; workload: string; file: string }[] }

/** Every recording to check: the lab's manifest, then traces/real (recorded on 6.18). */
export function recordings(root = '.'): { file: string; kernel: string; cpus: number; workload: string }[] {
  const out: { file: string; kernel: string; cpus: number; workload: string }[] = [];
  const manifest = join(root, 'traces/lab/manifest.json');
  if (existsSync(manifest)) {
    for (const r of (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).recordings) out.push({ file: join(root, r.file), kernel: r.kernel, cpus: r.cpus, workload: r.workload });
  }
  const real = join(root, 'traces/real');
  if (existsSync(real)) {
    for (const d of readdirSync(real, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      const f = ['trace.txt.gz', 'perf.txt.gz'].map((n) => join(real, d, n)).find((p) => existsSync(p));
      if (f !== undefined) out.push({ file: f, kernel: '6.18', cpus: 2, workload: d });
    }
  }
  return out;
}

/** validate of one recording under its kernel's strategy (the header's release; 6.18's model
 *  for traces/real, whose README names the kernel). */
export async function agreementOf(rec: { file: string; kernel: string; cpus: number; workload: string }): Promise<RecordingAgreement> {
  const input = await openInput(rec.file);
  try {
    const strategy = strategyForKernel(input.info.machine?.kernel ?? rec.kernel) ?? CURRENT_STRATEGY;
    const [run] = await replay(input, { strategies: [strategy], workers: 1 });
    const validation = validateRun(run);
    const checked = validation.rows.filter((r) => !r.what.includes('pages invalidated') && Math.max(r.observed, r.predicted) >= MIN_RECORDS);
    return {
      ...rec, strategy, validation,
      checkedRows: checked.length,
      rowsWithin10: checked.filter((r) => Math.abs(r.predicted - r.observed) <= 0.1 * r.observed).length,
    };
  } finally { input.close(); }
}

function worstRow(a: RecordingAgreement): string {
  const rows = a.validation.rows.filter((r) => !r.what.includes('pages invalidated') && Math.max(r.observed, r.predicted) >= MIN_RECORDS);
  if (rows.length === 0) return '';
  const w = rows.reduce((x, y) => (y.agreement < x.agreement ? y : x));
  return w.agreement >= 0.9 ? '' : `${w.what.replace(/ \(.*$/, '')} ${w.observed} recorded / ${w.predicted} predicted`;
}

/** The kernel x CPU-count table: mean (min) overall agreement and rows within +-10%. */
export function summaryMarkdown(all: readonly RecordingAgreement[]): string {
  const kernels = [...new Set(all.map((a) => a.kernel))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const cpus = [...new Set(all.map((a) => a.cpus))].sort((a, b) => a - b);
  const L = [`| kernel | ${cpus.map((c) => `${c} CPUs`).join(' | ')} |`, `|---|${cpus.map(() => '---|').join('')}`];
  for (const k of kernels) {
    const cells = cpus.map((c) => {
      const here = all.filter((a) => a.kernel === k && a.cpus === c);
      if (here.length === 0) return '';
      const ag = here.map((a) => a.validation.agreement);
      const mean = ag.reduce((x, y) => x + y, 0) / ag.length;
      const rows = here.reduce((x, a) => x + a.checkedRows, 0), ok = here.reduce((x, a) => x + a.rowsWithin10, 0);
      return `${mean.toFixed(3)} (min ${Math.min(...ag).toFixed(3)}; ${ok}/${rows} rows ±10%)`;
    });
    L.push(`| ${k} | ${cells.join(' | ')} |`);
  }
  return L.join('\n');
}

export function detailMarkdown(all: readonly RecordingAgreement[]): string {
  const L = ['| kernel | CPUs | workload | strategy | agreement | rows ±10% | worst row (< 0.9) |', '|---|---|---|---|---|---|---|'];
  for (const a of all) L.push(`| ${a.kernel} | ${a.cpus} | ${a.workload} | ${a.strategy} | ${a.validation.agreement.toFixed(3)} | ${a.rowsWithin10}/${a.checkedRows} | ${worstRow(a)} |`);
  return L.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
  const md = arg('--md', 'reports/out/lab-agreement.md'), csv = arg('--csv', 'reports/out/lab-agreement.csv');
  const all: RecordingAgreement[] = [];
  for (const rec of recordings()) {
    const a = await agreementOf(rec);
    all.push(a);
    process.stderr.write(`${a.kernel} ${String(a.cpus).padStart(2)} CPUs ${a.workload.padEnd(28)} ${a.validation.agreement.toFixed(3)}\n`);
  }
  const mean = all.reduce((x, a) => x + a.validation.agreement, 0) / all.length;
  const text = [
    `# Agreement of each kernel's model with its recordings (${all.length} recordings, mean ${mean.toFixed(3)})`, '',
    'Overall `tlbsim validate` agreement under the recorded kernel\'s strategy: mean (min) per kernel and CPU count,',
    `and how many rows with at least ${MIN_RECORDS} records are within ±10% of the recording.`, '',
    summaryMarkdown(all), '', '## Every recording', '', detailMarkdown(all), '',
  ].join('\n');
  mkdirSync(dirname(md), { recursive: true });
  writeFileSync(md, text);
  writeFileSync(csv, stringify(all.flatMap((a) => a.validation.rows.map((r) => ({
    kernel: a.kernel, cpus: a.cpus, workload: a.workload, strategy: a.strategy, what: r.what, observed: r.observed, predicted: r.predicted, agreement: r.agreement,
  }))), { header: true }));
  process.stdout.write(`${summaryMarkdown(all)}\n\nmean agreement ${mean.toFixed(3)} over ${all.length} recordings; ${md}, ${csv}\n`);
}
