// One shard of a sweep: its tasks replayed (each input opened once for all the shard's
// strategies of it), written as one Parquet file with one row per task. The file is
// written to a temporary name and renamed, so a shard file that exists is complete; its
// key-value metadata carries the sweep's hash, which is how a rerun knows it is done.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { METRIC_NAMES } from '../machine/metrics.ts';
import type { RunResult } from '../machine/result.ts';
import { RUN_ID_COLUMNS } from '../analysis/export.ts';
import { fail } from '../commands/util.ts';
import { shardFileName, shardTasks, type SweepSpec, type SweepTask } from './spec.ts';

/** The key under which a shard file's Parquet metadata holds its ShardMeta (JSON). */
export const SHARD_META_KEY = 'tlbsim.sweep';

export interface ShardMeta {
  name: string;
  hash: string;
  shard: number;
  shards: number;
  tasks: number;
  params: string[];
  version: string;
}

/** Columns of a shard file, in order: the task, its input and parameters, the run's
 *  identity, every metric, and the error of a task that failed (null otherwise). A
 *  parameter named like a run column is that column (a workload's cpus is the machine's);
 *  any other clash gets a param_ prefix. */
export function shardColumns(spec: SweepSpec): { name: string; type: 'STRING' | 'DOUBLE' | 'INT32' | 'BOOLEAN'; param?: string }[] {
  const taken = new Set<string>(['task', 'input_kind', 'workload', 'error', ...RUN_ID_COLUMNS, ...METRIC_NAMES]);
  const cols: { name: string; type: 'STRING' | 'DOUBLE' | 'INT32' | 'BOOLEAN'; param?: string }[] = [
    { name: 'task', type: 'INT32' }, { name: 'input', type: 'STRING' }, { name: 'input_kind', type: 'STRING' }, { name: 'workload', type: 'STRING' },
  ];
  for (const p of spec.params) {
    if (p === 'cpus') continue;
    const t = spec.paramTypes[p];
    cols.push({ name: taken.has(p) ? `param_${p}` : p, type: t === 'number' ? 'DOUBLE' : t === 'boolean' ? 'BOOLEAN' : 'STRING', param: p });
  }
  for (const c of RUN_ID_COLUMNS) if (c !== 'input') cols.push({ name: c, type: c === 'safe' ? 'BOOLEAN' : ['strategy', 'kernel', 'profile'].includes(c) ? 'STRING' : c === 'cpus' ? 'INT32' : 'DOUBLE' });
  for (const m of METRIC_NAMES) cols.push({ name: m, type: 'DOUBLE' });
  cols.push({ name: 'error', type: 'STRING' });
  return cols;
}

type Value = string | number | boolean | null;

function row(spec: SweepSpec, t: SweepTask, r: RunResult | null, error: string | null): Record<string, Value> {
  const out: Record<string, Value> = { task: t.task, input: t.input, input_kind: t.kind, workload: t.workload };
  for (const c of shardColumns(spec)) {
    if (c.param === undefined) continue;
    const v = t.params[c.param];
    out[c.name] = v === undefined ? null : c.type === 'STRING' ? String(v) : v;
  }
  out.strategy = t.strategy;
  out.profile = t.profile;
  // A workload's cpus column is its parameter even when the task failed before a machine existed.
  const cpusParam = t.params.cpus;
  if (r) {
    out.kernel = r.strategy.kernel; out.safe = r.strategy.safe; out.cpus = r.cpus; out.events = r.events; out.violations = r.violations.count;
    for (const m of METRIC_NAMES) out[m] = r.metrics[m] ?? 0;
  } else {
    out.cpus = typeof cpusParam === 'number' ? cpusParam : null;
  }
  out.error = error;
  return out;
}

/** One line, no stack: what a reader of the table needs to know why the task failed. */
function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 500);
}

export async function writeShardFile(spec: SweepSpec, meta: ShardMeta, rows: Record<string, Value>[], path: string): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = shardColumns(spec).map((c) => ({
    name: c.name, type: c.type, nullable: true,
    data: rows.map((r) => r[c.name] ?? null),
  }));
  const buf = parquetWriteBuffer({ columnData, kvMetadata: [{ key: SHARD_META_KEY, value: JSON.stringify(meta) }] });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, new Uint8Array(buf));
  renameSync(tmp, path);
}

