// A sweep spec (JSON) and the independent tasks it names: input x profile x strategy, in a
// stable order that every shard of the sweep computes alike, so `--shard I/N` on machines
// that never talk to each other still splits the same list the same way.
//
//   {
//     "name": "scaling",
//     "inputs": [
//       "traces/real/build/trace.txt.gz",
//       "traces/lab/6.12/*.txt.gz",
//       { "workload": "madv-threads", "params": { "iterations": 2000 },
//         "zip": { "cpus": [1, 2, 4], "threads": [1, 2, 4] } },
//       { "workload": "wis-tlb-flush2", "grid": { "cpus": [2, 4], "mode": ["threads", "processes"] } }
//     ],
//     "strategies": ["linux-4.13", "linux-6.18"],
//     "profiles": ["skylake-laptop"]
//   }
//
// `grid` is a cross product (the last key varies fastest); `zip` lists values that vary
// together (cpus = threads); both may be given and are crossed. Paths and globs are
// relative to the spec file's directory, so a shard finds the same files wherever it runs.
// JSON only: YAML would add a parser dependency for a file a user writes once.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readSmallFile } from '../commands/small-file.ts';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fail } from '../commands/util.ts';
import { closestNames } from '../names.ts';

export type ParamValue = number | string | boolean;

export interface SweepTask {
  /** Position in the sweep's task list (0-based). */
  task: number;
  /** The input as replay takes it: a path relative to the spec's directory, or a workload spec. */
  input: string;
  kind: 'trace' | 'workload';
  workload: string | null;
  /** The parameters the spec set for this input (grid, zip and fixed ones). */
  params: Record<string, ParamValue>;
  profile: string;
  strategy: string;
}

