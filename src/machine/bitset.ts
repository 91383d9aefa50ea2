// cpumasks as bitsets: `words` 32-bit words per mask, stored either in their own
// Uint32Array or at an offset inside a larger one (one mask per mm). Scales to any CPU
// count (256 CPUs = 8 words = one cache line, like the kernel's cpumask).

export function wordsFor(nCpu: number): number {
  return Math.max(1, (nCpu + 31) >>> 5);
}

/** The lowest set bit >= `from` in arr[base .. base+words), or -1. */
export function bitNext(arr: Uint32Array, base: number, words: number, from: number): number {
  let w = from >>> 5;
  if (w >= words) return -1;
  let bits = arr[base + w] & (-1 << (from & 31));
  for (;;) {
    if (bits !== 0) return (w << 5) + (31 - Math.clz32(bits & -bits));
    if (++w >= words) return -1;
    bits = arr[base + w];
  }
}

export function bitTest(arr: Uint32Array, base: number, bit: number): boolean {
  return (arr[base + (bit >>> 5)] & (1 << (bit & 31))) !== 0;
}

export function bitSet(arr: Uint32Array, base: number, bit: number): void {
  arr[base + (bit >>> 5)] |= 1 << (bit & 31);
}

export function bitClear(arr: Uint32Array, base: number, bit: number): void {
  arr[base + (bit >>> 5)] &= ~(1 << (bit & 31));
}

/** Set bits of one 32-bit word. */
export function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export function bitCount(arr: Uint32Array, base: number, words: number): number {
  let n = 0;
  for (let w = 0; w < words; w++) n += popcount32(arr[base + w]);
  return n;
}

/** Is any bit other than `except` set? (cpumask_any_but(mask, except) < nr_cpu_ids) */
export function bitAnyBut(arr: Uint32Array, base: number, words: number, except: number): boolean {
  const ew = except >>> 5, eb = 1 << (except & 31);
  for (let w = 0; w < words; w++) {
    const v = w === ew ? arr[base + w] & ~eb : arr[base + w];
    if (v !== 0) return true;
  }
  return false;
}
