// Issue 21, item 7: memory stays bounded in the dimensions other than trace length.
//   - Distinct tasks: a generated ftrace trace of more tasks than MAX_TASKS_LISTED lists the
//     first ones by name and counts the rest (info, inspect, the cache), with a note; every
//     task is still simulated.
//   - CPU numbers: one high CPU (4095) makes a 4096-CPU machine; its per-CPU-pair state is
//     sized by the pairs used, not n² per strategy. Bounded by the array-buffer memory a
//     machine and a simulator take, measured, not by time.
//   - Per-task results: each result lists the TASK_OVERHEADS_KEPT tasks with the most
//     overhead and sums the rest (a list of 200,000 per strategy was most of a replay's
//     memory), and the report says so.
//   - Live tasks: each strategy's machine holds state per task and per mm; when all of them
//     together would exceed the state budget, replay() runs the strategies a few at a time,
//     in passes over the events, with the same results (and says so). The estimate it sizes
//     the passes by is checked against what a machine holds, measured.
//   - Small inputs: a profile file that never ends (/dev/zero) is refused after a bound,
//     in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTrace } from '../../src/trace/index.ts';
import { MAX_TASKS_LISTED } from '../../src/trace/tasks.ts';
import { replay } from '../../src/replay/replay.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Simulator, estimateStateBytes } from '../../src/machine/sim.ts';
import { Linux618 } from '../../src/strategies/linux-6.18.ts';
import { CpuPairs } from '../../src/machine/cpu-pairs.ts';
import { resolveProfile } from '../../src/machine/profiles.ts';
import { STRATEGY_NAMES, defineStrategy, getStrategy } from '../../src/strategies/index.ts';
import { TASK_OVERHEADS_KEPT } from '../../src/machine/result.ts';
import { StateCensus } from '../../src/trace/state-census.ts';
import { EventKind, createBatch, pushEvent } from '../../src/trace/event.ts';
import { openInput } from '../../src/inputs.ts';
import { renderReport } from '../../src/report/index.ts';
import { tmp } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = join(tmp, 'memory-bounds');
mkdirSync(dir, { recursive: true });
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/tlbsim.mjs'), ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000, env: { ...process.env, ...env } });

