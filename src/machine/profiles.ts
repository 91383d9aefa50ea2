// Cost profiles: what each primitive of the machine costs on a class of hardware.
//
// Every number carries its source and one of these confidence tags:
//   [src]     read in a cited source;
//   [derived] computed from cited numbers (the computation is given);
//   [recall]  from memory, not re-verified: a hypothesis to check;
//   [assume]  a modelling choice with no published number behind it.
// Profiles are NOT fitted per benchmark (docs/design/calibration.md): one profile must reproduce every
// calibration row at once, and a number that would need fitting stays at its anchor. The
// fitted profiles (`<class>-fitted`, `tlbsim calibrate --fit`) are kept apart from these:
// one fit per class over all its published figures, loaded from fitted-profiles.json.

import { unknownNameMessage } from '../names.ts';
import { DEFAULT_PROFILE, SOURCED_PROFILE_NAMES, readFittedProfiles } from './profile-names.ts';

export { DEFAULT_PROFILE };

export interface CostProfile {
  name: string;
  description: string;
  /** Core clock, used only to convert cycle counts quoted in sources. */
  ghz: number;

  /** CR3 write (serializing), with or without the NOFLUSH bit, excluding refills. */
  cr3WriteNs: number;
  /** Extra cost of a CR3 write that flushes (the invalidation itself, not the refills). */
  cr3FlushExtraNs: number;
  /** flush_tlb_local(): CR3 rewritten with its own value. */
  flushLocalNs: number;
  /** One INVLPG (single-page invalidation). */
  invlpgNs: number;
  /** One page walk that refills a translation (warm paging-structure caches). */
  tlbMissNs: number;
  /** Translations one CPU can cache (STLB / L2 DTLB entries, 4 KiB pages). */
  tlbEntries: number;
  /** Pages a user task touches each time it runs after a switch, when the trace carries no
   *  `access` events (real traces). An assumption: see machine.ts. 0 disables. */
  workingSetPages: number;

  /** Locked RMW on a line this CPU already owns. */
  atomicLocalNs: number;
  /** Moving a line another CPU modified (HITM) on the same socket; added to atomics,
   *  remote reads and stores that need the line. */
  lineTransferNs: number;
  /** Multiplier of lineTransferNs when the last owner is on another socket. */
  crossSocketFactor: number;
  /** CPUs per socket (CPU ids are assumed numbered socket by socket). */
  cpusPerSocket: number;

  /** Initiator: sending one cross-call IPI (ICR write incl. APIC overhead). */
  ipiSendNs: number;
  /** Initiator: each additional target of the same send. */
  ipiSendPerTargetNs: number;
  /** Delivery latency to a running target until its handler starts. */
  ipiDeliverNs: number;
  /** Target: interrupt entry/exit and the generic cross-call dispatch (per IPI). */
  ipiHandlerNs: number;
  /** Target: handling one further queued call inside the same interrupt. */
  csdHandleNs: number;
  /** Time for the acknowledgement (CSD unlock) to reach the waiting initiator. */
  ipiAckNs: number;
  /** Extra latency when the target is idle (C-state exit) before it handles the IPI. */
  ipiIdleWakeNs: number;

  /** INVLPGB: one broadcast invalidation instruction (issue cost on the initiator). */
  invlpgbNs: number;
  /** Largest page count of one INVLPGB (invlpgb_count_max). */
  invlpgbMaxPages: number;
  /** TLBSYNC: wait until every CPU performed this CPU's outstanding broadcasts. */
  tlbsyncNs: number;

  /** Lockless walker bookkeeping of Lance Yang's targeted sync (store + smp_mb per walk). */
  ptwalkTrackNs: number;
  /** Kernel HZ (jiffies per second): used by the once-a-second mm_cpumask trim and the
   *  `pid & 31 == jiffies & 31` global-ASID check. */
  hz: number;

  /** Optional: the range each number may lie in (see CostRange). Keys without one are
   *  taken as exact by `replay --uncertainty`. */
  ranges?: Partial<Record<CostKey, CostRange>>;
  /** Optional: where the profile came from (measured, fitted). */
  provenance?: ProfileProvenance;
  /** Optional: whole-operation costs measured on the machine (`tlbsim measure`). */
  micro?: Record<string, MicroCost>;
}

export type CostKey = Exclude<keyof CostProfile, 'name' | 'description' | 'ranges' | 'provenance' | 'micro'>;

