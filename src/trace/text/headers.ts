// Tokenizers for the per-line header of the three text formats. Each fills a reusable
// LineRecord with offsets into the line and returns null, or returns the reason the line
// is not an event line. Payloads are parsed afterwards by payload.ts, which is shared.
//
//   ftrace / trace-cmd:  "       TASK-PID   (  TGID) [CPU] FLAGS  SECS.USECS: event: payload"
//   perf script:         "            TASK   PID [CPU] SECS.USECS:   subsys:event: payload"
//
// The task name (comm) is chosen by whoever ran the task and may contain spaces, dashes,
// brackets and colons, so nothing is found by scanning the comm: the kernel right-aligns
// it in 16 columns, which puts the pid's dash (ftrace) at column 16 of an intact line; for
// a line whose alignment was lost we search for the CPU column instead.
import { cursor, isDigit, literalTest, readSecondsAsNs, readUint, skipSpaces } from './scan.ts';

export interface LineRecord {
  pid: number;
  /** -1 when the line carries no thread-group id. */
  tgid: number;
  cpu: number;
  ns: number;
  commStart: number;
  commEnd: number;
  /** Event name without subsystem (`sched_switch`, `tlb_flush`, `sys_munmap`). */
  nameStart: number;
  nameEnd: number;
  payloadStart: number;
  payloadEnd: number;
  /** The commonest events, as the byte reader of intact lines recognised their name
   *  (EventName); EventName.other from every other reader. */
  nameId: number;
}

/** Names the byte reader of intact lines tells apart while reading the header. */
export const EventName = { other: 0, tlbFlush: 1, schedSwitch: 2, ipiSendCpu: 3 } as const;
const isTlbFlushColon = literalTest('tlb_flush:'), isSchedSwitchColon = literalTest('sched_switch:'),
  isIpiSendCpuColon = literalTest('ipi_send_cpu:');

/** The commonest event name at b[i], followed by its ':' before end; EventName.other if not. */
function knownName(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c === 116 /* t */) return isTlbFlushColon(b, i, end) ? EventName.tlbFlush : EventName.other;
  if (c === 115 /* s */) return isSchedSwitchColon(b, i, end) ? EventName.schedSwitch : EventName.other;
  if (c === 105 /* i */) return isIpiSendCpuColon(b, i, end) ? EventName.ipiSendCpu : EventName.other;
  return EventName.other;
}
const NAME_LENGTH = [0, 'tlb_flush'.length, 'sched_switch'.length, 'ipi_send_cpu'.length];

export function newLineRecord(): LineRecord {
  return { pid: 0, tgid: -1, cpu: 0, ns: 0, commStart: 0, commEnd: 0, nameStart: 0, nameEnd: 0, payloadStart: 0, payloadEnd: 0, nameId: 0 };
}

const C_SPACE = 32, C_DASH = 45, C_LBRACK = 91, C_RBRACK = 93, C_LPAREN = 40, C_RPAREN = 41, C_COLON = 58, C_SLASH = 47;

/** Parses `[CPU]` at i; returns the index after `]` or -1. CPU in cursor.pos... kept in r. */
function readCpuColumn(s: string, i: number, end: number, r: LineRecord): number {
  if (i >= end || s.charCodeAt(i) !== C_LBRACK) return -1;
  const cpu = readUint(s, i + 1, end);
  const p = cursor.pos;
  if (Number.isNaN(cpu) || p >= end || s.charCodeAt(p) !== C_RBRACK) return -1;
  r.cpu = cpu;
  return p + 1;
}

