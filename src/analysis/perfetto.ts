// `replay --trace-out DIR`: one recorded replay as a Chrome trace-event JSON file
// (the "JSON Object Format" of the Trace Event Format document), which the Perfetto UI
// (ui.perfetto.dev, "Open trace file") and chrome://tracing open.
//
// Layout: process 1 is the strategy's model, process 2 what the recording printed. Each
// CPU has three threads in process 1: its tasks (one slice per run of a task, named by
// the task), its lazy TLB periods, and its TLB work (flush requests with the initiator's
// wait inside them, flushes, cross-call handlers, CR3 writes as instants); an IPI is a
// flow from the sender's request to a zero-length "IPI" slice where it arrives on the
// target. Process 3 has a thread per task (KernelShark's task view), a slice per run
// named by its CPU. Counters: CPUs in lazy TLB mode, and the flushed mm's mm_cpumask
// weight at each request. Slices on one thread must nest: one that would overlap the end of its
// enclosing slice is cut there (args.cut_ns says by how much).
import type { TraceInfo } from '../trace/event.ts';
import { FLUSH_MARK_NAMES, type Recording } from '../machine/recorder.ts';
import { reasonText, taskLabel, taskNames } from './recording.ts';

export interface TraceEventJson {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEventJson[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number>;
}

const MODEL_PID = 1;
const TRACE_PID = 2;
const TASK_PID = 3;
/** Threads per CPU in the model process: tasks, lazy, TLB. */
const LANES = 3;
const tidOf = (cpu: number, lane: number) => cpu * LANES + lane + 1;

/** Trace time (ns) -> trace-event ts (µs since the first event), at ns precision. */
function tsOf(t: number, first: number): number {
  return Math.round(t - first) / 1000;
}

function durOf(ns: number): number {
  return Math.max(0, Math.round(ns)) / 1000;
}

/** The trace-event file of one recorded replay of `info`'s input. */
export function chromeTrace(rec: Recording, info: TraceInfo): ChromeTrace {
  const names = taskNames(info);
  const first = rec.firstNs;
  const meta: TraceEventJson[] = [];
  const ev: TraceEventJson[] = [];
  const nCpu = rec.cpus;
  const proc = (pid: number, name: string, sort: number) => {
    meta.push({ name: 'process_name', ph: 'M', pid, args: { name } });
    meta.push({ name: 'process_sort_index', ph: 'M', pid, args: { sort_index: sort } });
  };
  const thread = (pid: number, tid: number, name: string) => {
    meta.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: tid } });
  };
  proc(MODEL_PID, `${rec.strategy} (model${rec.safe ? '' : ', unsafe'})`, 1);
  proc(TRACE_PID, 'recorded kernel (the trace\'s own tlb_flush and IPI records)', 2);
  proc(TASK_PID, 'tasks (their runs, from the trace\'s switches)', 3);
  for (let c = 0; c < nCpu; c++) {
    thread(MODEL_PID, tidOf(c, 0), `CPU ${c}`);
    thread(MODEL_PID, tidOf(c, 1), `CPU ${c} lazy TLB`);
    thread(MODEL_PID, tidOf(c, 2), `CPU ${c} TLB`);
    thread(TRACE_PID, c + 1, `CPU ${c}`);
  }
  const T = rec.tracks;
  const weight = (w: number, args: Record<string, unknown>) => (w > 1 ? { ...args, events: w } : args);

  const run = T.run;
  const seenTask = new Set<number>();
  for (let i = 0; i < run.t.length; i++) {
    const tid = run.a[i], c = run.cpu[i];
    const ts = tsOf(run.t[i], first), dur = durOf(run.d[i]);
    ev.push({ name: tid === 0 ? 'idle' : taskLabel(names, tid), cat: 'sched', ph: 'X', pid: MODEL_PID, tid: tidOf(c, 0), ts, dur, args: weight(run.w[i], { tid }) });
    if (tid <= 0) continue;
    if (!seenTask.has(tid)) { seenTask.add(tid); thread(TASK_PID, tid, taskLabel(names, tid)); }
    ev.push({ name: `CPU ${c}`, cat: 'sched', ph: 'X', pid: TASK_PID, tid, ts, dur, args: weight(run.w[i], { cpu: c }) });
  }
  const lazy = T.lazy;
  for (let i = 0; i < lazy.t.length; i++) {
    ev.push({ name: 'lazy TLB', cat: 'tlb', ph: 'X', pid: MODEL_PID, tid: tidOf(lazy.cpu[i], 1), ts: tsOf(lazy.t[i], first), dur: durOf(lazy.d[i]), args: weight(lazy.w[i], {}) });
  }
  // Requests: the initiator's wait comes at the end of its request (after the local flush
  // and the sends), so it is drawn there.
  const req = T.request;
  const reqEnd = new Map<string, number>();
  for (let i = 0; i < req.t.length; i++) {
    const c = req.cpu[i], mm = req.a[i];
    reqEnd.set(`${c}:${req.t[i]}`, req.t[i] + req.d[i]);
    ev.push({ name: mm === 0 ? 'flush request (batch)' : `flush request mm ${mm}`, cat: 'tlb', ph: 'X', pid: MODEL_PID, tid: tidOf(c, 2), ts: tsOf(req.t[i], first), dur: durOf(req.d[i]), args: weight(req.w[i], { mm, mm_cpumask_weight: req.b[i], latency_ns: Math.round(req.d[i]) }) });
    ev.push({ name: 'mm_cpumask weight (flushed mm)', ph: 'C', pid: MODEL_PID, ts: tsOf(req.t[i], first), args: { cpus: req.b[i] } });
  }
  const wait = T.wait;
  for (let i = 0; i < wait.t.length; i++) {
    const c = wait.cpu[i];
    const end = reqEnd.get(`${c}:${wait.t[i]}`);
    const t = end !== undefined && end - wait.d[i] >= wait.t[i] ? end - wait.d[i] : wait.t[i];
    ev.push({ name: 'initiator wait', cat: 'tlb', ph: 'X', pid: MODEL_PID, tid: tidOf(c, 2), ts: tsOf(t, first), dur: durOf(wait.d[i]), args: weight(wait.w[i], { wait_ns: Math.round(wait.d[i]) }) });
  }
  const fl = T.flush;
  for (let i = 0; i < fl.t.length; i++) {
    const pages = fl.b[i];
    ev.push({ name: `flush ${FLUSH_MARK_NAMES[fl.a[i]] ?? 'unknown'}`, cat: 'tlb', ph: 'X', pid: MODEL_PID, tid: tidOf(fl.cpu[i], 2), ts: tsOf(fl.t[i], first), dur: durOf(fl.d[i]), args: weight(fl.w[i], { pages: pages < 0 ? 'all' : pages, cost_ns: Math.round(fl.d[i]) }) });
  }
  const h = T.handler;
  for (let i = 0; i < h.t.length; i++) {
    ev.push({ name: `cross-call handler (from CPU ${h.a[i]})`, cat: 'ipi', ph: 'X', pid: MODEL_PID, tid: tidOf(h.cpu[i], 2), ts: tsOf(h.t[i], first), dur: durOf(h.d[i]), args: weight(h.w[i], { from_cpu: h.a[i], cost_ns: Math.round(h.d[i]) }) });
  }
  const cr3 = T.cr3;
  for (let i = 0; i < cr3.t.length; i++) {
    ev.push({ name: cr3.b[i] > 0 ? 'CR3 write (flush)' : 'CR3 write (no flush)', cat: 'tlb', ph: 'i', s: 't', pid: MODEL_PID, tid: tidOf(cr3.cpu[i], 2), ts: tsOf(cr3.t[i], first), args: weight(cr3.w[i], cr3.w[i] > 1 ? { mm: cr3.a[i], flushing: cr3.b[i] } : { mm: cr3.a[i] }) });
  }
  const ipi = T.ipi;
  for (let i = 0; i < ipi.t.length; i++) {
    const from = ipi.cpu[i], to = ipi.a[i], id = i + 1;
    const ts = tsOf(ipi.t[i], first), arrive = Math.max(ts, tsOf(ipi.b[i], first));
    const args = weight(ipi.w[i], { from_cpu: from, to_cpu: to });
    ev.push({ name: `IPI to CPU ${to}`, cat: 'ipi', ph: 'X', pid: MODEL_PID, tid: tidOf(from, 2), ts, dur: 0, args });
    ev.push({ name: `IPI from CPU ${from}`, cat: 'ipi', ph: 'X', pid: MODEL_PID, tid: tidOf(to, 2), ts: arrive, dur: 0, args });
    ev.push({ name: 'IPI', cat: 'ipi', ph: 's', id, pid: MODEL_PID, tid: tidOf(from, 2), ts });
    ev.push({ name: 'IPI', cat: 'ipi', ph: 'f', bp: 'e', id, pid: MODEL_PID, tid: tidOf(to, 2), ts: arrive });
  }
  const lc = T.lazyCount;
  for (let i = 0; i < lc.t.length; i++) {
    // One counter value per time: the last change at a time gives it.
    if (i + 1 < lc.t.length && lc.t[i + 1] === lc.t[i]) continue;
    ev.push({ name: 'lazy CPUs', ph: 'C', pid: MODEL_PID, ts: tsOf(lc.t[i], first), args: { cpus: lc.a[i] } });
  }
  const of = T.obsFlush;
  for (let i = 0; i < of.t.length; i++) {
    const p = of.b[i];
    ev.push({ name: `tlb_flush: ${reasonText(of.a[i])}`, cat: 'recorded', ph: 'i', s: 't', pid: TRACE_PID, tid: of.cpu[i] + 1, ts: tsOf(of.t[i], first), args: weight(of.w[i], { reason: of.a[i], pages: p }) });
  }
  const oi = T.obsIpi;
  for (let i = 0; i < oi.t.length; i++) {
    ev.push({ name: `ipi_send to CPU ${oi.a[i]}`, cat: 'recorded', ph: 'i', s: 't', pid: TRACE_PID, tid: oi.cpu[i] + 1, ts: tsOf(oi.t[i], first), args: weight(oi.w[i], { to_cpu: oi.a[i] }) });
  }
  nest(ev);
  // Time order; at one time, enclosing slices before what they enclose, flows last.
  const rank = (e: TraceEventJson) => (e.ph === 'X' ? 0 : e.ph === 's' || e.ph === 'f' ? 2 : 1);
  ev.sort((x, y) => x.ts! - y.ts! || rank(x) - rank(y) || (y.dur ?? 0) - (x.dur ?? 0));
  const decimated = Object.entries(T).filter(([, t]) => t.stride > 1).map(([k, t]) => `${k}: ${t.seen} events in ${t.t.length} records`);
  return {
    traceEvents: [...meta, ...ev],
    displayTimeUnit: 'ns',
    otherData: {
      tool: 'tlbsim replay --trace-out', input: info.source, strategy: rec.strategy, cpus: nCpu,
      time_origin: 'ts 0 is the first event of the trace',
      model_times: 'model marks sit at the trace time of the event that caused them; slice lengths are modelled costs',
      ...(decimated.length > 0 ? { decimated: decimated.join('; ') } : {}),
    },
  };
}

