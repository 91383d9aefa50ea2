// calibrate --fit: a tiny fit reports residuals per row; held-out rows never reach the
// objective (perturbing one changes no fitted number); the committed fitted profiles load,
// name their provenance and stay inside the fit's physical bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitClass, fit, fittedProfilesFile, fitText, fitJson, residual } from '../../src/calibrate/fit.ts';
import { FIT_CLASSES, fittedName } from '../../src/calibrate/fit-params.ts';
import { FIT_TARGETS, targetStrategies, type FitTarget } from '../../src/calibrate/targets.ts';
import { CALIBRATION_TARGETS, calibrate, calibrationText, withFitted } from '../../src/calibrate/index.ts';
import { COST_KEYS, PROFILES, getProfile } from '../../src/machine/profiles.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { tlbsim } from '../commands/run.ts';

// The skylake rows the free numbers move, on short workloads so a fit of a few evaluations
// takes seconds.
const small = (t: FitTarget): FitTarget => ({ ...t, workload: t.workload.replace('iterations=500', 'iterations=60') });
const TINY = FIT_TARGETS.filter((t) => ['pp-pcid', 'pp-nopcid', 'madv-switch-pcid', 'pp-saved-per-switch'].includes(t.id)).map(small);

test('a tiny fit: every row of the class gets a residual, rms before and after, parameters inside their bounds', async () => {
  const r = await fitClass('skylake-laptop', { targets: TINY, maxEvals: 6, ranges: false });
  assert.equal(r.name, 'skylake-laptop-fitted');
  assert.ok(r.evals <= 6);
  assert.deepEqual(r.rows.map((x) => x.id), TINY.map((t) => t.id));
  for (const row of r.rows) {
    assert.ok(Number.isFinite(row.before) && Number.isFinite(row.after), row.id);
    assert.equal(row.residualBefore, residual(row.before, row.published));
    assert.equal(row.residualAfter, residual(row.after, row.published));
  }
  assert.equal(r.rms.fit.n, 2);
  assert.equal(r.rms.heldOut.n, 2);
  for (const s of [r.rms.fit, r.rms.heldOut]) assert.ok(Number.isFinite(s.before) && Number.isFinite(s.after));
  assert.ok(r.objectiveAfter <= r.objectiveBefore);
  for (const p of r.params) assert.ok(p.fitted >= p.lo && p.fitted <= p.hi, p.key);
  // The fitted profile carries exactly the fitted numbers on top of its base.
  const base = getProfile('skylake-laptop');
  for (const k of COST_KEYS) {
    const free = r.params.find((p) => p.key === k || FIT_CLASSES['skylake-laptop'].params.find((fp) => fp.key === p.key)?.tied?.includes(k));
    assert.equal(r.profile[k], free ? free.fitted : base[k], k);
  }
  const text = fitText({ classes: [r], command: 'test', date: '2026-01-01' });
  for (const t of TINY) assert.match(text, new RegExp(`^  ${t.id} `, 'm'));
  const json = fitJson({ classes: [r], command: 'test', date: '2026-01-01' }, 'held-out') as { classes: { rows: { role: string }[] }[] };
  assert.deepEqual(json.classes[0].rows.map((x) => x.role), ['held-out', 'held-out']);
  const file = fittedProfilesFile({ classes: [r], command: 'test', date: '2026-01-01' });
  assert.equal(file.profiles['skylake-laptop-fitted'].provenance.kind, 'fitted');
});

test('held-out rows are not in the objective: perturbing one changes no fitted number, perturbing a fit row does', async () => {
  const opts = { maxEvals: 8, ranges: false } as const;
  const plain = await fitClass('skylake-laptop', { targets: TINY, ...opts });
  const heldOut = TINY.map((t) => (t.id === 'madv-switch-pcid' ? { ...t, published: t.published * 3 } : t));
  const perturbed = await fitClass('skylake-laptop', { targets: heldOut, ...opts });
  assert.deepEqual(perturbed.params.map((p) => p.fitted), plain.params.map((p) => p.fitted));
  assert.equal(perturbed.objectiveAfter, plain.objectiveAfter);
  const row = (r: typeof plain) => r.rows.find((x) => x.id === 'madv-switch-pcid')!;
  assert.notEqual(row(perturbed).residualAfter, row(plain).residualAfter, 'the perturbed row is still reported');
  // The same perturbation on a fit row moves the objective: the test above can see a change.
  const fitRow = TINY.map((t) => (t.id === 'pp-pcid' ? { ...t, published: t.published * 0.5 } : t));
  const moved = await fitClass('skylake-laptop', { targets: fitRow, ...opts });
  assert.notEqual(moved.objectiveAfter, plain.objectiveAfter);
});

test('fit() fits only classes with fit rows and keeps one profile per class', async () => {
  const r = await fit({ targets: TINY.filter((t) => t.id !== 'madv-switch-pcid'), maxEvals: 3, ranges: false });
  assert.deepEqual(r.classes.map((c) => c.name), ['skylake-laptop-fitted']);
  assert.match(r.date, /^\d{4}-\d\d-\d\d$/);
});

