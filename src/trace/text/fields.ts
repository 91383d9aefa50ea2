// What every payload reader shares: the byte values the tokenizers compare against, and the
// string path's `key: value` / `key=value` field lookup.
import { indexIn, readNumber, readSyscallArg, skipSpaces } from './scan.ts';

export const C_HASH = 35, C_NL = 10, C_CR = 13, C_EQ = 61, C_COLON = 58, C_SPACE = 32, C_COMMA = 44, C_DASH = 45,
  C_LPAREN = 40, C_RPAREN = 41, C_TAB = 9;

/** Position just after `key` followed by ':' or '=' (and spaces), searching from `from`;
 *  -1 when there is none. A key counts only at a field start (after a space, comma or
 *  parenthesis, or at `from`), so `npages:` is not `pages:`. */
export function valueAfter(s: string, key: string, from: number, end: number): number {
  let i = from;
  for (;;) {
    i = indexIn(s, key, i, end);
    if (i < 0) return -1;
    const before = i === from ? C_SPACE : s.charCodeAt(i - 1);
    const after = s.charCodeAt(i + key.length);
    if ((before === C_SPACE || before === C_COMMA || before === C_LPAREN || i === from) && (after === C_COLON || after === C_EQ)) {
      return skipSpaces(s, i + key.length + 1, end);
    }
    i += key.length;
  }
}

/** The number after `key` (readNumber's forms, or `read`'s), NaN when the field is missing
 *  or is not one. */
export function numberField(s: string, key: string, from: number, end: number, read = readNumber): number {
  const v = valueAfter(s, key, from, end);
  if (v < 0) return NaN;
  return read(s, v, end);
}

/** The syscall argument after `key` (readSyscallArg: a bare token is hex). */
export function syscallArgField(s: string, key: string, from: number, end: number): number {
  return numberField(s, key, from, end, readSyscallArg);
}
