// A against B on a real recording: the deltas are the two results' differences, the first
// diverging events are the first ones where the two machines' actions differ (checked by
// replaying the prefixes before and through each), and `tlbsim replay --compare` prints
// them with one-line errors for bad pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openInput } from '../../src/inputs.ts';
import { replay } from '../../src/replay/replay.ts';
import { resolveProfile } from '../../src/machine/profiles.ts';
import { batchesFromEvents, eventsOf, memorySource, type TraceEvent } from '../../src/trace/index.ts';
import { compareRuns, comparisonText, parseCompare } from '../../src/analysis/compare.ts';
import { divergeText, firstDivergences } from '../../src/validate/diverge.ts';
import type { AnalysisInput } from '../../src/analysis/types.ts';
import { STRATEGY_NAMES } from '../../src/strategies/index.ts';
import { tlbsim, NO_STACK } from '../commands/run.ts';
import { hostileTrace } from '../report/hostile.ts';

const TRACE = 'traces/real/pingpong-512/trace.txt.gz';
const PROFILE = resolveProfile('skylake-laptop');
const A = 'linux-4.14', B = 'linux-7.3';

test('per-metric, per-cause, per-CPU and per-task deltas are B − A of the two results', async () => {
  const src = await openInput(TRACE);
  const results = await replay(src, { strategies: [A, B], profile: PROFILE, workers: 1 });
  src.close();
  const inp: AnalysisInput = { info: src.info, results };
  const c = compareRuns(inp, A, B);
  const [ra, rb] = results;
  for (const m of c.metrics) {
    assert.equal(m.a, ra.metrics[m.metric]);
    assert.equal(m.b, rb.metrics[m.metric]);
    assert.equal(m.delta, rb.metrics[m.metric] - ra.metrics[m.metric]);
  }
  const ov = c.metrics.find((m) => m.metric === 'overhead_ns')!;
  assert.ok(Math.abs(c.causes.reduce((s, x) => s + x.delta, 0) - ov.delta) < 1e-6);
  assert.ok(Math.abs(c.cpus.reduce((s, x) => s + x.delta, 0) - ov.delta) < 1e-6);
  for (const t of c.tasks) {
    const of = (r: typeof ra) => r.taskOverhead!.find((x) => x.tid === t.tid)?.ns ?? 0;
    assert.equal(t.a, of(ra)); assert.equal(t.b, of(rb)); assert.equal(t.delta, of(rb) - of(ra));
  }
  const text = comparisonText(c);
  assert.match(text, new RegExp(`^${B} against ${A} on ${TRACE.replace(/\./g, '\\.')}`));
  assert.match(text, /metric +linux-4\.14 +linux-7\.3 +delta +delta %/);
  assert.doesNotMatch(text, /NaN|undefined|Infinity/);
});

async function events(): Promise<{ all: TraceEvent[]; info: Awaited<ReturnType<typeof openInput>>['info'] }> {
  const src = await openInput(TRACE);
  const all: TraceEvent[] = [];
  for await (const b of src.batches()) for (const e of eventsOf([b])) all.push(e);
  src.close();
  return { all, info: src.info };
}

/** The counts diverge.ts compares, after replaying the first n events (nothing drained:
 *  the lockstep scan sees the machines mid-trace too, so compare totals of actions taken). */
async function prefixCounts(info: Awaited<ReturnType<typeof events>>['info'], all: TraceEvent[], n: number, strategy: string) {
  const [r] = await replay(memorySource(info, batchesFromEvents(all.slice(0, n))), { strategies: [strategy], profile: PROFILE, workers: 1 });
  return ['cr3_writes', 'cr3_flushes', 'full_flushes', 'page_flushes'].map((m) => r.metrics[m]);
}

test('the first diverging event: the two agree on every event before it and differ on it', async () => {
  const src = await openInput(TRACE);
  const d = await firstDivergences(src, { a: A, b: B, profile: PROFILE, limit: 3 });
  src.close();
  assert.equal(d.divergences.length, 3);
  const first = d.divergences[0];
  assert.notDeepEqual(first.a, first.b);
  assert.ok(d.divergences.every((x, i) => i === 0 || x.eventIndex > d.divergences[i - 1].eventIndex));
  const { all, info } = await events();
  // Replaying the events before the first divergence gives both strategies the same CR3
  // writes and flushes; through it, they differ (the lockstep scan saw a CR3 action).
  const before = await Promise.all([A, B].map((s) => prefixCounts(info, all, first.eventIndex, s)));
  assert.deepEqual(before[0], before[1]);
  if ([...first.a, ...first.b].some((x) => /CR3|flush on CPU|INVLPG/.test(x))) {
    const through = await Promise.all([A, B].map((s) => prefixCounts(info, all, first.eventIndex + 1, s)));
    assert.notDeepEqual(through[0], through[1]);
  }
  assert.ok(first.stateA.length > 0 && first.stateB.length > 0);
  const text = divergeText(d);
  assert.match(text, new RegExp(`^first 3 events where ${A} and ${B} act differently`));
  assert.ok(text.includes(`event #${first.eventIndex} `));
});

test('a strategy against itself never diverges, over the whole trace', async () => {
  const src = await openInput(TRACE);
  const d = await firstDivergences(src, { a: B, b: B, profile: PROFILE });
  src.close();
  assert.equal(d.divergences.length, 0);
  assert.equal(d.events, src.info.events);
  assert.ok(divergeText(d).includes(`act the same on all ${src.info.events} events`));
});

test('parseCompare: two different known names, else a one-line reason', () => {
  assert.deepEqual(parseCompare(`${A}, ${B}`, STRATEGY_NAMES), { a: A, b: B });
  assert.match(parseCompare(A, STRATEGY_NAMES) as string, /two strategy names/);
  assert.match(parseCompare(`${A},linux-9.9`, STRATEGY_NAMES) as string, /unknown strategy "linux-9\.9"/);
  assert.match(parseCompare(`${A},${A}`, STRATEGY_NAMES) as string, /two different strategies/);
});

test('tlbsim replay --compare prints deltas and divergences; hostile names stay text; bad pairs exit 2', () => {
  const path = hostileTrace();
  const r = tlbsim(['replay', '--no-report', '-s', 'linux-4.13', '--compare', `${A},${B}`, path]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /why: linux-7\.3 \(the current kernel\) spends/);
  assert.match(r.stdout, /linux-7\.3 against linux-4\.14 on /);
  assert.match(r.stdout, /overhead by task/);
  assert.match(r.stdout, /first 5 events where linux-4\.14 and linux-7\.3 act differently/);
  assert.ok(r.stdout.includes('<img src=x onerror=window.__pwned=1>-7655'), 'the name, as text');
  assert.doesNotMatch(r.stdout, /\u001b/);
  const j = tlbsim(['replay', '--no-report', '--json', '--compare', `${A},${B}`, TRACE]);
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.equal(out.compare[0].a, A);
  assert.ok(out.compare[0].divergence.divergences.length > 0);
  assert.equal(out.why[0].current, B);
  for (const bad of [A, `${A},nope`, `${A},${A}`]) {
    const e = tlbsim(['replay', '--no-report', '--compare', bad, TRACE]);
    assert.equal(e.status, 2);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.doesNotMatch(e.stderr, NO_STACK);
  }
});