/** The range a profile number may lie in, and why: its spread when measured (min..max of
 *  the runs), its source's range, or a fit's interval. `value` of the profile lies inside. */
export interface CostRange {
  lo: number;
  hi: number;
  /** Where the range comes from, e.g. "measured on AMD EPYC, 6.18.44, 2026-12-02, 5 runs"
   *  or "[recall] 150-300 cycles". */
  source: string;
}

/** Where a profile came from when it was not written by hand (`tlbsim measure`,
 *  `tlbsim calibrate --fit`). */
export interface ProfileProvenance {
  /** 'measured' | 'fitted' | 'sourced' */
  kind: string;
  /** Host name, CPU model, kernel release, date: what the numbers were measured on. */
  host?: string;
  cpu?: string;
  kernel?: string;
  date?: string;
  /** Free text: the command that produced the profile, the runs, the fit's residual. */
  note?: string;
}

/** A measured whole-operation cost (ns per operation, median and spread of the runs), e.g.
 *  `write_fault_madvise_1page`: what `tlbsim measure` timed in user space on the machine.
 *  `validate --time` builds a workload's base work per iteration from these. */
export interface MicroCost {
  ns: number;
  lo: number;
  hi: number;
  /** What was timed, in one line. */
  what: string;
}

const skylakeLaptop: CostProfile = {
  name: 'skylake-laptop',
  description: 'Skylake-class Intel laptop (the machine behind the PCID v4 cover-letter numbers), 1 socket',
  ghz: 3.0, // [assume] a typical Skylake client turbo clock; used only to convert cycles
  // ~150-300 cycles for a serializing CR3 write [recall, docs/design/strategies.md §d]: 200 cycles at 3 GHz.
  cr3WriteNs: 65,
  // PCID cover letter: ping-pong 1.34 -> 1.22 us per round trip (2 switches) = ~60 ns per
  // switch saved by CR3(noflush), refills included [derived]. The loop touches a handful of
  // user pages whose refills the TLB model charges separately (tlbMissNs each); the rest,
  // ~30 ns, is put on the flushing write itself [derived, low confidence].
  cr3FlushExtraNs: 30,
  flushLocalNs: 65, // same instruction as a CR3 write [derived from cr3WriteNs]
  // tlb.c comment for tlb_single_page_flush_ceiling: "each single flush is about 100 ns" [src]
  invlpgNs: 100,
  // ping-pong + 512 pages: (6.1 - 1.8) us / ~1024 misses per round trip = ~4 ns per warm
  // page walk (10-15 cycles) [derived, docs/design/strategies.md §d]
  tlbMissNs: 4,
  // Skylake STLB: 1536 entries shared 4K/2M (Intel Opt. Manual 248966-045 Table 2-15) [src]
  tlbEntries: 1536,
  workingSetPages: 64, // [assume] real traces only; see machine.ts
  atomicLocalNs: 6, // [recall] ~18-20 cycles for an uncontended lock-prefixed RMW
  // Broadwell-EP L2->L2 HITM ~40 ns (Intel forum, MLC) [src]; client ring similar [assume]
  lineTransferNs: 40,
  crossSocketFactor: 1, // [assume] single socket: no cross-socket transfers
  cpusPerSocket: 4096, // [assume] one socket holds every CPU
  // IPI round trip 1-3 us rule of thumb [src, weak]; "ACK from remote core >= 1000 cycles"
  // [src, weak]. Split as send 150 + deliver 600 + handler 300 + ack 100 = ~1.15 us plus the
  // handler body [derived from the rule of thumb, low confidence].
  ipiSendNs: 150,
  ipiSendPerTargetNs: 20, // [assume] x2APIC cluster-mode ICR writes batch targets
  ipiDeliverNs: 600,
  ipiHandlerNs: 300,
  csdHandleNs: 40, // [assume] one more llist entry: a line transfer
  ipiAckNs: 100,
  // Andy's MADV_DONTNEED + CPU switch: 21.6 - 13.4 = 8.2 us per iteration when the IPI goes
  // to the idle previous CPU [src]; minus ~1.2 us IPI round trip and ~1 us of CR3 reloads
  // and refills = ~6 us idle exit [derived]. This is taken from a calibration row, so that
  // row is not an independent check of it. Independent bounds: intel_idle's skl_cstates
  // declare exit latencies of 2 us (C1) and 10 us (C1E) (drivers/idle/intel_idle.c) [src];
  // 6 us lies between them, and the MADV_DONTNEED row stays within ±25% for any value from
  // ~1.1 to ~8.2 us (tlbsim calibrate with --set-cost style overrides; see the calibration
  // report).
  ipiIdleWakeNs: 6000,
  // No INVLPGB on Intel: these only matter if linux-6.15-invlpgb is replayed on this
  // profile (a what-if). Values as zen3-server [assume].
  invlpgbNs: 250,
  invlpgbMaxPages: 8, // [assume] CPUID 8000_0008 EDX[15:0]+1 is small on Zen 3
  tlbsyncNs: 800, // [assume] as zen3-server
  // Lance Yang v4 1/3: GUP-fast 1.489 s -> 1.533 s (+3%) on 64 cores [src]; per walk this is
  // one store + smp_mb, ~30 cycles [derived/recall]
  ptwalkTrackNs: 10,
  hz: 1000, // [assume] CONFIG_HZ=1000 (Fedora, Ubuntu >= 24.04)
};

