// The frame type system of an x86-64 PV guest: the
// general references (count_info), type references (type_info), recursive
// validation of L1..L4 tables read from the RAM image, pin/unpin, page_lock, and
// the L4 bookkeeping (RO_MPT slot, nr_l4_pages, the L4 index). A refused
// operation changes nothing: every reference taken is dropped in reverse order and
// each frame whose type count went 0 -> 1 gets back its old type from the undo field.
import {
  PGT_TYPE_SHIFT, PGT_L1, PGT_L4, PGT_WRITABLE, PGT_VALIDATED, PGT_PINNED, PGT_PARTIAL, PGT_LOCKED,
  PGT_UNDO_SHIFT, PGT_UNDO_MASK, PGT_COUNT_MASK, PGC_COUNT_MASK, OWNER_NONE, OWNER_BIAS,
  DOM_FLAGS, DOM_NR_L4, DOM_L4_HEAD, DOM_L4_TAIL, DOM_L4_COUNT, DOM_FIX_MODE, DOM_FIX_CURSOR, DF_M2P_STRICT,
  FIXM_INDEXED, L4_XEN_FIRST, L4_XEN_LAST, RO_MPT_SLOT, RO_MPT_LO, RO_MPT_HI, DIS_HI, DIS_TABLE_LO, PTE_PS, PTE_RW,
  FR_ERR_FRAME, FR_ERR_WANT, FR_ERR_FOUND, FR_ERR_TABLE, FR_ERR_ENTRY, FR_ERR_LEVEL, FR_ERR_ELO, FR_ERR_EHI, FR_ANOMALY,
  TE_OK, TE_BAD_TYPE, TE_FRAME_RANGE, TE_NOT_ALLOCATED, TE_FOREIGN, TE_OUTSIDE_IMAGE, TE_TYPE_MISMATCH,
  TE_WRITABLE_PT, TE_DISALLOWED, TE_SUPERPAGE, TE_COUNT_OVERFLOW, TE_NOT_VALIDATED, TE_PARTIAL, TE_NO_TYPE_REF,
  TE_PINNED, TE_NOT_PINNED, TE_LOCKED, TE_NOT_LOCKED,
} from '../../src/abi';
import { FRAMES } from '../shared/layout';
import {
  NULL, RAM_FRAMES, typeInfo, setTypeInfo, countInfo, setCountInfo, ownerOf, domGet, domSet, domainLive,
  l4NextOf, l4PrevOf, setL4Next, setL4Prev, tableEntry, setTableEntry, fr, frGet,
} from './state';

const RO_MPT: u64 = (<u64>RO_MPT_HI << 32) | <u64>RO_MPT_LO;

// @ts-ignore: decorator
@inline function isTable(t: u32): bool { return t - PGT_L1 < 4; }
// @ts-ignore: decorator
@inline function xenSlot(t: u32, i: u32): bool { return t == PGT_L4 && i >= <u32>L4_XEN_FIRST && i <= <u32>L4_XEN_LAST; }
/** Frame number an entry points to (bits 12..51). */
// @ts-ignore: decorator
@inline function target(e: u64): u64 { return (e >> 12) & 0xffffffffff; }

// ---- error record ---------------------------------------------------------------
let errSet = false;
let tableSet = false;

export function beginOp(): void {
  errSet = false;
  tableSet = false;
  fr(FR_ERR_FRAME, NULL);
  fr(FR_ERR_WANT, 0);
  fr(FR_ERR_FOUND, 0);
  fr(FR_ERR_TABLE, NULL);
  fr(FR_ERR_ENTRY, NULL);
  fr(FR_ERR_LEVEL, 0);
  fr(FR_ERR_ELO, 0);
  fr(FR_ERR_EHI, 0);
}

function refuse(code: u32, f: u32, want: u32, found: u32): u32 {
  if (!errSet) {
    errSet = true;
    fr(FR_ERR_FRAME, f);
    fr(FR_ERR_WANT, want);
    fr(FR_ERR_FOUND, found);
  }
  return code;
}

function noteTable(f: u32, i: u32, t: u32, e: u64): void {
  if (!tableSet) {
    tableSet = true;
    fr(FR_ERR_TABLE, f);
    fr(FR_ERR_ENTRY, i);
    fr(FR_ERR_LEVEL, t);
    fr(FR_ERR_ELO, <u32>e);
    fr(FR_ERR_EHI, <u32>(e >> 32));
  }
}

