// move_xen's fix-up of the hypervisor's boot tables after the image moved by
// `delta` bytes: add delta to every valid entry of the root and, below
// it, to every valid non-leaf entry down to the level above the leaf tables; then
// to every entry of l2_xenmap, which must all be large leaves. Unlike a plain
// depth-first loop, each table is fixed once, at the first level it is met, so a
// self-map (the root in its own slot) or a shared table is not relocated twice.
// Everything is checked before anything is written.
import {
  RES, RES_TABLES_VISITED, RES_RELOCATED, RES_VA, RES_ENTRY_ADDR, RES_ENTRY_VALUE,
  LV_INDEX_MASK, LV_TABLE_ADDR, RELOC_SEEN_BYTES, RELOC_STACK_BYTES, RELOC_STACK_TABLE, RELOC_STACK_LEVEL,
  RELOC_OK, RELOC_XENMAP_4K, RELOC_OUTSIDE_IMAGE, RELOC_TOO_MANY,
} from '../../src/abi';
import { levels, entryBytes, lv, loadEntry, storeEntry, isValid, isLeaf, rootMask } from './params';
import { physAddr, physWriteAddr } from '../shared/phys';

/** The entry at `ea`, which the caller checked lies in the image. */
// @ts-ignore: decorator
@inline function entry(ea: u64, eb: u32): u64 { return loadEntry(physAddr(ea, eb), eb); }
// @ts-ignore: decorator
@inline function setEntry(ea: u64, eb: u32, v: u64): void { storeEntry(physWriteAddr(ea, eb), eb, v); }
// @ts-ignore: decorator
@inline function seenAt(scratch: usize, k: u32): usize { return scratch + <usize>k * RELOC_SEEN_BYTES; }
// @ts-ignore: decorator
@inline function stackAt(stack: usize, k: u32): usize { return stack + <usize>k * RELOC_STACK_BYTES; }

function fail(code: u32, va: u64, ea: u64, e: u64): u32 {
  store<u64>(RES + RES_VA, va);
  store<u64>(RES + RES_ENTRY_ADDR, ea);
  store<u64>(RES + RES_ENTRY_VALUE, e);
  return code;
}

/**
 * `root` and `xenmap` are the tables' new addresses (in the moved copy). The
 * scratch holds `cap` table addresses seen, then `cap` RELOC_STACK records.
 * Dry run: checks and counts only. RES_RELOCATED = entries relocated,
 * RES_TABLES_VISITED = tables visited.
 */
export function relocate(root: u64, xenmap: u64, delta: u64, scratch: usize, cap: u32, dry: u32): u32 {
  const n = levels();
  const eb = entryBytes();
  const xl = n - 2; // l2_xenmap is a table of the level above the leaf tables
  const XL = lv(xl);
  const entries = load<u32>(XL + LV_INDEX_MASK) + 1;
  root &= rootMask();
  // 1. l2_xenmap must hold large leaves only: a 4 KiB table there cannot be skipped.
  // xenmap is the caller's number, not a masked entry: keep it below 2^63 for physAddr.
  if ((xenmap >> 62) != 0 || physAddr(xenmap, <u64>entries * eb) == 0) return fail(RELOC_OUTSIDE_IMAGE, 0, xenmap, 0);
  for (let s: u32 = 0; s < entries; s++) {
    const ea = xenmap + <u64>(s * eb);
    const e = entry(ea, eb);
    if (isValid(XL, e) && !isLeaf(XL, e)) return fail(RELOC_XENMAP_4K, <u64>s, ea, e);
  }
  // 2. The non-leaf pass: a depth-first walk over tables, each visited once.
  const seen = scratch;
  const stack = seenAt(scratch, cap);
  let nSeen: u32 = 1;
  let top: u32 = 1;
  store<u64>(seen, root);
  store<u64>(stack + RELOC_STACK_TABLE, root);
  store<u32>(stack + RELOC_STACK_LEVEL, 0);
  let count: u64 = 0;
  while (top > 0) {
    top--;
    const t = load<u64>(stackAt(stack, top) + RELOC_STACK_TABLE);
    const i = <i32>load<u32>(stackAt(stack, top) + RELOC_STACK_LEVEL);
    const L = lv(i);
    const m = load<u32>(L + LV_INDEX_MASK) + 1;
    if (physAddr(t, <u64>m * eb) == 0) return fail(RELOC_OUTSIDE_IMAGE, 0, t, 0);
    for (let s: u32 = 0; s < m; s++) {
      const ea = t + <u64>(s * eb);
      const e = entry(ea, eb);
      if (!isValid(L, e) || (i > 0 && isLeaf(L, e))) continue;
      const moved = e + delta;
      if (dry == 0) setEntry(ea, eb, moved);
      count++;
      // Entries of the leaf tables are not touched: descend only into levels above them.
      if (i + 1 > xl) continue;
      const child = moved & load<u64>(L + LV_TABLE_ADDR);
      let known = false;
      for (let k: u32 = 0; k < nSeen; k++) {
        if (load<u64>(seenAt(seen, k)) == child) {
          known = true;
          break;
        }
      }
      if (known) continue;
      if (nSeen == cap || top == cap) return fail(RELOC_TOO_MANY, 0, child, 0);
      store<u64>(seenAt(seen, nSeen), child);
      nSeen++;
      store<u64>(stackAt(stack, top) + RELOC_STACK_TABLE, child);
      store<u32>(stackAt(stack, top) + RELOC_STACK_LEVEL, <u32>(i + 1));
      top++;
    }
  }
  // 3. The l2_xenmap pass: its large leaves map the image itself.
  for (let s: u32 = 0; s < entries; s++) {
    const ea = xenmap + <u64>(s * eb);
    const e = entry(ea, eb);
    if (!isValid(XL, e)) continue;
    if (dry == 0) setEntry(ea, eb, e + delta);
    count++;
  }
  store<u64>(RES + RES_RELOCATED, count);
  store<u64>(RES + RES_TABLES_VISITED, <u64>nSeen);
  return RELOC_OK;
}
