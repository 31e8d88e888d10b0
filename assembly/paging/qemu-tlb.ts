// QEMU 7.2's `info tlb` lines made from mapping records, straight into bytes: the
// listing's text costs a few stores a line instead of strings per line. One line:
// "%016lx: %016lx %s\n" of the canonical VA, the frame (entry bits 12..49 above the
// page offset) and the flags X G P D A C T U W, 45 bytes (src/images/qemu-format.ts
// says why each field is what it is).
import { MR_BYTES, MR_VA, MR_ENTRY, MR_STATUS, ST_PAGE_SHIFT } from '../../src/abi';

/** Bytes of one `info tlb` line. */
const LINE: u32 = 45;

/** Eight lowercase hex digits of `v`, most significant first, as the bytes of a u64. */
// @ts-ignore: decorator
@inline export function hex8(v: u32): u64 {
  // One nibble a byte, the most significant in the lowest byte: halves, then
  // bytes, then nibbles, each time the upper part into the lower lane.
  let x = <u64>(v >> 16) | (<u64>(v & 0xffff) << 32);
  x = ((x >> 8) & 0x000000ff000000ff) | ((x & 0x000000ff000000ff) << 16);
  x = ((x >> 4) & 0x000f000f000f000f) | ((x & 0x000f000f000f000f) << 8);
  // '0'..'9' for 0..9, 'a'..'f' for 10..15: add 0x27 more where the nibble is above 9.
  const above9 = ((x + 0x0606060606060606) >> 4) & 0x0101010101010101;
  return x + 0x3030303030303030 + above9 * 0x27;
}

/** Lowercase hex digits by nibble. */
const DIGITS = i8x16(0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66);
/** Flag letters G P D A C T U W (entry bits 8..1) in byte order, and dashes. */
const LETTERS = i64x2.splat(0x5755544341445047); // "GPDACTUW" from the lowest byte
const DASHES = i8x16.splat(0x2d);

/**
 * `n` records at `recPtr` as `info tlb` lines at `outPtr`; returns the bytes written
 * (45 a line). `vaBits`: 48 (4-level) or 57 (LA57), the bit QEMU sign-extends from.
 * The digits of a line's VA and frame are made together in one vector (the low
 * 32 bits of each; the high halves of neighbouring lines rarely differ, so their
 * digits are kept), and the flags by a vector select: a line costs about half the
 * scalar operations of a digit at a time in 64-bit lanes.
 */
export function formatTlb(recPtr: usize, n: u32, outPtr: usize, vaBits: u32): u32 {
  const cs = <u64>(64 - vaBits);
  let vaHi: u32 = 0, vaHiHex = hex8(0), paHi: u32 = 0, paHiHex = vaHiHex;
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    const o = outPtr + <usize>i * LINE;
    const va = <u64>(<i64>(load<u64>(r + MR_VA) << cs) >> <i64>cs);
    const e = load<u64>(r + MR_ENTRY);
    const shift = <u64>((load<u32>(r + MR_STATUS) >> ST_PAGE_SHIFT) & 0xff);
    const pa = e & 0x3fffffffff000 & (<u64>-1 << shift);
    if (<u32>(va >> 32) != vaHi) {
      vaHi = <u32>(va >> 32);
      vaHiHex = hex8(vaHi);
    }
    if (<u32>(pa >> 32) != paHi) {
      paHi = <u32>(pa >> 32);
      paHiHex = hex8(paHi);
    }
    // Bytes 3..0 of the VA's low half, then of the frame's, each twice (16-bit
    // lanes): the high nibble shifted down into the low byte, the low nibble in
    // the high byte, looked up as digits.
    const v = i64x2.replace_lane(i64x2.splat(va), 1, pa);
    const x = i8x16.shuffle(v, v, 3, 3, 2, 2, 1, 1, 0, 0, 11, 11, 10, 10, 9, 9, 8, 8);
    const nib = v128.and(v128.bitselect(i16x8.shr_u(x, 4), x, i16x8.splat(0x00ff)), i8x16.splat(0x0f));
    const digits = i8x16.swizzle(DIGITS, nib);
    // Bit 7 of a 4 KiB leaf is PAT, not PS: QEMU prints it as '-'. Byte k of the
    // product is nonzero when entry bit 8-k is set: a letter there, else a dash.
    const bits = <u32>e & (shift == 12 ? 0x17e : 0x1fe);
    const set = (<u64>(bits >> 1) * 0x0101010101010101) & 0x0102040810204080;
    const flags = v128.bitselect(DASHES, LETTERS, i8x16.eq(i64x2.splat(set), i64x2.splat(0)));
    store<u64>(o, vaHiHex);
    v128.store64_lane(o + 8, digits, 0);
    store<u16>(o + 16, 0x203a); // ": "
    store<u64>(o + 18, paHiHex);
    v128.store64_lane(o + 26, digits, 1);
    store<u16>(o + 34, e >> 63 ? 0x5820 : 0x2d20); // " X" or " -"
    v128.store64_lane(o + 36, flags, 0);
    store<u8>(o + 44, 0x0a);
  }
  return n * LINE;
}