/** Cut slices that overlap the end of the slice enclosing them on the same thread, so
 *  every thread's slices nest (the format's rule for complete events). */
function nest(ev: TraceEventJson[]): void {
  const byThread = new Map<string, TraceEventJson[]>();
  for (const e of ev) {
    if (e.ph !== 'X') continue;
    const k = `${e.pid}:${e.tid}`;
    let l = byThread.get(k);
    if (l === undefined) { l = []; byThread.set(k, l); }
    l.push(e);
  }
  // In whole nanoseconds: ts and dur are µs with three decimals.
  const ns = (us: number) => Math.round(us * 1000);
  for (const l of byThread.values()) {
    l.sort((x, y) => x.ts! - y.ts! || y.dur! - x.dur!);
    const stack: number[] = []; // ends of the open slices, ns
    for (const e of l) {
      const t = ns(e.ts!);
      while (stack.length > 0 && (stack[stack.length - 1] < t || (stack[stack.length - 1] === t && e.dur! > 0))) stack.pop();
      const end = t + ns(e.dur!);
      const top = stack.length > 0 ? stack[stack.length - 1] : Infinity;
      if (end > top) {
        e.dur = (top - t) / 1000;
        e.args = { ...(e.args ?? {}), cut_ns: end - top };
      }
      stack.push(Math.min(end, top));
    }
  }
}

/** The file's text: JSON with everything outside printable ASCII written as \u escapes,
 *  one event per line. */
export function chromeTraceText(trace: ChromeTrace): string {
  const j = (v: unknown) => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `{"displayTimeUnit":"ns","otherData":${j(trace.otherData)},"traceEvents":[\n${trace.traceEvents.map(j).join(',\n')}\n]}\n`;
}

/** A file name for a strategy's trace: registry names are [a-z0-9.-] already; a name a
 *  script gave its own strategy keeps only safe characters. */
export function traceFileName(strategy: string, prefix = ''): string {
  return `${prefix}${strategy.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')}.json`;
}
