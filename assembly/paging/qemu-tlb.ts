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

/** Flag letters G P D A C T U W (entry bits 8..1) in byte order. */
const LETTERS: u64 = 0x5755544341445047; // "GPDACTUW" from the lowest byte
const DASHES: u64 = 0x2d2d2d2d2d2d2d2d;

/**
 * `n` records at `recPtr` as `info tlb` lines at `outPtr`; returns the bytes written
 * (45 a line). `vaBits`: 48 (4-level) or 57 (LA57), the bit QEMU sign-extends from.
 */
export function formatTlb(recPtr: usize, n: u32, outPtr: usize, vaBits: u32): u32 {
  const cs = <u64>(64 - vaBits);
  // The upper halves of neighbouring lines' VA and frame rarely differ: their digits are kept.
  let vaHi: u32 = 0, vaHiHex = hex8(0), paHi: u32 = 0, paHiHex = vaHiHex;
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    const o = outPtr + <usize>i * LINE;
    const va = <u64>(<i64>(load<u64>(r + MR_VA) << cs) >> <i64>cs);
    const e = load<u64>(r + MR_ENTRY);
    const shift = <u64>((load<u32>(r + MR_STATUS) >> ST_PAGE_SHIFT) & 0xff);
    const pa = e & 0x3fffffffff000 & (<u64>-1 << shift);
    // Bit 7 of a 4 KiB leaf is PAT, not PS: QEMU prints it as '-'.
    const bits = <u32>e & (shift == 12 ? 0x17e : 0x1fe);
    // Byte k of the flags is 0xff when entry bit 8-k is set: the bits copied to
    // every byte, byte k keeping its own, each nonzero byte widened to 0xff.
    const x = (<u64>(bits >> 1) * 0x0101010101010101) & 0x0102040810204080;
    const spread = (((((x + 0x7f7f7f7f7f7f7f7f) | x) & 0x8080808080808080) >> 7) * 0xff);
    if (<u32>(va >> 32) != vaHi) {
      vaHi = <u32>(va >> 32);
      vaHiHex = hex8(vaHi);
    }
    if (<u32>(pa >> 32) != paHi) {
      paHi = <u32>(pa >> 32);
      paHiHex = hex8(paHi);
    }
    store<u64>(o, vaHiHex);
    store<u64>(o + 8, hex8(<u32>va));
    store<u16>(o + 16, 0x203a); // ": "
    store<u64>(o + 18, paHiHex);
    store<u64>(o + 26, hex8(<u32>pa));
    store<u16>(o + 34, e >> 63 ? 0x5820 : 0x2d20); // " X" or " -"
    store<u64>(o + 36, (DASHES & ~spread) | (LETTERS & spread));
    store<u8>(o + 44, 0x0a);
  }
  return n * LINE;
}