export interface SweepSpec {
  name: string;
  /** The spec file's directory: inputs are relative to it. */
  baseDir: string;
  tasks: SweepTask[];
  /** Every parameter name the spec sets, in first-seen order: the shards' parameter columns. */
  params: string[];
  /** Parameter name -> 'number' | 'string' | 'boolean' (one type per column). */
  paramTypes: Record<string, 'number' | 'string' | 'boolean'>;
  /** sha256 of the task list: a shard file belongs to this sweep when it carries it. */
  hash: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function what(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Glob characters this reader expands: * and ? within a name, ** across directories. */
const GLOB = /[*?[]/;

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more directories.
      if (pattern[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i++; }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      re += `[${pattern.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out); else if (e.isFile()) out.push(p);
  }
}

/** Files matching a glob relative to baseDir, as relative paths with '/', sorted (the order
 *  of readdir is not stable across file systems). Cache files are never inputs. */
export function expandGlob(pattern: string, baseDir: string): string[] {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts) { if (GLOB.test(p)) break; fixed.push(p); }
  const root = resolve(baseDir, fixed.join('/') || '.');
  const files: string[] = [];
  walk(root, files);
  const re = globToRegExp(isAbsolute(pattern) ? pattern : pattern.replace(/^\.\//, ''));
  const rel = (f: string) => (isAbsolute(pattern) ? f : relative(baseDir, f)).split(sep).join('/');
  return files.map(rel).filter((f) => re.test(f) && !f.endsWith('.tlbcache')).sort();
}

function product(axes: [string, ParamValue[]][]): Record<string, ParamValue>[] {
  let rows: Record<string, ParamValue>[] = [{}];
  for (const [k, vs] of axes) rows = rows.flatMap((r) => vs.map((v) => ({ ...r, [k]: v })));
  return rows;
}

/** Read and check a spec file. Every mistake is one line: the file, where, what was
 *  expected and what was found. */
export async function loadSweepSpec(path: string): Promise<SweepSpec> {
  let text: string;
  try { text = readSmallFile(path, 'sweep spec'); } catch (e) {
    fail((e as Error).message, 1);
  }
  let doc: Json;
  try { doc = JSON.parse(text) as Json; } catch (e) {
    fail(`${path}: expected a JSON sweep spec, found invalid JSON (${(e as Error).message})`, 1);
  }
  // A misspelled name ends with the suggestion every other command gives (src/names.ts).
  const bad = (where: string, expected: string, found: Json | undefined, names?: readonly string[], typed?: string): never => {
    const name = typed ?? (typeof found === 'string' ? found : undefined);
    const close = names && name !== undefined ? closestNames(name, names) : [];
    const hint = close.length ? `; did you mean ${close.slice(0, -1).join(', ')}${close.length > 1 ? ' or ' : ''}${close[close.length - 1]}?` : '';
    return fail(`${path}: ${where}: expected ${expected}, found ${what(found)}${hint}`, 1);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) bad('top level', 'an object with "inputs"', doc);
  const top = doc as { [k: string]: Json };
  for (const k of Object.keys(top)) {
    if (!['name', 'inputs', 'strategies', 'profiles'].includes(k)) bad(`key "${k}"`, 'one of name, inputs, strategies, profiles', top[k]);
  }
  const { STRATEGY_NAMES } = await import('../strategies/index.ts');
  const { PROFILES, DEFAULT_PROFILE } = await import('../machine/profiles.ts');
  const { getWorkload, listWorkloads, parseWorkloadSpec, WorkloadError } = await import('../workloads/index.ts');

  // The name is the default output directory's last part: letters, digits, . _ - only.
  const name = top.name === undefined ? path.replace(/^.*\//, '').replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'sweep' : top.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) bad('"name"', 'a name of letters, digits, ".", "_" and "-"', top.name);

  const list = (key: string, known: readonly string[], dflt: string[]): string[] => {
    const v = top[key];
    if (v === undefined) return dflt;
    if (!Array.isArray(v) || v.length === 0) return bad(`"${key}"`, 'a non-empty array of names', v);
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x !== 'string' || !known.includes(x)) bad(`"${key}"[${i}]`, `one of ${known.join(', ')}`, x, known);
      if (!out.includes(x as string)) out.push(x as string);
    });
    return out;
  };
  const strategies = list('strategies', STRATEGY_NAMES, [...STRATEGY_NAMES]);
  const profiles = list('profiles', Object.keys(PROFILES), [DEFAULT_PROFILE]);

  const baseDir = dirname(resolve(path));
  if (!Array.isArray(top.inputs) || top.inputs.length === 0) bad('"inputs"', 'a non-empty array of paths, globs or {"workload": ...}', top.inputs);
  const params: string[] = [];
  const paramTypes: Record<string, 'number' | 'string' | 'boolean'> = {};
  const inputs: { input: string; kind: 'trace' | 'workload'; workload: string | null; params: Record<string, ParamValue> }[] = [];
  (top.inputs as Json[]).forEach((item, i) => {
    const at = `"inputs"[${i}]`;
    if (typeof item === 'string') {
      if (item.startsWith('workload:')) {
        // The name and parameter names now, so a typo fails before any shard runs; values
        // are checked when the task runs (a refused value is that task's error row).
        let wname: string;
        try {
          const parsed = parseWorkloadSpec(item);
          const def = getWorkload(parsed.name);
          wname = def.name;
          const unknown = Object.keys(parsed.params).find((k) => !def.params.some((p) => p.name === k));
          if (unknown !== undefined) bad(at, `a parameter of ${def.name} (${def.params.map((p) => p.name).join(', ')})`, unknown, def.params.map((p) => p.name));
        } catch (e) {
          if (e instanceof WorkloadError) return bad(at, `a workload spec (${e.message.replace(/\.$/, '')})`, item);
          throw e;
        }
        inputs.push({ input: item, kind: 'workload', workload: wname, params: {} });
        return;
      }
      if (GLOB.test(item)) {
        const files = expandGlob(item, baseDir);
        if (files.length === 0) bad(at, 'a glob that matches at least one file', item);
        for (const f of files) inputs.push({ input: f, kind: 'trace', workload: null, params: {} });
        return;
      }
      try { statSync(resolve(baseDir, item)); } catch { bad(at, `a trace file (relative to ${relative(process.cwd(), baseDir) || '.'})`, item); }
      inputs.push({ input: item, kind: 'trace', workload: null, params: {} });
      return;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return bad(at, 'a path, a glob or {"workload": NAME, "grid": {...}}', item);
    for (const k of Object.keys(item)) if (!['workload', 'params', 'grid', 'zip'].includes(k)) bad(`${at}: key "${k}"`, 'one of workload, params, grid, zip', item[k]);
    const wname = item.workload;
    if (typeof wname !== 'string') return bad(`${at}.workload`, 'a workload name (see `tlbsim workloads`)', wname);
    let def;
    try { def = getWorkload(wname); } catch (e) {
      if (e instanceof WorkloadError) return bad(`${at}.workload`, 'a workload name (see `tlbsim workloads`)', wname, listWorkloads().map((w) => w.name));
      throw e;
    }
    const known = def.params.map((p) => p.name);
    const scalar = (where: string, v: Json): ParamValue => {
      if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') return bad(where, 'a number, string or boolean', v);
      return v;
    };
    const checkKey = (where: string, k: string, v: Json): void => {
      if (!known.includes(k)) bad(`${where}: key "${k}"`, `a parameter of ${wname} (${known.join(', ')})`, v, known, k);
    };
    const fixed: Record<string, ParamValue> = {};
    const axes: [string, ParamValue[]][] = [];
    const obj = (key: string): { [k: string]: Json } | undefined => {
      const v = item[key];
      if (v === undefined) return undefined;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(`${at}.${key}`, 'an object of parameter values', v);
      return v;
    };
    for (const [k, v] of Object.entries(obj('params') ?? {})) { checkKey(`${at}.params`, k, v); fixed[k] = scalar(`${at}.params.${k}`, v); }
    for (const [k, v] of Object.entries(obj('grid') ?? {})) {
      checkKey(`${at}.grid`, k, v);
      if (!Array.isArray(v) || v.length === 0) bad(`${at}.grid.${k}`, 'a non-empty array of values', v);
      axes.push([k, (v as Json[]).map((x, j) => scalar(`${at}.grid.${k}[${j}]`, x))]);
    }
    const zip = obj('zip');
    let zipped: Record<string, ParamValue>[] = [{}];
    if (zip) {
      const entries = Object.entries(zip);
      let len = -1;
      for (const [k, v] of entries) {
        checkKey(`${at}.zip`, k, v);
        if (!Array.isArray(v) || v.length === 0 || (len >= 0 && v.length !== len)) bad(`${at}.zip.${k}`, len >= 0 ? `an array of ${len} values like the other zip keys` : 'a non-empty array of values', v);
        len = (v as Json[]).length;
      }
      zipped = Array.from({ length: len }, (_, j) => Object.fromEntries(entries.map(([k, v]) => [k, scalar(`${at}.zip.${k}[${j}]`, (v as Json[])[j])])));
    }
    const keys = [...Object.keys(fixed), ...axes.map(([k]) => k), ...Object.keys(zip ?? {})];
    const dup = keys.find((k, j) => keys.indexOf(k) !== j);
    if (dup !== undefined) bad(`${at}`, `parameter "${dup}" in one of params, grid, zip`, item);
    for (const g of product(axes)) {
      for (const z of zipped) {
        const p: Record<string, ParamValue> = { ...fixed, ...g, ...z };
        // The spec's order of parameters, so the same grid always spells the same input.
        const ordered = Object.fromEntries(keys.map((k) => [k, p[k]]));
        const spec = `workload:${wname}${keys.length ? `:${keys.map((k) => `${k}=${String(p[k])}`).join(',')}` : ''}`;
        inputs.push({ input: spec, kind: 'workload', workload: wname, params: ordered });
      }
    }
    // One type per column: values of mixed types in any input make it a text column.
    for (const k of keys) {
      const values = [fixed[k], ...(axes.find(([a]) => a === k)?.[1] ?? []), ...zipped.map((z) => z[k])].filter((v) => v !== undefined);
      const types = new Set(values.map((v) => typeof v as 'number' | 'string' | 'boolean'));
      const t = types.size === 1 ? [...types][0] : 'string';
      if (!params.includes(k)) { params.push(k); paramTypes[k] = t; } else if (paramTypes[k] !== t) paramTypes[k] = 'string';
    }
  });

  const tasks: SweepTask[] = [];
  for (const inp of inputs) {
    for (const profile of profiles) {
      for (const strategy of strategies) tasks.push({ task: tasks.length, ...inp, profile, strategy });
    }
  }
  const hash = createHash('sha256').update(JSON.stringify({ v: 1, name, tasks })).digest('hex');
  return { name: name as string, baseDir, tasks, params, paramTypes, hash };
}

/** `I/N` -> [I, N]; I is 0-based. */
export function parseShard(text: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) fail(`--shard expects I/N (0-based I below N, e.g. 0/4), got "${text}"`, 2);
  const i = Number(m[1]), n = Number(m[2]);
  if (n < 1 || i >= n) fail(`--shard expects I/N with 0 <= I < N and N >= 1, got "${text}"`, 2);
  return [i, n];
}

/** The tasks of shard i of n. Tasks of one input (a group) stay in one shard where they
 *  can, so that shard parses that input once for all its profiles and strategies: with at
 *  least n groups, group g goes to shard g mod n (strided, so a grid sorted by size spreads
 *  its big runs over the shards); with fewer groups than shards, the task list is cut into
 *  n contiguous slices. */
export function shardTasks(tasks: readonly SweepTask[], i: number, n: number): SweepTask[] {
  const groups: SweepTask[][] = [];
  for (const t of tasks) {
    const last = groups[groups.length - 1];
    if (last && last[0].input === t.input) last.push(t); else groups.push([t]);
  }
  if (groups.length >= n) return groups.filter((_, g) => g % n === i).flat();
  return tasks.slice(Math.floor((i * tasks.length) / n), Math.floor(((i + 1) * tasks.length) / n));
}

export function shardFileName(i: number, n: number): string {
  const w = Math.max(5, String(n).length);
  return `shard-${String(i).padStart(w, '0')}-of-${String(n).padStart(w, '0')}.parquet`;
}
