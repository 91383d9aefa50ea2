// A value per (CPU, CPU) pair. Dense for the machines traces come from; hashed when the CPU
// count is large, because a trace that names one high CPU (a damaged column, CPU 4095 on a
// 3-CPU machine) makes the machine that large, and n² doubles per strategy would then be
// 134 MB each while only the pairs that ever exchange an IPI hold a value.

/** Above this many CPUs the pairs are hashed (512² doubles = 2 MiB dense). */
export const DENSE_CPU_PAIRS = 512;

export class CpuPairs {
  readonly n: number;
  private readonly empty: number;
  private readonly dense: Float64Array | null;
  // Open addressing on key = from * n + to (< 2^31 for any n <= 46340); EMPTY_KEY marks a
  // free slot. Grown at half load, so a probe ends quickly.
  private keys: Int32Array;
  private vals: Float64Array;
  private used = 0;

  constructor(n: number, empty = 0) {
    this.n = n;
    this.empty = empty;
    if (n <= DENSE_CPU_PAIRS) {
      this.dense = new Float64Array(n * n);
      if (empty !== 0) this.dense.fill(empty);
      this.keys = new Int32Array(0);
      this.vals = new Float64Array(0);
    } else {
      this.dense = null;
      this.keys = new Int32Array(1024).fill(-1);
      this.vals = new Float64Array(1024);
    }
  }

  get(from: number, to: number): number {
    const key = from * this.n + to;
    if (this.dense !== null) return this.dense[key];
    const mask = this.keys.length - 1;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === key) return this.vals[i];
      if (k === -1) return this.empty;
    }
  }

  set(from: number, to: number, v: number): void {
    const key = from * this.n + to;
    if (this.dense !== null) { this.dense[key] = v; return; }
    const i = this.slot(key); // may grow (replace) vals: look it up after
    this.vals[i] = v;
  }

  add(from: number, to: number, d: number): void {
    const key = from * this.n + to;
    if (this.dense !== null) { this.dense[key] += d; return; }
    const i = this.slot(key);
    this.vals[i] += d;
  }

  /** Every pair whose value is not the empty one, in (from, to) order. */
  cells(): { from: number; to: number; value: number }[] {
    const out: { from: number; to: number; value: number }[] = [];
    const n = this.n;
    if (this.dense !== null) {
      const d = this.dense;
      for (let i = 0; i < d.length; i++) if (d[i] !== this.empty) out.push({ from: Math.floor(i / n), to: i % n, value: d[i] });
      return out;
    }
    const keys: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1 && this.vals[i] !== this.empty) keys.push(i);
    keys.sort((a, b) => this.keys[a] - this.keys[b]);
    for (const i of keys) out.push({ from: Math.floor(this.keys[i] / n), to: this.keys[i] % n, value: this.vals[i] });
    return out;
  }

  /** The slot of `key`, inserted (holding the empty value) when absent. */
  private slot(key: number): number {
    const mask = this.keys.length - 1;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === key) return i;
      if (k === -1) {
        if ((this.used + 1) * 2 > this.keys.length) { this.grow(); return this.slot(key); }
        this.keys[i] = key;
        this.vals[i] = this.empty;
        this.used++;
        return i;
      }
    }
  }

  private grow(): void {
    const oldK = this.keys, oldV = this.vals;
    this.keys = new Int32Array(oldK.length * 2).fill(-1);
    this.vals = new Float64Array(oldK.length * 2);
    const mask = this.keys.length - 1;
    for (let j = 0; j < oldK.length; j++) {
      const key = oldK[j];
      if (key === -1) continue;
      let i = hash(key) & mask;
      while (this.keys[i] !== -1) i = (i + 1) & mask;
      this.keys[i] = key;
      this.vals[i] = oldV[j];
    }
  }
}

function hash(key: number): number {
  return Math.imul(key ^ (key >>> 15), 0x2c1b3c6d) >>> 0;
}
