// validate --explain: replay a real trace event by event and line up, per CPU, the
// tlb:tlb_flush records (and flush IPIs) the modelled kernel would print with the ones
// the recorded kernel printed. A predicted record is matched with the earliest unmatched
// recorded one of the same reason on the same CPU within a time window, and vice versa;
// what stays unmatched for longer than the window, or matches with other pages, is a
// disagreement. For each one we keep the events around it and the machine state just
// before the event that caused it (per CPU: current task, loaded mm and ASID, lazy or
// not, the six ASID slots; per mm involved: ctx_id, tlb_gen, mm_cpumask), so a user can
// tell a gap in the model from a surprise in the kernel.
//
// This is the slow path: one Simulator.processBatch call per event, a state copy per
// event. Normal replays never come here (the machine's tap is null).
import {
  EVENT_KIND_NAMES, EventKind, FLUSH_ORIGIN_NAMES, NO_MM, TLB_FLUSH_REASON_NAMES, flushOrigin,
  type EventBatch, type EventSource, type TraceInfo,
} from '../trace/event.ts';
import { TLB_NR_DYN_ASIDS, type Machine, type MachineTap } from '../machine/machine.ts';
import { IpiPurpose } from '../machine/machine.ts';
import { ObservedCounts } from '../machine/observed.ts';
import { resolveProfile } from '../machine/profiles.ts';
import { Simulator } from '../machine/sim.ts';
import { CURRENT_STRATEGY, resolveStrategy } from '../strategies/index.ts';

/** Pseudo-reason for a flush IPI in the record streams. */
const R_IPI = 6;
const REASON_TEXT = [...TLB_FLUSH_REASON_NAMES, 'flush IPI'];
/** Records this close are the same kernel action even when their pages differ. */
const NEAR_NS = 20_000;

export interface ExplainOptions {
  strategy?: string;
  profile?: string;
  /** Stop after this many disagreements. */
  limit: number;
  /** How far apart in time a predicted and a recorded record may be and still match. */
  windowNs?: number;
  /** Events shown before and after the cause. */
  context?: number;
  /** See SimOptions.pcid. */
  pcid?: boolean;
}

export interface Disagreement {
  /** 'extra': predicted, not recorded; 'missing': recorded, not predicted;
   *  'pages': both, with different pages. */
  kind: 'extra' | 'missing' | 'pages';
  cpu: number;
  timeNs: number;
  /** Index (0-based, stream order) of the event that caused the record. */
  eventIndex: number;
  reason: number;
  what: string;
  /** The events around the cause, formatted (untrusted task names inside: print safely). */
  events: string[];
  /** Machine state just before the causing event. */
  state: string[];
}

export interface ExplainResult {
  strategy: string;
  disagreements: Disagreement[];
  /** Events replayed before stopping. */
  events: number;
  /** Records compared (matched pairs). */
  matched: number;
}

interface Rec {
  time: number;
  index: number;
  reason: number;
  pages: number;
  snap: Snapshot;
}

export interface Snapshot {
  cur: Int32Array; curMm: Int32Array; loaded: Int32Array; asid: Int32Array; lazy: Uint8Array;
  slotCtx: Float64Array; slotGen: Float64Array;
  /** mm ids of interest and their ctx, gen and mask (as a CPU list). */
  mms: { mm: number; ctx: number; gen: number; mask: number[]; users: number }[];
}

export interface RingEv { index: number; kind: number; time: number; cpu: number; tid: number; mm: number; a: number; b: number; c: number }

const RING = 4096;

