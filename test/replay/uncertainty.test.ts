// replay --uncertainty: profile ranges, seeded draws, intervals and the sensitivity sweeps,
// on the bundled real recording and a generated workload, through the API and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COST_KEYS, PROFILES, getProfile } from '../../src/machine/profiles.ts';
import { drawProfiles, mulberry32, variedRanges } from '../../src/replay/draws.ts';
import { runUncertainty, type UncertaintyResult } from '../../src/replay/uncertainty.ts';
import { headlineText } from '../../src/analysis/headline.ts';
import { buildTables } from '../../src/analysis/tables.ts';
import { renderReport } from '../../src/report/index.ts';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { STRATEGY_NAMES, BASELINE_STRATEGY } from '../../src/strategies/index.ts';
import type { RunResult } from '../../src/machine/result.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const REAL = 'traces/real/pingpong-512/trace.txt.gz';
const WORKLOAD = 'workload:ping-pong:pages=64,iterations=300';

test('every built-in profile has ranges, and each value lies inside its range', () => {
  for (const [name, p] of Object.entries(PROFILES)) {
    assert.ok(p.ranges, `${name} has ranges`);
    for (const [k, r] of Object.entries(p.ranges)) {
      assert.ok(COST_KEYS.includes(k as never), `${name}.${k} is a cost key`);
      assert.ok(r.lo <= r.hi && r.lo < r.hi, `${name}.${k}: lo < hi`);
      const v = p[k as keyof typeof p] as number;
      assert.ok(v >= r.lo && v <= r.hi, `${name}.${k} = ${v} lies in ${r.lo}..${r.hi}`);
      assert.ok(r.source.length > 0, `${name}.${k} says where its range comes from`);
    }
    // The assumptions the headline can hang on are never silently exact.
    for (const k of ['workingSetPages', 'ipiIdleWakeNs', 'ipiSendNs', 'ipiDeliverNs', 'tlbMissNs'] as const) assert.ok(p.ranges[k], `${name}.${k} has a range`);
  }
});

test('draws: draw 0 is nominal, the same seed gives the same draws, keys without a range do not vary, a Latin hypercube covers each range', () => {
  const p = getProfile('skylake-laptop');
  const a = drawProfiles(p, 16, 42), b = drawProfiles(p, 16, 42), c = drawProfiles(p, 16, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(a[0], p);
  const varied = new Map(variedRanges(p));
  for (const k of COST_KEYS) {
    const values = a.map((d) => d[k]);
    const r = varied.get(k);
    if (r === undefined) { assert.ok(values.every((v) => v === p[k]), `${k} has no range: never varies`); continue; }
    assert.ok(values.every((v) => v >= r.lo && v <= r.hi), `${k} stays in its range`);
    assert.ok(new Set(values).size > 8, `${k} varies`);
    // One draw per stratum of log(value): 15 draws, 15 strata.
    if (k !== 'workingSetPages') {
      const strata = a.slice(1).map((d) => Math.floor(Math.log(d[k] / r.lo) / Math.log(r.hi / r.lo) * 15)).sort((x, y) => x - y);
      assert.deepEqual(strata, Array.from({ length: 15 }, (_, i) => i), `${k}: each stratum once`);
    }
  }
  assert.ok(a.every((d) => Number.isInteger(d.workingSetPages)));
  // A value set outside its range (--cost) is pinned.
  const pinned = drawProfiles({ ...p, ipiSendNs: 5000 }, 8, 1);
  assert.ok(pinned.every((d) => d.ipiSendNs === 5000));
  // mulberry32 is a fixed sequence.
  const r = mulberry32(1);
  assert.equal(r(), mulberry32(1)());
  assert.ok(r() >= 0 && r() < 1);
});

function containsNominal(u: UncertaintyResult, nominal: RunResult[]): void {
  const base = nominal.find((r) => r.strategy.name === u.baseline)!;
  for (const s of u.strategies) {
    const r = nominal.find((x) => x.strategy.name === s.strategy)!;
    assert.equal(s.overhead_ns.nominal, r.metrics.overhead_ns, `${s.strategy}: nominal is the plain replay's`);
    assert.ok(s.overhead_ns.lo <= s.overhead_ns.nominal && s.overhead_ns.nominal <= s.overhead_ns.hi, `${s.strategy} overhead interval contains nominal`);
    assert.ok(s.ratio, `${s.strategy} has a ratio interval`);
    assert.ok(Math.abs(s.ratio.nominal - r.metrics.overhead_ns / base.metrics.overhead_ns) < 1e-12);
    assert.ok(s.ratio.lo <= s.ratio.nominal && s.ratio.nominal <= s.ratio.hi, `${s.strategy} ratio interval contains nominal`);
  }
}

async function uncertain(spec: string, seed = 1, draws = 12) {
  const src = await openInput(spec);
  try {
    const profile = getProfile('skylake-laptop');
    const strategies = [...STRATEGY_NAMES];
    const nominal = await replay(src, { strategies, profile, workers: 1 });
    const u = await runUncertainty(src, { strategies, profile, baseline: BASELINE_STRATEGY, nominal, draws, seed, workers: 1 });
    return { src, nominal, u };
  } finally {
    src.close();
  }
}

test('the bundled real trace: intervals contain the nominal values, the workingSetPages sweep moves linux-4.14, and the same seed gives the same result', async () => {
  const { nominal, u } = await uncertain(REAL);
  containsNominal(u, nominal);
  assert.equal(u.headline?.strategy, 'linux-4.14');
  const ws = u.sensitivity.find((s) => s.assumption === 'workingSetPages');
  assert.ok(ws && ws.ratioLo !== null && ws.ratioHi !== null, 'the trace has no access events: its working set is swept');
  // A larger assumed working set means more refills for linux-4.13 (no PCID) only: the
  // ratio falls. The nominal (64 pages) lies between the two ends.
  assert.ok(ws.ratioLo > u.headline.ratio.nominal && u.headline.ratio.nominal > ws.ratioHi, `ratio ${ws.ratioLo} > ${u.headline.ratio.nominal} > ${ws.ratioHi}`);
  assert.ok(ws.ratioLo - ws.ratioHi > 0.1, 'the working set changes the headline by more than 0.1');
  assert.equal(u.sensitivity[0].assumption, 'workingSetPages', 'the largest effect comes first');
  assert.match(headlineText(u)!, /^linux-4\.14 ×0\.\d\d \[0\.\d\d–0\.\d\d\] of linux-4\.13 \(×0\.\d\d–×0\.\d\d for a working set of 16–512 pages\)$/);
  const again = await uncertain(REAL);
  assert.deepEqual(again.u, u);
});

test('a generated workload: intervals contain nominal; workingSetPages is not an assumption there', async () => {
  const { nominal, u, src } = await uncertain(WORKLOAD, 5, 6);
  containsNominal(u, nominal);
  assert.equal(u.draws, 6);
  assert.ok(!u.sensitivity.some((s) => s.assumption === 'workingSetPages'), 'workloads carry their own accesses');
  // The report: the interval and the sentence, and the CSV's extra columns.
  const data = { inputs: [{ info: src.info, results: nominal, uncertainty: u }], profile: getProfile('skylake-laptop') };
  const html = await renderReport(data, { interactive: false });
  assert.ok(html.includes(`Overhead: <b>${headlineText(u)!.replace(/&/g, '&amp;')}</b>`));
  assert.match(html, /<span class="r iv" data-lo="[\d.]+" data-hi="[\d.]+">\[[^\]]+–[^\]]+\]<\/span>/);
  assert.match(html, /min–max over 6 draws/);
  const tables = buildTables(data);
  assert.deepEqual(tables.runs.columns.slice(-4), ['overhead_ns_lo', 'overhead_ns_hi', 'ratio_lo', 'ratio_hi']);
  assert.ok(tables.sensitivity);
  // Without --uncertainty the runs table keeps its columns and there is no sensitivity table.
  const plain = buildTables({ inputs: [{ info: src.info, results: nominal }] });
  assert.ok(!plain.runs.columns.includes('ratio_lo'));
  assert.equal(plain.sensitivity, undefined);
});

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), 'replay', ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });

