// `tlbsim aggregate DIR`: the shard files of one sweep, read with DuckDB, as summary tables
// (CSV) and one HTML report of strategy x parameter curves. Everything is ordered by task
// and DuckDB runs on one thread, so the output does not depend on how many shards there
// were or which finished first: a 4-shard run and a 1-process run give the same bytes.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { TypedTable, type Cell, type Row } from '../analysis/table.ts';
import { writeCsvTables } from '../analysis/csv.ts';
import { fail } from '../commands/util.ts';
import { sqlString, withDuckDb } from './duck.ts';
import { SHARD_META_KEY, type ShardMeta } from './run.ts';

export interface AggregateOptions {
  outDir?: string;
  /** Aggregate the shards that are there when some are missing (default: fail). */
  partial?: boolean;
}

export interface Curve {
  workload: string;
  /** The parameter on the x axis and the one or more that vary with it (zip partners). */
  x: string;
  /** Other parameters that vary: one panel per combination. */
  facets: string[];
  rows: Row[];
}

export interface AggregateResult {
  outDir: string;
  files: string[];
  name: string;
  tasks: number;
  failed: number;
  strategies: string[];
  curves: Curve[];
  tables: Record<string, TypedTable<Row>>;
}

const quoteId = (s: string) => `"${s.replace(/"/g, '""')}"`;

async function rowsOf(c: DuckDBConnection, sql: string): Promise<Row[]> {
  const r = await c.runAndReadAll(sql);
  return r.getRowObjectsJS().map((o) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'bigint' ? Number(v) : (v as Cell);
    return out;
  });
}

async function table(c: DuckDBConnection, name: string, sql: string): Promise<TypedTable<Row>> {
  const r = await c.runAndReadAll(sql);
  const cols = r.columnNames();
  const rows = r.getRowObjectsJS().map((o) => Object.fromEntries(cols.map((k) => [k, typeof o[k] === 'bigint' ? Number(o[k]) : (o[k] as Cell)])) as Row);
  return TypedTable.of(name, cols, rows);
}

/** The shard files of DIR, checked to be one complete sweep. */
async function shardFiles(c: DuckDBConnection, dir: string, partial: boolean): Promise<{ files: string[]; meta: ShardMeta }> {
  if (!existsSync(dir)) fail(`${dir}: no such directory (expected the -o directory of tlbsim sweep)`, 1);
  const files = readdirSync(dir).filter((f) => /^shard-\d+-of-\d+\.parquet$/.test(f)).sort().map((f) => join(dir, f));
  if (files.length === 0) fail(`${dir}: expected shard-*-of-*.parquet files written by tlbsim sweep, found none`, 1);
  const metas: ShardMeta[] = [];
  for (const f of files) {
    let v: Cell | undefined;
    try {
      v = (await rowsOf(c, `SELECT decode(value) AS v FROM parquet_kv_metadata(${sqlString(f)}) WHERE decode(key) = ${sqlString(SHARD_META_KEY)}`))[0]?.v;
    } catch {
      fail(`${f}: expected a Parquet shard file, found something DuckDB cannot read`, 1);
    }
    if (typeof v !== 'string') fail(`${f}: expected a tlbsim sweep shard (metadata ${SHARD_META_KEY}), found a Parquet file without it`, 1);
    metas.push(JSON.parse(v) as ShardMeta);
  }
  const m0 = metas[0];
  metas.forEach((m, k) => {
    if (m.hash !== m0.hash || m.shards !== m0.shards) fail(`${dir}: expected the shards of one sweep, found ${files[0]} (spec ${m0.hash.slice(0, 12)}, ${m0.shards} shards) and ${files[k]} (spec ${m.hash.slice(0, 12)}, ${m.shards} shards)`, 1);
  });
  const have = new Set(metas.map((m) => m.shard));
  const missing = Array.from({ length: m0.shards }, (_, i) => i).filter((i) => !have.has(i));
  if (missing.length > 0 && !partial) fail(`${dir}: shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 8).map((i) => `${i}/${m0.shards}`).join(', ')}${missing.length > 8 ? ', …' : ''} missing (run them, or aggregate --partial)`, 1);
  return { files, meta: m0 };
}

