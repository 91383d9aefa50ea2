// Shared helpers for the workload tests (not a test file itself).
import assert from 'node:assert/strict';
import {
  EVENT_KIND_NAMES, EventKind, FlushOrigin, NO_MM, PrevState, eventAt, flushOrigin,
  type TraceEvent, type TraceInfo,
} from '../../src/trace/event.ts';
import { generateWorkload, type GenerateOptions, type WorkloadSpec } from '../../src/workloads/index.ts';

export interface Collected {
  info: TraceInfo;
  events: TraceEvent[];
}

export async function collect(spec: string | WorkloadSpec, options: GenerateOptions = {}): Promise<Collected> {
  const src = await generateWorkload(spec, options);
  const events: TraceEvent[] = [];
  for await (const b of src.batches()) for (let i = 0; i < b.length; i++) events.push(eventAt(b, i));
  return { info: src.info, events };
}

export function countKinds(events: readonly TraceEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) { const k = EVENT_KIND_NAMES[e.kind]; out[k] = (out[k] ?? 0) + 1; }
  return out;
}

export const ofKind = (events: readonly TraceEvent[], kind: number) => events.filter((e) => e.kind === kind);

/** Iteration marks: one measured tid, indices -1, 0, 1, ... n-1 in order. Returns the tid. */
export function checkMarks(events: readonly TraceEvent[], n: number): number {
  const marks = ofKind(events, EventKind.iteration);
  assert.equal(marks.length, n + 1, 'one warm-up mark and one per iteration');
  const tids = new Set(marks.map((m) => m.tid));
  assert.equal(tids.size, 1, 'marks come from one measured thread');
  marks.forEach((m, i) => assert.equal(m.a, i - 1));
  return marks[0].tid;
}

/** Properties every generated trace must have. */
export function checkInvariants({ info, events }: Collected): void {
  assert.equal(info.format, 'workload');
  assert.equal(info.events, events.length, 'info.events is exact');
  assert.deepEqual(info.countsByKind, countKinds(events), 'info.countsByKind is exact');
  assert.equal(info.firstNs, events[0].time);
  assert.equal(info.lastNs, events[events.length - 1].time);
  const flushes = ofKind(events, EventKind.flush_request).length;
  assert.deepEqual(info.flushRequestsByOrigin, flushes ? { synthetic: flushes } : {});

  const taskTids = new Set(info.tasks.map((t) => t.tid));
  const mmIds = new Set(info.mms.map((m) => m.id));
  assert.ok(taskTids.has(0), 'the idle task is listed');
  for (const t of info.tasks) {
    assert.equal(t.route, t.tid === 0 ? 'idle' : 'synthetic');
    assert.ok(t.comm.length > 0);
    assert.ok(t.tid === 0 || mmIds.has(t.mm), `task ${t.tid}'s mm ${t.mm} is listed`);
  }

  const current = Array.from({ length: info.cpus }, () => ({ tid: 0, mm: NO_MM }));
  const taskMm = new Map<number, number>();
  const dead = new Set<number>();
  let last = -Infinity;
  for (const e of events) {
    assert.ok(e.time >= last, `time goes forward (${e.time} after ${last})`);
    last = e.time;
    assert.ok(Number.isInteger(e.time) && e.time >= 0);
    assert.ok(e.cpu >= 0 && e.cpu < info.cpus, `cpu ${e.cpu} exists`);
    assert.ok(taskTids.has(e.tid), `tid ${e.tid} is listed`);
    assert.ok(e.mm === NO_MM || mmIds.has(e.mm), `mm ${e.mm} is listed`);
    const cur = current[e.cpu];
    if (e.kind === EventKind.switch) {
      assert.equal(e.tid, cur.tid, `switch on cpu ${e.cpu} at ${e.time} starts from the running task`);
      assert.equal(e.mm, cur.mm, `switch on cpu ${e.cpu} at ${e.time} starts from the running mm`);
      assert.ok(!dead.has(e.a), `dead task ${e.a} is not switched in`);
      if (e.c === PrevState.dead) dead.add(e.tid);
      if (e.a !== 0) {
        assert.ok(taskTids.has(e.a));
        if (taskMm.has(e.a)) assert.equal(e.b, taskMm.get(e.a), `task ${e.a} keeps its mm`);
        taskMm.set(e.a, e.b);
      } else {
        assert.equal(e.b, NO_MM, 'idle has no mm');
      }
      current[e.cpu] = { tid: e.a, mm: e.b };
      continue;
    }
    if (e.kind === EventKind.migrate) {
      assert.equal(e.a, e.cpu);
      assert.notEqual(e.b, e.cpu);
      continue;
    }
    assert.notEqual(e.tid, 0, `${EVENT_KIND_NAMES[e.kind]} is done by a task`);
    assert.equal(e.tid, cur.tid, `${EVENT_KIND_NAMES[e.kind]} at ${e.time} on cpu ${e.cpu} comes from the running task`);
    if (e.kind === EventKind.exec) {
      assert.equal(e.a, cur.mm, 'exec replaces the running mm');
      cur.mm = e.mm;
      taskMm.set(e.tid, e.mm);
    } else if (e.kind === EventKind.fork) {
      assert.equal(e.mm, cur.mm);
      if (e.c === 1) assert.equal(e.b, e.mm, 'a thread shares its parent\'s mm');
      else assert.notEqual(e.b, e.mm, 'a process gets its own mm');
      taskMm.set(e.a, e.b);
    } else if (e.kind === EventKind.flush_request || e.kind === EventKind.pt_sync) {
      assert.equal(flushOrigin(e.c), FlushOrigin.synthetic);
    } else if (e.kind !== EventKind.exit_mmap) {
      assert.equal(e.mm, cur.mm, `${EVENT_KIND_NAMES[e.kind]} carries the running mm`);
    }
  }
  for (let c = 0; c < info.cpus; c++) assert.equal(current[c].tid, 0, `cpu ${c} ends idle`);
}

/** Which CPUs ran which tasks (switch-ins). */
export function cpusOf(events: readonly TraceEvent[]): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const e of ofKind(events, EventKind.switch)) {
    if (e.a === 0) continue;
    if (!out.has(e.a)) out.set(e.a, new Set());
    out.get(e.a)!.add(e.cpu);
  }
  return out;
}

/** Each task's mm(s) as seen in switch-ins. */
export function mmsOf(events: readonly TraceEvent[]): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const e of ofKind(events, EventKind.switch)) {
    if (e.a === 0) continue;
    if (!out.has(e.a)) out.set(e.a, new Set());
    out.get(e.a)!.add(e.b);
  }
  return out;
}

/** Runs `spec` with two seeds: same seed identical, different seed different. */
export async function checkDeterminism(spec: string, otherSeed: number): Promise<void> {
  const a = await collect(spec);
  const b = await collect(spec);
  assert.deepEqual(b.events, a.events, 'same seed → identical events');
  assert.deepEqual(b.info, a.info, 'same seed → identical info');
  const c = await collect(`${spec},seed=${otherSeed}`);
  assert.notDeepEqual(c.events, a.events, 'different seed → different events');
}
