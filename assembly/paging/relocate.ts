// move_xen's fix-up of the hypervisor's boot tables after the image moved by
// `delta` bytes: add delta to every valid entry of the root and, below
// it, to every valid non-leaf entry down to the level above the leaf tables; then
// to every entry of l2_xenmap, which must all be large leaves. Unlike a plain
// depth-first loop, each table is fixed once, at the first level it is met, so a
// self-map (the root in its own slot) or a shared table is not relocated twice.
// Everything is checked before anything is written.
//
// Compiled once per entry width, with each table's level rules in locals and one
// physical lookup per table (not per entry), and eight entries ORed and tested
// with one branch (most are empty): the loops the C baseline runs too.
import {
  RES, RES_TABLES_VISITED, RES_RELOCATED, RES_VA, RES_ENTRY_ADDR, RES_ENTRY_VALUE,
  LV_INDEX_MASK, LV_TABLE_ADDR, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_ALLOWED, LV_LEAF_MASK, LV_LEAF_VALUE,
  RELOC_SEEN_BYTES, RELOC_STACK_BYTES, RELOC_STACK_TABLE, RELOC_STACK_LEVEL,
  RELOC_OK, RELOC_XENMAP_4K, RELOC_OUTSIDE_IMAGE, RELOC_TOO_MANY, RELOC_APPLY, RELOC_DRY, RELOC_CHECKED,
} from '../../src/abi';
import { levels, entryBytes, lv, rootMask } from './params';
import { physAddr, physWriteAddr } from '../shared/phys';

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
 * `dry`: RELOC_DRY checks and counts only, RELOC_APPLY writes as it goes,
 * RELOC_CHECKED does the first and then, if all is well, the second.
 * RES_RELOCATED = entries relocated, RES_TABLES_VISITED = tables visited.
 */
export function relocate(root: u64, xenmap: u64, delta: u64, scratch: usize, cap: u32, dry: u32): u32 {
  if (dry == RELOC_CHECKED) {
    const rc = relocate(root, xenmap, delta, scratch, cap, RELOC_DRY);
    if (rc != RELOC_OK) return rc;
    dry = RELOC_APPLY;
  }
  const apply = dry == RELOC_APPLY;
  return entryBytes() == 8 ? pass<u64>(root, xenmap, delta, scratch, cap, apply) : pass<u32>(root, xenmap, delta, scratch, cap, apply);
}

/**
 * The first group of eight entries at or after entry `g` (below `whole`, a
 * multiple of 8) that may hold a valid entry, or `whole`. Most entries of a boot
 * table are empty: each group's entries are ORed (128-bit loads) and tested
 * against the bits every valid entry has set (`need`, the valid value), one
 * branch for eight, as the C baseline does. A function of its own: the loop then
 * keeps everything in registers.
 */
function nextGroup<T>(p: usize, g: u32, whole: u32, need: u32): u32 {
  if (sizeof<T>() == 8) {
    const N = i64x2.splat(<i64>need);
    for (; g < whole; g += 8) {
      const a = p + (<usize>g << 3);
      const x = v128.or(v128.or(v128.load(a), v128.load(a, 16)), v128.or(v128.load(a, 32), v128.load(a, 48)));
      if (v128.any_true(v128.and(x, N))) break;
    }
  } else {
    const N = i32x4.splat(need);
    for (; g < whole; g += 8) {
      const a = p + (<usize>g << 2);
      if (v128.any_true(v128.and(v128.or(v128.load(a), v128.load(a, 16)), N))) break;
    }
  }
  return g;
}

/**
 * Where the next group of entries to look at starts: from `g`, past the groups
 * that hold no valid entry (when the format's valid value `vv` is not 0; with a
 * valid value of 0 an empty entry may be valid, so no group is skipped).
 */
// @ts-ignore: decorator
@inline function skipEmpty<T>(p: usize, g: u32, whole: u32, vv: u32): u32 {
  return vv != 0 && g < whole ? nextGroup<T>(p, g, whole, vv) : g;
}

/** Wasm address of the table [t, t + bytes), or 0 when it is not in the image. */
// @ts-ignore: decorator
@inline function tableAt(t: u64, bytes: u64, apply: bool): usize {
  return apply ? physWriteAddr(t, bytes) : physAddr(t, bytes);
}

