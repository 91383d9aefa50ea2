/// <reference lib="dom" />
// `replay --trace-out`'s files, from real recorded traces: checked against the Trace Event
// Format (the fields each phase needs, time order per track, nesting of complete events,
// flow starts and ends paired), against the replay's own counters, with hostile task names,
// through the CLI, and parsed by real Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openInput } from '../../src/inputs.ts';
import { recordRuns } from '../../src/replay/record.ts';
import { chromeTrace, chromeTraceText, type ChromeTrace, type TraceEventJson } from '../../src/analysis/perfetto.ts';
import type { TraceInfo } from '../../src/trace/event.ts';
import { tmp } from '../helpers.ts';
import { NO_STACK, tlbsim } from '../commands/run.ts';
import { BIDI_NAME, TIMELINE_HOSTILE_NAMES, hostileTimelineTrace } from '../report/hostile-timeline.ts';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const STRATEGIES = ['linux-4.13', 'linux-7.3', 'linux-6.15-invlpgb'];
const PHASES = new Set(['M', 'X', 'i', 'C', 's', 'f']);

/** Everything the format asks of the events tlbsim writes; returns the events by phase. */
function checkFormat(trace: ChromeTrace, cpus: number): Map<string, TraceEventJson[]> {
  assert.equal(trace.displayTimeUnit, 'ns');
  assert.ok(Array.isArray(trace.traceEvents) && trace.traceEvents.length > 0);
  const byPh = new Map<string, TraceEventJson[]>();
  const lastTs = new Map<string, number>();
  const threads = new Map<string, string>();
  for (const e of trace.traceEvents) {
    const where = JSON.stringify(e).slice(0, 160);
    assert.ok(PHASES.has(e.ph), `phase: ${where}`);
    assert.equal(typeof e.name, 'string', where);
    assert.ok(e.name.length > 0, where);
    assert.ok(Number.isInteger(e.pid), `pid: ${where}`);
    if (!byPh.has(e.ph)) byPh.set(e.ph, []);
    byPh.get(e.ph)!.push(e);
    if (e.ph === 'M') {
      assert.ok(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index'].includes(e.name), where);
      if (e.name.startsWith('thread')) assert.ok(Number.isInteger(e.tid), where);
      if (e.name.endsWith('_name')) assert.equal(typeof e.args?.name, 'string', where);
      else assert.ok(Number.isInteger(e.args?.sort_index), where);
      if (e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, e.args!.name as string);
      continue;
    }
    assert.ok(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0, `ts: ${where}`);
    if (e.ph === 'C') {
      const vals = Object.values(e.args ?? {});
      assert.ok(vals.length > 0 && vals.every((v) => typeof v === 'number' && Number.isFinite(v)), `counter args: ${where}`);
    } else {
      assert.ok(Number.isInteger(e.tid), `tid: ${where}`);
      assert.ok(threads.has(`${e.pid}:${e.tid}`), `a named thread: ${where}`);
    }
    if (e.ph === 'X') assert.ok(typeof e.dur === 'number' && Number.isFinite(e.dur) && e.dur >= 0, `dur: ${where}`);
    if (e.ph === 'i') assert.equal(e.s, 't', where);
    if (e.ph === 's' || e.ph === 'f') {
      assert.ok(Number.isInteger(e.id) && typeof e.cat === 'string', `flow id and cat: ${where}`);
      if (e.ph === 'f') assert.equal(e.bp, 'e', where);
    }
    // Time order per track (a thread, or a counter's name), as the file lists them.
    const track = e.ph === 'C' ? `C:${e.pid}:${e.name}` : `${e.pid}:${e.tid}`;
    const prev = lastTs.get(track) ?? -Infinity;
    assert.ok(e.ts >= prev, `ts goes back on ${track}: ${prev} then ${where}`);
    lastTs.set(track, e.ts);
  }
  for (let c = 0; c < cpus; c++) {
    for (const name of [`CPU ${c}`, `CPU ${c} TLB`, `CPU ${c} lazy TLB`]) assert.ok([...threads.values()].includes(name), `thread ${name}`);
  }
  // Complete events on one thread nest: each ends within the one enclosing its start.
  const ns = (us: number) => Math.round(us * 1000);
  const perThread = new Map<string, TraceEventJson[]>();
  for (const e of byPh.get('X') ?? []) { const k = `${e.pid}:${e.tid}`; if (!perThread.has(k)) perThread.set(k, []); perThread.get(k)!.push(e); }
  for (const [k, list] of perThread) {
    const stack: number[] = [];
    for (const e of list) {
      const t = ns(e.ts!), end = t + ns(e.dur!);
      while (stack.length > 0 && (stack[stack.length - 1] < t || (stack[stack.length - 1] === t && end > t))) stack.pop();
      if (stack.length > 0) assert.ok(end <= stack[stack.length - 1], `${k} (${threads.get(k)}): ${e.name} at ${e.ts} ends past its parent`);
      stack.push(end);
    }
  }
  // Flows: one start and one end per id; the end at or after the start, on a slice there.
  const flows = new Map<number, { s?: TraceEventJson; f?: TraceEventJson }>();
  for (const e of [...(byPh.get('s') ?? []), ...(byPh.get('f') ?? [])]) {
    const f = flows.get(e.id!) ?? {};
    assert.equal(f[e.ph as 's' | 'f'], undefined, `flow ${e.id}: two ${e.ph}`);
    f[e.ph as 's' | 'f'] = e;
    flows.set(e.id!, f);
  }
  const slices = byPh.get('X') ?? [];
  for (const [id, f] of flows) {
    assert.ok(f.s && f.f, `flow ${id} has a start and an end`);
    assert.equal(f.s.name, f.f.name);
    assert.equal(f.s.cat, f.f.cat);
    assert.ok(f.f.ts! >= f.s.ts!, `flow ${id} ends after it starts`);
    assert.notEqual(f.s.tid, f.f.tid, `flow ${id} goes to another CPU`);
    for (const end of [f.s, f.f]) {
      assert.ok(slices.some((x) => x.tid === end.tid && x.pid === end.pid && x.ts! <= end.ts! && end.ts! <= x.ts! + x.dur!), `flow ${id}: a slice encloses its ${end.ph}`);
    }
  }
  return byPh;
}

async function exported(spec: string): Promise<{ info: TraceInfo; files: { strategy: string; text: string; ipis: number; waits: number; requests: number; lazy: number; cpus: number }[] }> {
  const src = await openInput(spec);
  try {
    const runs = await recordRuns(src, { strategies: STRATEGIES });
    return {
      info: src.info,
      files: runs.map((r) => ({
        strategy: r.result.strategy.name, text: chromeTraceText(chromeTrace(r.recording, src.info)),
        ipis: r.result.metrics.ipis_sent, waits: r.recording.tracks.wait.t.length, requests: r.result.metrics.flush_requests,
        lazy: r.recording.tracks.lazy.t.length, cpus: r.result.cpus,
      })),
    };
  } finally { src.close(); }
}

// mmapthreads: handlers and requests that overlap on one CPU (slices cut to nest).
const real = ['traces/real/pingpong-512/trace.txt.gz', 'traces/real/madvthreads-2/trace.txt.gz', 'traces/real/mmapthreads/trace.txt.gz'];
const files = Promise.all(real.map(exported));

test('trace-event files of real traces follow the format and match the replay', async () => {
  for (const [k, { files: fs }] of (await files).entries()) {
    for (const f of fs) {
      const at = `${real[k]} ${f.strategy}`;
      assert.match(f.text, /^[\x20-\x7e\n]*$/, `${at}: printable ASCII only`);
      const trace = JSON.parse(f.text) as ChromeTrace;
      const byPh = checkFormat(trace, f.cpus);
      // One flow per IPI the model sent (nothing was merged on traces this short).
      assert.equal((byPh.get('s') ?? []).length, f.ipis, `${at}: flows`);
      assert.equal((byPh.get('X') ?? []).filter((e) => e.name === 'initiator wait').length, f.waits, `${at}: waits`);
      const counters = byPh.get('C') ?? [];
      assert.equal(counters.filter((e) => e.name === 'mm_cpumask weight (flushed mm)').length, f.requests, `${at}: one mm_cpumask sample per request`);
      assert.equal(counters.some((e) => e.name === 'lazy CPUs'), f.lazy > 0, `${at}: a lazy counter when there were lazy periods`);
      assert.equal((byPh.get('X') ?? []).filter((e) => e.name === 'lazy TLB').length, f.lazy, `${at}: lazy periods`);
      assert.ok((byPh.get('X') ?? []).some((e) => e.tid === 1 && e.name !== 'idle'), `${at}: CPU 0 ran tasks`);
      // The task view: each non-idle run of a CPU lane again on its task's own thread.
      const runs = (byPh.get('X') ?? []).filter((e) => e.pid === 1 && e.cat === 'sched' && e.name !== 'idle');
      const taskRuns = (byPh.get('X') ?? []).filter((e) => e.pid === 3);
      assert.equal(taskRuns.length, runs.length, `${at}: task view`);
      assert.ok(taskRuns.every((e) => /^CPU \d+$/.test(e.name)), `${at}: task runs are named by CPU`);
      assert.ok((byPh.get('i') ?? []).some((e) => e.pid === 2 && e.name.startsWith('tlb_flush: ')), `${at}: the recorded tlb_flush records`);
    }
  }
  // The current kernel sends IPIs on both traces: the flows above are not vacuous.
  for (const { files: fs } of await files) assert.ok(fs.find((f) => f.strategy === 'linux-7.3')!.ipis > 0);
});

test('hostile task names are plain data in the trace-event file', async () => {
  const { files: fs } = await exported(hostileTimelineTrace());
  for (const f of fs) {
    assert.match(f.text, /^[\x20-\x7e\n]*$/, 'printable ASCII only: no raw U+202E in the file');
    const trace = JSON.parse(f.text) as ChromeTrace;
    checkFormat(trace, f.cpus);
    const names = trace.traceEvents.map((e) => e.name);
    assert.ok(names.includes(`${TIMELINE_HOSTILE_NAMES[0]} (7655)`), 'the markup name is kept as text');
    assert.ok(names.includes(`\ufffdgpj.exe (7656)`), 'the override is replaced, the rest kept');
    assert.ok(!JSON.stringify(trace).includes(BIDI_NAME[0]), 'no U+202E survives anywhere');
  }
});

test('tlbsim replay --trace-out writes one file per strategy, checked; a file in the way is a one-line error', async () => {
  const dir = join(tmp, 'trace-out');
  const r = tlbsim(['replay', '--no-report', '-s', STRATEGIES.join(','), '--trace-out', dir, real[0]]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), STRATEGIES.map((s) => `${s}.json`).sort());
  for (const s of STRATEGIES) checkFormat(JSON.parse(readFileSync(join(dir, `${s}.json`), 'utf8')) as ChromeTrace, 2);
  assert.match(r.stderr, /trace-out: 3 trace-event files in /);
  const bad = tlbsim(['replay', '--no-report', '--trace-out', join(dir, 'linux-7.3.json'), real[0]]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--trace-out .*linux-7\.3\.json: exists and is not a directory/);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.doesNotMatch(bad.stderr, NO_STACK);
});

