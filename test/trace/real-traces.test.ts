// Every recorded trace parses with zero skipped lines, and the events tlbsim reads match
// counts made by grep on the same file (counts.json, made without tlbsim code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTrace, EventKind, IpiKind, type TraceEvent, eventsOf } from '../../src/trace/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// The two recordings made before these fixtures (traces/real/README.md), kept in the repo.
const SHARED = join(ROOT, 'traces', 'real');

interface Counts { file: string; total_lines: number; header_lines: number; lost_event_marker_lines: number;
  events: Record<string, number>; tlb_flush_reason: Record<string, number> }

function fixtures(): { path: string; counts: Counts }[] {
  const out: { path: string; counts: Counts }[] = [];
  const dir = join(ROOT, 'traces', 'real');
  for (const name of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
    const folder = join(dir, name);
    for (const f of readdirSync(folder).filter((f) => /^counts.*\.json$/.test(f))) {
      const counts = JSON.parse(readFileSync(join(folder, f), 'utf8')) as Counts;
      out.push({ path: join(folder, counts.file), counts });
    }
  }
  return out;
}

async function collect(path: string): Promise<TraceEvent[]> {
  const t = await openTrace(path);
  const evs: TraceEvent[] = [];
  for await (const b of t.batches()) for (const e of eventsOf([b])) evs.push(e);
  t.close();
  return evs;
}

for (const { path, counts } of fixtures()) {
  test(`real trace ${path.slice(ROOT.length)} matches grep counts`, async () => {
    const t = await openTrace(path);
    const i = t.info;
    t.close();
    assert.equal(i.skippedLines, 0, `skipped: ${JSON.stringify(i.skipped.slice(0, 3))}`);
    assert.equal(i.cpus, 2);
    const e = counts.events;
    const k = i.countsByKind;
    assert.equal(k.switch, e.sched_switch);
    assert.equal(k.migrate, e.sched_migrate_task);
    assert.equal(k.fork, e.sched_process_fork);
    assert.equal(k.exit, e.sched_process_exit);
    assert.equal(k.exec, e.sched_process_exec);
    assert.equal(k.observed_flush, e.tlb_flush);
    assert.equal(k.exit_mmap, e.exit_mmap);
    assert.equal(k.munmap, e.sys_enter_munmap);
    assert.equal(k.madvise, e.sys_enter_madvise);
    assert.equal(k.mmap, e.sys_enter_mmap);
    assert.equal(k.mprotect, e.sys_enter_mprotect);
    assert.deepEqual(i.observedFlushByReason, counts.tlb_flush_reason);
    // IPIs: ipi_send_cpu lines are one send each; csd_queue_cpu lines are kept when they
    // queue flush_tlb_func, and the others are listed as unused.
    const ipiSends = (e.ipi_send_cpu ?? 0) + (e.ipi_send_cpumask ?? 0);
    const flushQueued = i.observedIpis.byKind.flushQueued ?? 0;
    assert.equal(i.observedIpis.sends - flushQueued, ipiSends);
    assert.equal(flushQueued + (i.unusedEvents.csd_queue_cpu ?? 0), e.csd_queue_cpu ?? 0);
    assert.equal(i.lostMarkers, counts.lost_event_marker_lines);
    // Every line is an event, a header, or a lost marker.
    assert.equal(i.ignoredLines, counts.header_lines + counts.lost_event_marker_lines);
    // Flush requests come from tlb_flush initiator records: every reason 4, plus the
    // reason 3s that were not the local half of a reason 4.
    assert.equal(i.tracedFlushRequests, true);
    const reqs = i.countsByKind.flush_request;
    const r = counts.tlb_flush_reason;
    assert.ok(reqs >= (r['4'] ?? 0) && reqs <= (r['4'] ?? 0) + (r['3'] ?? 0) + (r['2'] ?? 0), `requests ${reqs}`);
  });
}

test('shared recordings parse with zero skipped lines and their tlb_flush reasons', async () => {
  for (const name of ['shared-pingpong-100', 'shared-madvthreads-2-notgid']) {
    const path = join(SHARED, name, 'trace.txt.gz');
    const text = gunzipSync(readFileSync(path)).toString('utf8');
    const t = await openTrace(path);
    t.close();
    assert.equal(t.info.skippedLines, 0);
    const byReason: Record<string, number> = {};
    for (const m of text.matchAll(/tlb_flush: .*\((\d+)\)$/gm)) byReason[m[1]] = (byReason[m[1]] ?? 0) + 1;
    assert.deepEqual(t.info.observedFlushByReason, byReason);
    assert.equal(t.info.countsByKind.switch, text.match(/ sched_switch: /g)?.length ?? 0);
  }
});