/** `n` tasks, each named differently, switched in and out on 2 CPUs with a flush each. */
async function manyTasks(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  const ts = (t: number) => `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
  out.write('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n');
  let t = 1000_000000;
  for (let i = 0; i < n; i++) {
    const pid = 1000 + i, cpu = i & 1, name = `task${i.toString(36)}`;
    const lines =
      `${'<idle>'.padStart(16)}-0       [00${cpu}] d..2. ${ts(t)}: sched_switch: prev_comm=swapper/${cpu} prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=${name} next_pid=${pid} next_prio=120\n` +
      `${name.padStart(16)}-${pid} [00${cpu}] d..1. ${ts(t + 2)}: tlb_flush: pages:1 reason:local MM shootdown (3)\n` +
      `${name.padStart(16)}-${pid} [00${cpu}] d..2. ${ts(t + 4)}: sched_switch: prev_comm=${name} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=swapper/${cpu} next_pid=0 next_prio=120\n`;
    t += 6;
    if (!out.write(lines)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

test(`more distinct tasks than ${MAX_TASKS_LISTED}: the first are listed, all counted and simulated, one note, also from the cache`, async () => {
  const n = MAX_TASKS_LISTED + 4000;
  const path = join(dir, 'many-tasks.txt');
  await manyTasks(path, n);
  for (const pass of ['parsed', 'from the cache']) {
    const t = await openTrace(path, { cache: true });
    try {
      assert.equal(t.cache, pass === 'parsed' ? 'written' : 'hit', pass);
      const info = t.info;
      assert.equal(info.tasks.length, MAX_TASKS_LISTED, pass);
      assert.equal(info.taskCount, n + 1, pass); // and the idle task
      assert.equal(info.taskRoutes?.['guess-own-mm'], n, pass);
      assert.equal(info.countsByKind.switch, 2 * n, pass);
      assert.equal(info.countsByKind.observed_flush, n, pass);
      assert.deepEqual(info.tasks.slice(1, 3).map((x) => x.comm), ['task0', 'task1'], pass);
      assert.equal(info.warnings.filter((w) => w.includes(`the trace has ${n + 1} tasks: all are simulated, the first ${MAX_TASKS_LISTED} seen are listed`)).length, 1, pass);
    } finally { t.close(); }
  }
  const r = cli(['inspect', '--json', path]);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { tasks: number; tasksByRoute: Record<string, number> };
  assert.equal(j.tasks, n + 1);
  assert.deepEqual(j.tasksByRoute, { idle: 1, 'guess-own-mm': n });
});

test('a 4096-CPU machine (one line names CPU 4095) does not hold n² per-pair state per strategy', () => {
  const profile = resolveProfile(undefined);
  const before = process.memoryUsage().arrayBuffers;
  const keep: unknown[] = [];
  for (const name of ['linux-4.13', 'linux-6.18']) {
    keep.push(new Machine(4096, profile));
    keep.push(new Simulator({ ...emptyInfo(), cpus: 4096 } as never, getStrategy(name), profile));
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  // n² doubles are 128 MiB per machine and per simulator; everything per CPU together is
  // a few MiB.
  assert.ok(grown < 64 * 1024 * 1024, `${(grown / 2 ** 20).toFixed(1)} MiB for 2 machines and 2 simulators of 4096 CPUs`);
  assert.equal(keep.length, 4);
});

function emptyInfo() {
  return {
    source: 'x', format: 'ftrace', cpus: 1, firstNs: 0, lastNs: 0, events: 0, countsByKind: {}, tasks: [], mms: [],
    tracedFlushRequests: true, flushRequestsByOrigin: {}, observedFlushByReason: {}, observedFlushPages: {},
    observedIpis: { sends: 0, targets: 0, byKind: {} }, skippedLines: 0, skipped: [], lostEvents: 0, lostMarkers: 0,
    ignoredLines: 0, unusedEvents: {}, warnings: [],
  };
}

test('the hashed CPU pairs hold what a dense matrix holds', () => {
  const n = 4096;
  const pairs = new CpuPairs(n, -1);
  const dense = new Map<number, number>();
  let x = 12345;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 20000; i++) {
    const a = Math.floor(rnd() * n), b = Math.floor(rnd() * 64) * 64 + (a % 64);
    if (rnd() < 0.5) { pairs.set(a, b, i); dense.set(a * n + b, i); } else {
      pairs.add(a, b, 2); dense.set(a * n + b, (dense.get(a * n + b) ?? -1) + 2);
    }
  }
  for (const [k, v] of dense) assert.equal(pairs.get(Math.floor(k / n), k % n), v);
  assert.equal(pairs.get(4095, 4095), dense.get(4095 * n + 4095) ?? -1);
  const cells = pairs.cells();
  assert.equal(cells.length, [...dense.values()].filter((v) => v !== -1).length);
  for (let i = 1; i < cells.length; i++) assert.ok(cells[i - 1].from * n + cells[i - 1].to < cells[i].from * n + cells[i].to, 'in (from, to) order');
});

test('a real trace with CPU 4095 on a third of its lines replays, its IPI matrix naming the CPUs used', async () => {
  const lines = gunzipSync(readFileSync(join(ROOT, 'traces/real/pingpong-512/trace.txt.gz'))).toString('latin1').split('\n');
  let k = 0;
  const text = lines.map((l) => (l.startsWith('#') || k++ % 3 !== 0 ? l : l.replace(/\[00[01]\]/, '[4095]'))).join('\n');
  const path = join(dir, 'cpu4095.txt');
  writeFileSync(path, text, 'latin1');
  const t = await openTrace(path, { cache: false });
  try {
    assert.equal(t.info.cpus, 4096);
    const results = await replay(t, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
    for (const r of results) {
      assert.ok((r.ipiMatrix ?? []).length > 0, r.strategy.name);
      for (const c of r.ipiMatrix ?? []) assert.ok([0, 1, 4095].includes(c.from) && [0, 1, 4095].includes(c.to) && c.count > 0, JSON.stringify(c));
    }
  } finally { t.close(); }
});

test('--profile-file /dev/zero is refused after a bound, in one line (not read on without end)', () => {
  const r = cli(['replay', '--no-report', '--profile-file', '/dev/zero', 'workload:ping-pong:iterations=5']);
  assert.equal(r.status, 1, `${r.signal ?? ''} ${r.stderr}`);
  assert.match(r.stderr, /^tlbsim: \/dev\/zero: expected a profile file of at most 16 MiB, found more/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const v = cli(['validate', '--time', '--profile-file', '/dev/zero']);
  assert.notEqual(v.signal, 'SIGTERM', 'validate --time read /dev/zero without end');
  assert.match(v.stderr, /\/dev\/zero: expected a profile of at most 16 MiB, found more/);
});

test(`more tasks with overhead than ${TASK_OVERHEADS_KEPT}: the ones with the most are listed, the rest summed, and the report says so`, async () => {
  const path = join(dir, 'tasks-with-overhead.txt');
  const n = TASK_OVERHEADS_KEPT + 1500;
  await manyTasks(path, n);
  const input = await openInput(path);
  try {
    const results = await replay(input, { strategies: ['linux-4.13', 'linux-6.18'], workers: 1 });
    for (const r of results) {
      const kept = r.taskOverhead ?? [];
      const others = r.taskOverheadOthers;
      assert.equal(kept.length, TASK_OVERHEADS_KEPT, r.strategy.name);
      assert.ok(others !== undefined && others.tasks >= 1500 - 1 && kept.length + others.tasks <= n + 1, JSON.stringify(others));
      // None left out had more than the least listed: their mean is at most that.
      const least = Math.min(...kept.map((t) => Math.abs(t.ns)));
      assert.ok(others.ns / others.tasks <= least * (1 + 1e-12), `${others.ns / others.tasks} > ${least}`);
      // Listed and summed together are all the overhead charged to tasks.
      const sum = kept.reduce((a, t) => a + t.ns, 0) + others.ns;
      assert.ok(sum <= r.metrics.overhead_ns * (1 + 1e-9) && sum >= r.metrics.overhead_ns * 0.5, `${sum} of ${r.metrics.overhead_ns}`);
      assert.deepEqual(kept.map((t) => t.tid), [...kept.map((t) => t.tid)].sort((a, b) => a - b), 'by tid');
    }
    const html = await renderReport({ inputs: [{ info: input.info, results }], profile: 'skylake-laptop' }, { interactive: false });
    assert.match(html, /Each strategy lists its 4,096 tasks with the most; up to [\d,]+ more with less each are summed, not listed/);
  } finally { input.close(); }
});

/** The bytes of the typed arrays reachable from `root`, each buffer once: what a simulator
 *  holds, counted exactly (process.memoryUsage() would also count buffers freed but not
 *  yet released). */
function typedBytes(root: object): number {
  const seen = new Set<unknown>();
  let bytes = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || typeof o !== 'object' || seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) {
      if (!seen.has(o.buffer)) { seen.add(o.buffer); bytes += o.buffer.byteLength; }
      continue;
    }
    for (const k of Object.getOwnPropertyNames(o)) stack.push((o as Record<string, unknown>)[k]);
  }
  return bytes;
}

/** What each of `names`' simulators holds after replaying `input`. */
async function heldBytes(input: Awaited<ReturnType<typeof openInput>>, names: string[]): Promise<number[]> {
  const held: number[] = [];
  for (const name of names) {
    const sim = new Simulator(input.info, getStrategy(name), resolveProfile(undefined));
    for await (const b of input.batches()) sim.processBatch(b);
    assert.ok(sim.result().metrics.context_switches > 0);
    held.push(typedBytes(sim));
  }
  return held;
}

const MEASURED = ['linux-4.13', 'lazy-shootdown', 'linux-6.15-invlpgb', 'linux-7.3'];

test('the state a machine comes to hold per live task is within the estimate replay() sizes its passes by', async () => {
  const path = join(dir, 'live-tasks.txt');
  await manyTasks(path, 30_000);
  const input = await openInput(path);
  try {
    const estimate = estimateStateBytes(input.info);
    assert.equal(input.info.peakMms, 30_000, 'every task lives to the end, each with its own mm');
    for (const [k, held] of (await heldBytes(input, MEASURED)).entries()) {
      // An upper bound, and not so loose that the budget means nothing.
      assert.ok(held <= estimate, `${MEASURED[k]}: ${held} bytes held, estimated ${estimate}`);
      assert.ok(held >= estimate / 4, `${MEASURED[k]}: ${held} bytes held, estimated ${estimate}`);
    }
  } finally { input.close(); }
});

test('a fork-heavy trace is estimated by the mms alive at once, not by every mm it names, and stays within the estimate', async () => {
  for (const spec of ['traces/real/forkchurn/trace.txt.gz', 'workload:fork-churn:iterations=4000,cpus=4']) {
    const input = await openInput(spec, { cache: false });
    try {
      const { info } = input;
      assert.ok(info.peakMms !== undefined && info.peakMms > 0 && info.peakMms < 20, `${spec}: ${info.peakMms} alive at once of ${info.mms.length}`);
      const estimate = estimateStateBytes(info);
      const everyMm = estimateStateBytes({ ...info, peakMms: undefined });
      // The workload's 8,001 mms make its estimate mostly per-mm state; the recording's 920
      // are less than its per-task arrays (tids up to ${info.maxTid}).
      assert.ok(everyMm > (spec.startsWith('workload:') ? 4 : 1.2) * estimate, `${spec}: ${estimate} bytes estimated, ${everyMm} for every mm`);
      for (const [k, held] of (await heldBytes(input, MEASURED)).entries()) {
        assert.ok(held <= estimate, `${spec}, ${MEASURED[k]}: ${held} bytes held, estimated ${estimate}`);
      }
    } finally { input.close(); }
  }
});

test('the mms alive at once: a teardown ends one, the records of its last task do not bring it back', () => {
  const b = createBatch(16);
  // mm 1 runs, forks mm 2, mm 2 execs into mm 3 (exit_mmap of 2 first, as 6.18 prints it),
  // mm 3 ends and its task's last switch out still names it; then a task switches in with
  // mm 3 again (a number used again: alive again).
  pushEvent(b, EventKind.switch, 1, 0, 0, 0, 10, 1, 0);
  pushEvent(b, EventKind.fork, 2, 0, 10, 1, 11, 2, 0);
  pushEvent(b, EventKind.exit_mmap, 3, 1, 11, 2, 0, 0, 0);
  pushEvent(b, EventKind.exec, 4, 1, 11, 3, 2, 0, 0);
  pushEvent(b, EventKind.exit_mmap, 5, 1, 11, 3, 0, 0, 0);
  pushEvent(b, EventKind.switch, 6, 1, 11, 3, 0, 0, 2);
  const live = new StateCensus();
  live.add(b);
  assert.equal(live.peak, 2);
  const again = createBatch(4);
  pushEvent(again, EventKind.switch, 7, 1, 0, 0, 12, 3, 0);
  pushEvent(again, EventKind.switch, 8, 0, 10, 1, 13, 4, 0);
  live.add(again);
  assert.equal(live.peak, 3, 'mm 1, mm 3 used again, mm 4');
  // A system call in an mm whose teardown was seen is a use of it: alive again.
  const used = createBatch(4);
  pushEvent(used, EventKind.exit_mmap, 10, 0, 13, 4, 0, 0, 0);
  pushEvent(used, EventKind.munmap, 11, 0, 13, 4, 0x1000, 4096, 0);
  pushEvent(used, EventKind.switch, 12, 1, 0, 0, 15, 5, 0);
  live.add(used);
  assert.equal(live.peak, 4, 'mm 1, mm 3, mm 4 used again by munmap, mm 5');
  const huge = createBatch(1);
  pushEvent(huge, EventKind.switch, 9, 0, 0, 0, 14, 2 ** 40, 0);
  live.add(huge);
  assert.equal(live.peak, undefined, 'an mm number too large to follow: unknown, every mm assumed');
});

test('past the state budget the strategies replay a few at a time, in passes over the events, with the same results', async () => {
  const path = join(dir, 'passes.txt');
  await manyTasks(path, 20_000);
  const input = await openInput(path);
  const mine = defineStrategy({
    name: 'my-6.18', title: 'a script\'s copy of linux-6.18', kernel: 'test only', description: 'linux-6.18, defined in a script', safe: true, create: (m) => new Linux618(m),
  });
  const strategies = [...STRATEGY_NAMES, mine];
  try {
    const strip = (rs: Awaited<ReturnType<typeof replay>>) => JSON.stringify(rs);
    const notes: string[] = [];
    const once = await replay(input, { strategies, workers: 2, note: (l) => notes.push(l) });
    assert.equal(notes.join('\n'), '', 'well within the default budget: one pass');
    const per = estimateStateBytes(input.info);
    for (const workers of [1, 2]) {
      notes.length = 0;
      const events: number[] = [];
      const passed = await replay(input, { strategies, workers, stateBudget: per * 3, note: (l) => notes.push(l), onProgress: (p) => events.push(p.events, p.total) });
      assert.equal(strip(passed), strip(once), `${workers} workers`);
      const passes = Math.ceil(strategies.length / 3);
      assert.equal(notes.length, 1, notes.join('\n'));
      assert.match(notes[0], new RegExp(`^20,001 tasks and 20,000 mms: each strategy's machine may take up to \\d+ MiB, so the ${strategies.length} replays run 3 at a time, in ${passes} passes over the events`));
      // Progress runs once from 0 to the trace's events over all the passes, never back.
      assert.equal(events.at(-2), input.info.events);
      assert.equal(events.at(-1), input.info.events);
      const done = events.filter((_, i) => i % 2 === 0);
      assert.ok(done.every((e, i) => i === 0 || e >= done[i - 1]), 'progress never goes back');
      assert.ok(done.some((e) => e > 0 && e < input.info.events / 2), 'the first pass is part of the way');
    }
    // Never fewer at a time than workers, however small the budget.
    notes.length = 0;
    const tiny = await replay(input, { strategies: ['linux-4.13', 'linux-6.18', 'linux-7.3'], workers: 2, stateBudget: 1, note: (l) => notes.push(l) });
    assert.match(notes[0] ?? '', /the 3 replays run 2 at a time, in 2 passes/);
    assert.equal(strip(tiny), strip(once.filter((r) => ['linux-4.13', 'linux-6.18', 'linux-7.3'].includes(r.strategy.name))));
  } finally { input.close(); }
});

test('replay --state-budget: the note on stderr, the same summary; a budget that is not a number of MiB is a usage error', async () => {
  const path = join(dir, 'passes-cli.txt');
  await manyTasks(path, 20_000);
  const plain = cli(['replay', '--no-report', '-s', 'linux-4.13,linux-6.18,linux-7.3', '--workers', '1', path]);
  assert.equal(plain.status, 0, plain.stderr);
  const budget = cli(['replay', '--no-report', '-s', 'linux-4.13,linux-6.18,linux-7.3', '--workers', '1', '--state-budget', '1', path]);
  assert.equal(budget.status, 0, budget.stderr);
  assert.equal(budget.stdout, plain.stdout);
  assert.match(budget.stderr, /^tlbsim: note: 20,001 tasks and 20,000 mms: each strategy's machine may take up to \d+ MiB, so the 3 replays run 1 at a time, in 3 passes over the events, to stay within 1 MiB/m);
  for (const bad of ['0', '1.5', '-3', 'lots', '1e3']) {
    const r = cli(['replay', '--no-report', '--state-budget', bad, path]);
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.equal(r.stderr, `tlbsim: --state-budget expects a number of MiB from 1 to 1073741824, got "${bad}"\n`);
  }
});
