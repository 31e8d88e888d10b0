// The mapping enumerator: one MR_* record per valid leaf under a root, in
// ascending address order, streamed through a fixed buffer across calls (the
// traversal of traverse.ts over the EN block). Aliases through shared or
// self-referencing tables are records of their own; the caller bounds the count.
import {
  EN, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_L_RIGHTS,
  MR_BYTES, MR_VA, MR_PA, MR_ENTRY, MR_STATUS, ST_LEVEL_SHIFT, ST_RIGHTS_SHIFT, ST_PAGE_SHIFT, LV_SHIFT,
} from '../../src/abi';
import { canonicalize } from './params';
import { denyOf } from './walk';
import { dfsStart, dfsRun } from './traverse';

let out: usize = 0;
let max: u32 = 0;
let count: u32 = 0;

/** The enumerator's visit: a record per leaf until the buffer is full. */
@final @unmanaged class ListLeaves {
  // @ts-ignore: decorator
  @inline full(): bool { return count >= max; }
  // @ts-ignore: decorator
  @inline slot(d: i32, L: usize, table: u64, idx: u32): void {}
  // @ts-ignore: decorator
  @inline leaf(d: i32, L: usize, table: u64, idx: u32, e: u64, va: u64, deny: u32): void {
    const rights = ~(deny | denyOf(e, L + LV_L_RIGHTS)) & 0xf;
    const r = out + (<usize>count) * MR_BYTES;
    store<u64>(r + MR_VA, canonicalize(va));
    store<u64>(r + MR_PA, (e & load<u64>(L + LV_LEAF_ADDR)) | ((e & load<u64>(L + LV_LEAF_EXT_MASK)) << <u64>load<u32>(L + LV_LEAF_EXT_SHIFT)));
    store<u64>(r + MR_ENTRY, e);
    store<u32>(r + MR_STATUS, (<u32>d << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | (load<u32>(L + LV_SHIFT) << ST_PAGE_SHIFT));
    count++;
  }
}

export function enumStart(root: u64): void {
  dfsStart(EN, root);
}

/** Emit up to `max` records at `outPtr`; returns how many. 0 means the walk is over. */
export function enumNext(outPtr: usize, maxRecords: u32): u32 {
  out = outPtr;
  max = maxRecords;
  count = 0;
  dfsRun<ListLeaves>(EN);
  return count;
}
