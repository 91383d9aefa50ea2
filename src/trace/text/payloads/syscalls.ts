// The syscalls that change mappings: munmap, madvise, mprotect, mmap, as ftrace prints
// them (`sys_NAME(args)`) and trace-cmd / perf (`sys_enter_NAME: args`).
import { EventKind } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { equalsAt, literalTest } from '../scan.ts';
import { C_COLON, C_COMMA, C_DASH, C_EQ, C_SPACE, C_TAB, syscallArgField } from '../fields.ts';
import type { EventSink } from '../sink.ts';

const isMunmap = literalTest('munmap'), isMadvise = literalTest('madvise'), isMprotect = literalTest('mprotect'), isMmap = literalTest('mmap'),
  isStart = literalTest('start'), isLenIn = literalTest('len_in'), isBehavior = literalTest('behavior'), isProt = literalTest('prot');

/** Value of each hex digit byte, -1 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) {
  if (c >= 48 && c <= 57) HEX_VALUE[c] = c - 48;
  else if (c >= 97 && c <= 102) HEX_VALUE[c] = c - 87;
  else if (c >= 65 && c <= 70) HEX_VALUE[c] = c - 55;
}

/** Value of a hex digit byte, -1 for anything else (undefined past the end included). */
function hexValue(c: number): number {
  const v = HEX_VALUE[c];
  return v === undefined ? -1 : v;
}

// sys_munmap(addr: 0x7fed01f99000, len: 0x97e7)               ftrace
// sys_munmap(addr: 7fed01f99000, len: 97e7)                   ftrace, kernels up to 6.12 (all hex)
// sys_enter_munmap: addr: 0x7fed01f99000, len: 0x000097e7       trace-cmd / perf
export function syscall(sink: EventSink, s: string, r: LineRecord, ns: number, ne: number, ps: number, pe: number): string | null {
  let n = ns + 4;
  if (s.startsWith('enter_', n)) n += 6;
  else if (s.startsWith('exit_', n)) { sink.currentMm(s, r); sink.countUnused(s, ns, ne); return null; }
  let kind = -1, addrKey = 'addr', lenKey = 'len', extraKey = '';
  if (equalsAt(s, n, ne, 'munmap')) { kind = EventKind.munmap; }
  else if (equalsAt(s, n, ne, 'madvise')) { kind = EventKind.madvise; addrKey = 'start'; lenKey = 'len_in'; extraKey = 'behavior'; }
  else if (equalsAt(s, n, ne, 'mprotect')) { kind = EventKind.mprotect; addrKey = 'start'; extraKey = 'prot'; }
  else if (equalsAt(s, n, ne, 'mmap')) { kind = EventKind.mmap; extraKey = 'prot'; }
  if (kind < 0) { sink.currentMm(s, r); sink.countUnused(s, ns, ne); return null; }
  const mm = sink.currentMm(s, r);
  const addr = syscallArgField(s, addrKey, ps, pe);
  let len = syscallArgField(s, lenKey, ps, pe);
  if (Number.isNaN(len) && lenKey === 'len_in') len = syscallArgField(s, 'len', ps, pe);
  const extra = extraKey === '' ? 0 : syscallArgField(s, extraKey, ps, pe);
  if (Number.isNaN(addr) || Number.isNaN(len) || Number.isNaN(extra)) return `${s.slice(ns, ne)} arguments are incomplete`;
  sink.emit(kind, r, r.pid, mm, addr, len, extra);
  return null;
}

/** syscall on the bytes of an ASCII chunk, for munmap / madvise / mprotect / mmap whose
 *  payload is a plain list `key: number, key: number, ...` (`=` also; numbers as
 *  readSyscallArg reads them, each ending at a comma or the payload end). The first field
 *  of each name is the one valueAfter finds, since every key then starts a field; the
 *  list is read up to the last field the syscall needs. Anything else returns false
 *  having done nothing, and syscall reads the line. */
