// A seeded bijection of [0, n): the "random" allocation order. Three rounds of
// (multiply by an odd key, add a key, xor-shift) are each a bijection of
// [0, 2^bits); cycle-walking keeps the result below n. No table is materialised,
// so a random order over 128M frames costs no memory. src/backends/reference/permutation.ts
// computes exactly the same values.

let pn: u32 = 0;
let pmask: u32 = 0;
let phalf: u32 = 1;
let a0: u32 = 1, b0: u32 = 0, a1: u32 = 1, b1: u32 = 0, a2: u32 = 1, b2: u32 = 0;

// @ts-ignore: decorator
@inline function mix(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

export function permSetup(n: u32, seed: u32): void {
  let bits: u32 = 1;
  while (bits < 31 && (<u32>1 << bits) < n) bits++;
  pn = n;
  pmask = bits >= 32 ? 0xffffffff : (<u32>1 << bits) - 1;
  phalf = bits >> 1 > 0 ? bits >> 1 : 1;
  a0 = mix(seed + 0x9e3779b9) | 1;
  b0 = mix(seed ^ 0x85ebca6b);
  a1 = mix(seed + 0x3c6ef372) | 1;
  b1 = mix(seed ^ 0xc2b2ae35);
  a2 = mix(seed + 0xdaa66d2b) | 1;
  b2 = mix(seed ^ 0x27d4eb2f);
}

/** The k-th element of the permutation set up by permSetup (k < n). */
// @ts-ignore: decorator
@inline export function perm(k: u32): u32 {
  let x = k;
  const m = pmask, h = phalf;
  do {
    x = (x * a0 + b0) & m;
    x ^= x >>> h;
    x = (x * a1 + b1) & m;
    x ^= x >>> h;
    x = (x * a2 + b2) & m;
    x ^= x >>> h;
  } while (x >= pn);
  return x;
}