const haswellServer: CostProfile = {
  ...skylakeLaptop,
  name: 'haswell-server',
  description: '2-socket Haswell-EP server, bare metal (Nadav Amit\'s 2019 numbers were taken on Haswell)',
  ghz: 2.3, // [assume] typical Haswell-EP base clock
  cr3WriteNs: 87, // 200 cycles [recall] at 2.3 GHz
  flushLocalNs: 87, // [derived] the same instruction as a CR3 write (cr3WriteNs)
  cr3FlushExtraNs: 40, // scaled from skylake-laptop by clock [derived, low confidence]
  tlbMissNs: 5, // 10-15 cycles at 2.3 GHz [derived from the skylake anchor]
  tlbEntries: 1024, // Haswell STLB 1024 entries, 8-way [recall]
  // HITM same socket: Nehalem-era ~75 cycles, Broadwell-EP ~40 ns [src]; Haswell-EP ~60 ns [recall]
  lineTransferNs: 60,
  crossSocketFactor: 2.5, // cross-socket typically 2-3x [recall]
  cpusPerSocket: 18, // [assume] E5-2699 v3: 18 cores per socket, SMT off
  // [assume] the laptop's split (send 150 / deliver 600 / handler 300 / ack 100) scaled
  // up for a slower server uncore and APIC: send 200 / deliver 800 / handler 350 / ack 150.
  ipiSendNs: 200,
  ipiDeliverNs: 800,
  ipiHandlerNs: 350,
  ipiAckNs: 150,
  ipiIdleWakeNs: 20000, // server C6 exit tens of us [recall: intel_idle HSX C6 latency 33 us]
};

const zen3Server: CostProfile = {
  ...skylakeLaptop,
  name: 'zen3-server',
  description: 'AMD Zen 3 (Milan) server with INVLPGB, 1 socket / 64 cores',
  ghz: 3.0, // [assume]
  tlbEntries: 2048, // Zen 3 L2 DTLB 2048 entries [recall]
  // Milan core-to-core: ~20 ns within a CCX, ~80-100 ns across CCXs [recall]; use a mix
  lineTransferNs: 70,
  crossSocketFactor: 1, // [assume] single socket
  cpusPerSocket: 64, // [assume] one 64-core Milan package (EPYC 7763 class)
  // [assume] no published Milan IPI latency: the laptop's split (send 150 / handler 300)
  // with deliver 700 and ack 120, a little slower for CCX-to-CCX traffic.
  ipiSendNs: 150,
  ipiDeliverNs: 700,
  ipiHandlerNs: 300,
  ipiAckNs: 120,
  ipiIdleWakeNs: 10000, // [recall] Zen C6 (CC6) exit ~10s of us
  // INVLPGB cover letter: TLB invalidation 40% -> ~4% of CPU in tlb_flush2_threads on a
  // 36-core Milan [src]. No per-instruction number is published: [assume] 250 ns to issue
  // and 800 ns for TLBSYNC to return (the hardware acknowledges from every core).
  invlpgbNs: 250,
  invlpgbMaxPages: 8, // [assume] invlpgb_count_max = CPUID 8000_0008 EDX[15:0] + 1, small on Zen 3
  tlbsyncNs: 800,
};