// @ts-ignore: decorator
@inline function anomaly(): void { fr(FR_ANOMALY, frGet(FR_ANOMALY) + 1); }

// ---- general references -------------------------------------------------------------

/** get_page: a general reference on `f` for domain record `owner` (= id + OWNER_BIAS). */
function pageGet(f: u32, owner: u32): u32 {
  if (f >= FRAMES) return refuse(TE_FRAME_RANGE, f, 0, 0);
  const o = ownerOf(f);
  const c = countInfo(f);
  if (o == OWNER_NONE || (c & PGC_COUNT_MASK) == 0) return refuse(TE_NOT_ALLOCATED, f, 0, c);
  if (o != owner) return refuse(TE_FOREIGN, f, owner, o);
  if ((c & PGC_COUNT_MASK) == PGC_COUNT_MASK) return refuse(TE_COUNT_OVERFLOW, f, 0, c);
  setCountInfo(f, c + 1);
  return TE_OK;
}

function pagePut(f: u32): void {
  const c = countInfo(f);
  if ((c & PGC_COUNT_MASK) == 0) anomaly();
  else setCountInfo(f, c - 1);
}

// ---- L4 bookkeeping -------------------------------------------------------------------

function promoteL4(f: u32): void {
  const d = ownerOf(f) - OWNER_BIAS;
  if (!domainLive(d)) return;
  setTableEntry(f, RO_MPT_SLOT, (domGet(d, DOM_FLAGS) & DF_M2P_STRICT) ? RO_MPT : 0);
  domSet(d, DOM_NR_L4, domGet(d, DOM_NR_L4) + 1);
  const t = domGet(d, DOM_L4_TAIL);
  setL4Next(f, NULL);
  setL4Prev(f, t);
  if (t == NULL) domSet(d, DOM_L4_HEAD, f);
  else setL4Next(t, f);
  domSet(d, DOM_L4_TAIL, f);
  domSet(d, DOM_L4_COUNT, domGet(d, DOM_L4_COUNT) + 1);
}

function demoteL4(f: u32): void {
  const d = ownerOf(f) - OWNER_BIAS;
  if (!domainLive(d)) return;
  domSet(d, DOM_NR_L4, domGet(d, DOM_NR_L4) - 1);
  const p = l4PrevOf(f), n = l4NextOf(f);
  if (p == NULL) domSet(d, DOM_L4_HEAD, n);
  else if (p < RAM_FRAMES) setL4Next(p, n);
  if (n == NULL) domSet(d, DOM_L4_TAIL, p);
  else if (n < RAM_FRAMES) setL4Prev(n, p);
  setL4Next(f, NULL);
  setL4Prev(f, NULL);
  domSet(d, DOM_L4_COUNT, domGet(d, DOM_L4_COUNT) - 1);
  // An indexed fix-up waiting to continue at this frame continues after it.
  if (domGet(d, DOM_FIX_MODE) == FIXM_INDEXED && domGet(d, DOM_FIX_CURSOR) == f) domSet(d, DOM_FIX_CURSOR, n);
}

// ---- type references ------------------------------------------------------------------

/** get_page_type: a type reference of type `t` on allocated frame `f`. */
export function typeGet(f: u32, t: u32): u32 {
  const x = typeInfo(f);
  const cnt = x & PGT_COUNT_MASK;
  const cur = x >>> PGT_TYPE_SHIFT;
  if (cnt == 0) {
    if (x & PGT_PARTIAL) return refuse(TE_PARTIAL, f, t, x);
    // The undo field already holds this count-0 state.
    if (cur == t && (x & PGT_VALIDATED)) {
      setTypeInfo(f, x + 1);
      return TE_OK;
    }
    const base = (t << PGT_TYPE_SHIFT) | (x & PGT_UNDO_MASK) | 1;
    if (!isTable(t)) {
      setTypeInfo(f, base | PGT_VALIDATED);
      return TE_OK;
    }
    if (f >= RAM_FRAMES) return refuse(TE_OUTSIDE_IMAGE, f, t, x);
    setTypeInfo(f, base);
    const rc = validate(f, t);
    if (rc != TE_OK) {
      setTypeInfo(f, x);
      return rc;
    }
    if (t == PGT_L4) promoteL4(f);
    setTypeInfo(f, typeInfo(f) | PGT_VALIDATED);
    return TE_OK;
  }
  if (cur != t) return refuse(t == PGT_WRITABLE && isTable(cur) ? TE_WRITABLE_PT : TE_TYPE_MISMATCH, f, t, x);
  if (!(x & PGT_VALIDATED)) return refuse(TE_NOT_VALIDATED, f, t, x);
  if (cnt == PGT_COUNT_MASK) return refuse(TE_COUNT_OVERFLOW, f, t, x);
  setTypeInfo(f, x + 1);
  return TE_OK;
}

