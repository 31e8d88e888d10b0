// The generic page walk: one loop over the levels of whatever format the walk
// parameters describe (x86-64 4/5-level, PAE, 32-bit, AArch64 granules).
import {
  LV_INDEX_MASK, LV_VALID_MASK,
  LV_LEAF_EXT_SHIFT, LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_RSVD_TABLE, LV_RSVD_LEAF,
  LV_L_RIGHTS, LV_SHIFT,
  WF_CHECK_RSVD, WF_WP, WF_SMEP, WF_SMAP, WF_NXE,
  ACC_WRITE, ACC_USER, ACC_FETCH,
  ST_LEVEL_SHIFT, ST_ERR_SHIFT, ST_RIGHTS_SHIFT, ST_PAGE_SHIFT,
  K_OK, K_NOT_PRESENT, K_PROTECTION, K_RESERVED, K_NON_CANONICAL, K_OUTSIDE_IMAGE, K_ACCESS_FLAG, LV_LEAF_REQUIRE,
  R_WRITE, R_USER, R_EXEC, R_UEXEC, PF_P, PF_W, PF_U, PF_RSVD, PF_I,
  SCRATCH, WC_OFFSET, WC_STRIDE, WC_TABLE, WC_AND, WC_OR,
  RM_W_ALLOW, RM_W_DENY, RM_U_ALLOW, RM_U_DENY, RM_PXN, RM_UXN,
  WP, WP_T_RIGHTS, LV_FAST_MASK, LV_FAST_VALUE, LV_AND_KEEP, LV_OR_KEEP,
  LV_LFAST_MASK, LV_LFAST_VALUE, LV_LAND_KEEP, LV_LOR_KEEP, LV_LEAF_STATUS,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, canonical, loadEntry, isValid, isLeaf } from './params';
import { RAM_BASE, RAM_BYTES, CACHED } from '../shared/layout';
import { physAddr } from '../shared/phys';

// Results of the last walk (wasm has one return value; globals are the cheapest out-params).
export let wPa: u64 = 0;
export let wEntryAddr: u64 = 0;
export let wEntry: u64 = 0;
/** Level index where the last walk ended (leaf or fault). */
export let wEnd: i32 = 0;

// Per-level cache of the last walk (WC_* records in this instance's scratch slot).
// A per-instance global, so that kernel instances in worker threads over the same
// shared memory each use their own slot (see setScratchSlot).
let CACHE: usize = SCRATCH + WC_OFFSET;
// @ts-ignore: decorator
@inline export function cacheTable(i: i32): usize { return CACHE + <usize>i * WC_STRIDE; }

/** Use the walk cache of scratch slot `base` (its address). */
export function setWalkCache(base: usize): void {
  CACHE = base + WC_OFFSET;
}

/** Deny bits of the table levels walked so far, from the AND/OR accumulators. */
// @ts-ignore: decorator
@inline export function tableDeny(a: u64, o: u64): u32 {
  const m: usize = WP + WP_T_RIGHTS;
  const wa = load<u64>(m + RM_W_ALLOW), ua = load<u64>(m + RM_U_ALLOW);
  let d: u32 = 0;
  if ((a & wa) != wa || (o & load<u64>(m + RM_W_DENY)) != 0) d |= R_WRITE;
  if ((a & ua) != ua || (o & load<u64>(m + RM_U_DENY)) != 0) d |= R_USER;
  if ((o & load<u64>(m + RM_PXN)) != 0) d |= R_EXEC;
  if ((o & load<u64>(m + RM_UXN)) != 0) d |= R_UEXEC;
  return d;
}

/**
 * Deny bits contributed by entry `e`, given the RM_* rights record at `m`.
 */
// @ts-ignore: decorator
@inline export function denyOf(e: u64, m: usize): u32 {
  const wa = load<u64>(m + RM_W_ALLOW), ua = load<u64>(m + RM_U_ALLOW);
  let d: u32 = 0;
  if ((e & wa) != wa || (e & load<u64>(m + RM_W_DENY)) != 0) d |= R_WRITE;
  if ((e & ua) != ua || (e & load<u64>(m + RM_U_DENY)) != 0) d |= R_USER;
  if ((e & load<u64>(m + RM_PXN)) != 0) d |= R_EXEC;
  if ((e & load<u64>(m + RM_UXN)) != 0) d |= R_UEXEC;
  return d;
}

/** x86 error-code bits that describe the access itself. */
// @ts-ignore: decorator
@inline function accessBits(acc: u32, flags: u32): u32 {
  let ec: u32 = 0;
  if (acc & ACC_WRITE) ec |= PF_W;
  if (acc & ACC_USER) ec |= PF_U;
  // I/D is reported only when fetches can fault on their own (NXE or SMEP).
  if ((acc & ACC_FETCH) && (flags & (WF_SMEP | WF_NXE))) ec |= PF_I;
  return ec;
}