export async function explainTrace(source: EventSource, opts: ExplainOptions): Promise<ExplainResult> {
  const info = source.info;
  const def = resolveStrategy(opts.strategy ?? CURRENT_STRATEGY);
  const sim = new Simulator(info, def, resolveProfile(opts.profile), { countObserved: false, ...(opts.pcid === undefined ? {} : { pcid: opts.pcid }) });
  // Which recorded IPIs carried a flush: the rule RunResult.observed counts them by.
  const recorded = new ObservedCounts(info);
  const m = sim.machine;
  const W = opts.windowNs ?? 200_000;
  const ctxN = opts.context ?? 6;
  const nCpu = m.nCpu;
  const comm = new Map<number, string>();
  for (const t of info.tasks) comm.set(t.tid, t.comm);

  const pred: Rec[][] = Array.from({ length: nCpu }, () => []);
  const obs: Rec[][] = Array.from({ length: nCpu }, () => []);
  const out: Disagreement[] = [];
  // the last RING events, circular: ring[k % RING] holds event k
  const ring: (RingEv | undefined)[] = new Array(RING);
  let index = 0;
  let matched = 0;
  let before: Snapshot | null = null;
  let evMm = 0;

  // Pair a new record with the nearest unmatched one of the same reason on the same CPU:
  // same pages within the window first, else any pages within NEAR_NS (the same
  // switch or flush printed differently).
  const push = (list: Rec[][], other: Rec[][], cpu: number, time: number, reason: number, pages: number, isPred: boolean) => {
    const q = other[cpu];
    let best = -1, bestDt = Infinity, near = -1, nearDt = Infinity;
    for (let k = 0; k < q.length; k++) {
      const r = q[k];
      if (r.reason !== reason) continue;
      const dt = Math.abs(r.time - time);
      if (r.pages === pages && dt <= W && dt < bestDt) { best = k; bestDt = dt; }
      if (dt <= NEAR_NS && dt < nearDt) { near = k; nearDt = dt; }
    }
    const k = best >= 0 ? best : near;
    if (k < 0) { list[cpu].push({ time, index, reason, pages, snap: before! }); return; }
    const r = q[k];
    q.splice(k, 1);
    matched++;
    if (r.pages !== pages && reason !== R_IPI) {
      const pp = isPred ? pages : r.pages, op = isPred ? r.pages : pages;
      const cause = isPred ? { time, index, snap: before! } : r;
      report('pages', cpu, cause.time, cause.index, reason,
        `${REASON_TEXT[reason]} (${reason}): predicted pages ${pp}, recorded pages ${op}`, cause.snap);
    }
  };

  const tap: MachineTap = {
    flush(cpu, reason, pages) {
      if (cpu < 0 || cpu >= nCpu) return;
      push(pred, obs, cpu, m.now, reason, pages, true);
    },
    ipi(from, to, purpose) {
      if (purpose !== IpiPurpose.flush || from < 0 || from >= nCpu) return;
      push(pred, obs, from, m.now, R_IPI, to, true);
    },
  };
  m.tap = tap;

  const report = (kind: Disagreement['kind'], cpu: number, time: number, idx: number, reason: number, what: string, snap: Snapshot) => {
    if (out.length >= opts.limit) return;
    out.push({ kind, cpu, timeNs: time, eventIndex: idx, reason, what, events: contextOf(idx, time), state: formatState(m, snap, info, comm) });
  };

  const contextOf = (idx: number, time: number): string[] => {
    const lines: string[] = [];
    for (let k = Math.max(0, idx - ctxN); k <= idx + ctxN && k < index + 1; k++) {
      const e = ring[k % RING];
      if (e === undefined || e.index !== k) continue;
      if (e.index > idx && e.time > time + W) continue;
      lines.push(`${e.index === idx ? '>' : ' '} #${e.index} ${describe(e, comm)}`);
    }
    return lines;
  };

  const expire = (now: number) => {
    for (let c = 0; c < nCpu; c++) {
      for (const [list, kind] of [[pred[c], 'extra'], [obs[c], 'missing']] as const) {
        while (list.length > 0 && list[0].time < now - W) {
          const r = list.shift()!;
          const text = r.reason === R_IPI ? `flush IPI to CPU ${r.pages}` : `${REASON_TEXT[r.reason]} (${r.reason}) pages ${r.pages}`;
          report(kind, c, r.time, r.index, r.reason,
            kind === 'extra' ? `predicted ${text}; the recorded kernel printed none` : `recorded ${text}; the model predicted none`, r.snap);
        }
      }
    }
  };

  let events = 0;
  outer:
  for await (const b of source.batches()) {
    for (let i = 0; i < b.length; i++) {
      const e = copyEvent(b, i, index);
      ring[index % RING] = e;
      evMm = e.kind === EventKind.switch ? e.b : e.mm;
      before = snapshot(sim, evMm, e.kind === EventKind.exec ? e.a : NO_MM);
      sim.processBatch(b, i, i + 1);
      const flushIpi = recorded.event(e.kind, e.cpu, e.a, e.b, e.c);
      if (e.kind === EventKind.observed_flush && e.cpu < nCpu) push(obs, pred, e.cpu, e.time, e.a, e.b, false);
      else if (flushIpi) push(obs, pred, e.cpu, e.time, R_IPI, e.a, false);
      expire(e.time);
      index++;
      events++;
      if (out.length >= opts.limit) break outer;
    }
  }
  if (out.length < opts.limit) expire(Infinity);
  m.tap = null;
  out.sort((x, y) => x.eventIndex - y.eventIndex || x.cpu - y.cpu);
  return { strategy: def.name, disagreements: out, events, matched };
}

