// The counts of a trace's canonical events (TraceInfo's events, span, kinds, flushes by
// origin and reason, IPIs), filled batch by batch in the one pass openTrace makes.
import {
  EVENT_KIND_NAMES, EventKind, FLUSH_ORIGIN_NAMES, IPI_KIND_NAMES, IpiKind, flushOrigin, type EventBatch, type TraceInfo,
} from './event.ts';
import { StateCensus } from './state-census.ts';

/** Fill the counts of `info` from one pass over the canonical events. */
export function summarise(info: TraceInfo, batches: Iterable<EventBatch>): void {
  const s = new Summary();
  for (const b of batches) s.add(b);
  s.into(info);
}

/** The counts of the canonical events, batch by batch. */
export class Summary {
  private readonly kinds = new Float64Array(EVENT_KIND_NAMES.length);
  private readonly origins = new Float64Array(16);
  // Per reason (0..255, what the text readers accept): full, ranged, none, pages. Other
  // values (a CSV may carry any) go to the Map.
  private readonly byReason = new Float64Array(256 * 4);
  private readonly reasons = new Map<number, { full: number; ranged: number; none: number; pages: number }>();
  private readonly ipiKinds = new Float64Array(IPI_KIND_NAMES.length);
  private first = Infinity;
  private last = -Infinity;
  private total = 0;
  private sends = 0;
  private targets = 0;
  private lostMarkers = 0;
  private lostEvents = 0;
  private readonly census = new StateCensus();

  add(batch: EventBatch): void {
    this.census.add(batch);
    const kinds = this.kinds, origins = this.origins, byReason = this.byReason, ipiKinds = this.ipiKinds;
    let first = this.first, last = this.last, total = this.total, sends = this.sends, targets = this.targets;
    let lostMarkers = this.lostMarkers, lostEvents = this.lostEvents;
    const kind = batch.kind, time = batch.time, a = batch.a, b = batch.b, c = batch.c, n = batch.length;
    for (let i = 0; i < n; i++) {
      const k = kind[i];
      if (k === EventKind.lost) { lostMarkers++; if (a[i] > 0) lostEvents += a[i]; continue; }
      kinds[k]++;
      total++;
      const t = time[i];
      if (t < first) first = t;
      if (t > last) last = t;
      if (k === EventKind.flush_request) origins[flushOrigin(c[i])]++;
      else if (k === EventKind.observed_flush) {
        const r = a[i], p = b[i];
        if (r >= 0 && r < 256 && (r | 0) === r) {
          const j = r * 4;
          if (p === -1) byReason[j]++; else if (p === 0) byReason[j + 2]++; else { byReason[j + 1]++; byReason[j + 3] += p; }
          continue;
        }
        this.otherReason(r, p);
      } else if (k === EventKind.observed_ipi) {
        ipiKinds[c[i]]++;
        if (c[i] !== IpiKind.received) { targets++; sends += b[i]; } // an interrupt taken is no IPI sent
      }
    }
    this.first = first; this.last = last; this.total = total; this.sends = sends; this.targets = targets;
    this.lostMarkers = lostMarkers; this.lostEvents = lostEvents;
  }

  private otherReason(r: number, p: number): void {
    let e = this.reasons.get(r);
    if (!e) { e = { full: 0, ranged: 0, none: 0, pages: 0 }; this.reasons.set(r, e); }
    if (p === -1) e.full++; else if (p === 0) e.none++; else { e.ranged++; e.pages += p; }
  }

  into(info: TraceInfo): void {
    const { kinds, origins, byReason, reasons, ipiKinds, total } = this;
    info.events = total;
    info.firstNs = total > 0 ? this.first : 0;
    info.lastNs = total > 0 ? this.last : 0;
    info.countsByKind = {};
    EVENT_KIND_NAMES.forEach((name, k) => { if (name !== 'lost') info.countsByKind[name] = kinds[k]; });
    info.flushRequestsByOrigin = {};
    origins.forEach((n, o) => { if (n > 0) info.flushRequestsByOrigin[FLUSH_ORIGIN_NAMES[o] ?? `origin${o}`] = n; });
    for (let r = 0; r < 256; r++) {
      const j = r * 4;
      if (byReason[j] + byReason[j + 1] + byReason[j + 2] > 0) {
        reasons.set(r, { full: byReason[j], ranged: byReason[j + 1], none: byReason[j + 2], pages: byReason[j + 3] });
      }
    }
    info.observedFlushByReason = {};
    info.observedFlushPages = {};
    for (const r of [...reasons.keys()].sort((a, b) => a - b)) {
      const e = reasons.get(r)!;
      info.observedFlushByReason[String(r)] = e.full + e.ranged + e.none;
      info.observedFlushPages[String(r)] = e;
    }
    info.observedIpis = { sends: this.sends, targets: this.targets, byKind: {} };
    ipiKinds.forEach((n, k) => { if (n > 0) info.observedIpis.byKind[IPI_KIND_NAMES[k]] = n; });
    this.census.into(info);
  }

  /** What a format that keeps events, not the reader's verdicts (tlbsim CSV), tells by
   *  its events alone: whether flushes were recorded, and the lost-event markers. */
  verdictsInto(info: TraceInfo): void {
    info.tracedFlushRequests = this.kinds[EventKind.observed_flush] > 0;
    info.lostMarkers += this.lostMarkers;
    info.lostEvents += this.lostEvents;
  }
}
