// Runs written as Parquet, Arrow IPC and CSV read back with the same rows and columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { parquetReadObjects } from 'hyparquet';
import * as aq from 'arquero';
import { openTrace } from '../../src/trace/index.ts';
import { replay } from '../../src/replay/replay.ts';
import { METRIC_NAMES } from '../../src/machine/metrics.ts';
import { RUN_ID_COLUMNS, writeRuns } from '../../src/analysis/export.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function runs() {
  // A fixture copied under a name a spreadsheet would execute, opened by a relative path
  // so that the input column starts with '='.
  copyFileSync(join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'), join(tmp, '=cmd@evil.txt.gz'));
  process.chdir(tmp);
  const t = await openTrace('=cmd@evil.txt.gz', { cache: false });
  const results = await replay(t, { strategies: ['linux-4.13', 'linux-6.18', 'lazy-shootdown'], workers: 1 });
  t.close();
  return results;
}

test('Parquet, Arrow and CSV hold one row per run with every metric', async () => {
  const results = await runs();
  assert.ok(results.some((r) => r.metrics.ipis_sent > 0), 'a run with IPIs, so the columns are not all zero');
  const columns = [...RUN_ID_COLUMNS, ...METRIC_NAMES];

  const pq = join(tmp, 'runs.parquet');
  await writeRuns(results, pq);
  const buf = readFileSync(pq);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({ file }) as Record<string, unknown>[];
  assert.equal(rows.length, results.length);
  assert.deepEqual(Object.keys(rows[0]), columns);

  const arrow = join(tmp, 'runs.arrow');
  await writeRuns(results, arrow);
  const at = aq.fromArrow(readFileSync(arrow)).objects() as Record<string, unknown>[];
  assert.equal(at.length, results.length);

  const csv = join(tmp, 'runs.csv');
  await writeRuns(results, csv);
  const parsed = Papa.parse<Record<string, string>>(readFileSync(csv, 'utf8'), { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.meta.fields, columns);
  assert.equal(parsed.data.length, results.length);

  results.forEach((r, i) => {
    for (const row of [rows[i], at[i]]) {
      assert.equal(row.strategy, r.strategy.name);
      assert.equal(row.input, r.input);
      assert.equal(row.safe, r.strategy.safe);
      assert.equal(row.violations, r.violations.count);
      for (const m of METRIC_NAMES) assert.equal(row[m], r.metrics[m], `${r.strategy.name} ${m}`);
    }
    const c = parsed.data[i];
    assert.equal(c.strategy, r.strategy.name);
    for (const m of METRIC_NAMES) assert.equal(Number(c[m]), r.metrics[m], `csv ${m}`);
  });
  // The hostile file name is text, never a formula, in the CSV.
  for (const c of parsed.data) assert.ok(!/^[=+@-]/.test(c.input), c.input);
  assert.equal(parsed.data[0].input, "'=cmd@evil.txt.gz");
  assert.equal(rows[0].input, '=cmd@evil.txt.gz', 'Parquet keeps the exact text');
});

test('an unknown results extension is refused', async () => {
  await assert.rejects(writeRuns([], join(tmp, 'runs.xlsx')), /unknown results format/);
});
