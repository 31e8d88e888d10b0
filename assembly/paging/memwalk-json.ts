// memwalk's JSON lines, one mapping's JSON a line, made from mapping records
// straight into bytes, as memwalk-lines.ts makes the text lines:
//   ,{"va":"0x..","pa":"0x..","size":N,"level":L,"entry":"0x..","rights":{..}}\n
// The addresses are trimmed hex written here; the rest is copied from slots the
// TS layer fills (src/cli/mapping-bytes.ts), so the decimal sizes, the levels'
// numbers and the rights' words stay JavaScript's own (JSON.stringify's text).
import { MR_BYTES, MR_VA, MR_PA, MR_ENTRY, MR_STATUS, ST_PAGE_SHIFT, ST_LEVEL_SHIFT, ST_RIGHTS_SHIFT } from '../../src/abi';
import { hex8 } from './qemu-tlb';

/** The slot tables at `tables`, each slot its length byte then its text. */
const SIZES: usize = 0; // 64 slots of 48 by page shift: `","size":N,"level":`
const LEVELS: usize = 64 * 48; // 16 slots of 16 by level index: `L,"entry":"0x`
const RIGHTS: usize = LEVELS + 16 * 16; // 16 slots of 64 by rights: `","rights":{...}}\n`

/** hex8(`v`) without its leading zeros: the digits from the lowest byte. */
// @ts-ignore: decorator
@inline function head(v: u32): u64 {
  // hex8 puts the most significant digit in the lowest byte: shifting right drops leading zeros.
  return hex8(v) >> (<u64>(clz(v) >> 2) << 3);
}

/** Digits of `head(v)` (at least 1). */
// @ts-ignore: decorator
@inline function headLen(v: u32): usize {
  return 8 - <usize>min<u32>(clz(v) >> 2, 7);
}

/**
 * The u64 hi:lo as hex digits without leading zeros ("0" for zero) at `o`; returns
 * the end. `hiHead` is head(hi): neighbouring lines share their upper halves, so the
 * caller keeps it. Writes up to 16 bytes.
 */
// @ts-ignore: decorator
@inline function hexTrim(o: usize, hi: u32, hiHead: u64, lo: u32): usize {
  if (hi != 0) {
    store<u64>(o, hiHead);
    o += headLen(hi);
    store<u64>(o, hex8(lo));
    return o + 8;
  }
  store<u64>(o, head(lo));
  return o + headLen(lo);
}

/** The slot at `t` copied to `o` in `words` u64 stores (its text may be shorter); returns the text's end. */
// @ts-ignore: decorator
@inline function slot(o: usize, t: usize, words: u32): usize {
  for (let k: u32 = 0; k < words; k++) store<u64>(o + (<usize>k << 3), load<u64>(t + 1 + (<usize>k << 3)));
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
  // The upper halves of the last line's VA, PA and entry, and their digits.
  let vaHi: u32 = 0, vaHead: u64 = 0, paHi: u32 = 0, paHead: u64 = 0, eHi: u32 = 0, eHead: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    const st = load<u32>(r, MR_STATUS);
    const va = load<u64>(r, MR_VA), pa = load<u64>(r, MR_PA), e = load<u64>(r, MR_ENTRY);
    if (<u32>(va >> 32) != vaHi) {
      vaHi = <u32>(va >> 32);
      vaHead = head(vaHi);
    }
    if (<u32>(pa >> 32) != paHi) {
      paHi = <u32>(pa >> 32);
      paHead = head(paHi);
    }
    if (<u32>(e >> 32) != eHi) {
      eHi = <u32>(e >> 32);
      eHead = head(eHi);
    }
    store<u8>(o, 0x2c); // ','
    o += <usize>(i == 0 && first != 0 ? 0 : 1);
    store<u64>(o, 0x30223a226176227b); // {"va":"0
    store<u8>(o, 0x78, 8); // x
    o = hexTrim(o + 9, vaHi, vaHead, <u32>va);
    store<u64>(o, 0x223a226170222c22); // ","pa":"
    store<u16>(o, 0x7830, 8); // 0x
    o = hexTrim(o + 10, paHi, paHead, <u32>pa);
    o = slot(o, tables + SIZES + <usize>((st >> ST_PAGE_SHIFT) & 0x3f) * 48, 5);
    o = slot(o, tables + LEVELS + <usize>((st >> ST_LEVEL_SHIFT) & 0xf) * 16, 2);
    o = hexTrim(o, eHi, eHead, <u32>e);
    o = slot(o, tables + RIGHTS + <usize>((st >> ST_RIGHTS_SHIFT) & 0xf) * 64, 8);
  }
  return <u32>(o - outPtr);
}