/** A shard file's metadata (null when the file is not a readable shard file). */
export async function readShardMeta(path: string): Promise<ShardMeta | null> {
  const { withDuckDb, sqlString } = await import('./duck.ts');
  try {
    return await withDuckDb(async (c) => {
      const r = await c.runAndReadAll(`SELECT decode(value) AS v FROM parquet_kv_metadata(${sqlString(path)}) WHERE decode(key) = ${sqlString(SHARD_META_KEY)}`);
      const v = r.getRowObjects()[0]?.v;
      return typeof v === 'string' ? JSON.parse(v) as ShardMeta : null;
    });
  } catch {
    return null;
  }
}

export interface RunShardOptions {
  outDir: string;
  workers?: number | 'auto';
  /** Overwrite a shard file written for another spec instead of failing. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface ShardOutcome { path: string; skipped: boolean; tasks: number; failed: number }

export async function runShard(spec: SweepSpec, shard: number, shards: number, opts: RunShardOptions): Promise<ShardOutcome> {
  const log = opts.log ?? (() => {});
  mkdirSync(opts.outDir, { recursive: true });
  const path = join(opts.outDir, shardFileName(shard, shards));
  const tasks = shardTasks(spec.tasks, shard, shards);
  if (existsSync(path)) {
    const meta = await readShardMeta(path);
    if (meta && meta.hash === spec.hash && meta.shard === shard && meta.shards === shards) {
      log(`sweep: shard ${shard}/${shards} already done (${path})`);
      return { path, skipped: true, tasks: tasks.length, failed: 0 };
    }
    if (!opts.force) fail(`${path}: a shard file of another sweep (${meta ? `spec hash ${meta.hash.slice(0, 12)}, not ${spec.hash.slice(0, 12)}` : 'not a tlbsim shard file'}); remove it, use another -o, or --force`, 1);
    rmSync(path);
  }
  const { openInput } = await import('../inputs.ts');
  const { replay } = await import('../replay/replay.ts');
  const { getProfile } = await import('../machine/profiles.ts');
  const rows: Record<string, Value>[] = [];
  let failed = 0;
  // Consecutive tasks of one input: one parse (or generation), then one replay per profile
  // of all that profile's strategies over the same events.
  for (let i = 0; i < tasks.length;) {
    let j = i;
    while (j < tasks.length && tasks[j].input === tasks[i].input) j++;
    const group = tasks.slice(i, j);
    i = j;
    const first = group[0];
    const started = Date.now();
    let source: Awaited<ReturnType<typeof openInput>> | null = null;
    try {
      source = await openInput(first.kind === 'trace' ? resolve(spec.baseDir, first.input) : first.input);
    } catch (e) {
      for (const t of group) rows.push(row(spec, t, null, errorText(e)));
      failed += group.length;
      log(`sweep: ${first.input}: failed (${errorText(e)})`);
      continue;
    }
    try {
      for (let a = 0; a < group.length;) {
        let b = a;
        while (b < group.length && group[b].profile === group[a].profile) b++;
        const part = group.slice(a, b);
        a = b;
        const profile = getProfile(part[0].profile);
        const small = source.info.events * part.length < 2_000_000;
        const workers = opts.workers ?? (small ? 1 : 'auto');
        let results: (RunResult | Error)[];
        try {
          results = await replay(source, { strategies: part.map((t) => t.strategy), profile, workers });
        } catch {
          // One strategy that throws must not take the others with it: replay them one by one.
          results = [];
          for (const t of part) {
            try { results.push((await replay(source, { strategies: [t.strategy], profile, workers: 1 }))[0]); } catch (e) { results.push(e as Error); }
          }
        }
        part.forEach((t, k) => {
          const r = results[k];
          if (r instanceof Error) { rows.push(row(spec, t, null, errorText(r))); failed++; } else rows.push(row(spec, t, r, null));
        });
      }
      log(`sweep: ${first.input} x ${group.length} tasks: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      source.close();
    }
  }
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const meta: ShardMeta = { name: spec.name, hash: spec.hash, shard, shards, tasks: tasks.length, params: spec.params, version };
  await writeShardFile(spec, meta, rows, path);
  log(`sweep: wrote ${path} (${rows.length} rows${failed ? `, ${failed} failed` : ''})`);
  return { path, skipped: false, tasks: tasks.length, failed };
}
