// CSV export: every table written, read back equal, and no trace-chosen text becomes a
// spreadsheet formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { buildTables, findViolationEvents, tableToCsv, writeCsvTables, TypedTable } from '../../src/analysis/index.ts';
import { tmp } from '../helpers.ts';
import { hostileTrace, HOSTILE_NAMES } from '../report/hostile.ts';

const FORMULA_START = /^[=+\-@\t\r]/;

function parse(text: string): string[][] {
  const r = Papa.parse<string[]>(text, { header: false, skipEmptyLines: true });
  assert.deepEqual(r.errors, []);
  return r.data;
}

test('a text cell that a spreadsheet would run is neutralised; numbers stay numbers', () => {
  const t = TypedTable.of<{ name: string; n: number; ratio: number | null }>('demo', ['name', 'n', 'ratio'], [
    { name: '=HYPERLINK("http://evil/","x")', n: -1, ratio: null },
    { name: '+1+1', n: 2.5, ratio: 0.25 },
    { name: '-2', n: 0, ratio: 1 },
    { name: '@SUM(A1)', n: 3, ratio: 1 },
    { name: '\tcmd', n: 4, ratio: 1 },
    { name: 'plain, with "quotes"', n: 5, ratio: 1 },
  ]);
  const rows = parse(tableToCsv(t));
  assert.deepEqual(rows[0], ['name', 'n', 'ratio']);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), [`'=HYPERLINK("http://evil/","x")`, "'+1+1", "'-2", "'@SUM(A1)", "'\tcmd", 'plain, with "quotes"']);
  assert.deepEqual(rows.slice(1).map((r) => r[1]), ['-1', '2.5', '0', '3', '4', '5']);
  assert.equal(rows[1][2], '');
});

test('--csv tables of a trace with hostile task names: every table, no formula anywhere', async () => {
  const path = hostileTrace();
  const src = await openInput(path);
  const results = await replay(src, { strategies: ['linux-4.13', 'pcid-v4-posted', 'linux-6.18'], workers: 1 });
  const violationEvents = await findViolationEvents(src, results);
  src.close();
  const tables = buildTables({ inputs: [{ info: src.info, results, violationEvents }] });
  const dir = join(tmp, 'csv-hostile');
  const written = writeCsvTables(tables, dir);
  assert.deepEqual(readdirSync(dir).sort(), Object.values(tables).map((t) => `${t.name}.csv`).sort());
  assert.equal(written.length, Object.keys(tables).length);

  let cells = 0;
  for (const f of written) {
    for (const row of parse(readFileSync(f, 'utf8'))) {
      for (const cell of row) {
        cells++;
        if (FORMULA_START.test(cell)) assert.ok(Number.isFinite(Number(cell)), `${f}: formula-like cell ${JSON.stringify(cell)}`);
      }
    }
  }
  assert.ok(cells > 1000);
  // The names are there, readable, behind one apostrophe where needed.
  const tasks = parse(readFileSync(join(dir, 'tasks.csv'), 'utf8'));
  const names = tasks.slice(1).map((r) => r[2]);
  for (const n of HOSTILE_NAMES) assert.ok(names.includes(FORMULA_START.test(n) ? `'${n}` : n), n);
  // The task at the violation is named in violations.csv.
  const v = parse(readFileSync(join(dir, 'violations.csv'), 'utf8'));
  assert.ok(v.length > 1);
  assert.ok(v.slice(1).every((r) => r[r.length - 1] !== ''), 'each violation row names its task');

  // runs.csv reads back to the same numbers.
  const runs = parse(readFileSync(join(dir, 'runs.csv'), 'utf8'));
  const col = runs[0].indexOf('overhead_ns');
  assert.deepEqual(runs.slice(1).map((r) => Number(r[col])), results.map((r) => r.metrics.overhead_ns));
});
