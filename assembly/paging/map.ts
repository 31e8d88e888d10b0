// map / unmap / protect over any format. Each runs twice when called by the TS
// layer: a dry run that reads only (finds conflicts, counts the table pages a
// map needs) and then the real run, which cannot fail for a reason the dry run
// did not report. So an operation either happens whole or leaves memory untouched.
import {
  RES, RES_TABLES_NEEDED, RES_LEAVES, RES_VA, RES_ENTRY_ADDR, RES_ENTRY_VALUE, WP, WP_MAX_LEAF,
  LV_SHIFT, LV_INDEX_MASK, LV_LEAF_ALLOWED,
  LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_TABLE,
  LV_TABLE_TEMPLATE, LV_LEAF_TEMPLATE, WF_CHECK_RSVD,
  MAP_OK, MAP_ALREADY_MAPPED, MAP_INSIDE_LEAF, MAP_OUTSIDE_IMAGE, MAP_POOL_EMPTY, MAP_SPLITS_LEAF, MAP_BAD_ENTRY,
  MAP_PA_UNREPRESENTABLE,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, loadEntry, storeEntry, isValid, isLeaf, rootMask } from './params';
import { physAddr, physWriteAddr } from '../shared/phys';

let count: u64 = 0;
let poolPtr: usize = 0;
let poolLeft: u32 = 0;

// @ts-ignore: decorator
@inline function conflict(code: u32, va: u64, ea: u64, e: u64): u32 {
  store<u64>(RES + RES_VA, va);
  store<u64>(RES + RES_ENTRY_ADDR, ea);
  store<u64>(RES + RES_ENTRY_VALUE, e);
  return code;
}

/** Bytes from `va` to the end of its entry's span at `shift`, wrapping at 2^64. */
// @ts-ignore: decorator
@inline function toSpanEnd(va: u64, shift: u64): u64 {
  return (((va >> shift) + 1) << shift) - va;
}

const ABSENT: u64 = <u64>-1;

/** Address bits of a leaf at level record `L` for output `pa`. */
// @ts-ignore: decorator
@inline function leafAddrBits(L: usize, pa: u64): u64 {
  return (pa & load<u64>(L + LV_LEAF_ADDR)) | ((pa >> <u64>load<u32>(L + LV_LEAF_EXT_SHIFT)) & load<u64>(L + LV_LEAF_EXT_MASK));
}

/** Can a leaf here hold output `pa` (no address bit lost, e.g. above MAXPHYADDR or 4 GiB)? */
// @ts-ignore: decorator
@inline function representable(L: usize, pa: u64): bool {
  const a = leafAddrBits(L, pa);
  return ((a & load<u64>(L + LV_LEAF_ADDR)) | ((a & load<u64>(L + LV_LEAF_EXT_MASK)) << <u64>load<u32>(L + LV_LEAF_EXT_SHIFT))) == pa;
}

function mapLevel(table: u64, i: i32, va: u64, pa: u64, size: u64, leafBits: u64, dry: bool): u32 {
  const L = lv(i);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const span: u64 = <u64>1 << shift;
  const eb = entryBytes();
  const maxLeaf = <i32>load<u32>(WP + WP_MAX_LEAF);
  const leafHere = load<u32>(L + LV_LEAF_ALLOWED) != 0 && i >= maxLeaf;
  let off: u64 = 0;
  while (off < size) {
    const cva = va + off;
    const cpa = pa + off;
    const left = size - off;
    const room = toSpanEnd(cva, shift);
    const chunk = room < left ? room : left;
    // The superpage rule: a leaf here only when va, pa and length all fit it exactly.
    const asLeaf = leafHere && chunk == span && (cpa & (span - 1)) == 0;
    let r: u32 = MAP_OK;
    if (table == ABSENT) {
      if (asLeaf) {
        if (!representable(L, cpa)) return conflict(MAP_PA_UNREPRESENTABLE, cva, 0, 0);
      } else {
        count++;
        r = mapLevel(ABSENT, i + 1, cva, cpa, chunk, leafBits, dry);
      }
    } else {
      const idx = <u32>(cva >> shift) & load<u32>(L + LV_INDEX_MASK);
      const ea = table + <u64>(idx * eb);
      const a = physAddr(ea, eb);
      if (a == 0) return conflict(MAP_OUTSIDE_IMAGE, cva, ea, 0);
      const e = loadEntry(a, eb);
      const valid = isValid(L, e);
      if (asLeaf) {
        if (valid) return conflict(MAP_ALREADY_MAPPED, cva, ea, e);
        if (!representable(L, cpa)) return conflict(MAP_PA_UNREPRESENTABLE, cva, ea, e);
        if (!dry) {
          storeEntry(physWriteAddr(ea, eb), eb, load<u64>(L + LV_LEAF_TEMPLATE) | leafBits | leafAddrBits(L, cpa));
          count++;
        }
      } else if (valid) {
        if (isLeaf(L, e)) return conflict(MAP_INSIDE_LEAF, cva, ea, e);
        if ((walkFlags() & WF_CHECK_RSVD) && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) return conflict(MAP_BAD_ENTRY, cva, ea, e);
        r = mapLevel(e & load<u64>(L + LV_TABLE_ADDR), i + 1, cva, cpa, chunk, leafBits, dry);
      } else if (dry) {
        count++;
        r = mapLevel(ABSENT, i + 1, cva, cpa, chunk, leafBits, dry);
      } else {
        if (poolLeft == 0) return conflict(MAP_POOL_EMPTY, cva, ea, e);
        const t = load<u64>(poolPtr);
        poolPtr += 8;
        poolLeft--;
        const tableBytes = <usize>(load<u32>(lv(i + 1) + LV_INDEX_MASK) + 1) * eb;
        // The caller checked every pool frame is in the image.
        // A new table may span frames (64 KiB granule): zero it frame by frame.
        for (let z: usize = 0; z < tableBytes; z += 0x1000) {
          const n = tableBytes - z < 0x1000 ? tableBytes - z : 0x1000;
          memory.fill(physWriteAddr(t + <u64>z, <u64>n), 0, n);
        }
        storeEntry(physWriteAddr(ea, eb), eb, load<u64>(L + LV_TABLE_TEMPLATE) | (t & load<u64>(L + LV_TABLE_ADDR)));
        r = mapLevel(t, i + 1, cva, cpa, chunk, leafBits, dry);
      }
    }
    if (r != MAP_OK) return r;
    off += chunk;
  }
  return MAP_OK;
}