export function syscallBytes(sink: EventSink, b: Buffer, r: LineRecord, ns: number, ne: number, ps: number, pe: number): boolean {
  let n = ns + 4;
  if (ne - n > 6 && b[n] === 101 /* e */ && b[n + 1] === 110 && b[n + 2] === 116 && b[n + 3] === 101 && b[n + 4] === 114 && b[n + 5] === 95) n += 6;
  const nameLen = ne - n;
  let kind: number;
  if (nameLen === 6 && isMunmap(b, n, ne)) kind = EventKind.munmap;
  else if (nameLen === 7 && isMadvise(b, n, ne)) kind = EventKind.madvise;
  else if (nameLen === 8 && isMprotect(b, n, ne)) kind = EventKind.mprotect;
  else if (nameLen === 4 && isMmap(b, n, ne)) kind = EventKind.mmap;
  else return false;
  // First value of each key the syscall needs (NaN: not seen).
  let addr = NaN, start = NaN, len = NaN, lenIn = NaN, behavior = NaN, prot = NaN;
  let i = ps;
  while (i < pe) {
    while (i < pe && b[i] === C_SPACE) i++;
    const ks = i;
    let c = b[i];
    while (i < pe && ((c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90))) c = b[++i];
    const ke = i;
    if (ke === ks || i >= pe || (c !== C_COLON && c !== C_EQ)) return false;
    i++;
    while (i < pe && (b[i] === C_SPACE || b[i] === C_TAB)) i++;
    // readSyscallArg: hex with or without 0x, -decimal.
    let v = 0, digits = 0;
    c = b[i];
    if (c === C_DASH) {
      i++;
      for (c = b[i]; i < pe && c >= 48 && c <= 57; c = b[++i]) { v = v * 10 + (c - 48); digits++; }
      v = -v;
    } else {
      if (c === 48 && i + 1 < pe && (b[i + 1] === 120 || b[i + 1] === 88)) i += 2;
      for (let d = hexValue(b[i]); i < pe && d >= 0; d = hexValue(b[++i])) { v = v * 16 + d; digits++; }
    }
    if (digits === 0) return false;
    while (i < pe && b[i] === C_SPACE) i++;
    if (i < pe) { if (b[i] !== C_COMMA) return false; i++; }
    const kl = ke - ks;
    if (kl === 3 && b[ks] === 108 && b[ks + 1] === 101 && b[ks + 2] === 110) { if (len !== len) len = v; }
    else if (kl === 4 && b[ks] === 97 && b[ks + 1] === 100 && b[ks + 2] === 100 && b[ks + 3] === 114) { if (addr !== addr) addr = v; }
    else if (kl === 5 && isStart(b, ks, ke)) { if (start !== start) start = v; }
    else if (kl === 6 && isLenIn(b, ks, ke)) { if (lenIn !== lenIn) lenIn = v; }
    else if (kl === 8 && isBehavior(b, ks, ke)) { if (behavior !== behavior) behavior = v; }
    else if (kl === 4 && isProt(b, ks, ke)) { if (prot !== prot) prot = v; }
    // Once every field the syscall needs is read, the fields after them cannot change what
    // the string path finds: valueAfter takes the first field of a name, and the fields
    // read so far hold only keys and numbers, inside which no needed name starts a field.
    if (kind === EventKind.madvise ? start === start && lenIn === lenIn && behavior === behavior
      : kind === EventKind.munmap ? addr === addr && len === len
      : (kind === EventKind.mmap ? addr === addr : start === start) && len === len && prot === prot) break;
  }
  let a: number, l: number, extra: number;
  if (kind === EventKind.munmap) { a = addr; l = len; extra = 0; }
  else if (kind === EventKind.madvise) { a = start; l = lenIn === lenIn ? lenIn : len; extra = behavior; }
  else if (kind === EventKind.mprotect) { a = start; l = len; extra = prot; }
  else { a = addr; l = len; extra = prot; }
  if (a !== a || l !== l || extra !== extra) return false;
  sink.emit(kind, r, r.pid, sink.currentMmBytes(b, r), a, l, extra);
  return true;
}