/**
 * put_page_type. Dropping the last reference of a validated table demotes it
 * (its entries' references are dropped, validated is cleared). With `rollback`
 * the frame also gets back the type it had before this operation (undo field).
 */
export function typePut(f: u32, rollback: bool): void {
  const x = typeInfo(f);
  const cnt = x & PGT_COUNT_MASK;
  if (cnt == 0) {
    anomaly();
    return;
  }
  let nx = x - 1;
  if (cnt == 1) {
    const cur = x >>> PGT_TYPE_SHIFT;
    if (isTable(cur) && (x & PGT_VALIDATED)) {
      nx &= ~PGT_VALIDATED;
      setTypeInfo(f, nx);
      releaseEntries(f, cur, 512, rollback);
      if (cur == PGT_L4) demoteL4(f);
    }
    if (rollback) nx = (nx & 0x0fffffff) | (((nx & PGT_UNDO_MASK) >>> PGT_UNDO_SHIFT) << 28);
    else nx = (nx & ~PGT_UNDO_MASK) | (((nx >>> 28) & 0xf) << PGT_UNDO_SHIFT);
  }
  setTypeInfo(f, nx);
}

/** Take the references entry `e` of a table of type `t` holds (get_page_from_lNe). */
function takeEntry(e: u64, t: u32, owner: u32): u32 {
  const lo = <u32>e, hi = <u32>(e >> 32);
  const tg = target(e);
  const want: u32 = t == PGT_L1 ? ((lo & PTE_RW) ? PGT_WRITABLE : 0) : t - 1;
  if (hi & DIS_HI) return refuse(TE_DISALLOWED, <u32>tg, want, 0);
  if (t != PGT_L1) {
    if (lo & PTE_PS) return refuse(t == PGT_L4 ? TE_DISALLOWED : TE_SUPERPAGE, <u32>tg, want, 0);
    if (lo & DIS_TABLE_LO) return refuse(TE_DISALLOWED, <u32>tg, want, 0);
  }
  if (tg >= <u64>FRAMES) return refuse(TE_FRAME_RANGE, <u32>tg, want, 0);
  const f = <u32>tg;
  let rc = pageGet(f, owner);
  if (rc != TE_OK) return rc;
  if (want != 0) {
    rc = typeGet(f, want);
    if (rc != TE_OK) {
      pagePut(f);
      return rc;
    }
  }
  return TE_OK;
}

/** Drop what entry `e` of a table of type `t` holds (put_page_from_lNe). */
function dropEntry(e: u64, t: u32, rollback: bool): void {
  const tg = target(e);
  if (tg >= <u64>FRAMES) {
    anomaly();
    return;
  }
  const f = <u32>tg;
  if (t != PGT_L1 || (<u32>e & PTE_RW)) typePut(f, rollback);
  pagePut(f);
}

/** Drop the references of the present guest entries [0, upto) of table `f`, last first. */
function releaseEntries(f: u32, t: u32, upto: u32, rollback: bool): void {
  for (let i = <i32>upto - 1; i >= 0; i--) {
    if (xenSlot(t, <u32>i)) continue;
    const e = tableEntry(f, <u32>i);
    if (e & 1) dropEntry(e, t, rollback);
  }
}

/** Validate table `f` as type `t`: take every present guest entry's references, or none. */
function validate(f: u32, t: u32): u32 {
  const owner = ownerOf(f);
  for (let i: u32 = 0; i < 512; i++) {
    if (xenSlot(t, i)) continue;
    const e = tableEntry(f, i);
    if (!(e & 1)) continue;
    const rc = takeEntry(e, t, owner);
    if (rc != TE_OK) {
      noteTable(f, i, t, e);
      releaseEntries(f, t, i, true);
      return rc;
    }
  }
  return TE_OK;
}

