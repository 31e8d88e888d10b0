// The mapping enumerator: one MR_* record per valid leaf under a root, in
// ascending address order, streamed through a fixed buffer across calls. It is
// traverse.ts's depth-first traversal over the EN block (same state, same order),
// with the slots of one table scanned in an inner loop: the level's parameters
// are read once per table into locals instead of once per slot, so a leaf costs
// its entry load, a few register compares and four stores. Aliases through shared
// or self-referencing tables are records of their own; the caller bounds the count.
import {
  EN, DFS_DEPTH, DFS_TABLE, DFS_VA, DFS_INDEX, DFS_DENY, WP, WP_VA_BITS, WF_SIGN_EXTEND, WF_CHECK_RSVD,
  LV_SHIFT, LV_INDEX_MASK, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_ALLOWED, LV_LEAF_MASK, LV_LEAF_VALUE,
  LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_TABLE, LV_RSVD_LEAF, LV_T_RIGHTS, LV_L_RIGHTS,
  RM_W_ALLOW, RM_W_DENY, RM_U_ALLOW, RM_U_DENY, RM_PXN, RM_UXN, R_WRITE, R_USER, R_EXEC, R_UEXEC,
  MR_BYTES, MR_VA, MR_PA, MR_ENTRY, MR_STATUS, ST_LEVEL_SHIFT, ST_RIGHTS_SHIFT, ST_PAGE_SHIFT,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv } from './params';
import { physAddr } from '../shared/phys';
import { denyOf } from './walk';
import { dfsStart, dfsLevel } from './traverse';
import { enumNextSpecialised } from '../../build/gen/enum-specs';

export function enumStart(root: u64): void {
  dfsStart(EN, root);
}

/** Emit up to `max` records at `out`; returns how many. 0 means the walk is over. */
export function enumNext(out: usize, max: u32): u32 {
  // A format with its rules compiled in (build/gen/enum-specs.ts) takes its own loop.
  const k = enumNextSpecialised(out, max);
  if (k >= 0) return <u32>k;
  return enumNextGeneric(out, max);
}

/** enumNext for any format, its rules read from the walk parameters (also the specialised loops' way through a table that is not one span). */
export function enumNextGeneric(out: usize, max: u32): u32 {
  const n = levels();
  const eb = entryBytes();
  const flags = walkFlags();
  const checkRsvd = (flags & WF_CHECK_RSVD) != 0;
  // Canonical form: shift the VA up and arithmetically back (by 0 when not sign-extended).
  const bits = <u64>load<u32>(WP + WP_VA_BITS);
  const cs: u64 = bits < 64 && (flags & WF_SIGN_EXTEND) != 0 ? 64 - bits : 0;
  let count: u32 = 0;
  let d = load<i32>(EN + DFS_DEPTH);
  while (d >= 0 && count < max) {
    const s = dfsLevel(EN, d);
    const L = lv(d);
    const table = load<u64>(s + DFS_TABLE);
    const base = load<u64>(s + DFS_VA);
    const deny = load<u32>(s + DFS_DENY);
    const shift = <u64>load<u32>(L + LV_SHIFT);
    const last = load<u32>(L + LV_INDEX_MASK);
    const vMask = load<u32>(L + LV_VALID_MASK), vValue = load<u32>(L + LV_VALID_VALUE);
    // A level that holds no leaves gets a leaf test no entry passes.
    const lMask = load<u32>(L + LV_LEAF_ALLOWED) != 0 ? load<u32>(L + LV_LEAF_MASK) : 0;
    const lValue = load<u32>(L + LV_LEAF_ALLOWED) != 0 ? load<u32>(L + LV_LEAF_VALUE) : 1;
    const rsvdLeaf = checkRsvd ? load<u64>(L + LV_RSVD_LEAF) : 0;
    const rsvdTable = checkRsvd ? load<u64>(L + LV_RSVD_TABLE) : 0;
    const leafAddr = load<u64>(L + LV_LEAF_ADDR), extMask = load<u64>(L + LV_LEAF_EXT_MASK);
    const extShift = <u64>load<u32>(L + LV_LEAF_EXT_SHIFT);
    const m = L + LV_L_RIGHTS;
    const wa = load<u64>(m + RM_W_ALLOW), wd = load<u64>(m + RM_W_DENY), ua = load<u64>(m + RM_U_ALLOW), ud = load<u64>(m + RM_U_DENY);
    const px = load<u64>(m + RM_PXN), ux = load<u64>(m + RM_UXN);
    const status = (<u32>d << ST_LEVEL_SHIFT) | (<u32>shift << ST_PAGE_SHIFT);
    let idx = load<u32>(s + DFS_INDEX);
    // The rest of the table as one span when it lies in the image (and in one cached
    // frame): then a slot is a plain load, else each slot is looked up on its own.
    const from = idx;
    const span = idx <= last ? physAddr(table + <u64>(idx * eb), <u64>((last + 1 - idx) * eb)) : 0;
    let next = d - 1; // the level to continue at: the parent unless full or descending
    while (idx <= last) {
      if (count >= max) {
        next = d;
        break;
      }
      const a = span != 0 ? span + <usize>((idx - from) * eb) : physAddr(table + <u64>(idx * eb), eb);
      idx++;
      // A table beyond the image reads as zeros, as QEMU reads unbacked memory.
      if (a == 0) break;
      const e = eb == 8 ? load<u64>(a) : <u64>load<u32>(a);
      if ((<u32>e & vMask) != vValue) continue;
      const va = base | (<u64>(idx - 1) << shift);
      if ((<u32>e & lMask) == lValue) {
        // A leaf with reserved bits set would fault: it maps nothing.
        if ((e & rsvdLeaf) != 0) continue;
        let dn = deny;
        if ((e & wa) != wa || (e & wd) != 0) dn |= R_WRITE;
        if ((e & ua) != ua || (e & ud) != 0) dn |= R_USER;
        if ((e & px) != 0) dn |= R_EXEC;
        if ((e & ux) != 0) dn |= R_UEXEC;
        const r = out + (<usize>count) * MR_BYTES;
        store<u64>(r + MR_VA, <u64>(<i64>(va << cs) >> <i64>cs));
        store<u64>(r + MR_PA, (e & leafAddr) | ((e & extMask) << extShift));
        store<u64>(r + MR_ENTRY, e);
        store<u32>(r + MR_STATUS, status | ((~dn & 0xf) << ST_RIGHTS_SHIFT));
        count++;
        continue;
      }
      if ((e & rsvdTable) != 0 || d + 1 >= n) continue;
      const c = dfsLevel(EN, d + 1);
      store<u64>(c + DFS_TABLE, e & load<u64>(L + LV_TABLE_ADDR));
      store<u64>(c + DFS_VA, va);
      store<u32>(c + DFS_INDEX, 0);
      store<u32>(c + DFS_DENY, deny | denyOf(e, L + LV_T_RIGHTS));
      next = d + 1;
      break;
    }
    store<u32>(s + DFS_INDEX, idx);
    d = next;
  }
  store<i32>(EN + DFS_DEPTH, d);
  return count;
}