/** After the CPU column: optional flags token, the timestamp, `: `, the event name. */
function readTail(s: string, i: number, end: number, r: LineRecord, perf: boolean): string | null {
  i = skipSpaces(s, i, end);
  if (i >= end) return 'no timestamp after the CPU column';
  if (!isDigit(s.charCodeAt(i))) {
    // Flags column (irqs-off, need-resched, hardirq/softirq, preempt depth, migrate
    // disable): 4 or 5 characters, none of them starts with a digit.
    let j = i;
    while (j < end && s.charCodeAt(j) !== C_SPACE) j++;
    if (j - i > 8) return 'unexpected text where the flags column or timestamp should be';
    i = skipSpaces(s, j, end);
  }
  const ns = readSecondsAsNs(s, i, end);
  let p = cursor.pos;
  if (!Number.isFinite(ns) || p >= end || s.charCodeAt(p) !== C_COLON) return 'malformed timestamp';
  r.ns = ns;
  p = skipSpaces(s, p + 1, end);
  // Event name: up to ':' or '(' (syscall events print as `sys_munmap(...)`).
  let nameStart = p;
  let q = p;
  while (q < end) {
    const c = s.charCodeAt(q);
    if (c === C_LPAREN || c === C_SPACE) break;
    if (c === C_COLON) {
      // perf prefixes the subsystem: `tlb:tlb_flush:`; keep the part after it.
      if (perf && q + 1 < end && s.charCodeAt(q + 1) !== C_SPACE && nameStart === p) { nameStart = q + 1; q++; continue; }
      break;
    }
    q++;
  }
  if (q === nameStart) return 'missing event name';
  r.nameStart = nameStart; r.nameId = EventName.other;
  r.nameEnd = q;
  if (q < end && s.charCodeAt(q) === C_LPAREN) {
    r.payloadStart = q + 1;
    let e = end;
    while (e > r.payloadStart && s.charCodeAt(e - 1) === C_SPACE) e--;
    if (e > r.payloadStart && s.charCodeAt(e - 1) === C_RPAREN) e--;
    r.payloadEnd = e;
  } else {
    r.payloadStart = q < end ? skipSpaces(s, q + 1, end) : end;
    r.payloadEnd = end;
  }
  return null;
}

/** After the pid digits: optional `(TGID)` / `(-------)`, then the CPU column. */
function readAfterPid(s: string, i: number, end: number, r: LineRecord): number {
  i = skipSpaces(s, i, end);
  r.tgid = -1;
  if (i < end && s.charCodeAt(i) === C_LPAREN) {
    const close = s.indexOf(')', i);
    if (close < 0 || close >= end || close - i > 24) return -1;
    const t = readUint(s, skipSpaces(s, i + 1, close), close);
    if (!Number.isNaN(t)) r.tgid = t;
    i = skipSpaces(s, close + 1, end);
  }
  return readCpuColumn(s, i, end, r);
}

/** ftrace and trace-cmd report lines. `first` is the first non-blank column when the
 *  caller has found it already (the comm is right-aligned: up to 15 leading spaces). */
export function parseFtraceHeader(s: string, start: number, end: number, r: LineRecord, first = skipSpaces(s, start, end)): string | null {
  if (first >= end) return 'blank line';
  // Fast path: an intact line has the pid dash at column 16.
  const dash = start + 16;
  if (dash < end && s.charCodeAt(dash) === C_DASH && isDigit(s.charCodeAt(dash + 1)) && first < dash) {
    const pid = readUint(s, dash + 1, end);
    const after = readAfterPid(s, cursor.pos, end, r);
    if (after > 0) {
      r.pid = pid; r.commStart = first; r.commEnd = dash;
      return readTail(s, after, end, r, false);
    }
  }
  // Misaligned (copy-pasted, long comm): find a `-PID [(TGID)] [CPU]` group, leftmost first.
  for (let b = s.indexOf('[', first); b >= 0 && b < end; b = s.indexOf('[', b + 1)) {
    // Walk back over spaces, an optional (TGID) group, spaces, pid digits, dash.
    let k = b - 1;
    while (k > first && s.charCodeAt(k) === C_SPACE) k--;
    if (s.charCodeAt(k) === C_RPAREN) {
      const open = s.lastIndexOf('(', k);
      if (open <= first) continue;
      k = open - 1;
      while (k > first && s.charCodeAt(k) === C_SPACE) k--;
    }
    const digitsEnd = k + 1;
    while (k > first && isDigit(s.charCodeAt(k))) k--;
    if (k === digitsEnd - 1 || s.charCodeAt(k) !== C_DASH || k <= first - 1) continue;
    const pid = readUint(s, k + 1, digitsEnd);
    const after = readAfterPid(s, digitsEnd, end, r);
    if (after < 0) continue;
    r.pid = pid; r.commStart = first; r.commEnd = k;
    return readTail(s, after, end, r, false);
  }
  return 'not a trace event line (expected "TASK-PID [CPU] ... TIMESTAMP: event: ...")';
}

/** perf script lines with the default field set (comm, tid, cpu, time, event, trace),
 *  or with `pid/tid` when both were asked for. */
