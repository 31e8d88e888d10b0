// QEMU 7.2's `info mem` lines made from mapping records, straight into bytes (as
// qemu-tlb.ts makes `info tlb`'s). The monitor merges neighbouring leaves of equal
// protection into ranges and prints one "%016lx-%016lx %016lx %c%c%c\n" a range
// (start, end and size, each canonical; u, r, w or '-'), 55 bytes; an unmapped gap
// ends a range. src/images/qemu-format.ts's InfoMemPrinter is the rule written out
// (the tests hold both to real QEMU captures). The merge state lives in a 24-byte
// block the caller keeps across batches (MS_*), so a listing of any size streams.
import { MR_BYTES, MR_VA, MR_STATUS, ST_PAGE_SHIFT, ST_RIGHTS_SHIFT, R_WRITE, R_USER, MS_START, MS_PROT, MS_CURSOR } from '../../src/abi';
import { hex8 } from './qemu-tlb';

/** Bytes of one `info mem` line. */
const LINE: u32 = 55;
/** MS_START when no range is open (QEMU's all ones). */
const NONE: u64 = <u64>-1;

/** %016lx of QEMU's addr_canonical(x) as two u64 of digits: bit `bits`-1 copied into every bit above. */
// @ts-ignore: decorator
@inline function put16(o: usize, x: u64, bits: u64): void {
  if ((x >> (bits - 1)) & 1) x |= <u64>-1 << bits;
  store<u64>(o, hex8(<u32>(x >> 32)));
  store<u64>(o, hex8(<u32>x), 8);
}

/** Close the open range at `end` when the protection changes; returns the bytes written at `o` (0 or one line). Out of line: four uses. */
function event(st: usize, o: usize, end: u64, prot: u32, bits: u64): u32 {
  const last = load<u32>(st, MS_PROT);
  if (prot == last) return 0;
  const start = load<u64>(st, MS_START);
  let n: u32 = 0;
  if (start != NONE) {
    put16(o, start, bits);
    store<u8>(o, 0x2d, 16); // '-'
    put16(o + 17, end, bits);
    store<u8>(o, 0x20, 33);
    put16(o + 34, end - start, bits);
    // " " then u or -, r, w or -, "\n", from the lowest byte.
    store<u32>(o, 0x2d722d20 + (last & 4 ? 0x7500 - 0x2d00 : 0) + (last & 2 ? 0x77000000 - 0x2d000000 : 0), 50);
    store<u8>(o, 0x0a, 54);
    n = LINE;
  }
  store<u64>(st, prot != 0 ? end : NONE, MS_START);
  store<u32>(st, prot, MS_PROT);
  return n;
}

/**
 * `n` mapping records at `recPtr` (ascending VA) as `info mem` lines at `outPtr`,
 * continuing the ranges of the state block at `st`; with `n` = 0 the listing is
 * over and the last ranges are closed. Returns the bytes written (at most 110 a
 * record, 110 at the end), or -1 when a record starts below the end of the one
 * before it (nothing of it is written). `vaBits`: 48 (4-level) or 57 (LA57).
 */
export function formatMem(recPtr: usize, n: u32, outPtr: usize, vaBits: u32, st: usize): i32 {
  const bits = <u64>vaBits;
  const mask = (<u64>1 << bits) - 1;
  let o = outPtr;
  let cursor = load<u64>(st, MS_CURSOR);
  if (n == 0) {
    const top = <u64>1 << bits;
    if (cursor != top) o += event(st, o, cursor, 0, bits);
    o += event(st, o, top, 0, bits);
    store<u64>(st, top, MS_CURSOR);
    return <i32>(o - outPtr);
  }
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    // The monitor's address: the VA's low vaBits bits.
    const a = load<u64>(r, MR_VA) & mask;
    const status = load<u32>(r, MR_STATUS);
    if (a < cursor) {
      store<u64>(st, cursor, MS_CURSOR);
      return -1;
    }
    const rights = status >> ST_RIGHTS_SHIFT;
    const prot: u32 = 1 | (rights & R_WRITE ? 2 : 0) | (rights & R_USER ? 4 : 0);
    if (a != cursor) o += event(st, o, cursor, 0, bits);
    o += event(st, o, a, prot, bits);
    cursor = a + (<u64>1 << <u64>((status >> ST_PAGE_SHIFT) & 0xff));
  }
  store<u64>(st, cursor, MS_CURSOR);
  return <i32>(o - outPtr);
}
