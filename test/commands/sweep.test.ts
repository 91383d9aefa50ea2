// tlbsim sweep and tlbsim aggregate as a user runs them: a small sweep run as 4 shards in
// parallel processes aggregates to the same bytes as one process; --list is stable and its
// shards partition it; a rerun skips finished shards; a failing task is a row; bad spec
// files get one line naming the file, what was expected and what was found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_STACK, ROOT, tlbsim } from './run.ts';
import Papa from 'papaparse';
import { withDuckDb } from '../../src/sweep/duck.ts';

const dir = mkdtempSync(join(tmpdir(), 'tlbsim-sweep-'));
const SPEC = join(dir, 'spec.json');
writeFileSync(SPEC, JSON.stringify({
  name: 'tiny',
  inputs: [
    { workload: 'madv-threads', params: { iterations: 40 }, zip: { cpus: [1, 2, 4], threads: [1, 2, 4] } },
    { workload: 'wis-tlb-flush2', params: { iterations: 32, mode: 'threads' }, zip: { cpus: [2, 4], tasks: [2, 4] } },
    // 8 threads on 2 CPUs: madv-threads refuses it, so these two tasks fail and are rows.
    { workload: 'madv-threads', params: { iterations: 40 }, zip: { cpus: [2], threads: [8] } },
  ],
  strategies: ['linux-4.13', 'linux-6.18'],
}));
const OUTPUTS = ['runs.csv', 'strategies.csv', 'curves.csv', 'errors.csv', 'report.html'];

test('--list: one JSON line per task in a stable order; the shards of --list partition it', () => {
  const a = tlbsim(['sweep', SPEC, '--list']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(tlbsim(['sweep', SPEC, '--list']).stdout, a.stdout);
  const tasks = a.stdout.trim().split('\n').map((l) => JSON.parse(l) as { task: number; input: string; strategy: string });
  assert.equal(tasks.length, 12);
  assert.deepEqual(tasks.map((t) => t.task), [...tasks.keys()]);
  assert.equal(tasks[0].input, 'workload:madv-threads:iterations=40,cpus=1,threads=1');
  assert.deepEqual(tasks.slice(0, 2).map((t) => t.strategy), ['linux-4.13', 'linux-6.18']);
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = tlbsim(['sweep', SPEC, '--list', '--shard', `${i}/4`]);
    assert.equal(s.status, 0, s.stderr);
    const mine = s.stdout.trim().split('\n').map((l) => JSON.parse(l) as { task: number; input: string });
    // Both strategies of one input land in one shard: it parses that input once.
    for (const t of mine) assert.equal(mine.filter((u) => u.input === t.input).length, 2);
    seen.push(...mine.map((t) => t.task));
  }
  assert.deepEqual(seen.sort((x, y) => x - y), [...tasks.keys()]);
  // The index can come from a Kubernetes Indexed Job or a Slurm array.
  const k8s = tlbsim(['sweep', SPEC, '--list', '--shards', '4'], { env: { JOB_COMPLETION_INDEX: '2' } });
  assert.equal(k8s.stdout, tlbsim(['sweep', SPEC, '--list', '--shard', '2/4']).stdout);
  const slurm = tlbsim(['sweep', SPEC, '--list', '--shards', '4'], { env: { SLURM_ARRAY_TASK_ID: '3' } });
  assert.equal(slurm.stdout, tlbsim(['sweep', SPEC, '--list', '--shard', '3/4']).stdout);
});

