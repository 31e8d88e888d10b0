// memwalk's JSON lines, one mapping's JSON a line, made from mapping records
// straight into bytes, as memwalk-lines.ts makes the text lines:
//   ,{"va":"0x..","pa":"0x..","size":N,"level":L,"entry":"0x..","rights":{..}}\n
// The addresses are trimmed hex written here; the rest is copied from slots the
// TS layer fills (src/cli/mapping-bytes.ts), so the decimal sizes, the levels'
// numbers and the rights' words stay JavaScript's own (JSON.stringify's text).
import { MR_BYTES, MR_VA, MR_PA, MR_ENTRY, MR_STATUS, ST_PAGE_SHIFT, ST_LEVEL_SHIFT, ST_RIGHTS_SHIFT } from '../../src/abi';

/** The slot tables at `tables`, each slot its length byte then its text. */
const SIZES: usize = 0; // 64 slots of 48 by page shift: `","size":N,"level":`
const LEVELS: usize = 64 * 48; // 16 slots of 16 by level index: `L,"entry":"0x`
const RIGHTS: usize = LEVELS + 16 * 16; // 16 slots of 64 by rights: `","rights":{...}}\n`

/** Lowercase hex digits by nibble, and lane numbers 0..15. */
const DIGITS = i8x16(0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66);
const LANES = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

/** `v` as hex digits without leading zeros ("0" for zero) at `o`; returns the end. Writes 16 bytes. */
// @ts-ignore: decorator
@inline function hexTrim(o: usize, v: u64): usize {
  // Each byte of v, most significant first, twice in a 16-bit lane: its high
  // nibble from the lane shifted right by 4 into the low byte, its low nibble in the high byte.
  const x = i8x16.shuffle(i64x2.splat(v), i64x2.splat(v), 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const nib = v128.and(v128.bitselect(i16x8.shr_u(x, 4), x, i16x8.splat(0x00ff)), i8x16.splat(0x0f));
  // Drop the z leading zero digits by moving lanes down (lane numbers past 15 give 0).
  const z = min<u32>(<u32>clz(v) >> 2, 15);
  v128.store(o, i8x16.swizzle(i8x16.swizzle(DIGITS, nib), i8x16.add(LANES, i8x16.splat(<i8>z))));
  return o + 16 - <usize>z;
}

/** The slot at `t` copied to `o` in `n` 16-byte stores (its text may be shorter); returns the text's end. */
// @ts-ignore: decorator
@inline function slot(o: usize, t: usize, n: u32): usize {
  for (let k: u32 = 0; k < n; k++) v128.store(o + (<usize>k << 4), v128.load(t + 1 + (<usize>k << 4)));
  return o + <usize>load<u8>(t);
}

/**
 * `n` records at `recPtr` as JSON lines at `outPtr`; returns the bytes written.
 * Every line starts with a comma but the first of the listing (`first` != 0).
 * A line is at most 176 bytes and writes up to 64 past its end (the next line
 * overwrites them): 192 bytes of room a line, plus 64.
 */
export function formatJson(recPtr: usize, n: u32, outPtr: usize, tables: usize, first: u32): u32 {
  let o = outPtr;
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    const st = load<u32>(r, MR_STATUS);
    store<u8>(o, 0x2c); // ','
    o += <usize>(i == 0 && first != 0 ? 0 : 1);
    store<u64>(o, 0x30223a226176227b); // {"va":"0
    store<u8>(o, 0x78, 8); // x
    o = hexTrim(o + 9, load<u64>(r, MR_VA));
    store<u64>(o, 0x223a226170222c22); // ","pa":"
    store<u16>(o, 0x7830, 8); // 0x
    o = hexTrim(o + 10, load<u64>(r, MR_PA));
    o = slot(o, tables + SIZES + <usize>((st >> ST_PAGE_SHIFT) & 0x3f) * 48, 3);
    o = slot(o, tables + LEVELS + <usize>((st >> ST_LEVEL_SHIFT) & 0xf) * 16, 1);
    o = hexTrim(o, load<u64>(r, MR_ENTRY));
    o = slot(o, tables + RIGHTS + <usize>((st >> ST_RIGHTS_SHIFT) & 0xf) * 64, 4);
  }
  return <u32>(o - outPtr);
}