test('every target is cited, belongs to a fit class, names replayed strategies; fit and held-out rows exist', () => {
  const ids = new Set<string>();
  for (const t of FIT_TARGETS) {
    assert.ok(!ids.has(t.id), `unique id ${t.id}`); ids.add(t.id);
    assert.ok(t.citation.source.length > 0 && t.citation.quote.length > 0, t.id);
    assert.ok(FIT_CLASSES[t.profileClass], `${t.id}: class ${t.profileClass}`);
    for (const s of targetStrategies(t)) assert.ok(STRATEGY_NAMES.includes(s), `${t.id}: ${s}`);
    assert.ok(t.published > 0 && t.tolerance > 0, t.id);
    if (t.role === 'reported') assert.ok(t.note, `${t.id}: a reported row says why`);
    assert.ok(t.workload.startsWith('workload:'), t.id);
  }
  assert.ok(FIT_TARGETS.some((t) => t.role === 'fit') && FIT_TARGETS.some((t) => t.role === 'held-out'));
  // Seed 000's table is all in: every calibrate row has a target with the same published ratio.
  for (const c of CALIBRATION_TARGETS) {
    const pub = c.publishedStrategy / c.publishedBaseline;
    assert.ok(FIT_TARGETS.some((t) => t.strategy === c.strategy && t.baseline === c.baseline
      && t.measure.kind === 'ratio' && t.measure.metric === c.metric && Math.abs(t.published / pub - 1) < 1e-12),
    `${c.benchmark} ${c.metric} ${c.strategy}`);
  }
});

test('free parameters: hand values inside their bounds, bounds ordered, each bound explained', () => {
  for (const [name, cls] of Object.entries(FIT_CLASSES)) {
    const base = getProfile(cls.base);
    for (const p of cls.params) {
      assert.ok(p.lo > 0 && p.lo < p.hi, `${name}.${p.key}`);
      assert.ok(base[p.key] >= p.lo && base[p.key] <= p.hi, `${name}.${p.key} = ${base[p.key]} outside ${p.lo}..${p.hi}`);
      assert.match(p.why, /\[(assume|recall)\]/, `${name}.${p.key}: only unsourced numbers are free`);
      for (const k of p.tied ?? []) assert.equal(base[k], base[p.key], `${k} is the same operation as ${p.key}`);
    }
  }
});

test('the committed fitted profiles load as named profiles and respect the bounds', () => {
  for (const [name, cls] of Object.entries(FIT_CLASSES)) {
    const fitted = getProfile(fittedName(name));
    assert.ok(PROFILES[fittedName(name)], fittedName(name));
    assert.equal(fitted.name, fittedName(name));
    assert.equal(fitted.provenance?.kind, 'fitted');
    assert.match(fitted.provenance?.note ?? '', /tlbsim calibrate --fit/);
    assert.match(fitted.provenance?.date ?? '', /^\d{4}-\d\d-\d\d$/);
    const base = getProfile(cls.base);
    const free = new Set(cls.params.flatMap((p) => [p.key, ...(p.tied ?? [])]));
    for (const p of cls.params) {
      const v = fitted[p.key];
      assert.ok(v >= p.lo && v <= p.hi, `${fittedName(name)}.${p.key} = ${v} outside ${p.lo}..${p.hi}`);
      const r = fitted.ranges?.[p.key];
      assert.ok(r && r.lo <= v && v <= r.hi && r.lo >= p.lo && r.hi <= p.hi, `${p.key} range ${JSON.stringify(r)}`);
      for (const k of p.tied ?? []) assert.equal(fitted[k], v, k);
    }
    for (const k of COST_KEYS) if (!free.has(k)) assert.equal(fitted[k], base[k], `${k} is not fitted and keeps its source`);
  }
});

test('calibrate shows the fitted sibling beside the sourced profile', async () => {
  const targets = CALIBRATION_TARGETS.filter((t) => t.benchmark === 'ping-pong');
  const sourced = await calibrate({ targets });
  const both = withFitted(sourced, await calibrate({ targets, profile: 'skylake-laptop-fitted' }));
  const text = calibrationText(both);
  assert.match(text, /ratio fitted/);
  assert.match(text, /profile skylake-laptop-fitted/);
  assert.equal(both.fitted?.simulated.length, sourced.rows.length);
});

test('CLI: --fit options need --fit, and are checked', () => {
  const noFit = tlbsim(['calibrate', '--max-evals', '3']);
  assert.equal(noFit.status, 2);
  assert.match(noFit.stderr, /--max-evals needs --fit/);
  const rows = tlbsim(['calibrate', '--fit', '--rows', 'some']);
  assert.equal(rows.status, 2);
  assert.match(rows.stderr, /--rows must be fit, held-out or all/);
  const evals = tlbsim(['calibrate', '--fit', '--max-evals', '0']);
  assert.equal(evals.status, 2);
});