export async function aggregate(dir: string, opts: AggregateOptions = {}): Promise<AggregateResult> {
  const outDir = opts.outDir ?? dir;
  return withDuckDb(async (c) => {
    const { files, meta } = await shardFiles(c, dir, opts.partial === true);
    await c.run(`CREATE TABLE runs AS SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY task`);
    const cols = (await rowsOf(c, `SELECT column_name AS n FROM (DESCRIBE runs)`)).map((r) => String(r.n));
    // Parameter columns: what the spec set, under the names the shards gave them.
    const paramCol = (p: string) => (p === 'cpus' ? 'cpus' : cols.includes(p) ? p : `param_${p}`);
    const params = meta.params.map(paramCol).filter((p) => cols.includes(p));
    const tables: Record<string, TypedTable<Row>> = {};
    tables.runs = await table(c, 'runs', `SELECT * FROM runs ORDER BY task`);
    tables.strategies = await table(c, 'strategies', `
      SELECT strategy, profile, count(*)::INTEGER AS tasks, count(error)::INTEGER AS failed,
             sum(overhead_ns) AS overhead_ns, sum(ipis_sent) AS ipis_sent, sum(initiator_wait_ns) AS initiator_wait_ns,
             sum(coherence_violations) AS coherence_violations
      FROM runs GROUP BY strategy, profile ORDER BY min(task)`);
    tables.errors = await table(c, 'errors', `SELECT task, input, strategy, profile, error FROM runs WHERE error IS NOT NULL ORDER BY task`);

    // One curve per workload: x is cpus when it varies, else the first parameter that does;
    // a parameter that varies only with x (zip partners) rides along; the rest are panels.
    const curves: Curve[] = [];
    const workloads = (await rowsOf(c, `SELECT workload FROM runs WHERE workload IS NOT NULL GROUP BY workload ORDER BY min(task)`)).map((r) => String(r.workload));
    const curveRows: Row[] = [];
    for (const w of workloads) {
      const where = `workload = ${sqlString(w)}`;
      const varying: string[] = [];
      for (const p of params) {
        const n = (await rowsOf(c, `SELECT count(DISTINCT ${quoteId(p)})::INTEGER AS n FROM runs WHERE ${where}`))[0].n as number;
        if (n > 1) varying.push(p);
      }
      if (varying.length === 0) continue;
      const x = varying.includes('cpus') ? 'cpus' : varying[0];
      const nx = (await rowsOf(c, `SELECT count(DISTINCT ${quoteId(x)})::INTEGER AS n FROM runs WHERE ${where}`))[0].n as number;
      const facets: string[] = [];
      for (const p of varying) {
        if (p === x) continue;
        const n = (await rowsOf(c, `SELECT count(DISTINCT (${quoteId(x)}, ${quoteId(p)}))::INTEGER AS n FROM runs WHERE ${where}`))[0].n as number;
        if (n > nx) facets.push(p);
      }
      const facetExpr = facets.length ? facets.map((p) => `${sqlString(`${p}=`)} || regexp_replace(CAST(${quoteId(p)} AS VARCHAR), '\\.0$', '')`).join(` || ', ' || `) : `''`;
      const rows = await rowsOf(c, `
        SELECT workload, ${sqlString(x)} AS x_param, ${quoteId(x)} AS x, ${facetExpr} AS panel, strategy, profile,
               count(*)::INTEGER AS runs, count(error)::INTEGER AS failed,
               avg(iteration_ns) AS iteration_ns, avg(overhead_ns) AS overhead_ns, avg(initiator_wait_ns) AS initiator_wait_ns,
               avg(ipis_sent) AS ipis_sent, sum(coherence_violations) AS coherence_violations
        FROM runs WHERE ${where}
        GROUP BY workload, ${quoteId(x)}, panel, strategy, profile
        ORDER BY min(task)`);
      curves.push({ workload: w, x, facets, rows });
      curveRows.push(...rows);
    }
    tables.curves = TypedTable.of('curves', ['workload', 'x_param', 'x', 'panel', 'strategy', 'profile', 'runs', 'failed', 'iteration_ns', 'overhead_ns', 'initiator_wait_ns', 'ipis_sent', 'coherence_violations'], curveRows);

    const strategies = (await rowsOf(c, `SELECT strategy FROM runs GROUP BY strategy ORDER BY min(task)`)).map((r) => String(r.strategy));
    const counts = (await rowsOf(c, `SELECT count(*)::INTEGER AS n, count(error)::INTEGER AS f FROM runs`))[0];
    mkdirSync(outDir, { recursive: true });
    writeCsvTables(tables, outDir);
    const result: AggregateResult = {
      outDir, files, name: meta.name, tasks: counts.n as number, failed: counts.f as number, strategies, curves, tables,
    };
    const { renderSweepReport } = await import('../report/sweep.ts');
    writeFileSync(join(outDir, 'report.html'), await renderSweepReport(result));
    return result;
  });
}