test('4 shards in parallel processes aggregate to the same bytes as one process; a rerun skips them; a failed task is a row', () => {
  const one = join(dir, 'one'), four = join(dir, 'four');
  const r1 = tlbsim(['sweep', SPEC, '-o', one]);
  assert.equal(r1.status, 0, r1.stderr);
  const r4 = tlbsim(['sweep', SPEC, '-o', four, '--jobs', '4', '--shards', '4']);
  assert.equal(r4.status, 0, r4.stderr);
  const shards = readdirSync(four).filter((f) => f.endsWith('.parquet')).sort();
  assert.deepEqual(shards, [0, 1, 2, 3].map((i) => `shard-0000${i}-of-00004.parquet`));
  for (const d of [one, four]) {
    const a = tlbsim(['aggregate', d]);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /12 tasks, 2 failed/);
  }
  for (const f of OUTPUTS) assert.ok(readFileSync(join(one, f)).equals(readFileSync(join(four, f))), `${f} differs between 1 and 4 shards`);

  const runs = readFileSync(join(one, 'runs.csv'), 'utf8').trim().split('\n');
  const head = runs[0].split(',');
  assert.ok(['task', 'input', 'iterations', 'threads', 'mode', 'tasks', 'strategy', 'cpus', 'iteration_ns', 'error'].every((c) => head.includes(c)), runs[0]);
  assert.equal(runs.length, 13);
  const errors = readFileSync(join(one, 'errors.csv'), 'utf8').trim().split('\n');
  assert.equal(errors.length, 3);
  assert.match(errors[1], /^10,.*madv-threads.*threads=8.*at least as many cpus as threads/);
  const html = readFileSync(join(one, 'report.html'), 'utf8');
  assert.match(html, /madv-threads: time per iteration of the measured thread by cpus/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 4);
  assert.match(html, /Failed tasks/);

  // Rerun: every shard is there for this spec, so nothing runs and nothing is rewritten.
  const before = shards.map((f) => statSync(join(four, f)).mtimeMs);
  const again = tlbsim(['sweep', SPEC, '-o', four, '--jobs', '2', '--shards', '4']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal((again.stderr.match(/already done/g) ?? []).length, 4, again.stderr);
  assert.deepEqual(shards.map((f) => statSync(join(four, f)).mtimeMs), before);
  // Another spec into the same directory is refused, not mixed in.
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ name: 'tiny', inputs: [{ workload: 'madv-threads', params: { iterations: 41 } }], strategies: ['linux-4.13'] }));
  const clash = tlbsim(['sweep', other, '-o', one]);
  assert.equal(clash.status, 1);
  assert.match(clash.stderr, /shard-00000-of-00001\.parquet: a shard file of another sweep/);
  assert.doesNotMatch(clash.stderr, NO_STACK);
});

test('the DuckDB query in README runs on a sweep directory as written', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- sweep-sql -->\s*```sql\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has a ```sql block after <!-- sweep-sql -->');
  const one = join(dir, 'one');
  // README's query reads reports/out/sweep/scaling; this test's sweep is elsewhere.
  assert.match(m[1], /reports\/out\/sweep\/scaling\//);
  const sql = m[1].replaceAll('reports/out/sweep/scaling/', `${one}/`);
  const rows = await withDuckDb(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS());
  // 3 + 2 successful inputs x 2 strategies.
  assert.equal(rows.length, 10);
  const at = (w: string, cpus: number, s: string) => rows.find((r) => r.workload === w && Number(r.cpus) === cpus && r.strategy === s)!;
  assert.equal(Number(at('madv-threads', 1, 'linux-6.18').ipis_per_iteration), 0);
  assert.ok(Number(at('madv-threads', 4, 'linux-6.18').ipis_per_iteration) >= 3);
  assert.ok(Number(at('madv-threads', 4, 'linux-4.13').iteration_ns) > Number(at('madv-threads', 1, 'linux-4.13').iteration_ns));
});

