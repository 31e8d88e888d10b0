// The reference twin of assembly/frames/permutation.ts: the seeded bijection of
// [0, n) that orders a random allocation, computing exactly the wasm values.
import { ReferenceDomains } from './domain.js';

function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export class ReferencePermutation extends ReferenceDomains {
  // permutation state
  protected pn = 0;
  protected pmask = 0;
  protected phalf = 1;
  protected a0 = 1;
  protected b0 = 0;
  protected a1 = 1;
  protected b1 = 0;
  protected a2 = 1;
  protected b2 = 0;

  protected permSetup(n: number, seed: number): void {
    let bits = 1;
    while (bits < 31 && 2 ** bits < n) bits++;
    this.pn = n;
    this.pmask = 2 ** bits - 1;
    this.phalf = bits >>> 1 > 0 ? bits >>> 1 : 1;
    this.a0 = (mix((seed + 0x9e3779b9) | 0) | 1) | 0;
    this.b0 = mix(seed ^ 0x85ebca6b) | 0;
    this.a1 = (mix((seed + 0x3c6ef372) | 0) | 1) | 0;
    this.b1 = mix(seed ^ 0xc2b2ae35) | 0;
    this.a2 = (mix((seed + 0xdaa66d2b) | 0) | 1) | 0;
    this.b2 = mix(seed ^ 0x27d4eb2f) | 0;
  }

  protected perm(k: number): number {
    const m = this.pmask, h = this.phalf, n = this.pn;
    const a0 = this.a0, b0 = this.b0, a1 = this.a1, b1 = this.b1, a2 = this.a2, b2 = this.b2;
    let x = k;
    do {
      x = (Math.imul(x, a0) + b0) & m;
      x ^= x >>> h;
      x = (Math.imul(x, a1) + b1) & m;
      x ^= x >>> h;
      x = (Math.imul(x, a2) + b2) & m;
      x ^= x >>> h;
    } while (x >= n);
    return x;
  }

}
