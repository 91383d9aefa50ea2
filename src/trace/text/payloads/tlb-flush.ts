// tlb:tlb_flush, what the recorded kernel flushed:
//   tlb_flush: pages:1 reason:remote shootdown (1)      (ftrace, perf)
//   tlb_flush: pages=-1 reason=local mm shootdown (3)    (trace-cmd)
//   tlb_flush: pages:0 reason:0x5                        (6.14-6.18 before the enum export)
import { EventKind } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { readInt, readNumber } from '../scan.ts';
import { C_COLON, C_DASH, C_EQ, C_LPAREN, C_RPAREN, C_SPACE, C_TAB, valueAfter } from '../fields.ts';
import type { EventSink } from '../sink.ts';

/** 4 KiB pages in a 57-bit (5-level paging) user address space: any count above it is
 *  damage, not a flush. */
export const MAX_FLUSH_PAGES = 2 ** 45;

/** Returns null, or why the payload [ps, pe) is malformed. */
export function tlbFlush(k: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const pv = valueAfter(s, 'pages', ps, pe);
  if (pv < 0) return 'tlb_flush without pages';
  let pages = readInt(s, pv, pe);
  if (Number.isNaN(pages)) return 'tlb_flush pages is not a number';
  let e = pe;
  while (e > ps && s.charCodeAt(e - 1) === C_SPACE) e--;
  let reason: number;
  if (e > ps && s.charCodeAt(e - 1) === C_RPAREN) {
    const open = s.lastIndexOf('(', e - 1);
    if (open < ps) return 'tlb_flush reason has no number';
    reason = readNumber(s, open + 1, e - 1);
  } else {
    const rv = valueAfter(s, 'reason', ps, pe);
    if (rv < 0) return 'tlb_flush without reason';
    reason = readNumber(s, rv, pe);
  }
  if (Number.isNaN(reason) || reason < 0 || reason > 255) return 'tlb_flush reason is not a number';
  if (pages < -1) return `tlb_flush pages ${pages} is negative`;
  if (pages > MAX_FLUSH_PAGES) {
    // TLB_FLUSH_ALL printed as unsigned (a tool that ignored the format's %ld).
    if (pages === 2 ** 64) pages = -1;
    else return `tlb_flush pages ${s.slice(pv, Math.min(pe, pv + 24)).split(' ')[0]} is more than a 57-bit address space holds`;
  }
  k.emit(EventKind.observed_flush, r, r.pid, k.currentMm(s, r), reason, pages, 0);
  return null;
}

/** tlbFlush for the common form on the bytes of an ASCII chunk: `pages:N` (or `=`)
 *  first, a decimal reason in parentheses last, both in range. Anything else returns
 *  false having emitted nothing, and tlbFlush reads the line (and reports it if bad). */
export function tlbFlushBytes(k: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  // "pages" at the payload start, then ':' or '=' and spaces: what valueAfter finds first.
  if (pe - ps < 8 || b[ps] !== 112 || b[ps + 1] !== 97 || b[ps + 2] !== 103 || b[ps + 3] !== 101 || b[ps + 4] !== 115) return false;
  const sep = b[ps + 5];
  if (sep !== C_COLON && sep !== C_EQ) return false;
  let i = ps + 6;
  while (i < pe && (b[i] === C_SPACE || b[i] === C_TAB)) i++;
  const negative = i < pe && b[i] === C_DASH;
  if (negative) i++;
  let pages = 0, digits = 0;
  while (i < pe && b[i] >= 48 && b[i] <= 57) { pages = pages * 10 + (b[i] - 48); i++; digits++; }
  if (digits === 0) return false;
  if (negative) pages = -pages;
  if (pages < -1 || pages > MAX_FLUSH_PAGES) return false;
  // "(N)" at the end, N decimal: the reason number.
  let e = pe;
  while (e > ps && b[e - 1] === C_SPACE) e--;
  if (e <= ps || b[e - 1] !== C_RPAREN) return false;
  let reason = 0, place = 1, j = e - 2;
  while (j >= ps && b[j] >= 48 && b[j] <= 57) { reason += (b[j] - 48) * place; place *= 10; j--; }
  if (place === 1 || place > 1000 || j < ps || b[j] !== C_LPAREN || reason > 255) return false;
  k.emit(EventKind.observed_flush, r, r.pid, k.currentMmBytes(b, r), reason, pages, 0);
  return true;
}