const kvmGuest: CostProfile = {
  ...skylakeLaptop,
  name: 'kvm-guest',
  description: 'KVM guest on an x86 host with EPT and no posted-interrupt IPI virtualization; vCPUs mostly running',
  // CR3 writes do not exit with EPT [recall]; same as the host.
  tlbMissNs: 10, // 2-D page walk (up to 24 references) ~2-3x a native warm walk [recall]
  // An IPI send traps to the hypervisor (ICR write VM exit, ~1-2 us) and is injected into
  // the target vCPU on its next entry [recall]; KVM PV TLB flush (skipping preempted
  // vCPUs) is not modelled.
  ipiSendNs: 1500,
  ipiDeliverNs: 1500, // [recall] injection waits for the target's next VM entry, ~1-2 us
  ipiHandlerNs: 600, // interrupt injection + EOI exit [recall]
  ipiAckNs: 200, // [assume] the CSD unlock is a plain store; the waiting vCPU sees it ~2x native
  ipiIdleWakeNs: 30000, // a halted vCPU is woken through the host scheduler [recall]
};

// ---- ranges (replay --uncertainty)
//
// Each number's range follows its tag above: [src] numbers get the source's own spread,
// [derived] ones the spread of what they were derived from, [recall] and [assume] ones
// ×0.5–×2 unless a bound is known (then that bound). Left exact, because they describe the
// machine class rather than estimate a cost: ghz (converts quoted cycles only), tlbEntries
// (read from the manuals), cpusPerSocket, crossSocketFactor on one socket, hz (a kernel
// config value) and invlpgbMaxPages (a CPUID count; a what-if on Intel). A range is
// { lo, hi } around the profile's value; `x(v, a, b)` is v×a .. v×b.
const x = (v: number, a: number, b: number, source: string): CostRange => ({ lo: v * a, hi: v * b, source });
const wide = (v: number, tag: string): CostRange => x(v, 0.5, 2, `${tag}: ×0.5–×2`);

/** Ranges every profile shares, scaled to its own values. */
function commonRanges(p: CostProfile): Partial<Record<CostKey, CostRange>> {
  return {
    cr3FlushExtraNs: wide(p.cr3FlushExtraNs, '[derived, low confidence]'),
    // "each single flush is about 100 ns": read as 70-150 ns.
    invlpgNs: x(p.invlpgNs, 0.7, 1.5, '[src] tlb.c "about 100 ns", read as 70-150 ns'),
    workingSetPages: { lo: 16, hi: 512, source: '[assume] 16-512 pages: a small loop to the 512-page benchmark' },
    atomicLocalNs: wide(p.atomicLocalNs, '[recall]'),
    ipiSendNs: wide(p.ipiSendNs, '[derived from the 1-3 µs rule of thumb]'),
    ipiSendPerTargetNs: wide(p.ipiSendPerTargetNs, '[assume]'),
    ipiDeliverNs: wide(p.ipiDeliverNs, '[derived from the 1-3 µs rule of thumb]'),
    ipiHandlerNs: wide(p.ipiHandlerNs, '[derived from the 1-3 µs rule of thumb]'),
    csdHandleNs: wide(p.csdHandleNs, '[assume]'),
    ipiAckNs: wide(p.ipiAckNs, '[derived from the 1-3 µs rule of thumb]'),
    invlpgbNs: wide(p.invlpgbNs, '[assume]'),
    tlbsyncNs: wide(p.tlbsyncNs, '[assume]'),
    ptwalkTrackNs: wide(p.ptwalkTrackNs, '[derived/recall] ~30 cycles'),
  };
}