function pass<T>(root: u64, xenmap: u64, delta: u64, scratch: usize, cap: u32, apply: bool): u32 {
  const eb = <u32>sizeof<T>();
  const xl = levels() - 2; // l2_xenmap is a table of the level above the leaf tables
  const XL = lv(xl);
  const entries = load<u32>(XL + LV_INDEX_MASK) + 1;
  const xvm = load<u32>(XL + LV_VALID_MASK), xvv = load<u32>(XL + LV_VALID_VALUE);
  const xleaf = load<u32>(XL + LV_LEAF_ALLOWED) != 0;
  const xlm = load<u32>(XL + LV_LEAF_MASK), xlv = load<u32>(XL + LV_LEAF_VALUE);
  root &= rootMask();
  // 1. l2_xenmap must hold large leaves only: a 4 KiB table there cannot be skipped.
  // xenmap is the caller's number, not a masked entry: keep it below 2^63 for physAddr.
  let p: usize = (xenmap >> 62) != 0 ? 0 : physAddr(xenmap, <u64>entries * eb);
  if (p == 0) return fail(RELOC_OUTSIDE_IMAGE, 0, xenmap, 0);
  const xwhole = entries & ~7;
  let g = skipEmpty<T>(p, 0, xwhole, xvv);
  while (g < entries) {
    const gEnd = g < xwhole ? g + 8 : entries;
    for (let s = g; s < gEnd; s++) {
      const e = <u64>load<T>(p + <usize>s * eb);
      const lo = <u32>e;
      if ((lo & xvm) == xvv && !(xleaf && (lo & xlm) == xlv)) return fail(RELOC_XENMAP_4K, <u64>s, xenmap + <u64>s * eb, e);
    }
    g = skipEmpty<T>(p, gEnd, xwhole, xvv);
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
    const vm = load<u32>(L + LV_VALID_MASK), vv = load<u32>(L + LV_VALID_VALUE);
    // Below the root, leaves are skipped: (entry & sm) == sv. At the root (or where
    // no leaf is allowed) nothing is: a zero mask never equals 1.
    const skip = i > 0 && load<u32>(L + LV_LEAF_ALLOWED) != 0;
    const sm = skip ? load<u32>(L + LV_LEAF_MASK) : 0;
    const sv = skip ? load<u32>(L + LV_LEAF_VALUE) : 1;
    const addrBits = load<u64>(L + LV_TABLE_ADDR);
    // Entries of the leaf tables are not touched: descend only into levels above them.
    const descend = i + 1 <= xl;
    p = tableAt(t, <u64>m * eb, apply);
    if (p == 0) return fail(RELOC_OUTSIDE_IMAGE, 0, t, 0);
    const whole = m & ~7;
    let g = skipEmpty<T>(p, 0, whole, vv);
    while (g < m) {
      const gEnd = g < whole ? g + 8 : m;
      for (let s = g; s < gEnd; s++) {
        const a = p + <usize>s * eb;
        const e = <u64>load<T>(a);
        const lo = <u32>e;
        if ((lo & vm) != vv || (lo & sm) == sv) continue;
        const moved = e + delta;
        if (apply) store<T>(a, <T>moved);
        count++;
        if (!descend) continue;
        const child = moved & addrBits;
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
      g = skipEmpty<T>(p, gEnd, whole, vv);
    }
  }
  // 3. The l2_xenmap pass: its large leaves map the image itself. (Looked up again:
  // on an engine over a source, the lookups above may have moved frames.)
  p = tableAt(xenmap, <u64>entries * eb, apply);
  if (p == 0) return fail(RELOC_OUTSIDE_IMAGE, 0, xenmap, 0);
  g = skipEmpty<T>(p, 0, xwhole, xvv);
  while (g < entries) {
    const gEnd = g < xwhole ? g + 8 : entries;
    for (let s = g; s < gEnd; s++) {
      const a = p + <usize>s * eb;
      const e = <u64>load<T>(a);
      if ((<u32>e & xvm) != xvv) continue;
      if (apply) store<T>(a, <T>(e + delta));
      count++;
    }
    g = skipEmpty<T>(p, gEnd, xwhole, xvv);
  }
  store<u64>(RES + RES_RELOCATED, count);
  store<u64>(RES + RES_TABLES_VISITED, <u64>nSeen);
  return RELOC_OK;
}