export function copyEvent(b: EventBatch, i: number, index: number): RingEv {
  return { index, kind: b.kind[i], time: b.time[i], cpu: b.cpu[i], tid: b.tid[i], mm: b.mm[i], a: b.a[i], b: b.b[i], c: b.c[i] };
}

/** The machine state of `sim` now, with the trace's mm numbers (the machine's slots
 *  translated); `mm` and `mm2` (trace numbers) are shown even when no CPU holds them. */
export function snapshot(sim: Simulator, mm: number, mm2: number): Snapshot {
  const m = sim.machine;
  const n = m.nCpu;
  const id = m.mmTraceId;
  const s: Snapshot = {
    cur: Int32Array.from(m.curTid), curMm: Int32Array.from(m.curTaskMm, (slot) => id[slot]),
    loaded: new Int32Array(n), asid: new Int32Array(n), lazy: new Uint8Array(n),
    slotCtx: new Float64Array(n * TLB_NR_DYN_ASIDS), slotGen: new Float64Array(n * TLB_NR_DYN_ASIDS), mms: [],
  };
  const want = new Set<number>();
  for (let c = 0; c < n; c++) {
    s.loaded[c] = id[m.loadedMm[c]]; s.asid[c] = m.loadedAsid[c]; s.lazy[c] = m.isLazy[c];
    if (m.loadedMm[c] > 0) want.add(m.loadedMm[c]);
    if (m.curTaskMm[c] > 0) want.add(m.curTaskMm[c]);
  }
  for (let k = 0; k < n * TLB_NR_DYN_ASIDS; k++) { s.slotCtx[k] = m.slotCtx[k]; s.slotGen[k] = m.slotGen[k]; }
  const slot = sim.slotOf(mm), slot2 = sim.slotOf(mm2);
  if (slot > 0) want.add(slot);
  if (slot2 > 0) want.add(slot2);
  for (const x of want) {
    if (!m.isLive(x) && m.mmState[x] !== 2) continue;
    const mask: number[] = [];
    for (let c = m.maskNext(x, 0); c >= 0; c = m.maskNext(x, c + 1)) mask.push(c);
    s.mms.push({ mm: id[x], ctx: m.ctxId(x), gen: m.peekMmGen(x), mask, users: m.mmUsers[x] });
  }
  s.mms.sort((a, b) => a.mm - b.mm);
  return s;
}

function mmName(mm: number, info: TraceInfo): string {
  if (mm === 0) return 'init_mm';
  const x = info.mms.find((i) => i.id === mm);
  return x ? `mm ${mm} (${x.comm})` : `mm ${mm}`;
}

export function taskName(tid: number, comm: Map<number, string>): string {
  if (tid < 0) return '(no event seen on this CPU yet)';
  if (tid === 0) return '<idle>-0';
  return `${comm.get(tid) ?? '?'}-${tid}`;
}