skylakeLaptop.ranges = {
  ...commonRanges(skylakeLaptop),
  cr3WriteNs: { lo: 50, hi: 100, source: '[recall] 150-300 cycles at 3 GHz' },
  flushLocalNs: { lo: 50, hi: 100, source: '[derived] as cr3WriteNs: 150-300 cycles at 3 GHz' },
  tlbMissNs: { lo: 3, hi: 8, source: '[derived] 10-15 cycles at 3 GHz, up to ×2 for walks that miss the paging-structure caches' },
  lineTransferNs: { lo: 25, hi: 80, source: '[src] Broadwell-EP HITM ~40 ns; client ring [assume] ×0.6–×2' },
  ipiIdleWakeNs: { lo: 2000, hi: 10000, source: '[src] intel_idle skl_cstates exit latency C1 2 µs .. C1E 10 µs' },
};
haswellServer.ranges = {
  ...commonRanges(haswellServer),
  cr3WriteNs: { lo: 65, hi: 130, source: '[recall] 150-300 cycles at 2.3 GHz' },
  flushLocalNs: { lo: 65, hi: 130, source: '[derived] as cr3WriteNs: 150-300 cycles at 2.3 GHz' },
  tlbMissNs: { lo: 4, hi: 10, source: '[derived] 10-15 cycles at 2.3 GHz, up to ×2 for walks that miss the paging-structure caches' },
  lineTransferNs: { lo: 40, hi: 90, source: '[src] Broadwell-EP ~40 ns .. [recall] Haswell-EP ~60 ns, ×1.5 above' },
  crossSocketFactor: { lo: 2, hi: 3, source: '[recall] cross-socket typically 2-3x' },
  ipiIdleWakeNs: { lo: 10000, hi: 40000, source: '[recall] intel_idle HSX C1E ~10 µs .. C6 33 µs, rounded up' },
};
zen3Server.ranges = {
  ...commonRanges(zen3Server),
  cr3WriteNs: { lo: 50, hi: 100, source: '[recall] 150-300 cycles at 3 GHz' },
  flushLocalNs: { lo: 50, hi: 100, source: '[derived] as cr3WriteNs' },
  tlbMissNs: { lo: 3, hi: 8, source: '[derived] as skylake-laptop' },
  lineTransferNs: { lo: 20, hi: 100, source: '[recall] Milan ~20 ns within a CCX .. ~100 ns across CCXs' },
  ipiIdleWakeNs: { lo: 5000, hi: 30000, source: '[recall] Zen CC6 exit "10s of µs": 5-30 µs' },
};
kvmGuest.ranges = {
  ...commonRanges(kvmGuest),
  cr3WriteNs: { lo: 50, hi: 100, source: '[recall] as the host: 150-300 cycles at 3 GHz' },
  flushLocalNs: { lo: 50, hi: 100, source: '[derived] as cr3WriteNs' },
  tlbMissNs: { lo: 6, hi: 20, source: '[recall] 2-D walk ~2-3x a native warm walk (3-8 ns)' },
  lineTransferNs: { lo: 25, hi: 80, source: '[src] as skylake-laptop' },
  ipiSendNs: { lo: 1000, hi: 3000, source: '[recall] ICR write VM exit ~1-2 µs, ×1.5 above' },
  ipiDeliverNs: { lo: 1000, hi: 3000, source: '[recall] injection on the next VM entry ~1-2 µs, ×1.5 above' },
  ipiIdleWakeNs: { lo: 10000, hi: 100000, source: '[recall] a halted vCPU woken through the host scheduler: ×0.33–×3' },
};



const NON_COST_FIELDS: ReadonlySet<string> = new Set(['name', 'description', 'ranges', 'provenance', 'micro']);

export const COST_KEYS: readonly CostKey[] = (Object.keys(skylakeLaptop) as (keyof CostProfile)[])
  .filter((k): k is CostKey => !NON_COST_FIELDS.has(k));

export class ProfileError extends Error {}

/** What each cost may be set to (--cost, --profile-file, ranges). The bounds are wide (a
 *  second per operation; counts far beyond any CPU's) but finite: sums of finite costs
 *  over a trace stay finite, so no metric becomes Infinity or, in JSON, null. Counts are
 *  whole numbers; the clock and HZ divide, so they cannot be 0. */
export const COST_LIMITS: Readonly<Record<CostKey, { min: number; max: number; int?: boolean }>> = Object.fromEntries(
  COST_KEYS.map((k) => [k, { min: 0, max: 1e9 }]),
) as Record<CostKey, { min: number; max: number; int?: boolean }>;
Object.assign(COST_LIMITS, {
  ghz: { min: 0.1, max: 100 },
  tlbEntries: { min: 1, max: 1 << 24, int: true },
  workingSetPages: { min: 0, max: 1 << 20, int: true },
  crossSocketFactor: { min: 0, max: 1000 },
  cpusPerSocket: { min: 1, max: 1 << 16, int: true },
  invlpgbMaxPages: { min: 1, max: 1 << 16, int: true },
  hz: { min: 1, max: 10000, int: true },
});

