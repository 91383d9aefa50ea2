// IPIs the recorded kernel sent: ipi:ipi_send_cpu, ipi:ipi_send_cpumask, csd:csd_queue_cpu
// (a cross-call queued, counted when its function is the TLB flush), and the cpumask forms
// the kernel prints.
import { EventKind, IpiKind } from '../../event.ts';
import type { LineRecord } from '../headers.ts';
import { cursor, indexIn, isDigit, literalTest, readHex, readUint } from '../scan.ts';
import { MAX_CPUS } from '../cpus.ts';
import { C_COLON, C_COMMA, C_DASH, C_EQ, C_LPAREN, C_SPACE, C_TAB, numberField, valueAfter } from '../fields.ts';
import type { EventSink } from '../sink.ts';

const isCallback = literalTest('callback'),
  isGenericSmpCallFunction = literalTest('generic_smp_call_function'),
  isFlushTlbFunc = literalTest('flush_tlb_func'),
  isFunc = literalTest('func');

function ipiKind(s: string, ps: number, pe: number, key: string): number {
  const v = valueAfter(s, key, ps, pe);
  if (v < 0) return IpiKind.real;
  if (s.startsWith('generic_smp_call_function', v)) return IpiKind.real;
  if (s.startsWith('flush_tlb_func', v)) return IpiKind.flushCall;
  return IpiKind.otherCall;
}

// cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10
export function ipiSendCpu(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const mm = sink.currentMm(s, r);
  const target = numberField(s, 'cpu', ps, pe);
  if (Number.isNaN(target) || target < 0 || target >= MAX_CPUS) return 'ipi_send_cpu without a valid cpu';
  sink.noteTarget(target);
  sink.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, ipiKind(s, ps, pe, 'callback'));
  return null;
}

/** Where leadingCpuField's field ended (module state, not a return object: no allocation per line). */
let cpuFieldEnd = 0;

/** The decimal N of a payload that starts `cpu=N` (or `cpu: N`), below MAX_CPUS, with
 *  cpuFieldEnd set after it; -1 for any other form (the string path reads those). */
function leadingCpuField(b: Buffer, ps: number, pe: number): number {
  if (pe - ps < 5 || b[ps] !== 99 /* c */ || b[ps + 1] !== 112 /* p */ || b[ps + 2] !== 117 /* u */) return -1;
  let i = ps + 3;
  if (b[i] !== C_EQ && b[i] !== C_COLON) return -1;
  i++;
  while (i < pe && (b[i] === C_SPACE || b[i] === C_TAB)) i++;
  let target = 0, c = b[i];
  if (i >= pe || c < 48 || c > 57 || (c === 48 && (b[i + 1] === 120 || b[i + 1] === 88))) return -1;
  while (i < pe && c >= 48 && c <= 57) { target = target * 10 + (c - 48); c = b[++i]; }
  // readNumber would read a decimal run followed by a hex letter as hex.
  if (i < pe && c !== C_SPACE) return -1;
  if (target >= MAX_CPUS) return -1;
  cpuFieldEnd = i;
  return target;
}

/** ipiSendCpu on the bytes of an ASCII chunk for the common form: `cpu=N` (or `cpu:`)
 *  first with a decimal N, and the first `callback` in the payload being the field (a
 *  delimiter before it, `=` or `:` after). Otherwise false, nothing done. */
export function ipiSendCpuBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const target = leadingCpuField(b, ps, pe);
  if (target < 0) return false;
  const i = cpuFieldEnd;
  let kind: number = IpiKind.real;
  for (let k = i; k + 8 <= pe; k++) {
    if (b[k] !== 99 /* c */ || !isCallback(b, k, pe)) continue;
    const before = b[k - 1], after = b[k + 8];
    if (!(before === C_SPACE || before === C_COMMA || before === C_LPAREN) || !(after === C_COLON || after === C_EQ)) return false;
    let v = k + 9;
    while (v < pe && (b[v] === C_SPACE || b[v] === C_TAB)) v++;
    // startsWith in ipiKind is not bounded by the payload end: neither is this.
    kind = isGenericSmpCallFunction(b, v, b.length) ? IpiKind.real : isFlushTlbFunc(b, v, b.length) ? IpiKind.flushCall : IpiKind.otherCall;
    break;
  }
  const mm = sink.currentMmBytes(b, r);
  sink.noteTarget(target);
  sink.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, kind);
  return true;
}

// cpumask=0-1 ... | cpumask=00000000,00000003 ...
export function ipiSendMask(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const mm = sink.currentMm(s, r);
  const v = valueAfter(s, 'cpumask', ps, pe);
  if (v < 0) return 'ipi_send_cpumask without cpumask';
  let e = v;
  while (e < pe && s.charCodeAt(e) !== C_SPACE) e++;
  const kind = ipiKind(s, ps, pe, 'callback');
  const targets = parseCpuMask(s, v, e);
  if (targets === null) return 'ipi_send_cpumask cpumask is neither a CPU list nor a hex bitmap';
  // Targets are ascending: check the last before emitting any, so a bad line adds nothing.
  if (targets.length > 0 && targets[targets.length - 1] >= MAX_CPUS) return 'ipi_send_cpumask names a CPU beyond the supported range';
  let first = 1;
  for (const cpu of targets) {
    sink.noteTarget(cpu);
    sink.emit(EventKind.observed_ipi, r, r.pid, mm, cpu, first, kind);
    first = 0;
  }
  return null;
}

