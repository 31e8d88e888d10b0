// The depth-first traversal of the page tables under a root, written once: every
// slot of every table, in ascending address order. What happens at a slot and at
// a leaf is the visit, a type argument: an @unmanaged class without fields whose
// methods the traversal calls on a null reference, so each use is compiled with
// its own visit inlined (no indirect call per entry). Shared and self-referencing
// tables are walked as hardware walks them, so every alias is visited; the depth
// is bounded by the format's levels, so a cycle only multiplies aliases and the
// visit bounds the work. The state lives in a DFS block of the control area (EN,
// CK, ...), so a traversal of any size resumes across calls.
//
// A visit V has:
//   full(): bool         stop before the next slot (the traversal resumes there);
//   slot(d, L, table, idx): void
//                        every slot of a table at level d (record L), before its entry is read
//                        (its VA: dfsVa);
//   leaf(d, L, table, idx, e, va, deny): void
//                        every valid leaf that maps (no reserved bit set), with the
//                        deny bits of the tables above it.
import {
  DFS_DEPTH, DFS_LEVEL_BASE, DFS_LEVEL_STRIDE, DFS_TABLE, DFS_VA, DFS_INDEX, DFS_DENY,
  LV_SHIFT, LV_INDEX_MASK, LV_TABLE_ADDR, LV_RSVD_TABLE, LV_RSVD_LEAF, LV_T_RIGHTS, WF_CHECK_RSVD,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, loadEntry, isValid, isLeaf, rootMask } from './params';
import { physAddr } from '../shared/phys';
import { denyOf } from './walk';

/** The record of level `d` in the DFS block at `block`. */
// @ts-ignore: decorator
@inline export function dfsLevel(block: usize, d: i32): usize { return block + <usize>(DFS_LEVEL_BASE + d * DFS_LEVEL_STRIDE); }

/** The VA of slot `idx` of the table at level d (record L) of the traversal in `block`. */
// @ts-ignore: decorator
@inline export function dfsVa(block: usize, d: i32, L: usize, idx: u32): u64 {
  return load<u64>(dfsLevel(block, d) + DFS_VA) | (<u64>idx << <u64>load<u32>(L + LV_SHIFT));
}

/** Start a traversal of the tables under root register value `root` in the DFS block at `block`. */
export function dfsStart(block: usize, root: u64): void {
  store<i32>(block + DFS_DEPTH, 0);
  const s = dfsLevel(block, 0);
  store<u64>(s + DFS_TABLE, root & rootMask());
  store<u64>(s + DFS_VA, 0);
  store<u32>(s + DFS_INDEX, 0);
  store<u32>(s + DFS_DENY, 0);
}

/** Continue the traversal in `block` until it is over (DFS_DEPTH -1) or the visit is full. */
// @ts-ignore: decorator
@inline export function dfsRun<V>(block: usize): void {
  const v = changetype<V>(0);
  const n = levels();
  const eb = entryBytes();
  const checkRsvd = (walkFlags() & WF_CHECK_RSVD) != 0;
  let d = load<i32>(block + DFS_DEPTH);
  while (d >= 0 && !v.full()) {
    const s = dfsLevel(block, d);
    const L = lv(d);
    const idx = load<u32>(s + DFS_INDEX);
    if (idx > load<u32>(L + LV_INDEX_MASK)) {
      d--;
      continue;
    }
    store<u32>(s + DFS_INDEX, idx + 1);
    const table = load<u64>(s + DFS_TABLE);
    v.slot(d, L, table, idx);
    const a = physAddr(table + <u64>(idx * eb), eb);
    if (a == 0) {
      // A table beyond the image reads as zeros, as QEMU reads unbacked memory.
      d--;
      continue;
    }
    const e = loadEntry(a, eb);
    if (!isValid(L, e)) continue;
    const va = dfsVa(block, d, L, idx);
    const deny = load<u32>(s + DFS_DENY);
    if (isLeaf(L, e)) {
      // A leaf with reserved bits set would fault: it maps nothing.
      if (!checkRsvd || (e & load<u64>(L + LV_RSVD_LEAF)) == 0) v.leaf(d, L, table, idx, e, va, deny);
      continue;
    }
    if (checkRsvd && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) continue;
    if (d + 1 >= n) continue;
    const c = dfsLevel(block, d + 1);
    store<u64>(c + DFS_TABLE, e & load<u64>(L + LV_TABLE_ADDR));
    store<u64>(c + DFS_VA, va);
    store<u32>(c + DFS_INDEX, 0);
    store<u32>(c + DFS_DENY, deny | denyOf(e, L + LV_T_RIGHTS));
    d++;
  }
  store<i32>(block + DFS_DEPTH, d);
}
