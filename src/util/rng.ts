// Deterministic pseudo-random numbers for scenarios, benchmarks and tests: the same
// sequence from the same seed on every run and every backend.

/** A small seedable generator (xoshiro128**): the same addresses on every run. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed = 1) {
    this.a = seed | 0 || 1;
    this.b = 0x9e3779b9;
    this.c = 0x7f4a7c15;
    this.d = 0x243f6a88 ^ seed;
    for (let i = 0; i < 16; i++) this.u32();
  }
  /** xoshiro128** step: a uniform u32. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  /** Uniform integer in [0, n) for n <= 2^53 (two draws). */
  below(n: number): number {
    return Math.floor((this.u32() * 2 ** 21 + (this.u32() >>> 11)) / 2 ** 53 * n);
  }
}
const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
