// The read-only M2P slot of L4 tables (slot 256), and the flat census of the
// type column.
import {
  RO_MPT_SLOT, RO_MPT_LO, RO_MPT_HI, PGT_L4, OWNER_BIAS, FR_FILLED, FR_VISITED,
  FILL_ALREADY, FILL_DONE, FILL_OUTSIDE,
} from '../../src/abi';
import { FRAMES, COL_TYPE, COL_OWNER } from '../shared/layout';
import { NULL, RAM_FRAMES, tableEntry, setTableEntry, fr } from './state';

const RO_MPT: u64 = (<u64>RO_MPT_HI << 32) | <u64>RO_MPT_LO;

/** fill_ro_mpt: write the idle table's RO_MPT entry if the slot is empty. */
// @ts-ignore: decorator
@inline export function fillSlot(f: u32): bool {
  if (tableEntry(f, RO_MPT_SLOT) != 0) return false;
  setTableEntry(f, RO_MPT_SLOT, RO_MPT);
  return true;
}

export function fillRoMpt(f: u32): u32 {
  if (f >= RAM_FRAMES) return FILL_OUTSIDE;
  return fillSlot(f) ? FILL_DONE : FILL_ALREADY;
}

/** zap_ro_mpt: empty the slot. */
export function zapRoMpt(f: u32): u32 {
  if (f >= RAM_FRAMES) return FILL_OUTSIDE;
  setTableEntry(f, RO_MPT_SLOT, 0);
  return FILL_DONE;
}

/**
 * Count the frames of [from, to) whose type_info bits 28..31 (type and validated)
 * equal `key` = type * 2 + validated and, unless `d` is FRAME_NULL, owned by
 * domain `d`. Reads the type column, and the owner column only for matches. For
 * L4 keys, FR_FILLED = those with the RO_MPT slot set. FR_VISITED = frames scanned.
 */
export function census(key: u32, d: u32, from: u32, to: u32): u32 {
  if (to > FRAMES) to = FRAMES;
  if (from > to) from = to;
  const col = COL_TYPE;
  let n: u32 = 0;
  let filled: u32 = 0;
  let f = from;
  // Sixteen frames per step, one branch: most steps hold no match.
  const end16 = to - ((to - from) & 15);
  const k = i32x4.splat(key);
  while (f < end16) {
    if (anyOf16(col + (<usize>f << 2), k)) {
      for (let g = f; g < f + 16; g++) {
        const c = countOne(g, key, d);
        n += c & 1;
        filled += c >>> 1;
      }
    }
    f += 16;
  }
  for (; f < to; f++) {
    const c = countOne(f, key, d);
    n += c & 1;
    filled += c >>> 1;
  }
  fr(FR_FILLED, filled);
  fr(FR_VISITED, to - from);
  return n;
}

/**
 * Does any of the 16 type_info words at `p` have bits 28..31 equal to the key
 * splatted in `k`? Four 128-bit loads, shifts and compares, one branch.
 */
// @ts-ignore: decorator
@inline export function anyOf16(p: usize, k: v128): bool {
  const a = v128.or(i32x4.eq(i32x4.shr_u(v128.load(p), 28), k), i32x4.eq(i32x4.shr_u(v128.load(p, 16), 28), k));
  const b = v128.or(i32x4.eq(i32x4.shr_u(v128.load(p, 32), 28), k), i32x4.eq(i32x4.shr_u(v128.load(p, 48), 28), k));
  return v128.any_true(v128.or(a, b));
}

/** Census of one frame: bit 0 = it matches (key and owner), bit 1 = an L4 with the slot set. */
// @ts-ignore: decorator
@inline function countOne(f: u32, key: u32, d: u32): u32 {
  if (load<u32>(COL_TYPE + (<usize>f << 2)) >>> 28 != key) return 0;
  if (d != NULL && load<u32>(COL_OWNER + (<usize>f << 2)) != d + OWNER_BIAS) return 0;
  if (key >>> 1 == PGT_L4 && f < RAM_FRAMES && tableEntry(f, RO_MPT_SLOT) != 0) return 3;
  return 1;
}
