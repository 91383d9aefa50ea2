// reports/custom-strategy.ts as a user runs it (npx tsx reports/custom-strategy.ts ...), with
// small inputs; its output is checked against the library it is written with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