export function parsePerfHeader(s: string, start: number, end: number, r: LineRecord, first = skipSpaces(s, start, end)): string | null {
  if (first >= end) return 'blank line';
  for (let b = s.indexOf('[', first); b >= 0 && b < end; b = s.indexOf('[', b + 1)) {
    let k = b - 1;
    if (k <= first || s.charCodeAt(k) !== C_SPACE) continue;
    while (k > first && s.charCodeAt(k) === C_SPACE) k--;
    const digitsEnd = k + 1;
    while (k > first && isDigit(s.charCodeAt(k))) k--;
    if (k === digitsEnd - 1) continue;
    let tid = readUint(s, k + 1, digitsEnd);
    let tgid = -1;
    if (s.charCodeAt(k) === C_SLASH) {
      // `pid/tid`
      const slash = k;
      k--;
      const pEnd = k + 1;
      while (k > first && isDigit(s.charCodeAt(k))) k--;
      if (k === pEnd - 1) continue;
      tgid = readUint(s, k + 1, slash);
    }
    if (s.charCodeAt(k) !== C_SPACE) continue;
    const after = readCpuColumn(s, b, end, r);
    if (after < 0) continue;
    let commEnd = k;
    while (commEnd > first && s.charCodeAt(commEnd - 1) === C_SPACE) commEnd--;
    r.pid = tid; r.tgid = tgid; r.commStart = first; r.commEnd = commEnd;
    return readTail(s, after, end, r, true);
  }
  return 'not a perf script event line (expected "COMM TID [CPU] TIMESTAMP: subsystem:event: ...")';
}

/** The common shape of an ftrace line, read in one pass with no calls:
 *  `<comm padded to 16>-PID[ (TGID)] [CPU] FLAGS SECS.FRAC: name[:(]payload`.
 *  Returns false, with `r` unspecified, for anything else; the caller then uses
 *  parseFtraceHeader, which reads every shape (and gives the same record for this one).
 *  r.commStart is `start`: the comm still carries its padding. */
