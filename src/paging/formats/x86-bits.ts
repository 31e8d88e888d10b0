// The x86 entry bits, named once (Intel SDM vol. 3, section 4.5, tables 4-14 to
// 4-20; AMD APM vol. 2, 5.3), and how map's flags become leaf bits. Code that
// reads or writes x86 entries by hand (xen/, tests) takes the bits from here.
import { bit, bitRange, type MapFlags } from '../format.js';

/** Present. */
export const P = 1n;
/** Read/write: writes allowed through this entry. */
export const RW = 2n;
/** User/supervisor: user-mode accesses allowed through this entry. */
export const US = 4n;
/** Page-level write-through. */
export const PWT = 8n;
/** Page-level cache disable. */
export const PCD = 0x10n;
/** Accessed (set by the walker). */
export const A = 0x20n;
/** Dirty (set by the walker on a write; leaves only). */
export const D = 0x40n;
/** Page size: a leaf above the page-table level (PAT in a 4 KiB leaf). */
export const PS = 0x80n;
/** Global (leaves only). */
export const G = 0x100n;
/** Execute-disable (Intel's XD, AMD's NX); reserved unless EFER.NXE. */
export const XD = bit(63);
export const NX = XD;

/** The address of the next table or of a 4 KiB page in a 64-bit entry (bits 51:12). */
export const ADDR_4K = bitRange(12, 51);
/** The address of a 2 MiB leaf (bits 51:21). */
export const ADDR_2M = bitRange(21, 51);
/** The address of a 1 GiB leaf (bits 51:30). */
export const ADDR_1G = bitRange(30, 51);

/** The leaf bits of `flags` in an x86 entry (no address, no PS). */
export function x86LeafBits(f: MapFlags): bigint {
  return P | (f.write ? RW : 0n) | (f.user ? US : 0n) | (f.global ? G : 0n) | (f.execute === false ? XD : 0n) | (f.raw ?? 0n);
}

/** The rights bits protect rewrites in an x86 leaf. */
export const X86_RIGHTS_MASK = RW | US | XD | G;
