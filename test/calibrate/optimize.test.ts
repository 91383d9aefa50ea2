// The fit's optimizer on functions whose minimum is known: it finds it inside the bounds,
// stops at a bound when the minimum lies outside, never evaluates outside the box, keeps
// to its evaluation budget and gives the same answer every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternSearch, fromUnit, toUnit, type ParamBounds } from '../../src/calibrate/optimize.ts';

// A bowl in log space, minimum at `at`, with a cross term so coordinates interact.
const bowl = (at: readonly number[]) => (x: number[]) => {
  const d = x.map((v, i) => Math.log(v / at[i]));
  return d.reduce((a, v) => a + v * v, 0) + 0.5 * d[0] * d[1];
};
const BOUNDS: ParamBounds[] = [{ lo: 10, hi: 1000, x0: 100 }, { lo: 1, hi: 64, x0: 2 }, { lo: 0.5, hi: 8, x0: 4 }];

test('toUnit and fromUnit map a log range onto [0, 1] and back, clamped', () => {
  const b = { lo: 10, hi: 1000, x0: 100 };
  assert.equal(toUnit(10, b), 0);
  assert.equal(toUnit(1000, b), 1);
  assert.ok(Math.abs(toUnit(100, b) - 0.5) < 1e-12);
  assert.ok(Math.abs(fromUnit(0.5, b) - 100) < 1e-9);
  assert.equal(fromUnit(2, b), 1000);
  assert.equal(fromUnit(-1, b), 10);
});

test('pattern search finds a known minimum inside the bounds', async () => {
  const at = [300, 17, 1.3];
  const r = await patternSearch(bowl(at), BOUNDS, { maxEvals: 2000, minStep: 1 / 4096 });
  assert.equal(r.stop, 'converged');
  r.x.forEach((v, i) => assert.ok(Math.abs(v / at[i] - 1) < 0.01, `x${i} = ${v}, minimum at ${at[i]}`));
  assert.ok(r.f < 1e-4 && r.f <= r.f0);
});

test('a minimum outside the box ends on the bound; no evaluation leaves the box', async () => {
  const seen: number[][] = [];
  const f = bowl([5000, 0.1, 2]);
  const r = await patternSearch((x) => { seen.push(x); return f(x); }, BOUNDS, { maxEvals: 2000 });
  assert.ok(Math.abs(r.x[0] / 1000 - 1) < 1e-9, `x0 at the upper bound, got ${r.x[0]}`);
  assert.ok(Math.abs(r.x[1] / 1 - 1) < 1e-9, `x1 at the lower bound, got ${r.x[1]}`);
  for (const x of seen) x.forEach((v, i) => assert.ok(v >= BOUNDS[i].lo * (1 - 1e-12) && v <= BOUNDS[i].hi * (1 + 1e-12), `${v}`));
});

test('deterministic, and within its evaluation budget', async () => {
  const f = bowl([300, 17, 1.3]);
  const a = await patternSearch(f, BOUNDS, { maxEvals: 25 });
  const b = await patternSearch(f, BOUNDS, { maxEvals: 25 });
  assert.deepEqual(a, b);
  assert.equal(a.stop, 'max-evals');
  assert.ok(a.evals <= 25);
  assert.ok(a.f <= a.f0, 'never worse than the start');
});

test('a flat objective leaves the start point alone', async () => {
  const r = await patternSearch(() => 1, BOUNDS, { maxEvals: 500 });
  r.x.forEach((v, i) => assert.ok(Math.abs(v / BOUNDS[i].x0 - 1) < 1e-9));
});

test('bounds that do not contain the start are an error', async () => {
  await assert.rejects(patternSearch(() => 0, [{ lo: 10, hi: 20, x0: 5 }], { maxEvals: 5 }), RangeError);
});