// @ts-ignore: decorator
@inline function fault(kind: u32, level: i32, ec: u32): u32 {
  wEnd = level;
  return kind | (<u32>level << ST_LEVEL_SHIFT) | (ec << ST_ERR_SHIFT);
}

/** Would an access of kind `acc` be refused with these effective rights? */
// @ts-ignore: decorator
@inline export function refused(rights: u32, acc: u32, flags: u32): bool {
  if (acc & ACC_USER) {
    if (!(rights & R_USER)) return true;
    if ((acc & ACC_WRITE) && !(rights & R_WRITE)) return true;
    if ((acc & ACC_FETCH) && !(rights & R_UEXEC)) return true;
    return false;
  }
  if ((acc & ACC_WRITE) && !(rights & R_WRITE) && (flags & WF_WP)) return true;
  if (acc & ACC_FETCH) {
    if (!(rights & R_EXEC)) return true;
    if ((flags & WF_SMEP) && (rights & R_USER)) return true;
  } else if ((flags & WF_SMAP) && (rights & R_USER)) return true;
  return false;
}

/** Bit r set: an access of the current kind is refused with rights r (see setAccess). */
let REFUSED: u32 = 0;

/** Is an access of the current kind (setAccess) refused with effective rights `rights`? */
// @ts-ignore: decorator
@inline export function refusedRights(rights: u32): bool { return ((REFUSED >> rights) & 1) != 0; }

/** Record a leaf that allowed the access (for walkers outside this file) and return its status. */
// @ts-ignore: decorator
@inline export function leafHit(ea: u64, e: u64, pa: u64, i: i32, st: u32): u32 {
  wEntryAddr = ea;
  wEntry = e;
  wPa = pa;
  wEnd = i;
  return st;
}

/** The rights sets (bit r: rights r, r in 0..15) that contain right `b`. */
// @ts-ignore: decorator
@inline function setsWith(b: u32): u32 {
  return b == 1 ? 0xaaaa : b == 2 ? 0xcccc : b == 4 ? 0xf0f0 : 0xff00;
}

// The access kind and flags REFUSED was computed for.
let refusedAcc: u32 = 0xffffffff;
let refusedFlags: u32 = 0;

/**
 * Precompute, for the access kind of the coming walks, which of the 16 rights sets
 * refuse it: refused() over every set at once, as bit masks. Runs at every kernel
 * entry, so it is kept loop-free and skipped when nothing changed: a loop here
 * spent V8's tier-up budget a little per call until TurboFan recompiled it in the
 * middle of some later measured batch.
 */
export function setAccess(acc: u32): void {
  const flags = walkFlags();
  if (acc == refusedAcc && flags == refusedFlags) return;
  refusedAcc = acc;
  refusedFlags = flags;
  const all: u32 = 0xffff;
  const noW = all & ~setsWith(R_WRITE), noU = all & ~setsWith(R_USER), user = setsWith(R_USER);
  let m: u32 = 0;
  if (acc & ACC_USER) {
    m = noU;
    if (acc & ACC_WRITE) m |= noW;
    if (acc & ACC_FETCH) m |= all & ~setsWith(R_UEXEC);
  } else {
    if ((acc & ACC_WRITE) && (flags & WF_WP)) m |= noW;
    if (acc & ACC_FETCH) {
      m |= all & ~setsWith(R_EXEC);
      if (flags & WF_SMEP) m |= user;
    } else if (flags & WF_SMAP) m |= user;
  }
  REFUSED = m;
}

/**
 * Resolve a valid leaf entry `e` at level `i` for `va`: output address, rights,
 * protection check. Shared by the walk and by the range kernel's fast loop.
 */
