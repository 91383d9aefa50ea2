// Character-level scanning helpers for the text tokenizers. They read a line in place
// (a string plus start/end offsets) so that parsing a line allocates nothing; a scanned
// number's end position is left in `cursor.pos`.

export const cursor = { pos: 0 };

const C_0 = 48, C_9 = 57, C_SPACE = 32, C_TAB = 9, C_DOT = 46, C_MINUS = 45;
const C_a = 97, C_f = 102, C_A = 65, C_F = 70, C_x = 120, C_X = 88;

export function isDigit(c: number): boolean { return c >= C_0 && c <= C_9; }

export function skipSpaces(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== C_SPACE && c !== C_TAB) break;
    i++;
  }
  return i;
}

/** Unsigned decimal at i; NaN when there is no digit. */
export function readUint(s: string, i: number, end: number): number {
  let v = 0, n = 0;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < C_0 || c > C_9) break;
    v = v * 10 + (c - C_0); i++; n++;
  }
  cursor.pos = i;
  return n === 0 ? NaN : v;
}

/** Signed decimal at i. */
export function readInt(s: string, i: number, end: number): number {
  if (i < end && s.charCodeAt(i) === C_MINUS) {
    const v = readUint(s, i + 1, end);
    return -v;
  }
  return readUint(s, i, end);
}

function hexDigit(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= C_a && c <= C_f) return c - C_a + 10;
  if (c >= C_A && c <= C_F) return c - C_A + 10;
  return -1;
}

/** Hex digits at i (no prefix). Values above 2^53 lose precision, which is harmless for
 *  addresses compared by range. */
export function readHex(s: string, i: number, end: number): number {
  let v = 0, n = 0;
  while (i < end) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) break;
    v = v * 16 + d; i++; n++;
  }
  cursor.pos = i;
  return n === 0 ? NaN : v;
}

/** A number as the kernel prints symbolic fields (tlb_flush's reason): `0x1f` is hex,
 *  `-1`/`42` decimal, and a bare token with hex letters is hex. Syscall arguments have
 *  their own reader (readSyscallArg). */
export function readNumber(s: string, i: number, end: number): number {
  if (i + 1 < end && s.charCodeAt(i) === C_0 && (s.charCodeAt(i + 1) === C_x || s.charCodeAt(i + 1) === C_X)) {
    return readHex(s, i + 2, end);
  }
  if (i < end && s.charCodeAt(i) === C_MINUS) return readInt(s, i, end);
  const dec = readUint(s, i, end);
  const after = cursor.pos;
  if (after < end && hexDigit(s.charCodeAt(after)) >= 10) return readHex(s, i, end);
  return dec;
}

/** A syscall argument as a syscall-enter line prints it, where a bare token is hex.
 *  print_syscall_enter (kernel/trace/trace_syscalls.c) printed every argument as `%lx`,
 *  hex without a prefix, through 6.12 at least (`len: 4000` is 16 KiB; the 6.1 and 6.12
 *  lab recordings); a 2025 change prints values below 10 as `%lu` and the rest as `0x%lx`
 *  (this machine's 6.18 and the 7.3 lab recordings), and trace-cmd and perf print
 *  `0x%08lx` from the event's format. A bare token is hex in every one of them (below 10
 *  the two bases agree). `-N` (no kernel prints a sign) is read as decimal. */
export function readSyscallArg(s: string, i: number, end: number): number {
  if (i + 1 < end && s.charCodeAt(i) === C_0 && (s.charCodeAt(i + 1) === C_x || s.charCodeAt(i + 1) === C_X)) {
    return readHex(s, i + 2, end);
  }
  if (i < end && s.charCodeAt(i) === C_MINUS) return readInt(s, i, end);
  return readHex(s, i, end);
}

/** A trace timestamp in seconds (`7253.649616`, 6 or 9 decimals, or none) → nanoseconds,
 *  computed from integer parts so that no rounding creeps in. NaN when malformed. */
export function readSecondsAsNs(s: string, i: number, end: number): number {
  const sec = readUint(s, i, end);
  if (Number.isNaN(sec)) return NaN;
  let p = cursor.pos;
  if (p < end && s.charCodeAt(p) === C_DOT) {
    p++;
    let frac = 0, digits = 0;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c < C_0 || c > C_9) break;
      if (digits < 9) { frac = frac * 10 + (c - C_0); digits++; }
      p++;
    }
    if (digits === 0) return NaN;
    cursor.pos = p;
    let scale = 1;
    for (let d = digits; d < 9; d++) scale *= 10;
    return sec * 1e9 + frac * scale;
  }
  cursor.pos = p;
  return sec;
}

/** Index of `needle` in s within [from, end), or -1. */
export function indexIn(s: string, needle: string, from: number, end: number): number {
  const i = s.indexOf(needle, from);
  return i >= 0 && i + needle.length <= end ? i : -1;
}

/** indexIn for a needle that is usually absent from the line (a header's '#P:'):
 *  String.indexOf would go on to the end of `s`, a whole chunk of lines, on every such line
 *  (quadratic in the comment lines of a chunk); this stops at `end`, at the cost of being
 *  slower than indexOf where the needle is present. */
export function indexInLine(s: string, needle: string, from: number, end: number): number {
  const n = needle.length;
  const c0 = needle.charCodeAt(0);
  for (let i = from, last = end - n; i <= last; i++) {
    if (s.charCodeAt(i) !== c0) continue;
    let k = 1;
    while (k < n && s.charCodeAt(i + k) === needle.charCodeAt(k)) k++;
    if (k === n) return i;
  }
  return -1;
}

/** Last index of `needle` in s that lies entirely within [from, end), or -1. */
export function lastIndexIn(s: string, needle: string, from: number, end: number): number {
  const i = s.lastIndexOf(needle, end - needle.length);
  return i >= from ? i : -1;
}

/** True when s[start..end) equals `other` (no allocation). */
export function equalsAt(s: string, start: number, end: number, other: string): boolean {
  return end - start === other.length && s.startsWith(other, start);
}

/** A test of b[i, i + lit.length) against `lit` within [i, end), compiled to one chain of
 *  byte comparisons against constants (built once per literal, from constants in the
 *  source, never from trace text): on the anchors every line of a trace is checked
 *  against, a loop over the literal's bytes cost about twice as much. */
export type LiteralTest = (b: Uint8Array, i: number, end: number) => boolean;
export function literalTest(lit: string): LiteralTest {
  if (!/^[\x20-\x7e]+$/.test(lit)) throw new Error(`literalTest: ${JSON.stringify(lit)} is not printable ASCII`);
  const bytes = [...lit].map((ch, k) => `b[i + ${k}] === ${ch.charCodeAt(0)}`).join(' && ');
  return new Function('b', 'i', 'end', `return i + ${lit.length} <= end && ${bytes};`) as LiteralTest;
}
