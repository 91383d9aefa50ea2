// Seeded pseudo-random numbers for workload generators: sfc32 seeded through splitmix32.
// Same seed → same sequence on every platform (32-bit integer arithmetic only).

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // Fold a 53-bit seed into 32 bits without losing the high part.
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    const init = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    this.a = init(); this.b = init(); this.c = init(); this.d = init();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponentially distributed with the given mean, rounded to a whole ns (>= 0). */
  exp(mean: number): number {
    return Math.round(-Math.log(1 - this.next()) * mean);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
