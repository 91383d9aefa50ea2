// replay --compare a,b: the first events where two strategies act differently. Both
// machines replay the same events in lockstep, one event at a time (validate --explain's
// slow path: its tap, event ring, describe() and state printing); after each event the
// actions each took (tlb:tlb_flush records and flush IPIs from the tap, CR3 writes and
// flushes from the per-CPU counters) are compared. The first `limit` events whose actions
// differ are kept with the events before them and both machines' state after them, so a
// reader sees where the two strategies part ways and what each did instead.
//
// Normal replays never come here; this path is for one pair at a time.
import { EventKind, NO_MM, TLB_FLUSH_REASON_NAMES, type EventSource } from '../trace/event.ts';
import { IpiPurpose, type MachineTap } from '../machine/machine.ts';
import { MI } from '../machine/metrics.ts';
import { resolveProfile, type CostProfile } from '../machine/profiles.ts';
import { Simulator } from '../machine/sim.ts';
import { resolveStrategy } from '../strategies/index.ts';
import type { StrategyDefinition } from '../machine/strategy.ts';
import { inertName } from '../analysis/format.ts';
import { copyEvent, describe, formatState, snapshot, type RingEv } from './explain.ts';

export interface DivergeOptions {
  a: string;
  b: string;
  profile?: CostProfile | string;
  /** Stop after this many differing events (default 5). */
  limit?: number;
  /** Events shown before each (default 4). */
  context?: number;
  pcid?: boolean;
  /** Script-defined strategies a or b may name (registered names need none). */
  definitions?: readonly StrategyDefinition[];
}

export interface Divergence {
  eventIndex: number;
  /** ns from the first event. */
  timeNs: number;
  cpu: number;
  /** The event, formatted (untrusted task names inside: print safely). */
  event: string;
  /** What each strategy did on this event (one line per action; "nothing" when none). */
  a: string[];
  b: string[];
  /** The events before it, formatted. */
  before: string[];
  /** Each machine's state after the event (CPUs where the two differ or that the event
   *  and the actions name). */
  stateA: string[];
  stateB: string[];
}

export interface DivergeResult {
  a: string;
  b: string;
  divergences: Divergence[];
  /** Events replayed (all of them when fewer than `limit` differed). */
  events: number;
  /** Events on which the two acted differently, up to where the scan stopped. */
  differing: number;
}

/** Counters whose per-CPU change is an action ("CR3 write on CPU 1"). */
const COUNTED: [metric: number, what: string][] = [
  [MI.cr3_writes, 'CR3 write'],
  [MI.cr3_flushes, 'flushing CR3 write'],
  [MI.full_flushes, 'full local flush'],
  [MI.page_flushes, 'INVLPG'],
  [MI.flush_requests, 'flush request'],
];

class Side {
  readonly sim: Simulator;
  readonly actions: string[] = [];
  private readonly prev: Float64Array;
  constructor(source: EventSource, strategy: StrategyDefinition, profile: CostProfile, pcid: boolean | undefined) {
    this.sim = new Simulator(source.info, strategy, profile, pcid === undefined ? {} : { pcid });
    const n = this.sim.machine.nCpu;
    this.prev = new Float64Array(COUNTED.length * n);
    const actions = this.actions;
    const tap: MachineTap = {
      flush(cpu, reason, pages) { actions.push(`tlb_flush on CPU ${cpu}: ${TLB_FLUSH_REASON_NAMES[reason] ?? `reason ${reason}`} (${reason}), pages ${pages < 0 ? 'all' : pages}`); },
      ipi(from, to, purpose) { actions.push(`${purpose === IpiPurpose.flush ? 'flush IPI' : 'IPI'} CPU ${from} → CPU ${to}`); },
    };
    this.sim.machine.tap = tap;
  }
  /** Append the counted actions since the last call (per CPU, in CPU order). */
  collect(): void {
    const m = this.sim.machine, n = m.nCpu;
    COUNTED.forEach(([mi, what], k) => {
      for (let c = 0; c < n; c++) {
        const v = m.perCpu[mi * n + c];
        const d = v - this.prev[k * n + c];
        if (d !== 0) {
          this.actions.push(`${what}${d === 1 ? '' : ` ×${d}`} on CPU ${c}`);
          this.prev[k * n + c] = v;
        }
      }
    });
  }
}

