// Checked against reality: the rows that compare what a strategy predicts the kernel
// would print (RunResult.predicted) with what the recorded kernel printed
// (RunResult.observed). Pure arithmetic on one RunResult: the report and the replay
// command can call it on any run of a real trace.
//
// Agreement of one row with observed o and predicted p:
//     agreement = min(o, p) / max(o, p)        (1 when both are 0)
// so 0.9 means the smaller count is 90% of the larger, whichever side it is on.
// Overall agreement is the same ratio summed over the count rows:
//     overall = Σ min(o, p) / Σ max(o, p)
// i.e. the mean of the row agreements weighted by each row's size; a row of 4000
// switches weighs more than a row of 3 wrong-CPU flushes. The "pages invalidated" row
// counts pages, not records, so it is shown with its own agreement but left out of the
// overall figure.
import type { FlushClassCounts, RunResult } from '../machine/result.ts';

export interface ValidationRow {
  what: string;
  observed: number;
  predicted: number;
  agreement: number;
}

export interface Validation {
  strategy: string;
  rows: ValidationRow[];
  agreement: number;
}

/** Row names (stable: tests, the report and scripts look rows up by them). */
export const ROW = {
  switchFlush: 'switch, flush (reason 0, pages -1)',
  switchNoFlush: 'switch, no flush (reason 0, pages 0)',
  localFull: 'local flush, full (reason 3/2, pages -1)',
  localRanged: 'local flush, ranged (reason 3/2, pages n)',
  localPages: 'local flush, pages invalidated (reason 3/2; pages, not in overall)',
  localUpToDate: 'local flush, pages 0 (reason 3/2: up to date, or under one stride)',
  remote: 'remote shootdown (reason 1)',
  sendIpi: 'flush IPI send (reason 4)',
  flushIpis: 'flush IPIs sent (ipi_send_* carrying flush_tlb_func)',
  flushIrqs: 'flush IPIs received (call_function*_entry, then the handler\'s flush)',
  wrongCpu: 'wrong-CPU flush (reason 5)',
} as const;

/** Rows whose unit is not "records": shown, not part of the overall agreement. */
const NOT_IN_OVERALL: ReadonlySet<string> = new Set([ROW.localPages]);

export function rowAgreement(observed: number, predicted: number): number {
  const hi = Math.max(observed, predicted);
  return hi === 0 ? 1 : Math.min(observed, predicted) / hi;
}

const EMPTY: FlushClassCounts = { full: 0, ranged: 0, none: 0, pages: 0 };

function cls(t: Record<string, FlushClassCounts>, reason: number): FlushClassCounts {
  return t[String(reason)] ?? EMPTY;
}

function total(c: FlushClassCounts): number {
  return c.full + c.ranged + c.none;
}

/** True when the run's input recorded tlb:tlb_flush (there is something to check). */
export function hasObservedFlushes(r: RunResult): boolean {
  return Object.values(r.observed.tlbFlush).some((c) => total(c) > 0);
}

/** True when the run's input recorded ipi_send_* or csd_queue_cpu events. */
export function hasObservedIpis(r: RunResult): boolean {
  return r.observed.ipiTargets > 0 || Object.values(r.observed.ipiByKind).some((n) => n > 0);
}

/** The comparison rows for one run. IPI rows appear only when the trace recorded IPIs. */
export function validateRun(r: RunResult): Validation {
  const o = r.observed.tlbFlush, p = r.predicted.tlbFlush;
  const rows: ValidationRow[] = [];
  const add = (what: string, observed: number, predicted: number) => {
    rows.push({ what, observed, predicted, agreement: rowAgreement(observed, predicted) });
  };
  const local = (t: Record<string, FlushClassCounts>): FlushClassCounts => {
    const a = cls(t, 2), b = cls(t, 3);
    return { full: a.full + b.full, ranged: a.ranged + b.ranged, none: a.none + b.none, pages: a.pages + b.pages };
  };
  add(ROW.switchFlush, cls(o, 0).full, cls(p, 0).full);
  add(ROW.switchNoFlush, cls(o, 0).none, cls(p, 0).none);
  const ol = local(o), pl = local(p);
  add(ROW.localFull, ol.full, pl.full);
  add(ROW.localRanged, ol.ranged, pl.ranged);
  add(ROW.localPages, ol.pages, pl.pages);
  add(ROW.localUpToDate, ol.none, pl.none);
  add(ROW.remote, total(cls(o, 1)), total(cls(p, 1)));
  add(ROW.sendIpi, total(cls(o, 4)), total(cls(p, 4)));
  const k = r.observed.ipiByKind;
  if (r.observed.ipiTargets > 0 || (k.flushQueued ?? 0) > 0 || (k.flushCall ?? 0) > 0) add(ROW.flushIpis, r.observed.flushIpiSends ?? 0, r.predicted.ipiSends);
  // Kernels before 6.5 trace no IPI sends; irq_vectors shows the receiving side.
  if ((r.observed.irqs ?? 0) > 0) add(ROW.flushIrqs, r.observed.flushIrqs ?? 0, r.predicted.flushIrqs ?? 0);
  add(ROW.wrongCpu, total(cls(o, 5)), total(cls(p, 5)));
  let lo = 0, hi = 0;
  for (const row of rows) {
    if (NOT_IN_OVERALL.has(row.what)) continue;
    lo += Math.min(row.observed, row.predicted);
    hi += Math.max(row.observed, row.predicted);
  }
  return { strategy: r.strategy.name, rows, agreement: hi === 0 ? 1 : lo / hi };
}

/** The table as text (the CLI prints it; names come from this file, never from a trace). */
export function validationText(v: Validation, input: string): string {
  const L: string[] = [];
  const w = Math.max(...v.rows.map((r) => r.what.length));
  L.push(`${input}: recorded kernel vs ${v.strategy}`);
  L.push(`  ${'what'.padEnd(w)}  ${'observed'.padStart(9)}  ${'predicted'.padStart(9)}  agreement`);
  for (const r of v.rows) {
    const mark = r.agreement < 0.9 ? '  <' : '';
    L.push(`  ${r.what.padEnd(w)}  ${String(r.observed).padStart(9)}  ${String(r.predicted).padStart(9)}  ${r.agreement.toFixed(3).padStart(9)}${mark}`);
  }
  L.push(`  ${'overall agreement'.padEnd(w)}  ${''.padStart(9)}  ${''.padStart(9)}  ${v.agreement.toFixed(3).padStart(9)}`);
  return L.join('\n');
}
