// CSV export of the analysis tables (`--csv DIR`): one file per table, `<name>.csv`.
// Cells come from traces (task names, input paths) and a spreadsheet runs a cell that
// starts with = + - @ (or tab / CR) as a formula: such text cells get a leading apostrophe,
// the convention spreadsheet software shows as plain text. Numbers are written as numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { neutralise } from '../trace/csv.ts';
import type { Cell, Row, TypedTable } from './table.ts';

function csvCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return neutralise(v);
}

/** One table as CSV text (header row, then one line per row). */
export function tableToCsv<R extends Row>(t: TypedTable<R>): string {
  const cols = t.columns;
  const data = cols.map((c) => t.column(c));
  const rows: string[][] = [cols.map((c) => neutralise(c))];
  for (let i = 0; i < t.numRows; i++) rows.push(data.map((col) => csvCell(col[i] as Cell)));
  return stringify(rows, { quoted_match: /[",\n\r]/ });
}

/** Write every table to DIR/<name>.csv (creating DIR); returns the paths written. */
export function writeCsvTables(tables: Record<string, TypedTable<Row>> | object, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const t of Object.values(tables) as TypedTable<Row>[]) {
    const path = join(dir, `${t.name}.csv`);
    writeFileSync(path, tableToCsv(t));
    out.push(path);
  }
  return out;
}
