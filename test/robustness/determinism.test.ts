// The same input and options give byte-identical results: the replay's JSON (what
// `replay --json` prints: JSON.stringify of RunResult[]) across runs and across the
// in-process and worker-thread paths, and the trace CSV across runs, and what `tlbsim replay` writes: --json, the table CSVs
// and the HTML report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openInput } from '../../src/inputs.ts';
import { writeTraceCsv } from '../../src/trace/index.ts';
import { replay } from '../../src/replay/replay.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const STRATEGIES = ['linux-4.13', 'linux-4.20', 'linux-6.18', 'lazy-shootdown'];
const INPUTS = [
  join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'),
  join(ROOT, 'traces/real/perf-pingpong/perf.txt.gz'),
  // Damaged input goes through the same paths (reordering, skipped lines, a second trace).
  join(ROOT, 'test/corpus/concatenated-traces.txt'),
  join(ROOT, 'test/corpus/perf-out-of-order.txt'),
  'workload:madv-threads',
];

async function replayJson(spec: string, workers: number): Promise<string> {
  const input = await openInput(spec);
  try {
    return JSON.stringify(await replay(input, { strategies: STRATEGIES, workers }));
  } finally { input.close(); }
}

for (const spec of INPUTS) {
  const label = spec.startsWith('workload:') ? spec : spec.slice(ROOT.length);
  test(`${label}: replay JSON is byte-identical across runs and across in-process / worker threads`, async () => {
    const first = await replayJson(spec, 1);
    assert.equal(await replayJson(spec, 1), first);
    assert.equal(await replayJson(spec, 2), first);
    const parsed = JSON.parse(first) as { events: number }[];
    assert.equal(parsed.length, STRATEGIES.length);
    assert.ok(parsed.every((r) => r.events > 0));
  });
}

test('the trace CSV is byte-identical across runs, and replays to the same results as its trace', async () => {
  for (const spec of INPUTS) {
    const files: string[] = [];
    for (const n of [1, 2]) {
      const input = await openInput(spec);
      const out = join(tmp, `determinism-${n}.csv`);
      await writeTraceCsv(input, out);
      input.close();
      files.push(readFileSync(out, 'utf8'));
    }
    assert.equal(files[1], files[0], spec);
    // Read back, the CSV gives the same results (only `input`, the path, differs).
    const csvPath = join(tmp, 'determinism-1.csv');
    const strip = (json: string) => JSON.stringify((JSON.parse(json) as { input: string }[]).map((r) => ({ ...r, input: '' })));
    assert.equal(strip(await replayJson(csvPath, 1)), strip(await replayJson(spec, 1)), spec);
  }
});

test('tlbsim replay: the --json output, every table CSV and the HTML report are byte-identical across runs', () => {
  const run = (n: number) => {
    const dir = join(tmp, `det-replay-${n}`);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'replay',
      join(ROOT, 'traces/real/pingpong-512/trace.txt.gz'), 'workload:madv-threads:iterations=500',
      '-s', 'linux-4.13,linux-6.18,pcid-v4-posted', '--json', '--csv', join(dir, 'csv'), '-o', join(dir, 'report.html')],
    { encoding: 'utf8', env: { ...process.env, TLBSIM_CACHE: '0' } });
    assert.equal(r.status, 0, r.stderr);
    const csvs = readdirSync(join(dir, 'csv')).sort();
    return { json: r.stdout, csvs, csvText: csvs.map((f) => readFileSync(join(dir, 'csv', f), 'utf8')), html: readFileSync(join(dir, 'report.html'), 'utf8') };
  };
  const a = run(1), b = run(2);
  assert.ok(a.csvs.length >= 5, `tables written: ${a.csvs.join(', ')}`);
  assert.equal(b.json, a.json);
  assert.deepEqual(b.csvs, a.csvs);
  a.csvs.forEach((f, i) => assert.equal(b.csvText[i], a.csvText[i], f));
  // The paths differ between the two runs only where the report names its own output.
  assert.equal(b.html.replaceAll('det-replay-2', 'det-replay-1'), a.html);
});
