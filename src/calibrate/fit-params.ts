// Which cost-profile numbers `tlbsim calibrate --fit` may move, and how far.
//
// Only numbers with no source behind them are free: those src/machine/profiles.ts tags
// [assume] (a modelling choice) or [recall] (from memory, not re-verified). Numbers read in a
// source ([src]) or computed from one ([derived]) stay at their value. Structural numbers
// tagged [assume] that are not costs (ghz, cpusPerSocket, hz, invlpgbMaxPages,
// workingSetPages, crossSocketFactor on one socket) are not fitted either: they describe the
// machine, not a price, and no target here measures them.
//
// Bounds are physical: what the literature says the primitive can cost on that class of
// CPU, as cycle counts where the source gives cycles, converted at the profile's clock.
// A fit that ends at a bound says the model wants something the hardware cannot give; the
// report shows it.
import type { CostKey } from '../machine/profiles.ts';

export interface FreeParam {
  key: CostKey;
  lo: number;
  hi: number;
  /** Why these bounds (sources named). */
  why: string;
  /** Keys that are the same hardware operation and so always take this key's value. */
  tied?: readonly CostKey[];
}

export interface FitClass {
  /** The sourced profile the fit starts from and whose other numbers it keeps. */
  base: string;
  /** The machine the class stands for, and which targets were measured on one like it. */
  what: string;
  params: readonly FreeParam[];
}

// Shared bounds (cycle figures at 3.0 GHz, the clock both Skylake-laptop and zen3-server
// profiles convert with).
const CR3: FreeParam = {
  key: 'cr3WriteNs', lo: 50, hi: 100, tied: ['flushLocalNs'],
  why: '[recall] 150-300 cycles for a serializing CR3 write (docs/design/strategies.md §d: no primary source found) = 50-100 ns at 3 GHz; '
    + 'flush_tlb_local is the same instruction',
};
const ATOMIC_LOCAL: FreeParam = {
  key: 'atomicLocalNs', lo: 5, hi: 13,
  why: '[recall] an uncontended lock-prefixed RMW on an owned line: ~15-40 cycles on Skylake and Zen (18-20 cycles is the '
    + 'profile\'s recall) = 5-13 ns at 3 GHz',
};
const SEND_PER_TARGET: FreeParam = {
  key: 'ipiSendPerTargetNs', lo: 5, hi: 150,
  why: '[assume] each extra target of one send: from a batched x2APIC cluster ICR write (a few ns) up to a whole separate '
    + 'send (the profile\'s 150 ns)',
};
const CSD_HANDLE: FreeParam = {
  key: 'csdHandleNs', lo: 10, hi: 150,
  why: '[assume] one more queued call in the same interrupt: at least a call through an L1-resident llist entry, at most a '
    + 'few line transfers (40 ns each, docs/design/strategies.md §d)',
};

export const FIT_CLASSES: Readonly<Record<string, FitClass>> = {
  'skylake-laptop': {
    base: 'skylake-laptop',
    what: 'Lutomirski\'s 2017 laptop (seed 000\'s table and prose)',
    // The IPI split (send/deliver/handler/ack) and the idle exit are [derived] in this
    // profile (from the 1-3 us rule of thumb and from the MADV_DONTNEED row) and stay put;
    // lineTransferNs is [src]. INVLPGB numbers are a what-if on Intel: no target measures them.
    params: [CR3, ATOMIC_LOCAL, SEND_PER_TARGET, CSD_HANDLE],
  },
  'zen3-server': {
    base: 'zen3-server',
    what: 'AMD EPYC servers: the INVLPGB cover letter\'s 36-core Milan and Desnoyers\' 2x EPYC 9654 (Zen 4, the nearest '
      + 'modelled class; one socket is modelled)',
    params: [
      CR3, ATOMIC_LOCAL, SEND_PER_TARGET, CSD_HANDLE,
      { key: 'lineTransferNs', lo: 20, hi: 150,
        why: '[recall] Milan core-to-core ~20 ns within a CCX, ~80-100 ns across CCXs; up to ~150 ns for the far CCXs of a '
          + '64-core package' },
      { key: 'ipiSendNs', lo: 50, hi: 500,
        why: '[assume] an x2APIC ICR write with the cross-call bookkeeping: ~150-1500 cycles' },
      { key: 'ipiDeliverNs', lo: 200, hi: 2000,
        why: '[assume] delivery to a running core; with handler and ack inside the 1-3 us IPI round trip rule of thumb '
          + '(docs/design/strategies.md §d, weak)' },
      { key: 'ipiHandlerNs', lo: 100, hi: 1000,
        why: '[assume] interrupt entry/exit and the cross-call dispatch: a few hundred to a few thousand cycles' },
      { key: 'ipiAckNs', lo: 40, hi: 400,
        why: '[assume] the CSD unlock reaching the waiting initiator: one to a few line transfers (20-150 ns above)' },
      { key: 'ipiIdleWakeNs', lo: 2000, hi: 50000,
        why: '[recall] Zen CC6 exit: microseconds to tens of microseconds' },
      { key: 'invlpgbNs', lo: 50, hi: 2000,
        why: '[assume] no published per-instruction cost; from an INVLPG (~100 ns, tlb.c) to ~20 of them' },
      { key: 'tlbsyncNs', lo: 100, hi: 5000,
        why: '[assume] no published cost; at least a line transfer round trip, at most a few IPI round trips (1-3 us)' },
    ],
  },
};

/** The name of a class's fitted profile. */
export const fittedName = (cls: string): string => `${cls}-fitted`;
