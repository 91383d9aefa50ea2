// Why the winner wins, on real recordings (traces/real): the gap between the current kernel
// and the best safe strategy, split by cause, CPU and task, and the cost parameters that
// move it, each checked against the replay results it is built from and against replays
// run here with one parameter changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { resolveProfile } from '../../src/machine/profiles.ts';
import { OVERHEAD_CAUSES } from '../../src/machine/metrics.ts';
import { fmtNs } from '../../src/analysis/format.ts';
import { bestSafe, currentOf, inertName, whyGap, whyLine } from '../../src/analysis/why.ts';
import { gapSensitivity } from '../../src/replay/gap.ts';
import type { AnalysisInput } from '../../src/analysis/types.ts';
import { CURRENT_STRATEGY } from '../../src/strategies/index.ts';

const PROFILE = resolveProfile('skylake-laptop');

async function analysed(spec: string, strategies: string[]) {
  const src = await openInput(spec);
  const results = await replay(src, { strategies, profile: PROFILE, workers: 1 });
  return { src, inp: { info: src.info, results } as AnalysisInput };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

for (const trace of ['traces/real/pingpong-512/trace.txt.gz', 'traces/real/build/trace.txt.gz']) {
  test(`${trace}: the gap splits exactly into causes and CPUs, and names the right strategies`, async () => {
    // pcid-v4-posted is unsafe (lazy CPUs leave mm_cpumask) and breaks coherence on the
    // ping-pong recording: cheaper, but never the winner.
    const { src, inp } = await analysed(trace, ['linux-4.13', 'pcid-v4-posted', 'linux-4.14', 'linux-4.20', 'linux-6.18', CURRENT_STRATEGY]);
    src.close();
    const w = whyGap(inp)!;
    assert.ok(w);
    assert.equal(w.current, CURRENT_STRATEGY);
    const ok = inp.results.filter((r) => r.strategy.safe && r.violations.count === 0);
    const lo = Math.min(...ok.map((r) => r.metrics.overhead_ns));
    const best = inp.results.find((r) => r.strategy.name === w.best)!;
    assert.ok(best.strategy.safe && best.violations.count === 0);
    assert.ok(best.metrics.overhead_ns <= lo * 1.005);
    const cur = inp.results.find((r) => r.strategy.name === CURRENT_STRATEGY)!;
    assert.equal(w.gapNs, cur.metrics.overhead_ns - best.metrics.overhead_ns);
    assert.ok(w.gapNs > 0, 'on these recordings the current kernel pays for its IPIs');
    // Every charge has one cause and one CPU: the parts add up to the gap.
    close(w.causes.reduce((a, c) => a + c.delta, 0), w.gapNs, 'causes');
    for (const c of w.causes) {
      close(c.a, best.metrics[c.metric], `${c.metric} best`);
      close(c.b, cur.metrics[c.metric], `${c.metric} current`);
    }
    assert.ok(w.causes.every((c, i) => i === 0 || Math.abs(w.causes[i - 1].delta) >= Math.abs(c.delta)));
    close(w.cpus.reduce((a, c) => a + c.delta, 0), w.gapNs, 'CPUs');
    // Tasks: overhead charged while a task ran; the per-task charges never exceed the total.
    for (const r of inp.results) {
      const sum = (r.taskOverhead ?? []).reduce((a, t) => a + t.ns, 0);
      assert.ok(sum <= r.metrics.overhead_ns * (1 + 1e-9) && sum >= r.metrics.overhead_ns * 0.5, `${r.strategy.name}: tasks ${sum} of ${r.metrics.overhead_ns}`);
    }
    // The sentence says who, how much, and the largest cause with its count.
    const top = w.causes[0];
    assert.ok(w.sentence.startsWith(`${CURRENT_STRATEGY} (the current kernel) spends ${fmtNs(w.gapNs)} more overhead than ${w.best}`), w.sentence);
    assert.ok(w.sentence.includes(`${top.delta > 0 ? '+' : '−'}${fmtNs(Math.abs(top.delta))} ${top.label}`), w.sentence);
    if (top.metric === 'initiator_wait_ns') assert.ok(w.sentence.includes(`IPIs ${cur.metrics.ipis_sent} vs ${best.metrics.ipis_sent}`), w.sentence);
    assert.doesNotMatch(w.sentence, /NaN|undefined|Infinity/);
    assert.ok(OVERHEAD_CAUSES.some((c) => c.label === top.label));
  });
}

test('the best safe strategy: unsafe or violating strategies never win; the current kernel wins ties', async () => {
  const { src, inp } = await analysed('traces/real/pingpong-512/trace.txt.gz', ['pcid-v4-posted', 'linux-6.18', CURRENT_STRATEGY]);
  src.close();
  const unsafe = inp.results[0];
  assert.ok(unsafe.violations.count > 0);
  assert.notEqual(bestSafe(inp.results)?.strategy.name, 'pcid-v4-posted');
  // linux-6.18 and linux-7.3 cost the same on this recording: the current kernel is not
  // said to lose to its equal.
  const [a, b] = [inp.results[1], inp.results[2]];
  assert.ok(Math.abs(a.metrics.overhead_ns - b.metrics.overhead_ns) <= 0.005 * b.metrics.overhead_ns);
  assert.equal(bestSafe(inp.results, CURRENT_STRATEGY)!.strategy.name, CURRENT_STRATEGY);
  const w = whyGap(inp)!;
  assert.equal(w.best, CURRENT_STRATEGY);
  assert.match(w.sentence, /has the lowest overhead of the safe strategies/);
  // Without the current kernel, the newest kernel replayed stands in for it.
  assert.equal(currentOf([inp.results[0], inp.results[1]]), 'linux-6.18');
});

test('gap sensitivity: each assumption is the gap replayed with that one cost at its range ends', async () => {
  const { src, inp } = await analysed('traces/real/pingpong-512/trace.txt.gz', ['linux-4.13', 'linux-4.14', CURRENT_STRATEGY]);
  try {
    const w0 = whyGap(inp)!;
    const s = (await gapSensitivity(src, { profile: PROFILE, best: w0.best, current: w0.current, nominalGap: w0.gapNs }))!;
    assert.ok(s && s.assumptions.length > 0);
    const spread = s.assumptions.map((a) => Math.abs(a.gapHi - a.gapLo));
    assert.deepEqual(spread, [...spread].sort((x, y) => y - x));
    // The top assumption, replayed here on its own at each end.
    const top = s.assumptions[0];
    for (const [v, gap] of [[top.lo, top.gapLo], [top.hi, top.gapHi]] as const) {
      const rs = await replay(src, { strategies: [w0.best, w0.current], profile: { ...PROFILE, [top.key]: v }, workers: 1 });
      close(rs[1].metrics.overhead_ns - rs[0].metrics.overhead_ns, gap, `${top.key}=${v}`);
    }
    assert.equal(top.lo, PROFILE.ranges![top.key]!.lo);
    const w = whyGap(inp, s)!;
    assert.ok(w.assumptions.length > 0 && w.assumptions[0].startsWith(`${top.key} `), w.assumptions[0]);
    assert.ok(whyLine(w).includes('Most sensitive to'));
    // Over budget it does not run, unless forced.
    assert.equal(await gapSensitivity(src, { profile: PROFILE, best: w0.best, current: w0.current, nominalGap: w0.gapNs, budget: 10 }), null);
    assert.ok(await gapSensitivity(src, { profile: PROFILE, best: w0.best, current: w0.current, nominalGap: w0.gapNs, budget: 10, force: true }));
    // A profile without ranges has nothing to sweep.
    assert.equal(await gapSensitivity(src, { profile: { ...PROFILE, ranges: {} }, best: w0.best, current: w0.current, nominalGap: w0.gapNs }), null);
  } finally { src.close(); }
});

test('task names in the sentence are inert: controls and bidi overrides become U+FFFD', () => {
  assert.equal(inertName('a\u202Egnp.exe\u001b[31m'), 'a\ufffdgnp.exe\ufffd[31m');
  assert.equal(inertName('=HYPERLINK("x")'), '=HYPERLINK("x")');
});