function describeLimit(k: CostKey): string {
  const l = COST_LIMITS[k];
  return `${l.int ? 'a whole number' : 'a number'} from ${l.min} to ${l.max}`;
}

function withinLimit(k: CostKey, n: number): boolean {
  const l = COST_LIMITS[k];
  return Number.isFinite(n) && n >= l.min && n <= l.max && (!l.int || Number.isInteger(n));
}

export function getProfile(name: string = DEFAULT_PROFILE): CostProfile {
  const p = PROFILES[name];
  if (!p) throw new ProfileError(unknownNameMessage('cost profile', name, Object.keys(PROFILES)));
  return { ...p };
}

/** A copy of `base` with `overrides` applied. Unknown keys and non-finite or negative
 *  numbers are errors (the message names the key). */
export function applyOverrides(base: CostProfile, overrides: Record<string, unknown>): CostProfile {
  const out: CostProfile = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (k === 'name' || k === 'description') {
      if (typeof v !== 'string') throw new ProfileError(`cost profile ${k} must be a string`);
      out[k] = v;
      continue;
    }
    if (k === 'base') continue;
    if (k === 'ranges') { out.ranges = { ...(out.ranges ?? {}), ...parseRanges(v) }; continue; }
    if (k === 'provenance') { out.provenance = parseProvenance(v); continue; }
    if (k === 'micro') { out.micro = { ...(out.micro ?? {}), ...parseMicro(v) }; continue; }
    if (!(COST_KEYS as readonly string[]).includes(k)) {
      throw new ProfileError(unknownNameMessage('cost key', k, COST_KEYS));
    }
    const n = typeof v === 'string' ? (COST_NUMBER.test(v.trim()) ? Number(v) : NaN) : v;
    if (typeof n !== 'number' || !withinLimit(k as CostKey, n)) {
      throw new ProfileError(`cost key "${k}" needs ${describeLimit(k as CostKey)}, got ${JSON.stringify(v)}`);
    }
    out[k as CostKey] = n;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const finiteNonNeg = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function parseRanges(v: unknown): Partial<Record<CostKey, CostRange>> {
  if (!isRecord(v)) throw new ProfileError('cost profile "ranges" must be an object of { lo, hi, source } by cost key');
  const out: Partial<Record<CostKey, CostRange>> = {};
  for (const [k, r] of Object.entries(v)) {
    if (!(COST_KEYS as readonly string[]).includes(k)) throw new ProfileError(`ranges: ${unknownNameMessage('cost key', k, COST_KEYS)}`);
    if (!isRecord(r) || !finiteNonNeg(r.lo) || !finiteNonNeg(r.hi) || r.lo > r.hi) {
      throw new ProfileError(`ranges.${k} needs { lo, hi } with 0 <= lo <= hi, got ${JSON.stringify(r)}`);
    }
    const lim = COST_LIMITS[k as CostKey];
    if (r.lo < lim.min || r.hi > lim.max) throw new ProfileError(`ranges.${k} must lie within ${lim.min}..${lim.max}, got ${JSON.stringify(r)}`);
    out[k as CostKey] = { lo: r.lo, hi: r.hi, source: typeof r.source === 'string' ? r.source : 'profile file' };
  }
  return out;
}

function parseProvenance(v: unknown): ProfileProvenance {
  if (!isRecord(v) || typeof v.kind !== 'string') throw new ProfileError('cost profile "provenance" must be an object with a "kind" string');
  const out: ProfileProvenance = { kind: v.kind };
  for (const f of ['host', 'cpu', 'kernel', 'date', 'note'] as const) {
    const x = v[f];
    if (x === undefined) continue;
    if (typeof x !== 'string') throw new ProfileError(`provenance.${f} must be a string`);
    out[f] = x;
  }
  return out;
}

function parseMicro(v: unknown): Record<string, MicroCost> {
  if (!isRecord(v)) throw new ProfileError('cost profile "micro" must be an object of { ns, lo, hi, what } by name');
  const out: Record<string, MicroCost> = {};
  for (const [k, m] of Object.entries(v)) {
    if (!isRecord(m) || !finiteNonNeg(m.ns)) throw new ProfileError(`micro.${k} needs { ns: a non-negative number }, got ${JSON.stringify(m)}`);
    const lo = finiteNonNeg(m.lo) ? m.lo : m.ns, hi = finiteNonNeg(m.hi) ? m.hi : m.ns;
    out[k] = { ns: m.ns, lo: Math.min(lo, m.ns), hi: Math.max(hi, m.ns), what: typeof m.what === 'string' ? m.what : k };
  }
  return out;
}

/** A cost as written: a decimal, optionally with an exponent (1.5e3); not hex, not empty
 *  (Number('') is 0), not Infinity. */
const COST_NUMBER = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Parse `key=value` assignments (the CLI's --set-cost). */
export function parseCostAssignments(assignments: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of assignments) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ProfileError(`--set-cost expects key=value, got "${s}"`);
    const k = s.slice(0, eq).trim();
    const text = s.slice(eq + 1).trim();
    const v = COST_NUMBER.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(v)) throw new ProfileError(`--set-cost ${k}: "${s.slice(eq + 1)}" is not a number`);
    if ((COST_KEYS as readonly string[]).includes(k) && !withinLimit(k as CostKey, v)) {
      throw new ProfileError(`--set-cost ${k} needs ${describeLimit(k as CostKey)}, got "${text}"`);
    }
    out[k] = v;
  }
  return out;
}

