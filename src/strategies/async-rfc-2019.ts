// async-rfc-2019: Nadav Amit, "[RFC PATCH v2 11/12] x86/mm/tlb: Use async and inline
// messages for flushing" (2019-05-30, series "x86: Flush remote TLBs concurrently and
// async"; never merged: the async part was dropped in v1, 2019-06-13, after Andy
// Lutomirski questioned it). Modelled on top of the concurrent flushing of the same
// series, i.e. the code that later became linux-5.13, with the 2019 scheduler (pre-5.4
// refcounting):
//  - for userspace flushes that free no page tables, flush_tlb_info is copied into the
//    CSD ("inline"), and a target acknowledges (unlocks the CSD) as soon as it has copied
//    it, *before* running the flush; the initiator stops waiting at the acknowledgement;
//  - flushes that free page tables stay synchronous (speculative walks of freed tables
//    could cause machine checks).
// CONDITIONALLY SAFE: between a target's acknowledgement and its flush, that target must
// not touch user memory (the RFC made NMI handlers and kprobes refuse user access while
// the async flush is pending, nmi_uaccess_okay()). The coherence checker reports a
// 'stale-tlb' violation when a trace shows user code on a target in that window.
import { AckMode } from './common.ts';
import { Linux513 } from './linux-5.13.ts';
import type { FlushReq } from '../machine/request.ts';
import type { Machine } from '../machine/machine.ts';
import type { LazyRefcount, StrategyDefinition, StrategyMeta } from '../machine/strategy.ts';

export const meta = {
  name: 'async-rfc-2019',
  title: 'Asynchronous flush RFC (early acknowledgement, inline info)',
  kernel: 'Amit, "[RFC PATCH v2 11/12] x86/mm/tlb: Use async and inline messages for flushing", 2019-05-30 (never merged)',
  description: 'targets acknowledge after copying the flush info and flush afterwards; the initiator does not wait for the flush itself',
  safe: false,
  unsafeWhen: 'a target touches user memory between its acknowledgement and its flush (NMI, kprobe), or if the early ack were used for a flush that frees page tables (the RFC keeps those synchronous)',
} as const;

export class AsyncRfc2019 extends Linux513 {
  override readonly meta: StrategyMeta = meta;
  override readonly lazyRefcount: LazyRefcount = 'pre-5.4';

  constructor(m: Machine) {
    super(m);
    // is_lazy off cpu_tlbstate's line, as in linux-5.13: the 2019 postings of the series
    // carried "x86/mm/tlb: Privatize cpu_tlbstate" (merged with v6 in 2021), and the
    // EuroSys 2020 paper's cacheline consolidation puts the lazy indicator beside the
    // call-function queue head the initiator touches anyway [recall: the RFC v2 patch list
    // was not re-read]. Either way no separate transfer per target to read it.
    m.lazyLinePrivate = true;
  }

  /** 2019: switch_mm still stored is_lazy = false unconditionally. */
  protected override clearLazy(cpu: number, _wasLazy: boolean): void {
    this.m.setLazy(cpu, false);
  }

  protected override flushTlbMulti(cpu: number, mask: Uint32Array, req: FlushReq): void {
    const early = !req.freedTables && !req.unsharedTables && req.mm !== 0;
    super.flushTlbMulti(cpu, mask, req, early ? AckMode.early : AckMode.sync);
  }
}

export const asyncRfc2019: StrategyDefinition = { ...meta, create: (m) => new AsyncRfc2019(m) };