export function formatState(m: Machine, s: Snapshot, info: TraceInfo, comm: Map<number, string>): string[] {
  const L: string[] = [];
  const ctxToMm = new Map<number, number>();
  for (const x of s.mms) ctxToMm.set(x.ctx, x.mm);
  for (let slot = 1; slot < m.mmState.length; slot++) if (m.mmState[slot] === 1 || m.mmState[slot] === 2) ctxToMm.set(m.ctxId(slot), m.mmTraceId[slot]);
  ctxToMm.set(1, 0);
  for (let c = 0; c < s.cur.length; c++) {
    const slots: string[] = [];
    for (let a = 0; a < TLB_NR_DYN_ASIDS; a++) {
      const ctx = s.slotCtx[c * TLB_NR_DYN_ASIDS + a];
      if (ctx === 0) continue;
      const owner = ctxToMm.get(ctx);
      slots.push(`${a}:${owner === undefined ? `ctx ${ctx} (freed)` : owner === 0 ? 'init_mm' : `mm ${owner}`}@gen ${s.slotGen[c * TLB_NR_DYN_ASIDS + a]}`);
    }
    L.push(`CPU ${c}: runs ${taskName(s.cur[c], comm)}${s.curMm[c] === 0 ? ' (no mm)' : ` (mm ${s.curMm[c]})`}, loaded ${mmName(s.loaded[c], info)} asid ${s.asid[c]}${s.lazy[c] ? ', LAZY' : ''}; slots ${slots.join(' ')}`);
  }
  for (const x of s.mms) {
    L.push(`${mmName(x.mm, info)}: ctx_id ${x.ctx}, tlb_gen ${x.gen}, mm_cpumask {${x.mask.join(',')}}, mm_users ${x.users}`);
  }
  return L;
}

/** One event as a line: time, CPU, what happened (task names are untrusted text). */
export function describe(e: RingEv, comm: Map<number, string>): string {
  const t = (e.time / 1e9).toFixed(6);
  const who = `${taskName(e.tid, comm)}`;
  const head = `${t} [${String(e.cpu).padStart(3, '0')}] ${who}`;
  switch (e.kind) {
    case EventKind.switch: return `${head} switch -> ${taskName(e.a, comm)} (mm ${e.b})`;
    case EventKind.observed_flush: return `${head} recorded tlb_flush pages:${e.b} reason:${REASON_TEXT[e.a] ?? '?'} (${e.a})`;
    case EventKind.observed_ipi: {
      const k = ['ipi_send (real IPI)', 'ipi_send flush_tlb_func', 'csd_queue_cpu flush_tlb_func', 'other cross-call'][e.c] ?? '?';
      return `${head} recorded ${k} -> CPU ${e.a}`;
    }
    case EventKind.flush_request: {
      const o = FLUSH_ORIGIN_NAMES[flushOrigin(e.c)] ?? '?';
      return `${head} flush request mm ${e.mm} pages ${e.b}${e.c & 1 ? ' freed_tables' : ''} (${o})`;
    }
    case EventKind.fork: return `${head} fork -> ${taskName(e.a, comm)} (mm ${e.b}${e.c ? ', thread' : ''})`;
    case EventKind.exec: return `${head} exec: mm ${e.a} -> mm ${e.mm}`;
    case EventKind.exit: return `${head} exit${e.a === 1 ? ' (group dead)' : ''}`;
    case EventKind.exit_mmap: return `${head} exit_mmap mm ${e.mm}`;
    case EventKind.migrate: return `${head} migrate CPU ${e.a} -> ${e.b}`;
    case EventKind.munmap: case EventKind.madvise: case EventKind.mmap: case EventKind.mprotect:
      return `${head} ${EVENT_KIND_NAMES[e.kind]} 0x${Math.max(0, e.a).toString(16)} len ${e.b}`;
    default: return `${head} ${EVENT_KIND_NAMES[e.kind] ?? e.kind}`;
  }
}

/** The disagreements as text. */
export function explainText(r: ExplainResult): string {
  const L: string[] = [];
  if (r.disagreements.length === 0) {
    L.push(`no disagreement between the recording and ${r.strategy} in ${r.events} events (${r.matched} records matched)`);
    return L.join('\n');
  }
  r.disagreements.forEach((d, k) => {
    L.push('');
    L.push(`disagreement ${k + 1}: CPU ${d.cpu} at ${(d.timeNs / 1e9).toFixed(6)} s (event #${d.eventIndex}): ${d.what}`);
    L.push('  events around it (> marks the cause):');
    for (const e of d.events) L.push(`    ${e}`);
    L.push('  machine state before the cause:');
    for (const s of d.state) L.push(`    ${s}`);
  });
  return L.join('\n');
}