// ---- kernels --------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function checkFrame(f: u32): u32 {
  if (f >= FRAMES) return refuse(TE_FRAME_RANGE, f, 0, 0);
  if (ownerOf(f) == OWNER_NONE) return refuse(TE_NOT_ALLOCATED, f, 0, countInfo(f));
  return TE_OK;
}

/** Take a type reference of type `t` (PGT_L1..PGT_WRITABLE) on frame `f`. */
export function getType(f: u32, t: u32): u32 {
  beginOp();
  if (t == 0 || t > <u32>PGT_WRITABLE) return refuse(TE_BAD_TYPE, f, t, 0);
  const rc = checkFrame(f);
  if (rc != TE_OK) return rc;
  return typeGet(f, t);
}

/** Drop a type reference (not the one a pin or a page lock holds). */
export function putType(f: u32): u32 {
  beginOp();
  const rc = checkFrame(f);
  if (rc != TE_OK) return rc;
  const x = typeInfo(f);
  const cnt = x & PGT_COUNT_MASK;
  if (cnt == 0) return refuse(TE_NO_TYPE_REF, f, 0, x);
  const held: u32 = ((x & PGT_PINNED) ? 1 : 0) + ((x & PGT_LOCKED) ? 1 : 0);
  if (cnt <= held) return refuse((x & PGT_PINNED) ? TE_PINNED : TE_LOCKED, f, 0, x);
  typePut(f, false);
  return TE_OK;
}

/** Pin `f` as table type `t`: a general and a type reference that stay until unpin. */
export function pin(f: u32, t: u32): u32 {
  beginOp();
  if (!isTable(t)) return refuse(TE_BAD_TYPE, f, t, 0);
  let rc = checkFrame(f);
  if (rc != TE_OK) return rc;
  const x = typeInfo(f);
  if (x & PGT_PINNED) return refuse(TE_PINNED, f, t, x);
  rc = pageGet(f, ownerOf(f));
  if (rc != TE_OK) return rc;
  rc = typeGet(f, t);
  if (rc != TE_OK) {
    pagePut(f);
    return rc;
  }
  setTypeInfo(f, typeInfo(f) | PGT_PINNED);
  return TE_OK;
}

export function unpin(f: u32): u32 {
  beginOp();
  const rc = checkFrame(f);
  if (rc != TE_OK) return rc;
  const x = typeInfo(f);
  if (!(x & PGT_PINNED)) return refuse(TE_NOT_PINNED, f, 0, x);
  setTypeInfo(f, x & ~PGT_PINNED);
  typePut(f, false);
  pagePut(f);
  return TE_OK;
}

/** page_lock: only a validated frame with a type reference; takes one more. */
// @ts-ignore: decorator
@inline export function tryLock(f: u32): bool {
  const x = typeInfo(f);
  const cnt = x & PGT_COUNT_MASK;
  if ((x & (PGT_LOCKED | PGT_VALIDATED)) != PGT_VALIDATED || cnt == 0 || cnt == PGT_COUNT_MASK) return false;
  setTypeInfo(f, (x + 1) | PGT_LOCKED);
  return true;
}

/** page_unlock of a frame tryLock locked in the same kernel call (count stays >= 1). */
// @ts-ignore: decorator
@inline export function unlockHeld(f: u32): void {
  setTypeInfo(f, (typeInfo(f) & ~PGT_LOCKED) - 1);
}

/** Returns 1 when the lock was taken, 0 when page_lock refuses. */
export function pageLock(f: u32): u32 {
  if (f >= FRAMES) return 0;
  return tryLock(f) ? 1 : 0;
}

export function pageUnlock(f: u32): u32 {
  beginOp();
  if (f >= FRAMES) return refuse(TE_FRAME_RANGE, f, 0, 0);
  const x = typeInfo(f);
  if (!(x & PGT_LOCKED)) return refuse(TE_NOT_LOCKED, f, 0, x);
  setTypeInfo(f, x & ~PGT_LOCKED);
  typePut(f, false);
  return TE_OK;
}