// cpu=0 callsite=... func=flush_tlb_func csd=...
export function csdQueue(sink: EventSink, s: string, r: LineRecord, ps: number, pe: number): string | null {
  const mm = sink.currentMm(s, r);
  const v = valueAfter(s, 'func', ps, pe);
  if (v < 0 || !s.startsWith('flush_tlb_func', v)) {
    sink.unusedEvents.set('csd_queue_cpu', (sink.unusedEvents.get('csd_queue_cpu') ?? 0) + 1);
    return null;
  }
  const target = numberField(s, 'cpu', ps, pe);
  if (Number.isNaN(target) || target < 0 || target >= MAX_CPUS) return 'csd_queue_cpu without a valid cpu';
  sink.noteTarget(target);
  sink.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, IpiKind.flushQueued);
  return null;
}

/** csdQueue on the bytes of an ASCII chunk for the common form: `cpu=N` (or `cpu:`)
 *  first with a decimal N, and a `func` field. Otherwise false, nothing done. */
export function csdQueueBytes(sink: EventSink, b: Buffer, r: LineRecord, ps: number, pe: number): boolean {
  const target = leadingCpuField(b, ps, pe);
  if (target < 0) return false;
  // The first `func` that valueAfter takes: a delimiter (or the payload start) before
  // it, `:` or `=` after it.
  let v = -1;
  for (let k = ps; k + 4 <= pe; k++) {
    if (b[k] !== 102 /* f */ || !isFunc(b, k, pe)) continue;
    const before = k === ps ? C_SPACE : b[k - 1], after = b[k + 4];
    if ((before === C_SPACE || before === C_COMMA || before === C_LPAREN) && (after === C_COLON || after === C_EQ)) { v = k + 5; break; }
    k += 3;
  }
  const mm = sink.currentMmBytes(b, r);
  if (v >= 0) while (v < pe && (b[v] === C_SPACE || b[v] === C_TAB)) v++;
  // startsWith in csdQueue is not bounded by the payload end: neither is this.
  if (v < 0 || !isFlushTlbFunc(b, v, b.length)) {
    sink.unusedEvents.set('csd_queue_cpu', (sink.unusedEvents.get('csd_queue_cpu') ?? 0) + 1);
    return true;
  }
  sink.noteTarget(target);
  sink.emit(EventKind.observed_ipi, r, r.pid, mm, target, 1, IpiKind.flushQueued);
  return true;
}

/** A cpumask as the kernel prints it: a CPU list (`0-1`, `0,2-5`) or a hex bitmap in
 *  comma-separated 32-bit groups (`00000000,00000003`). Returns null when malformed. */
export function parseCpuMask(s: string, start: number, end: number): number[] | null {
  if (start >= end) return [];
  let isBitmap = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) isBitmap = true;
    else if (c === C_DASH) { isBitmap = false; break; }
    else if (!(isDigit(c) || c === C_COMMA)) return null;
  }
  // The bitmap form pads every 32-bit group but the first to 8 hex digits, so a last
  // group of 8 digits marks it even when all digits are decimal.
  const lastComma = s.lastIndexOf(',', end - 1);
  const lastGroupLen = end - (lastComma >= start ? lastComma + 1 : start);
  if (lastGroupLen === 8 && indexIn(s, '-', start, end) < 0) isBitmap = true;
  const out: number[] = [];
  if (isBitmap) {
    // Groups are most significant first.
    const groups: number[] = [];
    let i = start;
    while (i < end) {
      const v = readHex(s, i, end);
      if (Number.isNaN(v)) return null;
      groups.push(v);
      i = cursor.pos;
      if (i < end && s.charCodeAt(i) === C_COMMA) i++;
      else if (i < end) return null;
    }
    for (let g = groups.length - 1, base = 0; g >= 0; g--, base += 32) {
      const w = groups[g];
      for (let b = 0; b < 32; b++) if (Math.floor(w / 2 ** b) % 2 === 1) out.push(base + b);
    }
    return out;
  }
  let i = start;
  while (i < end) {
    const a = readUint(s, i, end);
    if (Number.isNaN(a)) return null;
    i = cursor.pos;
    let b = a;
    if (i < end && s.charCodeAt(i) === C_DASH) {
      b = readUint(s, i + 1, end);
      if (Number.isNaN(b) || b < a) return null;
      i = cursor.pos;
    }
    if (b >= MAX_CPUS) return null;
    for (let c = a; c <= b; c++) out.push(c);
    if (i < end && s.charCodeAt(i) === C_COMMA) i++;
    else if (i < end) return null;
  }
  return out;
}
