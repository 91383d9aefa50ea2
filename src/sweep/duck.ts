// DuckDB, in memory, one thread: aggregates over doubles then sum in one order, so the
// same shards give the same bytes however many shard files hold them.
import type { DuckDBConnection } from '@duckdb/node-api';

export async function withDuckDb<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await instance.connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
