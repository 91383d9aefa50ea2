// reports/sweep.ts as a user runs it (tiny sizes): a CSV with one row per workload, size
// and strategy, and an HTML page of SVG charts with no script in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

test('sweep: CSV rows per size and strategy, IPIs grow with the busy threads, HTML charts without scripts', () => {
  const out = mkdtempSync(join(tmpdir(), 'tlbsim-sweep-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'reports/sweep.ts'),
    '--sizes', '1,3', '--workloads', 'madv-threads', '-s', 'linux-4.13,linux-6.18', '--iterations', '50', '-o', out],
  { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  const [head, ...lines] = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
  assert.equal(rows.length, 4);
  const at = (n: string, s: string) => rows.find((x) => x.threads === n && x.strategy === s)!;
  assert.equal(Number(at('1', 'linux-6.18').ipis_per_iteration), 0, 'one thread: nobody to interrupt');
  assert.ok(Number(at('3', 'linux-6.18').ipis_per_iteration) >= 2, 'two busy threads: two IPIs per madvise');
  assert.ok(Number(at('3', 'linux-4.13').iteration_ns) > Number(at('1', 'linux-4.13').iteration_ns));
  const html = readFileSync(join(out, 'sweep.html'), 'utf8');
  assert.equal(html.match(/<svg/g)?.length, 2);
  assert.doesNotMatch(html, /<script/i);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'reports/sweep.ts'), '-s', 'no-such-strategy'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown strategy "no-such-strategy"/);
});
