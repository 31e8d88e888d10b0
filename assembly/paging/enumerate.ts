// The mapping enumerator: a depth-first walk over every slot, in ascending
// address order, that emits one record per valid leaf. Shared and
// self-referencing tables are walked as hardware walks them, so every alias is a
// record; depth is bounded by the format's levels, so a cycle only multiplies
// aliases and the caller bounds the count. State lives in the EN block, so a
// listing of any size streams through a fixed buffer across calls.
import {
  EN, DFS_DEPTH, DFS_LEVEL_BASE, DFS_LEVEL_STRIDE, DFS_TABLE, DFS_VA, DFS_INDEX, DFS_DENY,
  LV_SHIFT, LV_INDEX_MASK,
  LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_TABLE, LV_RSVD_LEAF,
  LV_T_RIGHTS, LV_L_RIGHTS, WF_CHECK_RSVD,
  MR_BYTES, MR_VA, MR_PA, MR_ENTRY, MR_STATUS, ST_LEVEL_SHIFT, ST_RIGHTS_SHIFT, ST_PAGE_SHIFT,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, loadEntry, isValid, isLeaf, canonicalize, rootMask } from './params';
import { physAddr } from '../shared/phys';
import { denyOf } from './walk';

// @ts-ignore: decorator
@inline function slot(d: i32): usize { return <usize>(EN + DFS_LEVEL_BASE + d * DFS_LEVEL_STRIDE); }

export function enumStart(root: u64): void {
  store<i32>(EN + DFS_DEPTH, 0);
  const s = slot(0);
  store<u64>(s + DFS_TABLE, root & rootMask());
  store<u64>(s + DFS_VA, 0);
  store<u32>(s + DFS_INDEX, 0);
  store<u32>(s + DFS_DENY, 0);
}

/** Emit up to `max` records at `outPtr`; returns how many. 0 means the walk is over. */
export function enumNext(outPtr: usize, max: u32): u32 {
  const n = levels();
  const eb = entryBytes();
  const checkRsvd = (walkFlags() & WF_CHECK_RSVD) != 0;
  let d = load<i32>(EN + DFS_DEPTH);
  let count: u32 = 0;
  while (d >= 0 && count < max) {
    const s = slot(d);
    const L = lv(d);
    const idx = load<u32>(s + DFS_INDEX);
    if (idx > load<u32>(L + LV_INDEX_MASK)) {
      d--;
      continue;
    }
    store<u32>(s + DFS_INDEX, idx + 1);
    const a = physAddr(load<u64>(s + DFS_TABLE) + <u64>(idx * eb), eb);
    if (a == 0) {
      // A table beyond the image reads as zeros, as QEMU reads unbacked memory.
      d--;
      continue;
    }
    const e = loadEntry(a, eb);
    if (!isValid(L, e)) continue;
    const shift = <u64>load<u32>(L + LV_SHIFT);
    const va = load<u64>(s + DFS_VA) | (<u64>idx << shift);
    const deny = load<u32>(s + DFS_DENY);
    if (isLeaf(L, e)) {
      // A leaf with reserved bits set would fault: it maps nothing.
      if (checkRsvd && (e & load<u64>(L + LV_RSVD_LEAF)) != 0) continue;
      const rights = ~(deny | denyOf(e, L + LV_L_RIGHTS)) & 0xf;
      const out = outPtr + (<usize>count) * MR_BYTES;
      store<u64>(out + MR_VA, canonicalize(va));
      store<u64>(out + MR_PA, (e & load<u64>(L + LV_LEAF_ADDR)) | ((e & load<u64>(L + LV_LEAF_EXT_MASK)) << <u64>load<u32>(L + LV_LEAF_EXT_SHIFT)));
      store<u64>(out + MR_ENTRY, e);
      store<u32>(out + MR_STATUS, (<u32>d << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | (<u32>shift << ST_PAGE_SHIFT));
      count++;
      continue;
    }
    if (checkRsvd && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) continue;
    if (d + 1 >= n) continue;
    const c = slot(d + 1);
    store<u64>(c + DFS_TABLE, e & load<u64>(L + LV_TABLE_ADDR));
    store<u64>(c + DFS_VA, va);
    store<u32>(c + DFS_INDEX, 0);
    store<u32>(c + DFS_DENY, deny | denyOf(e, L + LV_T_RIGHTS));
    d++;
  }
  store<i32>(EN + DFS_DEPTH, d);
  return count;
}