test('CLI: --uncertainty as a bare flag before an input, --json carries the intervals, same seed gives byte-identical output', () => {
  const a = cli('--no-report', '--json', '--uncertainty', '--uncertainty-seed', '7', REAL);
  const b = cli('--no-report', '--json', '--uncertainty', '--uncertainty-seed', '7', REAL);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const j = JSON.parse(a.stdout) as { runs: unknown[]; uncertainty: (UncertaintyResult & { input: string; headlineText: string })[] };
  assert.equal(j.uncertainty.length, 1);
  assert.equal(j.uncertainty[0].input, REAL);
  assert.equal(j.uncertainty[0].draws, 16);
  assert.equal(j.uncertainty[0].seed, 7);
  assert.match(j.uncertainty[0].headlineText, /working set of 16–512 pages/);
  const c = cli('--no-report', '--json', '--uncertainty', '4', '--uncertainty-seed', '8', REAL);
  assert.equal(c.status, 0, c.stderr);
  assert.notEqual(c.stdout, a.stdout);
  const plain = cli('--no-report', '--json', REAL);
  assert.equal((JSON.parse(plain.stdout) as { uncertainty?: unknown }).uncertainty, undefined, 'no uncertainty key without the option');
  const text = cli('--no-report', '--uncertainty', '4', REAL);
  assert.match(text.stdout, /\n {2}headline: linux-4\.14 ×0\.\d\d \[[\d.]+–[\d.]+\] of linux-4\.13 \(×[\d.]+–×[\d.]+ for a working set of 16–512 pages\)\n/);
  assert.match(text.stdout, /min–max over 4 draws/);
  const bad = cli('--no-report', '--uncertainty', '1', REAL);
  assert.equal(bad.status, 2);
  assert.equal(cli('--no-report', '--uncertainty-seed', '3', REAL).status, 2);
});

test('replay() under several profiles gives the same results in-process and over workers, profile-major', async () => {
  const src = await openInput(WORKLOAD);
  try {
    const profiles = drawProfiles(getProfile('skylake-laptop'), 3, 9);
    const strategies = ['linux-4.13', 'linux-4.14', 'linux-6.18'];
    const one = await replay(src, { strategies, profiles, workers: 1 });
    const two = await replay(src, { strategies, profiles, workers: 2 });
    assert.equal(one.length, 9);
    assert.deepEqual(two, one);
    assert.deepEqual(one.map((r) => `${r.profile} ${r.strategy.name}`), profiles.flatMap((p) => strategies.map((s) => `${p.name} ${s}`)));
    // The first profile's runs are what a plain replay gives.
    assert.deepEqual(one.slice(0, 3), await replay(src, { strategies, profile: profiles[0], workers: 1 }));
  } finally {
    src.close();
  }
});