test('bad spec files and usage: one line naming the file, what was expected and what was found; no stack', () => {
  const cases: [string, string, RegExp][] = [
    ['not-json.json', '{"inputs": [', /not-json\.json: expected a JSON sweep spec, found invalid JSON/],
    ['array.json', '[1]', /array\.json: top level: expected an object with "inputs", found an array of 1/],
    ['no-inputs.json', '{"strategies": ["linux-4.13"]}', /no-inputs\.json: "inputs": expected a non-empty array .*, found nothing/],
    ['strategy.json', '{"inputs": ["workload:ping-pong"], "strategies": ["linux-9.9"]}', /strategy\.json: "strategies"\[0\]: expected one of linux-4\.13, .*found the string "linux-9\.9"/],
    ['param.json', '{"inputs": [{"workload": "madv-threads", "grid": {"cpu": [1, 2]}}]}', /param\.json: "inputs"\[0\]\.grid: key "cpu": expected a parameter of madv-threads \(.*cpus.*\), found an array of 2/],
    ['zip.json', '{"inputs": [{"workload": "madv-threads", "zip": {"cpus": [1, 2], "threads": [1]}}]}', /zip\.json: "inputs"\[0\]\.zip\.threads: expected an array of 2 values like the other zip keys, found an array of 1/],
    ['file.json', '{"inputs": ["no-such-trace.txt"]}', /file\.json: "inputs"\[0\]: expected a trace file .*, found the string "no-such-trace\.txt"/],
    ['glob.json', '{"inputs": ["traces/*.nothing"]}', /glob\.json: "inputs"\[0\]: expected a glob that matches at least one file, found the string "traces\/\*\.nothing"/],
    ['workload.json', '{"inputs": [{"workload": "nope"}]}', /workload\.json: "inputs"\[0\]\.workload: expected a workload name .*, found the string "nope"/],
    ['string.json', '{"inputs": ["workload:madv-threads:thread=2"]}', /string\.json: "inputs"\[0\]: expected a parameter of madv-threads \(.*threads.*\), found the string "thread"/],
    ['string-name.json', '{"inputs": ["workload:nope:x=1"]}', /string-name\.json: "inputs"\[0\]: expected a workload spec \(unknown workload "nope".*\), found the string "workload:nope:x=1"/],
    ['name.json', '{"name": "../up", "inputs": ["workload:ping-pong"]}', /name\.json: "name": expected a name of letters, digits, "\.", "_" and "-", found the string "\.\.\/up"/],
  ];
  for (const [name, text, want] of cases) {
    const p = join(dir, name);
    writeFileSync(p, text);
    const r = tlbsim(['sweep', p, '--list']);
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, want, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, NO_STACK, name);
  }
  const missing = tlbsim(['sweep', join(dir, 'absent.json')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /absent\.json: cannot read the sweep spec \(ENOENT\)/);
  const shard = tlbsim(['sweep', SPEC, '--shard', '4/4']);
  assert.equal(shard.status, 2);
  assert.match(shard.stderr, /--shard expects I\/N with 0 <= I < N/);
  const noIndex = tlbsim(['sweep', SPEC, '--shards', '4'], { env: { JOB_COMPLETION_INDEX: '', SLURM_ARRAY_TASK_ID: '' } });
  assert.equal(noIndex.status, 2);
  assert.match(noIndex.stderr, /needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID/);
  const agg = tlbsim(['aggregate', join(dir, 'nowhere')]);
  assert.equal(agg.status, 1);
  assert.match(agg.stderr, /nowhere: no such directory/);
  const empty = tlbsim(['aggregate', dir]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /expected shard-\*-of-\*\.parquet files written by tlbsim sweep, found none/);
});

test('replay --parquet writes the --csv tables as Parquet with the same rows', async () => {
  const csv = join(dir, 'csv'), pq = join(dir, 'pq');
  const r = tlbsim(['replay', 'workload:madv-threads:threads=2,iterations=50', '-s', 'linux-4.13,linux-6.18', '--no-report', '--no-calibration', '--csv', csv, '--parquet', pq]);
  assert.equal(r.status, 0, r.stderr);
  const csvs = readdirSync(csv).sort();
  assert.deepEqual(readdirSync(pq).sort(), csvs.map((f) => f.replace(/\.csv$/, '.parquet')));
  await withDuckDb(async (c) => {
    for (const f of csvs) {
      const lines = readFileSync(join(csv, f), 'utf8').trim().split('\n').length - 1;
      const n = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(pq, f.replace(/\.csv$/, '.parquet'))}')`)).getRowObjectsJS()[0].n;
      // CSV rows may hold quoted newlines in no table here; the counts must agree.
      assert.equal(n, lines, f);
    }
    const runs = (await c.runAndReadAll(`SELECT strategy, ipis_sent FROM read_parquet('${join(pq, 'runs.parquet')}') ORDER BY strategy`)).getRowObjectsJS();
    assert.deepEqual(runs.map((x) => x.strategy), ['linux-4.13', 'linux-6.18']);
  });
});