export function parseIntactFtraceHeader(s: string, start: number, end: number, r: LineRecord): boolean {
  let i = start + 16;
  // The comm's last column must be taken (parseFtraceHeader wants a non-blank comm).
  if (i + 1 >= end || s.charCodeAt(i) !== C_DASH || s.charCodeAt(i - 1) === C_SPACE) return false;
  let c = s.charCodeAt(++i);
  if (c < 48 || c > 57) return false;
  let pid = 0;
  while (c >= 48 && c <= 57) { pid = pid * 10 + (c - 48); if (++i >= end) return false; c = s.charCodeAt(i); }
  while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
  let tgid = -1;
  if (c === C_LPAREN) {
    const open = i;
    if (++i >= end) return false;
    c = s.charCodeAt(i);
    while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
    if (c >= 48 && c <= 57) {
      tgid = 0;
      while (c >= 48 && c <= 57) { tgid = tgid * 10 + (c - 48); if (++i >= end) return false; c = s.charCodeAt(i); }
    }
    while (c !== C_RPAREN) { if (++i >= end || i - open > 24) return false; c = s.charCodeAt(i); }
    if (++i >= end) return false;
    c = s.charCodeAt(i);
    while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
  }
  if (c !== C_LBRACK || ++i >= end) return false;
  c = s.charCodeAt(i);
  if (c < 48 || c > 57) return false;
  let cpu = 0;
  while (c >= 48 && c <= 57) { cpu = cpu * 10 + (c - 48); if (++i >= end) return false; c = s.charCodeAt(i); }
  if (c !== C_RBRACK || ++i >= end) return false;
  c = s.charCodeAt(i);
  while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
  if (c < 48 || c > 57) {
    const flags = i;
    while (c !== C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
    if (i - flags > 8) return false;
    while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
    if (c < 48 || c > 57) return false;
  }
  let sec = 0;
  while (c >= 48 && c <= 57) { sec = sec * 10 + (c - 48); if (++i >= end) return false; c = s.charCodeAt(i); }
  if (c !== 46 /* . */ || ++i >= end) return false;
  c = s.charCodeAt(i);
  let frac = 0, digits = 0;
  while (c >= 48 && c <= 57) {
    if (digits < 9) { frac = frac * 10 + (c - 48); digits++; }
    if (++i >= end) return false;
    c = s.charCodeAt(i);
  }
  if (digits === 0 || c !== C_COLON || ++i >= end) return false;
  const scale = FRACTION_SCALE[digits];
  c = s.charCodeAt(i);
  while (c === C_SPACE) { if (++i >= end) return false; c = s.charCodeAt(i); }
  const nameStart = i;
  while (c !== C_LPAREN && c !== C_SPACE && c !== C_COLON) { if (++i >= end) break; c = s.charCodeAt(i); }
  if (i === nameStart) return false;
  r.pid = pid; r.tgid = tgid; r.cpu = cpu; r.ns = sec * 1e9 + frac * scale;
  r.commStart = start; r.commEnd = start + 16;
  r.nameStart = nameStart; r.nameEnd = i; r.nameId = EventName.other;
  if (i < end && c === C_LPAREN) {
    const ps = i + 1;
    let e = end;
    while (e > ps && s.charCodeAt(e - 1) === C_SPACE) e--;
    if (e > ps && s.charCodeAt(e - 1) === C_RPAREN) e--;
    r.payloadStart = ps; r.payloadEnd = e;
  } else {
    r.payloadStart = i < end ? skipSpaces(s, i + 1, end) : end;
    r.payloadEnd = end;
  }
  return true;
}

/** parseIntactFtraceHeader on the bytes of an ASCII chunk (`b[i]` is `s.charCodeAt(i)`).
 *  The same steps with typed-array loads, which cost a fraction of charCodeAt's
 *  string-representation dispatch; it must accept and decline exactly what the string
 *  version does (test/trace/intact-header.test.ts compares them on every fixture line). */
/** 10^(9 - digits): nanoseconds per unit of a fraction of `digits` digits (1 to 9). */
const FRACTION_SCALE = [0, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];

export function parseIntactFtraceHeaderBytes(b: Uint8Array, start: number, end: number, r: LineRecord): boolean {
  // Lines split out of a chunk end before their newline (or carriage return): a byte below
  // 32 at b[end] stops every digit and space loop by itself, so the per-byte end checks of
  // the checked version are needed only where a loop could run on past it.
  if (end >= b.length || b[end] >= 32) return parseIntactFtraceHeaderBytesChecked(b, start, end, r);
  let i = start + 16;
  if (i + 1 >= end || b[i] !== C_DASH || b[i - 1] === C_SPACE) return false;
  let c = b[++i];
  if (c < 48 || c > 57) return false;
  let pid = 0;
  do { pid = pid * 10 + (c - 48); c = b[++i]; } while (c >= 48 && c <= 57);
  while (c === C_SPACE) c = b[++i];
  let tgid = -1;
  if (c === C_LPAREN) {
    const open = i;
    c = b[++i];
    while (c === C_SPACE) c = b[++i];
    if (c >= 48 && c <= 57) {
      tgid = 0;
      do { tgid = tgid * 10 + (c - 48); c = b[++i]; } while (c >= 48 && c <= 57);
    }
    while (c !== C_RPAREN) { c = b[++i]; if (i >= end || i - open > 24) return false; }
    c = b[++i];
    while (c === C_SPACE) c = b[++i];
  }
  if (c !== C_LBRACK) return false;
  c = b[++i];
  if (c < 48 || c > 57) return false;
  let cpu = 0;
  do { cpu = cpu * 10 + (c - 48); c = b[++i]; } while (c >= 48 && c <= 57);
  if (c !== C_RBRACK) return false;
  c = b[++i];
  while (c === C_SPACE) c = b[++i];
  if (c < 48 || c > 57) {
    const flags = i;
    while (c !== C_SPACE) { c = b[++i]; if (i >= end) return false; }
    if (i - flags > 8) return false;
    while (c === C_SPACE) c = b[++i];
    if (c < 48 || c > 57) return false;
  }
  let sec = 0;
  do { sec = sec * 10 + (c - 48); c = b[++i]; } while (c >= 48 && c <= 57);
  if (c !== 46 /* . */) return false;
  c = b[++i];
  let frac = 0, digits = 0;
  while (c >= 48 && c <= 57) {
    if (digits < 9) { frac = frac * 10 + (c - 48); digits++; }
    c = b[++i];
  }
  if (digits === 0 || c !== C_COLON) return false;
  const scale = FRACTION_SCALE[digits];
  c = b[++i];
  while (c === C_SPACE) c = b[++i];
  if (i >= end) return false;
  const nameStart = i;
  // The commonest names are recognised whole (with the ':' that ends them); others are
  // scanned, letters and '_' (above ':') with one comparison.
  const nameId = knownName(b, i, end);
  if (nameId !== EventName.other) { i += NAME_LENGTH[nameId]; c = C_COLON; }
  else {
    while (c > C_COLON || (c !== C_LPAREN && c !== C_SPACE && c !== C_COLON && i < end)) c = b[++i];
    if (i === nameStart) return false;
  }
  r.pid = pid; r.tgid = tgid; r.cpu = cpu; r.ns = sec * 1e9 + frac * scale;
  r.commStart = start; r.commEnd = start + 16;
  r.nameStart = nameStart; r.nameEnd = i; r.nameId = nameId;
  payloadBytes(b, i, c, end, r);
  return true;
}

/** The payload's bounds after an event name ending at b[i] === c: inside `name(...)`
 *  without the closing parenthesis and trailing spaces, or after `name:` and its spaces. */
function payloadBytes(b: Uint8Array, i: number, c: number, end: number, r: LineRecord): void {
  if (i < end && c === C_LPAREN) {
    const ps = i + 1;
    let e = end;
    while (e > ps && b[e - 1] === C_SPACE) e--;
    if (e > ps && b[e - 1] === C_RPAREN) e--;
    r.payloadStart = ps; r.payloadEnd = e;
  } else {
    let p = i < end ? i + 1 : end;
    while (p < end && (b[p] === C_SPACE || b[p] === 9 /* tab, as skipSpaces */)) p++;
    r.payloadStart = p;
    r.payloadEnd = end;
  }
}

/** The same with a check of the end at every byte (a line not followed by a control byte). */
function parseIntactFtraceHeaderBytesChecked(b: Uint8Array, start: number, end: number, r: LineRecord): boolean {
  let i = start + 16;
  if (i + 1 >= end || b[i] !== C_DASH || b[i - 1] === C_SPACE) return false;
  let c = b[++i];
  if (c < 48 || c > 57) return false;
  let pid = 0;
  while (c >= 48 && c <= 57) { pid = pid * 10 + (c - 48); if (++i >= end) return false; c = b[i]; }
  while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
  let tgid = -1;
  if (c === C_LPAREN) {
    const open = i;
    if (++i >= end) return false;
    c = b[i];
    while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
    if (c >= 48 && c <= 57) {
      tgid = 0;
      while (c >= 48 && c <= 57) { tgid = tgid * 10 + (c - 48); if (++i >= end) return false; c = b[i]; }
    }
    while (c !== C_RPAREN) { if (++i >= end || i - open > 24) return false; c = b[i]; }
    if (++i >= end) return false;
    c = b[i];
    while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
  }
  if (c !== C_LBRACK || ++i >= end) return false;
  c = b[i];
  if (c < 48 || c > 57) return false;
  let cpu = 0;
  while (c >= 48 && c <= 57) { cpu = cpu * 10 + (c - 48); if (++i >= end) return false; c = b[i]; }
  if (c !== C_RBRACK || ++i >= end) return false;
  c = b[i];
  while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
  if (c < 48 || c > 57) {
    const flags = i;
    while (c !== C_SPACE) { if (++i >= end) return false; c = b[i]; }
    if (i - flags > 8) return false;
    while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
    if (c < 48 || c > 57) return false;
  }
  let sec = 0;
  while (c >= 48 && c <= 57) { sec = sec * 10 + (c - 48); if (++i >= end) return false; c = b[i]; }
  if (c !== 46 /* . */ || ++i >= end) return false;
  c = b[i];
  let frac = 0, digits = 0;
  while (c >= 48 && c <= 57) {
    if (digits < 9) { frac = frac * 10 + (c - 48); digits++; }
    if (++i >= end) return false;
    c = b[i];
  }
  if (digits === 0 || c !== C_COLON || ++i >= end) return false;
  const scale = FRACTION_SCALE[digits];
  c = b[i];
  while (c === C_SPACE) { if (++i >= end) return false; c = b[i]; }
  const nameStart = i;
  const nameId = knownName(b, i, end);
  if (nameId !== EventName.other) { i += NAME_LENGTH[nameId]; c = C_COLON; }
  else {
    while (c !== C_LPAREN && c !== C_SPACE && c !== C_COLON) { if (++i >= end) break; c = b[i]; }
    if (i === nameStart) return false;
  }
  r.pid = pid; r.tgid = tgid; r.cpu = cpu; r.ns = sec * 1e9 + frac * scale;
  r.commStart = start; r.commEnd = start + 16;
  r.nameStart = nameStart; r.nameEnd = i; r.nameId = nameId;
  payloadBytes(b, i, c, end, r);
  return true;
}
