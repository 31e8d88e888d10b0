// move_xen's fix-up of the hypervisor's boot tables after the image moved by
// `delta` bytes (seed 000): add delta to every valid entry of the root and, below
// it, to every valid non-leaf entry down to the level above the leaf tables; then
// to every entry of l2_xenmap, which must all be large leaves. Unlike a plain
// depth-first loop, each table is fixed once, at the first level it is met, so a
// self-map (the root in its own slot) or a shared table is not relocated twice.
// Everything is checked before anything is written.
import {
  RES, RES_PA, RES_COUNT, RES_VA, RES_ENTRY_ADDR, RES_ENTRY_VALUE,
  LV_INDEX_MASK, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_MASK, LV_LEAF_VALUE, LV_LEAF_ALLOWED, LV_TABLE_ADDR,
  RELOC_OK, RELOC_XENMAP_4K, RELOC_OUTSIDE_IMAGE, RELOC_TOO_MANY,
} from '../../src/abi';
import { levels, entryBytes, lv, readEntry, writeEntry, inImage, rootMask } from './params';

// @ts-ignore: decorator
@inline function valid(L: usize, e: u64): bool {
  return (<u32>e & load<u32>(L + LV_VALID_MASK)) == load<u32>(L + LV_VALID_VALUE);
}
// @ts-ignore: decorator
@inline function leaf(L: usize, e: u64): bool {
  return load<u32>(L + LV_LEAF_ALLOWED) != 0 && (<u32>e & load<u32>(L + LV_LEAF_MASK)) == load<u32>(L + LV_LEAF_VALUE);
}

function fail(code: u32, va: u64, ea: u64, e: u64): u32 {
  store<u64>(RES + RES_VA, va);
  store<u64>(RES + RES_ENTRY_ADDR, ea);
  store<u64>(RES + RES_ENTRY_VALUE, e);
  return code;
}

/**
 * `root` and `xenmap` are the tables' new addresses (in the moved copy). The
 * scratch holds `cap` u64 table addresses seen, then `cap` stack slots of 16
 * bytes. Dry run: checks and counts only. RES_COUNT = entries relocated,
 * RES_PA = tables visited.
 */
export function relocate(root: u64, xenmap: u64, delta: u64, scratch: usize, cap: u32, dry: u32): u32 {
  const n = levels();
  const eb = entryBytes();
  const xl = n - 2; // l2_xenmap is a table of the level above the leaf tables
  const XL = lv(xl);
  const entries = load<u32>(XL + LV_INDEX_MASK) + 1;
  root &= rootMask();
  // 1. l2_xenmap must hold large leaves only: a 4 KiB table there cannot be skipped.
  if (!inImage(xenmap, <u64>entries * eb)) return fail(RELOC_OUTSIDE_IMAGE, 0, xenmap, 0);
  for (let s: u32 = 0; s < entries; s++) {
    const ea = xenmap + <u64>(s * eb);
    const e = readEntry(ea, eb);
    if (valid(XL, e) && !leaf(XL, e)) return fail(RELOC_XENMAP_4K, <u64>s, ea, e);
  }
  // 2. The non-leaf pass: a depth-first walk over tables, each visited once.
  const seen = scratch;
  const stack = scratch + (<usize>cap << 3);
  let nSeen: u32 = 1;
  let top: u32 = 1;
  store<u64>(seen, root);
  store<u64>(stack, root);
  store<u32>(stack, 0, 8);
  let count: u64 = 0;
  while (top > 0) {
    top--;
    const t = load<u64>(stack + (<usize>top << 4));
    const i = <i32>load<u32>(stack + (<usize>top << 4), 8);
    const L = lv(i);
    const m = load<u32>(L + LV_INDEX_MASK) + 1;
    if (!inImage(t, <u64>m * eb)) return fail(RELOC_OUTSIDE_IMAGE, 0, t, 0);
    for (let s: u32 = 0; s < m; s++) {
      const ea = t + <u64>(s * eb);
      const e = readEntry(ea, eb);
      if (!valid(L, e) || (i > 0 && leaf(L, e))) continue;
      const moved = e + delta;
      if (dry == 0) writeEntry(ea, eb, moved);
      count++;
      // Entries of the leaf tables are not touched: descend only into levels above them.
      if (i + 1 > xl) continue;
      const child = moved & load<u64>(L + LV_TABLE_ADDR);
      let known = false;
      for (let k: u32 = 0; k < nSeen; k++) {
        if (load<u64>(seen + (<usize>k << 3)) == child) {
          known = true;
          break;
        }
      }
      if (known) continue;
      if (nSeen == cap || top == cap) return fail(RELOC_TOO_MANY, 0, child, 0);
      store<u64>(seen + (<usize>nSeen << 3), child);
      nSeen++;
      store<u64>(stack + (<usize>top << 4), child);
      store<u32>(stack + (<usize>top << 4), <u32>(i + 1), 8);
      top++;
    }
  }
  // 3. The l2_xenmap pass: its large leaves map the image itself.
  for (let s: u32 = 0; s < entries; s++) {
    const ea = xenmap + <u64>(s * eb);
    const e = readEntry(ea, eb);
    if (!valid(XL, e)) continue;
    if (dry == 0) writeEntry(ea, eb, e + delta);
    count++;
  }
  store<u64>(RES + RES_COUNT, count);
  store<u64>(RES + RES_PA, <u64>nSeen);
  return RELOC_OK;
}