test('trace inputs: paths and globs relative to the spec, every profile over one parse, an unreadable trace is rows with its error', () => {
  const tdir = mkdtempSync(join(tmpdir(), 'tlbsim-sweep-traces-'));
  const spec = join(tdir, 'traces.json');
  // Absolute here so the spec can live outside the repository; relative ones are tested by --list below.
  writeFileSync(spec, JSON.stringify({
    inputs: [`${ROOT}test/corpus/c[lr]*.txt`, `${ROOT}test/corpus/binary-garbage.txt`],
    strategies: ['linux-4.13', 'linux-7.3'], profiles: ['skylake-laptop', 'kvm-guest'],
  }));
  const env = { env: { TLBSIM_CACHE: '0' } };
  const list = tlbsim(['sweep', spec, '--list'], env);
  assert.equal(list.status, 0, list.stderr);
  const tasks = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; profile: string; strategy: string; kind: string });
  assert.deepEqual([...new Set(tasks.map((t) => t.input.replace(/^.*\//, '')))], ['clean.txt', 'crlf-line-ends.txt', 'binary-garbage.txt']);
  assert.equal(tasks.length, 12);
  assert.deepEqual(tasks.slice(0, 4).map((t) => `${t.profile}/${t.strategy}`), ['skylake-laptop/linux-4.13', 'skylake-laptop/linux-7.3', 'kvm-guest/linux-4.13', 'kvm-guest/linux-7.3']);
  const out = join(tdir, 'out');
  const run = tlbsim(['sweep', spec, '-o', out], env);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /clean\.txt x 4 tasks/);
  const agg = tlbsim(['aggregate', out]);
  assert.equal(agg.status, 0, agg.stderr);
  assert.match(agg.stderr, /12 tasks, 4 failed/);
  const strategies = readFileSync(join(out, 'strategies.csv'), 'utf8').trim().split('\n');
  assert.equal(strategies.length, 5);
  const errors = readFileSync(join(out, 'errors.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(errors.length, 4);
  for (const e of errors) assert.match(e, /binary-garbage\.txt/);
  // A relative glob is read from the spec's directory, whatever the working directory.
  const rel = join(ROOT, 'test/corpus/.sweep-rel.json');
  writeFileSync(rel, JSON.stringify({ inputs: ['c[lr]*.txt'], strategies: ['linux-4.13'] }));
  try {
    const r = tlbsim(['sweep', rel, '--list'], { cwd: tdir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { input: string }).input), ['clean.txt', 'crlf-line-ends.txt']);
  } finally {
    rmSync(rel);
  }
});

test('more shards than tasks: the empty shards are files too, and a parameter of mixed types is a text column', () => {
  const spec = join(dir, 'mixed.json');
  writeFileSync(spec, JSON.stringify({ inputs: [{ workload: 'ping-pong', params: { iterations: 20 }, grid: { pages: [0, '8'] } }], strategies: ['linux-4.13'] }));
  const out = join(dir, 'mixed');
  const r = tlbsim(['sweep', spec, '-o', out, '--jobs', '2', '--shards', '3']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.parquet')).length, 3);
  const a = tlbsim(['aggregate', out]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /2 tasks/);
  const runs = Papa.parse<Record<string, string>>(readFileSync(join(out, 'runs.csv'), 'utf8').trim(), { header: true }).data;
  assert.deepEqual(runs.map((x) => x.pages), ['0', '8']);
  assert.deepEqual(runs.map((x) => x.error), ['', '']);
});
