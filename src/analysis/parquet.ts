// `replay --parquet DIR`: the same tables as `--csv DIR`, one Parquet file each
// (`<name>.parquet`), typed: numbers DOUBLE, text STRING, flags BOOLEAN, every column
// nullable (a ratio against zero is null). No formula neutralising: Parquet is read by
// query engines, not run by spreadsheets, so text stays exactly what the trace said.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row, TypedTable } from './table.ts';

function columnType(values: readonly unknown[]): 'DOUBLE' | 'STRING' | 'BOOLEAN' {
  const v = values.find((x) => x !== null && x !== undefined);
  return typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'STRING';
}

export async function tableToParquet<R extends Row>(t: TypedTable<R>): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = t.columns.map((c) => {
    const data = t.column(c).map((v) => (v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v));
    return { name: c, data, type: columnType(data), nullable: true };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** Write every table to DIR/<name>.parquet (creating DIR), each through a temporary name. */
export async function writeParquetTables(tables: Record<string, TypedTable<Row>> | object, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const t of Object.values(tables) as TypedTable<Row>[]) {
    const path = join(dir, `${t.name}.parquet`);
    writeFileSync(`${path}.${process.pid}.tmp`, await tableToParquet(t));
    renameSync(`${path}.${process.pid}.tmp`, path);
    out.push(path);
  }
  return out;
}