// @ts-ignore: decorator
@inline export function leafStatus(e: u64, i: i32, va: u64, deny: u32, acc: u32, flags: u32): u32 {
  const L = lv(i);
  if ((flags & WF_CHECK_RSVD) && (e & load<u64>(L + LV_RSVD_LEAF)) != 0) {
    return fault(K_RESERVED, i, PF_P | PF_RSVD | accessBits(acc, flags));
  }
  // Arm's Access flag fault comes before any permission fault.
  const req = load<u64>(L + LV_LEAF_REQUIRE);
  if ((e & req) != req) return fault(K_ACCESS_FLAG, i, PF_P | accessBits(acc, flags));
  deny |= denyOf(e, L + LV_L_RIGHTS);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const base = (e & load<u64>(L + LV_LEAF_ADDR)) | ((e & load<u64>(L + LV_LEAF_EXT_MASK)) << <u64>load<u32>(L + LV_LEAF_EXT_SHIFT));
  wPa = base | (va & ((<u64>1 << shift) - 1));
  const rights = ~deny & 0xf;
  if (refused(rights, acc, flags)) return fault(K_PROTECTION, i, PF_P | accessBits(acc, flags));
  wEnd = i;
  return K_OK | (<u32>i << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | (<u32>shift << ST_PAGE_SHIFT);
}

/** Status of the valid last-level entry `e` read at `ea` (the range kernel's fast loop). */
// @ts-ignore: decorator
@inline export function entryStatus(ea: u64, e: u64, i: i32, va: u64, deny: u32, acc: u32, flags: u32): u32 {
  wEntryAddr = ea;
  wEntry = e;
  return leafStatus(e, i, va, deny, acc, flags);
}

/**
 * Walk `va` from level index `start`, in `table`, with the table rights folded so
 * far in `and_`/`or_`. The common case (a valid table entry, nothing reserved) is
 * one masked compare per level; everything else takes the slow path below it.
 * `cache` records each level's table and accumulators for walkCachedWith.
 */
export function walkFrom(va: u64, start: i32, table: u64, and_: u64, or_: u64, acc: u32, cache: bool): u32 {
  const n = levels();
  const eb = entryBytes();
  for (let i = start; i < n; i++) {
    const L = lv(i);
    if (cache) {
      const c = cacheTable(i);
      store<u64>(c, table, WC_TABLE);
      store<u64>(c, and_, WC_AND);
      store<u64>(c, or_, WC_OR);
    }
    const ea = table + <u64>((<u32>(va >> <u64>load<u32>(L + LV_SHIFT)) & load<u32>(L + LV_INDEX_MASK)) * eb);
    const a = physAddr(ea, eb);
    if (a == 0) {
      wEntryAddr = ea;
      wEntry = 0;
      return fault(K_OUTSIDE_IMAGE, i, accessBits(acc, walkFlags()));
    }
    const e = loadEntry(a, eb);
    if ((e & load<u64>(L + LV_FAST_MASK)) == load<u64>(L + LV_FAST_VALUE)) {
      and_ &= e | load<u64>(L + LV_AND_KEEP);
      or_ |= e & load<u64>(L + LV_OR_KEEP);
      table = e & load<u64>(L + LV_TABLE_ADDR);
      continue;
    }
    wEntryAddr = ea;
    wEntry = e;
    if ((e & load<u64>(L + LV_LFAST_MASK)) == load<u64>(L + LV_LFAST_VALUE)) {
      // The common leaf: its rights fold into the table accumulators.
      const rights = ~tableDeny(and_ & (e | load<u64>(L + LV_LAND_KEEP)), or_ | (e & load<u64>(L + LV_LOR_KEEP))) & 0xf;
      const st = load<u32>(L + LV_LEAF_STATUS);
      wPa = (e & load<u64>(L + LV_LEAF_ADDR)) | (va & ((<u64>1 << <u64>(st >>> ST_PAGE_SHIFT)) - 1));
      if ((REFUSED >> rights) & 1) return fault(K_PROTECTION, i, PF_P | accessBits(acc, walkFlags()));
      wEnd = i;
      return st | (rights << ST_RIGHTS_SHIFT);
    }
    const flags = walkFlags();
    if (!isValid(L, e)) return fault(K_NOT_PRESENT, i, accessBits(acc, flags));
    if (isLeaf(L, e)) {
      return leafStatus(e, i, va, tableDeny(and_, or_), acc, flags);
    }
    if ((flags & WF_CHECK_RSVD) && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) {
      return fault(K_RESERVED, i, PF_P | PF_RSVD | accessBits(acc, flags));
    }
    // A valid table entry the fused test could not express for this format.
    and_ &= e | load<u64>(L + LV_AND_KEEP);
    or_ |= e & load<u64>(L + LV_OR_KEEP);
    table = e & load<u64>(L + LV_TABLE_ADDR);
  }
  // Unreachable for a well-formed format (the last level always holds leaves).
  return fault(K_NOT_PRESENT, n - 1, accessBits(acc, walkFlags()));
}

/** Walk `va` from the root; a non-canonical address is a #GP (error code 0). */
export function walk(root: u64, va: u64, acc: u32): u32 {
  wPa = 0;
  if (!canonical(va)) {
    wEntryAddr = 0;
    wEntry = 0;
    return fault(K_NON_CANONICAL, 0, 0);
  }
  return walkFrom(va, 0, root, <u64>-1, 0, acc, false);
}

/**
 * Walk `va` reusing the tables of the previous walk of `prev`, which ended at
 * level index `prevEnd`: the table at level i is the same when the two addresses
 * agree on every bit that selects it (all bits from level i-1's shift up).
 * Returns the level to restart from (0 = full walk).
 */
// @ts-ignore: decorator
@inline export function restartLevel(va: u64, prev: u64, prevEnd: i32): i32 {
  const diff = va ^ prev;
  for (let i = prevEnd; i > 0; i--) {
    if ((diff >> <u64>load<u32>(lv(i - 1) + LV_SHIFT)) == 0) return i;
  }
  return 0;
}

/**
 * The walker a batch or range kernel is compiled with: GenericWalker reads the
 * format from the walk parameters; the generated ones (build/gen/walk-specs.ts)
 * have one format's constants compiled in. Kernels take it as a type argument and
 * call it through changetype<W>(0), so the call is inlined and costs nothing.
 */
export class GenericWalker {
  // @ts-ignore: decorator
  @inline walk(va: u64, start: i32, table: u64, and_: u64, or_: u64, acc: u32, cache: bool): u32 {
    return walkFrom(va, start, table, and_, or_, acc, cache);
  }
  /** Does `va` have the form the format requires (else the walk is a #GP)? */
  // @ts-ignore: decorator
  @inline canonical(va: u64): bool { return canonical(va); }
  /** restartLevel: the level from which `va` needs tables of its own (prevEnd >= 0). */
  // @ts-ignore: decorator
  @inline restart(va: u64, prev: u64, prevEnd: i32): i32 { return restartLevel(va, prev, prevEnd); }
  // @ts-ignore: decorator
  @inline entryBytes(): u32 { return entryBytes(); }
  // @ts-ignore: decorator
  @inline levels(): i32 { return levels(); }
  // Level i's fields (the interleaved group reads them with i a constant).
  // @ts-ignore: decorator
  @inline shift(i: i32): u64 { return <u64>load<u32>(lv(i) + LV_SHIFT); }
  // @ts-ignore: decorator
  @inline indexMask(i: i32): u32 { return load<u32>(lv(i) + LV_INDEX_MASK); }
  // @ts-ignore: decorator
  @inline fastMask(i: i32): u64 { return load<u64>(lv(i) + LV_FAST_MASK); }
  // @ts-ignore: decorator
  @inline fastValue(i: i32): u64 { return load<u64>(lv(i) + LV_FAST_VALUE); }
  // @ts-ignore: decorator
  @inline andKeep(i: i32): u64 { return load<u64>(lv(i) + LV_AND_KEEP); }
  // @ts-ignore: decorator
  @inline orKeep(i: i32): u64 { return load<u64>(lv(i) + LV_OR_KEEP); }
  // @ts-ignore: decorator
  @inline tableAddr(i: i32): u64 { return load<u64>(lv(i) + LV_TABLE_ADDR); }
  // @ts-ignore: decorator
  @inline leafAddr(i: i32): u64 { return load<u64>(lv(i) + LV_LEAF_ADDR); }
  // @ts-ignore: decorator
  @inline leafExtMask(i: i32): u64 { return load<u64>(lv(i) + LV_LEAF_EXT_MASK); }
  // @ts-ignore: decorator
  @inline leafExtShift(i: i32): u64 { return <u64>load<u32>(lv(i) + LV_LEAF_EXT_SHIFT); }
  // @ts-ignore: decorator
  @inline leafKeyMask(i: i32): u64 { return leafKeyMask(i); }
}

/**
 * Bits of a valid leaf at level index `i` that decide its status for a fixed
 * access and fixed table rights above it: every bit outside the output address,
 * and every bit its checks read (valid, reserved, required, rights).
 */
export function leafKeyMask(i: i32): u64 {
  const L = lv(i);
  const rm = L + LV_L_RIGHTS;
  return ~load<u64>(L + LV_LEAF_ADDR) | <u64>load<u32>(L + LV_VALID_MASK) | load<u64>(L + LV_LEAF_EXT_MASK) |
    load<u64>(L + LV_RSVD_LEAF) | load<u64>(L + LV_LEAF_REQUIRE) |
    load<u64>(rm + RM_W_ALLOW) | load<u64>(rm + RM_W_DENY) | load<u64>(rm + RM_U_ALLOW) | load<u64>(rm + RM_U_DENY) |
    load<u64>(rm + RM_PXN) | load<u64>(rm + RM_UXN);
}

/** Walk `va` with walker W and the cache of the previous walk (caller checked canonical). */
// @ts-ignore: decorator
@inline export function walkCachedWith<W>(root: u64, va: u64, prev: u64, prevEnd: i32, acc: u32): u32 {
  const w = changetype<W>(0);
  const s = prevEnd < 0 ? 0 : w.restart(va, prev, prevEnd);
  // One inlined walker for both starts (from the root, or below the shared tables):
  // two copies made the batch loop twice as long for the same walk.
  let table = root, and_: u64 = <u64>-1, or_: u64 = 0;
  if (s != 0) {
    const c = cacheTable(s);
    table = load<u64>(c, WC_TABLE);
    and_ = load<u64>(c, WC_AND);
    or_ = load<u64>(c, WC_OR);
  }
  return w.walk(va, s, table, and_, or_, acc, true);
}