/**
 * Map [va, va+size) to [pa, pa+size). Dry run: RES_TABLES_NEEDED = table pages
 * needed. Real run: tables come from the u64 frame addresses at `pool` (the dry
 * run's count of them, checked to be inside the image), RES_LEAVES = leaves written.
 */
export function mapRange(root: u64, va: u64, pa: u64, size: u64, leafBits: u64, pool: usize, poolCount: u32, dry: u32): u32 {
  count = 0;
  poolPtr = pool;
  poolLeft = poolCount;
  const r = mapLevel(root & rootMask(), 0, va, pa, size, leafBits, dry != 0);
  store<u64>(RES + (dry != 0 ? RES_TABLES_NEEDED : RES_LEAVES), count);
  return r;
}

/** op 0: unmap (clear leaves); op 1: protect (entry = entry & ~clear | set). */
function editLevel(table: u64, i: i32, va: u64, size: u64, op: u32, set: u64, clear: u64, dry: bool): u32 {
  const L = lv(i);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const span: u64 = <u64>1 << shift;
  const eb = entryBytes();
  let off: u64 = 0;
  while (off < size) {
    const cva = va + off;
    const left = size - off;
    const room = toSpanEnd(cva, shift);
    const chunk = room < left ? room : left;
    const idx = <u32>(cva >> shift) & load<u32>(L + LV_INDEX_MASK);
    const ea = table + <u64>(idx * eb);
    off += chunk;
    const a = physAddr(ea, eb);
    // A table outside the image maps nothing (it reads as zeros): nothing to edit.
    if (a == 0) continue;
    const e = loadEntry(a, eb);
    if (!isValid(L, e)) continue;
    if (isLeaf(L, e)) {
      if (chunk != span) return conflict(MAP_SPLITS_LEAF, cva, ea, e);
      if (!dry) storeEntry(physWriteAddr(ea, eb), eb, op == 0 ? 0 : (e & ~clear) | set);
      count++;
      continue;
    }
    if ((walkFlags() & WF_CHECK_RSVD) && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) return conflict(MAP_BAD_ENTRY, cva, ea, e);
    if (i + 1 >= levels()) continue;
    const r = editLevel(e & load<u64>(L + LV_TABLE_ADDR), i + 1, cva, chunk, op, set, clear, dry);
    if (r != MAP_OK) return r;
  }
  return MAP_OK;
}

/** Clear every leaf in [va, va+size); RES_LEAVES = leaves (that would be) cleared. */
export function unmapRange(root: u64, va: u64, size: u64, dry: u32): u32 {
  count = 0;
  const r = editLevel(root & rootMask(), 0, va, size, 0, 0, 0, dry != 0);
  store<u64>(RES + RES_LEAVES, count);
  return r;
}

/** Rewrite the flags of every leaf in [va, va+size); RES_LEAVES = leaves changed. */
export function protectRange(root: u64, va: u64, size: u64, set: u64, clear: u64, dry: u32): u32 {
  count = 0;
  const r = editLevel(root & rootMask(), 0, va, size, 1, set, clear, dry != 0);
  store<u64>(RES + RES_LEAVES, count);
  return r;
}