/** A profile from a JSON text: a partial profile, optionally `"base": "<profile name>"`. */
export function profileFromJson(text: string, fallbackBase: string = DEFAULT_PROFILE, what = 'profile file'): CostProfile {
  let obj: unknown;
  try { obj = JSON.parse(text); } catch (e) {
    throw new ProfileError(`${what}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ProfileError(`${what}: expected a JSON object`);
  const rec = obj as Record<string, unknown>;
  const baseName = typeof rec.base === 'string' ? rec.base : fallbackBase;
  const base = getProfile(baseName);
  const out = applyOverrides(base, rec);
  if (typeof rec.name !== 'string') out.name = `${baseName}+file`;
  return out;
}

/** Resolve a profile option: a name, a profile object, plus optional overrides. */
export function resolveProfile(p: string | CostProfile | undefined, overrides?: Record<string, unknown>): CostProfile {
  const base = typeof p === 'object' ? { ...p } : getProfile(p ?? DEFAULT_PROFILE);
  if (!overrides || Object.keys(overrides).length === 0) return base;
  const out = applyOverrides(base, overrides);
  if (!('name' in overrides)) out.name = `${base.name}+overrides`;
  return out;
}

// Last: building the fitted profiles runs applyOverrides, which needs every declaration above.
/** The hand-written profiles above, every number tagged with its source. */
const SOURCED: Readonly<Record<string, CostProfile>> = {
  'skylake-laptop': skylakeLaptop,
  'haswell-server': haswellServer,
  'zen3-server': zen3Server,
  'kvm-guest': kvmGuest,
};
if (Object.keys(SOURCED).join() !== SOURCED_PROFILE_NAMES.join()) {
  throw new Error(`profile-names.ts lists ${SOURCED_PROFILE_NAMES.join(', ')}; profiles.ts defines ${Object.keys(SOURCED).join(', ')}`);
}

/** Fitted profiles: `<class>-fitted` beside each sourced class that `tlbsim calibrate --fit`
 *  fitted, read from fitted-profiles.json (written by that command, committed). Each is its
 *  base profile with the fitted [assume]/[recall] numbers applied, their fit intervals as
 *  ranges, and provenance kind 'fitted'. */
function loadFitted(): Record<string, CostProfile> {
  // A checkout from before the first fit has no file: there are then no fitted profiles.
  const doc = readFittedProfiles() ?? {};
  const out: Record<string, CostProfile> = {};
  for (const [name, entry] of Object.entries(doc.profiles ?? {})) {
    if (!isRecord(entry) || typeof entry.base !== 'string' || !SOURCED[entry.base] || !isRecord(entry.values)) {
      throw new ProfileError(`fitted-profiles.json: profile "${name}" needs a known "base" and "values"`);
    }
    const p = applyOverrides({ ...SOURCED[entry.base] }, {
      ...entry.values,
      ...(entry.ranges === undefined ? {} : { ranges: entry.ranges }),
      ...(entry.provenance === undefined ? {} : { provenance: entry.provenance }),
    });
    p.name = name;
    if (typeof entry.description === 'string') p.description = entry.description;
    out[name] = Object.freeze(p);
  }
  return out;
}

export const PROFILES: Readonly<Record<string, CostProfile>> = Object.freeze({ ...SOURCED, ...loadFitted() });
