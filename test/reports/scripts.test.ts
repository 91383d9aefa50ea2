// The scripts in reports/ run as a user runs them (npx tsx reports/NAME.ts ...), with small
// parameters, and their output is checked against the library they are written with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInput, replay } from '../../src/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
function script(name: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'reports', name), ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The rows of the text tables custom-strategy.ts prints, by input then strategy. */
function parseTables(stdout: string): Map<string, Map<string, Record<string, number>>> {
  const tables = new Map<string, Map<string, Record<string, number>>>();
  for (const block of stdout.trim().split(/\n\n+/)) {
    const [title, header, ...rows] = block.split('\n');
    const input = title.slice(0, title.indexOf(': '));
    const names = header.split(/\s{2,}/);
    const byStrategy = new Map<string, Record<string, number>>();
    for (const row of rows) {
      const cells = row.split(/\s{2,}/);
      assert.equal(cells.length, names.length, row);
      byStrategy.set(cells[0], Object.fromEntries(names.slice(1).map((n, i) => [n, Number(cells[i + 1])])));
    }
    tables.set(input, byStrategy);
  }
  return tables;
}

test('reports/custom-strategy.ts replays its two strategies next to the built-ins, which match the library', async () => {
  const trace = 'traces/real/pingpong-512/trace.txt.gz';
  const workload = 'workload:madv-dontneed-switch:iterations=200';
  const r = script('custom-strategy.ts', [trace, workload, '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const tables = parseTables(r.stdout);
  assert.deepEqual([...tables.keys()], [trace, workload]);
  for (const [input, rows] of tables) {
    assert.deepEqual([...rows.keys()], ['linux-4.13', 'linux-6.18', 'linux-6.18-never-lazy', 'linux-6.18-ipi-lazy'], input);
    for (const row of rows.values()) for (const [k, v] of Object.entries(row)) assert.ok(Number.isFinite(v), `${input} ${k}`);
    // The built-in rows are what the library computes for the same input and profile.
    const source = await openInput(input);
    const [ref] = await replay(source, { strategies: ['linux-6.18'], profile: 'kvm-guest', workers: 1 });
    source.close();
    assert.equal(rows.get('linux-6.18')!.ipis_sent, ref.metrics.ipis_sent, input);
    assert.equal(rows.get('linux-6.18')!.cr3_writes, ref.metrics.cr3_writes, input);
    assert.equal(rows.get('linux-6.18')!.flush_requests, ref.metrics.flush_requests, input);
    // What each what-if changes: no lazy CPU ever gets a flush when none stays lazy, and it
    // costs CR3 writes; sending flushes to lazy CPUs sends at least as many IPIs.
    const never = rows.get('linux-6.18-never-lazy')!, ipiLazy = rows.get('linux-6.18-ipi-lazy')!;
    assert.equal(never.ipis_to_lazy, 0, input);
    assert.ok(never.cr3_writes >= ref.metrics.cr3_writes, input);
    assert.ok(ipiLazy.ipis_to_lazy >= ref.metrics.ipis_to_lazy, input);
    for (const row of rows.values()) assert.equal(row.violations, 0, input);
  }
  // madvise-then-sleep leaves the other CPU lazy in the mm: that is where the two differ.
  const w = tables.get(workload)!;
  assert.ok(w.get('linux-6.18-ipi-lazy')!.ipis_to_lazy > 100, JSON.stringify(w.get('linux-6.18-ipi-lazy')));
  assert.ok(w.get('linux-6.18-never-lazy')!.cr3_writes > w.get('linux-6.18')!.cr3_writes);
});

test('reports/sweep.ts writes the CSV, the Vega-Lite spec and an SVG chart for each workload and machine size', () => {
  const out = mkdtempSync(join(tmpdir(), 'tlbsim-sweep-'));
  const cpus = [1, 2, 4];
  const r = script('sweep.ts', ['--cpus', cpus.join(','), '--iterations', '20', '--strategies', 'linux-4.13,linux-6.18', '--workers', '1', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*sweep\.csv/);
  const [header, ...lines] = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
  assert.equal(header, 'workload,cpus,strategy,iteration_ns,ipis_sent,csd_queued,ipis_per_iteration,cross_calls_per_iteration');
  assert.equal(lines.length, 2 * cpus.length * 2);
  const rows = lines.map((l) => l.split(','));
  for (const row of rows) {
    assert.ok(['madv-threads', 'wis-tlb-flush2'].includes(row[0]), row.join());
    assert.ok(Number(row[3]) > 0, `iteration_ns of ${row.join()}`);
  }
  // madv-threads: every iteration's flush reaches each of the cpus-1 spinning threads' CPUs.
  for (const row of rows.filter((x) => x[0] === 'madv-threads')) {
    const n = Number(row[1]);
    if (n === 1) assert.equal(Number(row[4]), 0, row.join());
    else assert.ok(Number(row[7]) >= n - 1, row.join());
    assert.ok(Number(row[4]) <= Number(row[5]), `an IPI carries at least one cross-call: ${row.join()}`);
  }
  const spec = JSON.parse(readFileSync(join(out, 'sweep.vl.json'), 'utf8'));
  assert.equal(spec.data.values.length, 3 * lines.length);
  const svg = readFileSync(join(out, 'sweep.svg'), 'utf8');
  assert.match(svg, /^<svg /);
  for (const s of ['linux-4.13', 'linux-6.18', 'madv-threads', 'wis-tlb-flush2']) assert.ok(svg.includes(s), s);
  assert.ok(existsSync(join(out, 'sweep.csv')));
});

test('reports/sweep.ts rejects a bad parameter with one line', () => {
  const r = script('sweep.ts', ['--cpus', 'many']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'sweep: --cpus: "many" is not a list of positive integers\n');
});
