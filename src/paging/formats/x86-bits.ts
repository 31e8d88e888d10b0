// What every x86 paging mode shares: the entry bits (Intel SDM vol. 3, 4.x) and
// how map's flags become leaf bits.
import { bit, type MapFlags } from '../format.js';

export const P = 1n, RW = 2n, US = 4n, PS = 0x80n, G = 0x100n, XD = bit(63);

/** The leaf bits of `flags` in an x86 entry (no address, no PS). */
export function x86LeafBits(f: MapFlags): bigint {
  return P | (f.write ? RW : 0n) | (f.user ? US : 0n) | (f.global ? G : 0n) | (f.execute === false ? XD : 0n) | (f.raw ?? 0n);
}

/** The rights bits protect rewrites in an x86 leaf. */
export const X86_RIGHTS_MASK = RW | US | XD | G;