export async function firstDivergences(source: EventSource, opts: DivergeOptions): Promise<DivergeResult> {
  const info = source.info;
  const profile = typeof opts.profile === 'object' ? opts.profile : resolveProfile(opts.profile);
  const limit = opts.limit ?? 5;
  const ctxN = opts.context ?? 4;
  const strategy = (name: string) => opts.definitions?.find((d) => d.name === name) ?? resolveStrategy(name);
  const A = new Side(source, strategy(opts.a), profile, opts.pcid);
  const B = new Side(source, strategy(opts.b), profile, opts.pcid);
  const comm = new Map<number, string>();
  // Untrusted names: no bidi override may reorder the lines they are printed in.
  for (const t of info.tasks) comm.set(t.tid, inertName(t.comm));
  const ring: RingEv[] = [];
  const out: Divergence[] = [];
  let index = 0, differing = 0;
  outer:
  for await (const batch of source.batches()) {
    for (let i = 0; i < batch.length; i++) {
      const e = copyEvent(batch, i, index);
      A.actions.length = 0; B.actions.length = 0;
      A.sim.processBatch(batch, i, i + 1);
      B.sim.processBatch(batch, i, i + 1);
      A.collect(); B.collect();
      const same = A.actions.length === B.actions.length && A.actions.every((x, k) => x === B.actions[k]);
      if (!same) {
        differing++;
        const mm = e.kind === EventKind.switch ? e.b : e.mm;
        const mm2 = e.kind === EventKind.exec ? e.a : NO_MM;
        out.push({
          eventIndex: index, timeNs: e.time - info.firstNs, cpu: e.cpu, event: describe(e, comm),
          a: A.actions.length ? [...A.actions] : ['nothing'], b: B.actions.length ? [...B.actions] : ['nothing'],
          before: ring.map((r) => `#${r.index} ${describe(r, comm)}`),
          ...statePair(formatState(A.sim.machine, snapshot(A.sim, mm, mm2), info, comm), formatState(B.sim.machine, snapshot(B.sim, mm, mm2), info, comm), A.sim.machine.nCpu,
            new Set([e.cpu, ...[...A.actions, ...B.actions].flatMap((x) => [...x.matchAll(/CPU (\d+)/g)].map((g) => Number(g[1])))])),
        });
        if (out.length >= limit) { index++; break outer; }
      }
      ring.push(e);
      if (ring.length > ctxN) ring.shift();
      index++;
    }
  }
  A.sim.machine.tap = null; B.sim.machine.tap = null;
  return { a: opts.a, b: opts.b, divergences: out, events: index, differing };
}

/** Both machines' state, CPU lines only where the two differ or for the CPUs the event and
 *  its actions name (a 256-CPU machine would print 256 equal lines), then the address
 *  spaces involved. */
function statePair(a: string[], b: string[], nCpu: number, cpus: ReadonlySet<number>): { stateA: string[]; stateB: string[] } {
  const keep = (i: number) => cpus.has(i) || a[i] !== b[i];
  const pick = (s: string[]) => [...s.slice(0, nCpu).filter((_, i) => keep(i)), ...s.slice(nCpu)];
  return { stateA: pick(a), stateB: pick(b) };
}

/** The divergences as text (untrusted task names inside: print with printSafe). */
export function divergeText(r: DivergeResult): string {
  const L: string[] = [];
  if (r.divergences.length === 0) {
    L.push(`${r.a} and ${r.b} act the same on all ${r.events} events (same tlb_flush records, flush IPIs, CR3 writes and flushes)`);
    return L.join('\n');
  }
  const w = Math.max(r.a.length, r.b.length);
  L.push(`first ${r.divergences.length} events where ${r.a} and ${r.b} act differently${r.divergences.length < 5 ? '' : ` (scanned ${r.events} events)`}:`);
  r.divergences.forEach((d, k) => {
    L.push(`  ${k + 1}. event #${d.eventIndex} at +${(d.timeNs / 1e9).toFixed(6)} s on CPU ${d.cpu}: ${d.event}`);
    L.push(`     ${r.a.padEnd(w)}  ${d.a.join('; ')}`);
    L.push(`     ${r.b.padEnd(w)}  ${d.b.join('; ')}`);
    if (k === 0) {
      if (d.before.length) { L.push('     events before:'); for (const e of d.before) L.push(`       ${e}`); }
      L.push(`     ${r.a} after it:`); for (const s of d.stateA) L.push(`       ${s}`);
      L.push(`     ${r.b} after it:`); for (const s of d.stateB) L.push(`       ${s}`);
    }
  });
  return L.join('\n');
}