test('every event is in time order and has a CPU within the trace', async () => {
  const evs = await collect(join(ROOT, 'traces/real/build/trace.txt.gz'));
  for (let i = 1; i < evs.length; i++) assert.ok(evs[i].time >= evs[i - 1].time, `event ${i} goes back in time`);
  assert.ok(evs.every((e) => e.cpu < 2));
});

test('the same recording as raw tracefs text, trace-cmd report and trace.dat gives the same events', async (t) => {
  const dir = join(ROOT, 'traces/real/trace-cmd-madvthreads');
  const raw = await collect(join(dir, 'trace.txt.gz'));
  const report = await collect(join(dir, 'trace-cmd.txt.gz'));
  assert.equal(report.length, raw.length);
  const kinds = (es: TraceEvent[]) => es.map((e) => `${e.kind}/${e.cpu}/${e.tid}/${e.a}/${e.b}`).join('\n');
  // trace-cmd prints syscall arguments zero-padded and IPI callsites shorter, but the values agree.
  assert.equal(kinds(report), kinds(raw));
  const { traceCmdAvailable } = await import('../../src/trace/input.ts');
  if (!traceCmdAvailable()) { t.diagnostic('trace-cmd not installed: trace.dat conversion not tested'); return; }
  const dat = await collect(join(dir, 'trace.dat'));
  assert.equal(kinds(dat), kinds(report));
});

test('perf script text: threads, switches and flushes', async () => {
  const evs = await collect(join(ROOT, 'traces/real/perf-pingpong/perf.txt.gz'));
  const switches = evs.filter((e) => e.kind === EventKind.switch);
  assert.equal(switches.length, 2011);
  // perf writes "swapper" for idle, pid 0: switches into idle carry no mm.
  const toIdle = switches.filter((e) => e.a === 0);
  assert.ok(toIdle.length > 0 && toIdle.every((e) => e.b === 0));
  // The two ping-pong processes are two address spaces switching on CPU 0.
  const pp = switches.filter((e) => e.mm !== 0 && e.b !== 0 && e.mm !== e.b);
  assert.ok(pp.length > 1900, `${pp.length} mm-changing switches`);
});

test('task → mm through the tgid column: the ping-pong processes are two mms', async () => {
  const t = await openTrace(join(ROOT, 'traces/real/pingpong-0/trace.txt.gz'));
  t.close();
  const pp = t.info.tasks.filter((x) => x.comm === 'pingpong');
  assert.equal(pp.length, 2);
  assert.ok(pp.every((x) => x.route === 'tgid'));
  assert.notEqual(pp[0].mm, pp[1].mm);
});

test('task → mm through fork history: the madvise threads share one mm without a tgid column', async () => {
  for (const path of [join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'), join(SHARED, 'shared-madvthreads-2-notgid/trace.txt.gz')]) {
    const t = await openTrace(path);
    t.close();
    const mt = t.info.tasks.filter((x) => x.comm.includes('madvthreads'));
    assert.equal(mt.length, 2, JSON.stringify(t.info.tasks));
    assert.equal(mt[0].mm, mt[1].mm);
    assert.deepEqual(mt.map((x) => x.route).sort(), ['exec', 'fork-thread']);
  }
});

test('fork churn without tgid resolves threads and processes like the tgid recording does', async () => {
  const plain = await openTrace(join(ROOT, 'traces/real/forkchurn/trace.txt.gz'));
  const tgid = await openTrace(join(ROOT, 'traces/real/forkchurn-tgid/trace.txt.gz'));
  plain.close(); tgid.close();
  const threadsOf = (tasks: typeof plain.info.tasks) => {
    const byMm = new Map<number, number>();
    for (const x of tasks) if (x.mm !== 0) byMm.set(x.mm, (byMm.get(x.mm) ?? 0) + 1);
    return [...byMm.values()].filter((n) => n > 1).length;
  };
  // Same workload: the same number of multi-threaded address spaces.
  assert.equal(threadsOf(plain.info.tasks), threadsOf(tgid.info.tasks));
  const routes = new Set(plain.info.tasks.map((x) => x.route));
  assert.ok(routes.has('exec') && routes.has('fork-thread') && routes.has('fork-process'));
  // Kernel threads and idle have no mm.
  for (const x of plain.info.tasks) if (x.comm.startsWith('kworker/') || x.tid === 0) assert.equal(x.mm, 0);
});

test('IPI events: per-target observed_ipi with the callback kind', async () => {
  const evs = await collect(join(ROOT, 'traces/real/madvthreads-2/trace.txt.gz'));
  const ipis = evs.filter((e) => e.kind === EventKind.observed_ipi);
  assert.ok(ipis.some((e) => e.c === IpiKind.real && e.a === 1));
  assert.ok(ipis.some((e) => e.c === IpiKind.flushQueued));
});