test('two inputs get files named after each; --timeline takes only replayed strategies', () => {
  const dir = join(tmp, 'trace-out-2');
  const r = tlbsim(['replay', '--no-report', '-s', 'linux-7.3', '--trace-out', dir, real[0], real[2]]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['1-trace.txt.gz.linux-7.3.json', '2-trace.txt.gz.linux-7.3.json']);
  const sources = readdirSync(dir).sort().map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as ChromeTrace).otherData.input);
  assert.deepEqual(sources, [real[0], real[2]]);
  const bad = tlbsim(['replay', '-s', 'linux-4.13,linux-7.3', '--timeline', 'linux-4.13,linux-6.18', real[0]]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'tlbsim: --timeline: strategy "linux-6.18" is not among those replayed (linux-4.13, linux-7.3)');
});

test('Chromium parses every file to the same events', { skip: noBrowser }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const dir = join(tmp, 'trace-out');
    for (const s of STRATEGIES) {
      const path = join(dir, `${s}.json`);
      // Chromium loads the file itself (its network stack and text decoder), then its own
      // JSON.parse reads what it shows.
      await page.goto(pathToFileURL(path).href);
      const parsed = await page.evaluate(() => {
        const t = JSON.parse(document.querySelector('pre')?.textContent ?? document.body.innerText) as { traceEvents: unknown[] };
        return { n: t.traceEvents.length, text: JSON.stringify(t) };
      });
      const mine = JSON.parse(readFileSync(path, 'utf8')) as ChromeTrace;
      assert.equal(parsed.n, mine.traceEvents.length, s);
      assert.equal(parsed.text, JSON.stringify(mine), s);
    }
  } finally { await browser.close(); }
});
