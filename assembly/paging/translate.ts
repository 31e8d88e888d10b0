// Translation kernels: one address, a batch of addresses, a range of pages.
import {
  RES, RES_PA, RES_ENTRY_ADDR, RES_ENTRY_VALUE, RES_STATUS, RES_PAGES_COVERED, RES_ENTRIES_READ, RR_BYTES, RR_VA, RR_PA, RR_PAGES, RR_STATUS, ST_LEVEL_SHIFT,
  BR_BYTES, BR_PA, BR_STATUS, BR_ENTRY_LO,
  ST_KIND_MASK, K_OK, K_NON_CANONICAL, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_LEAF, LV_LEAF_REQUIRE, LV_L_RIGHTS, LV_INDEX_MASK, LV_VALID_MASK, LV_VALID_VALUE,
  LV_SHIFT, LV_FAST_MASK, LV_FAST_VALUE, LV_AND_KEEP, LV_OR_KEEP, LV_TABLE_ADDR,
  BATCH_NAIVE, BATCH_CACHED, BATCH_INTERLEAVED, BATCH_GROUP,
  SCRATCH, SCRATCH_STRIDE, SCRATCH_SLOTS, IG_OFFSET, IG_STRIDE, IG_TABLE, IG_AND, IG_OR, IG_VA, IG_INSIDE,
  WC_TABLE, WC_AND, WC_OR, WP, WP_GEN, LAYOUT, LY_WRITE_INTENT, RM_W_ALLOW, RM_W_DENY, RM_U_ALLOW, RM_U_DENY, RM_PXN, RM_UXN,
} from '../../src/abi';
import { physAddr } from '../shared/phys';
import { clearTableMemo, cachedAddr, FETCHES } from '../shared/frame-map';
import { CACHED, RAM_BASE, RAM_BYTES } from '../shared/layout';
import { levels, entryBytes, walkFlags, lv, shiftOf, canonical, loadEntry, rootMask } from './params';
import { walk, walkFrom, walkCachedWith, entryStatus, cacheTable, tableDeny, setAccess, setWalkCache, leafKeyMask, wPa, wEntryAddr, wEntry, wEnd, GenericWalker } from './walk';
import { matchesX86_64, matchesX86_64_LA57, WalkerX86_64, WalkerX86_64_LA57 } from '../../build/gen/walk-specs';

// Which walker the batch and range kernels use: a specialised one when the walk
// parameters in memory are exactly those it compiled in, else the generic one.
// Decided again whenever the TS layer rewrites the parameters (WP_GEN changes).
const SPEC_GENERIC: u32 = 0, SPEC_X86_64: u32 = 1, SPEC_X86_64_LA57: u32 = 2;
let specGen: u32 = 0xffffffff;
let spec: u32 = SPEC_GENERIC;
function currentSpec(): u32 {
  const g = load<u32>(WP + WP_GEN);
  if (g != specGen) {
    specGen = g;
    spec = matchesX86_64() ? SPEC_X86_64 : matchesX86_64_LA57() ? SPEC_X86_64_LA57 : SPEC_GENERIC;
  }
  return spec;
}

/** Translate one address; the full result goes to the RES block. */
export function translate(root: u64, va: u64, acc: u32): u32 {
  root &= rootMask();
  setAccess(acc);
  clearTableMemo();
  const st = walk(root, va, acc);
  store<u64>(RES + RES_PA, (st & ST_KIND_MASK) == K_OK ? wPa : 0);
  store<u64>(RES + RES_ENTRY_ADDR, wEntryAddr);
  store<u64>(RES + RES_ENTRY_VALUE, wEntry);
  store<u32>(RES + RES_STATUS, st);
  return st;
}

// @ts-ignore: decorator
@inline function emit(out: usize, st: u32): void {
  store<u64>(out + BR_PA, (st & ST_KIND_MASK) == K_OK ? wPa : wEntryAddr);
  store<u32>(out + BR_STATUS, st);
  store<u32>(out + BR_ENTRY_LO, <u32>wEntry);
}

/**
 * Translate `n` u64 addresses at `inPtr` into 16-byte records at `outPtr`.
 * mode BATCH_NAIVE walks every address from the root; BATCH_CACHED reuses the
 * upper tables of the previous address (consecutive or sorted inputs);
 * BATCH_INTERLEAVED walks groups of addresses level by level, so the group's
 * table reads are independent and overlap in the memory system.
 */
export function translateBatch(root: u64, inPtr: usize, outPtr: usize, n: u32, acc: u32, mode: u32): void {
  root &= rootMask();
  setAccess(acc);
  clearTableMemo();
  const sp = currentSpec();
  if (sp == SPEC_X86_64) batch<WalkerX86_64>(root, inPtr, outPtr, n, acc, mode);
  else if (sp == SPEC_X86_64_LA57) batch<WalkerX86_64_LA57>(root, inPtr, outPtr, n, acc, mode);
  else batch<GenericWalker>(root, inPtr, outPtr, n, acc, mode);
}

function batch<W>(root: u64, inPtr: usize, outPtr: usize, n: u32, acc: u32, mode: u32): void {
  const w = changetype<W>(0);
  if (mode == BATCH_INTERLEAVED) {
    for (let k: u32 = 0; k < n; k += BATCH_GROUP) interleaved<W>(root, inPtr, outPtr, k, min(BATCH_GROUP, n - k), acc);
    return;
  }
  let next: u64 = n > 0 ? load<u64>(inPtr) : 0;
  if (mode != BATCH_CACHED) {
    // Naive: a walk from the root per address, nothing kept between addresses.
    for (let k: u32 = 0; k < n; k++) {
      const va = next;
      // Fetch the next input before walking this one: the load overlaps the walk.
      if (k + 1 < n) next = load<u64>(inPtr + (<usize>(k + 1) << 3));
      emit(outPtr + (<usize>k) * BR_BYTES, w.canonical(va) ? w.walk(va, 0, root, <u64>-1, 0, acc, false) : walk(root, va, acc));
    }
    return;
  }
  let prev: u64 = 0;
  let prevEnd: i32 = -1;
  // Cached mode: when an address uses the same leaf table as the previous one and
  // that walk ended OK at the last level, an entry whose key (see leafKeyMask)
  // equals the previous entry's has the previous status: no walk at all (memoHit).
  const last = w.levels() - 1;
  const above = last > 0 ? w.shift(last - 1) : <u64>64; // va bits from here up select the leaf table
  memoTablePa = <u64>-1; // between calls the frame cache may have been changed from TS
  for (let k: u32 = 0; k < n; k++) {
    const va = next;
    // Fetch the next input before walking this one: the load overlaps the walk.
    if (k + 1 < n) next = load<u64>(inPtr + (<usize>(k + 1) << 3));
    if (prevEnd == last && above < 64 && ((va ^ prev) >> above) == 0 && memoHit<W>(va, outPtr + (<usize>k) * BR_BYTES)) {
      prev = va;
      continue;
    }
    let st: u32;
    if (!w.canonical(va)) {
      st = walk(root, va, acc);
      prevEnd = -1;
    } else {
      st = walkCachedWith<W>(root, va, prev, prevEnd, acc);
      prev = va;
      prevEnd = wEnd;
      memoSt = st;
    }
    emit(outPtr + (<usize>k) * BR_BYTES, st);
  }
}

// The cached batch's memo, kept in globals rather than in the batch loop's locals:
// random addresses seldom use it, and its locals made V8 spill the walk's values.
let memoSt: u32 = 0; // status of the last walk (its entry is wEntry)
let memoTablePa: u64 = <u64>-1; // the leaf table memoTable was found for
let memoTable: usize = 0; // it as a wasm address (0: not in one piece)
let memoFetches: u32 = 0; // FETCHES then: a frame fetched since may have evicted it

/**
 * The last walk ended OK at the last level in the leaf table `va` uses (the
 * caller checked the level and the table bits): when va's entry has the same key
 * as that walk's entry, write va's record (that walk's status, va's address) and
 * return true; else false (walk va).
 */
// @ts-ignore: decorator
@inline function memoHit<W>(va: u64, out: usize): bool {
  const w = changetype<W>(0);
  const st = memoSt;
  if ((st & ST_KIND_MASK) != K_OK) return false;
  const last = w.levels() - 1;
  const eb = w.entryBytes();
  const lshift = w.shift(last);
  const imask = w.indexMask(last);
  const keyMask = w.leafKeyMask(last);
  const idx = <u32>(va >> lshift) & imask;
  const table = load<u64>(cacheTable(last), WC_TABLE);
  if (table != memoTablePa || FETCHES != memoFetches) {
    memoTable = physAddr(table, <u64>(imask + 1) * eb);
    memoTablePa = table;
    memoFetches = FETCHES;
  }
  const ea = table + <u64>(idx * eb);
  const a = memoTable != 0 ? memoTable + <usize>(idx * eb) : physAddr(ea, eb); // a table may end past the image (large granules)
  if (a == 0) return false;
  const e = loadEntry(a, eb);
  if ((e & keyMask) != (wEntry & keyMask)) return false;
  store<u64>(out + BR_PA, (e & w.leafAddr(last)) | ((e & w.leafExtMask(last)) << w.leafExtShift(last)) | (va & ((<u64>1 << lshift) - 1)));
  store<u32>(out + BR_STATUS, st);
  store<u32>(out + BR_ENTRY_LO, <u32>e);
  return true;
}

// Group member g's IG_* record in this instance's scratch slot (see setScratchSlot).
let IG_BASE: usize = SCRATCH + IG_OFFSET;
// @ts-ignore: decorator
@inline function ig(g: u32): usize { return IG_BASE + <usize>g * IG_STRIDE; }

/** A group member whose entry is a table goes one level down, the entry's rights folded into its own. */
@inline function descendMember(s: usize, e: u64, ta: u64, ak: u64, ok: u64): void {
  store<u64>(s, e & ta, IG_TABLE);
  store<u64>(s, load<u64>(s, IG_AND) & (e | ak), IG_AND);
  store<u64>(s, load<u64>(s, IG_OR) | (e & ok), IG_OR);
}

/**
 * Use scratch slot `slot` (0 = the engine's own instances) for the walk cache and
 * the interleaving state. Kernel instances in worker threads over one shared
 * memory each take their own slot, so their batches do not overwrite each other's
 * state. Returns 0, or 1 when there is no such slot.
 */
export function setScratchSlot(slot: u32): u32 {
  if (slot >= <u32>SCRATCH_SLOTS) return 1;
  const base = <usize>SCRATCH + <usize>slot * <usize>SCRATCH_STRIDE;
  setWalkCache(base);
  IG_BASE = base + IG_OFFSET;
  return 0;
}

/** Members of the interleaved group still walking (bit g: member g); lookups() reads them. */
let igActive: u32 = 0;

/**
 * Over a source: the wasm address of every walking member's entry at level `i`
 * into its IG_INSIDE (0: not in the image). A member's table frame is usually
 * the previous member's (the top tables are shared), so the last frame found is
 * kept. Returns true when a lookup faulted a frame in: another member's frame may
 * have been evicted since its lookup, so the caller does the level the plain way.
 */
function lookups(i: i32, shift: u64, imask: u32, eb: u32): bool {
  const f0 = FETCHES;
  const write = load<u32>(LAYOUT + LY_WRITE_INTENT) != 0;
  const memoOk = (<u64>(imask + 1)) * eb <= 0x1000;
  let mt: u64 = <u64>-1; // the table frame last found, and its slot
  let mb: usize = 0;
  let rest = igActive;
  while (rest != 0) {
    const g = <u32>ctz(rest);
    rest &= rest - 1;
    const s = ig(g);
    const t = load<u64>(s, IG_TABLE);
    const ea = t + <u64>((<u32>(load<u64>(s, IG_VA) >> shift) & imask) * eb);
    let a: usize;
    if (t == mt) a = mb + <usize>(ea - t);
    else {
      a = cachedAddr(ea, eb, write);
      mt = a != 0 && memoOk && (t & 0xfff) == 0 ? t : <u64>-1;
      mb = a - <usize>(ea - t);
    }
    store<u32>(s, <u32>a, IG_INSIDE);
  }
  return FETCHES != f0;
}

/**
 * Walk addresses [k, k+m) of a batch together, one level at a time. A member
 * leaves the group at the first entry that is not a plain valid table pointer
 * (a leaf, a fault, anything unusual) and is finished by the ordinary walk from
 * that level, so every answer is exactly walkFrom's. The levels are unrolled
 * (groupLevel with a constant level index), so a generated walker's level
 * constants are immediates and a leaving member enters its walker at a known level.
 */
function interleaved<W>(root: u64, inPtr: usize, outPtr: usize, k: u32, m: u32, acc: u32): void {
  const w = changetype<W>(0);
  const base = IG_BASE;
  let active: u32 = 0; // bit g: member g still walking
  for (let g: u32 = 0; g < m; g++) {
    const va = load<u64>(inPtr + (<usize>(k + g) << 3));
    if (!w.canonical(va)) {
      emit(outPtr + (<usize>(k + g)) * BR_BYTES, walk(root, va, acc));
      continue;
    }
    const s = base + <usize>g * IG_STRIDE;
    store<u64>(s, root, IG_TABLE);
    store<u64>(s, <u64>-1, IG_AND);
    store<u64>(s, 0, IG_OR);
    store<u64>(s, va, IG_VA);
    active |= (<u32>1) << g;
  }
  const n = w.levels();
  // Up to five levels (the most any format has); a generated walker's n is a constant.
  active = groupLevel<W>(0, active, base, outPtr, k, acc);
  if (n > 1 && active != 0) active = groupLevel<W>(1, active, base, outPtr, k, acc);
  if (n > 2 && active != 0) active = groupLevel<W>(2, active, base, outPtr, k, acc);
  if (n > 3 && active != 0) active = groupLevel<W>(3, active, base, outPtr, k, acc);
  if (n > 4 && active != 0) groupLevel<W>(4, active, base, outPtr, k, acc);
}

/** Level `i` of the interleaved group: returns the members still walking below it. */
// @ts-ignore: decorator
@inline function groupLevel<W>(i: i32, active: u32, base: usize, outPtr: usize, k: u32, acc: u32): u32 {
  const w = changetype<W>(0);
  const eb = w.entryBytes();
  const shift = w.shift(i);
  const imask = w.indexMask(i);
  const fm = w.fastMask(i), fv = w.fastValue(i);
  const ak = w.andKeep(i), ok = w.orKeep(i), ta = w.tableAddr(i);
  let leaving: u32 = 0;
  if (CACHED) {
    igActive = active;
    // Over a source, when the lookups fault nothing in: first every member's frame
    // lookup (hash, map entry: independent of the other members'), then the entry
    // reads, so the reads are not held up behind the lookups and overlap as many.
    // Two loops, not one with a test of which address to use: one loop with that
    // test ran random walks over a source 10% to 15% slower (0.72x-0.80x resident
    // against 0.86x-0.89x).
    if (!lookups(i, shift, imask, eb)) {
      let rest = active;
      while (rest != 0) {
        const g = <u32>ctz(rest);
        rest &= rest - 1;
        const s = base + <usize>g * IG_STRIDE;
        const a = <usize>load<u32>(s, IG_INSIDE);
        if (a != 0) {
          const e = loadEntry(a, eb);
          if ((e & fm) == fv) {
            descendMember(s, e, ta, ak, ok);
            continue;
          }
        }
        leaving |= (<u32>1) << g;
      }
    } else {
      // A lookup faulted a frame in, which may have evicted another member's.
      let rest = active;
      while (rest != 0) {
        const g = <u32>ctz(rest);
        rest &= rest - 1;
        const s = base + <usize>g * IG_STRIDE;
        const ea = load<u64>(s, IG_TABLE) + <u64>((<u32>(load<u64>(s, IG_VA) >> shift) & imask) * eb);
        const a = physAddr(ea, eb);
        if (a != 0) {
          const e = loadEntry(a, eb);
          if ((e & fm) == fv) {
            descendMember(s, e, ta, ak, ok);
            continue;
          }
        }
        leaving |= (<u32>1) << g;
      }
    }
  } else {
    // Resident: one pass; each member's entry read does not depend on another's,
    // so their cache misses overlap. physAddr's rule with the bound as a branch (as
    // in the generated walkers), not a select the entry's address would wait for.
    const ramBase = RAM_BASE, ramBytes = RAM_BYTES;
    let rest = active;
    while (rest != 0) {
      const g = <u32>ctz(rest);
      rest &= rest - 1;
      const s = base + <usize>g * IG_STRIDE;
      const ea = load<u64>(s, IG_TABLE) + <u64>((<u32>(load<u64>(s, IG_VA) >> shift) & imask) * eb);
      if (ea + eb <= ramBytes) {
        const e = loadEntry(ramBase + <usize>ea, eb);
        if ((e & fm) == fv) {
          descendMember(s, e, ta, ak, ok);
          continue;
        }
      }
      leaving |= (<u32>1) << g;
    }
  }
  const left = active & ~leaving;
  while (leaving != 0) {
    const g = <u32>ctz(leaving);
    leaving &= leaving - 1;
    const s = base + <usize>g * IG_STRIDE;
    emit(outPtr + (<usize>(k + g)) * BR_BYTES, w.walk(load<u64>(s, IG_VA), i, load<u64>(s, IG_TABLE), load<u64>(s, IG_AND), load<u64>(s, IG_OR), acc, false));
  }
  return left;
}

// ---- Range sink: one 16-byte record per page (translateRange), or runs (translateRuns).
// rangeWalk<T> is compiled twice: T = u8 writes per-page records, T = u16 runs; the
// test on sizeof<T>() is a compile-time constant, so each copy keeps only its sink.
let rOut: usize = 0; // runs: output
let rMax: u32 = 0; // runs: records allowed
let rN: u32 = 0; // runs written
let rStop: bool = false; // maxRuns reached: stop at rK
let rOpen: bool = false; // a run is open
let rK: u32 = 0; // its first page (index in the range)
let rCur: u32 = 0; // pages covered by the open run: [rK, rCur)
let rV: u64 = 0; // its first pa / entry address
let rSt: u32 = 0; // its status
let rIn: u64 = 0; // fault: first va's offset in its level's span
let rSh: u64 = 0; // fault: that level's shift (64: non-canonical, step 0)
let rBase: u64 = 0; // va of page 0
let rPsh: u64 = 12;
let rEb: u64 = 8;
let rLeft: u32 = 0; // runs: table entries the call may still read
let rDry: bool = false; // rLeft ran out: stop at rAt, the first page not answered
let rAt: u32 = 0;

function runClose(): void {
  const o = rOut + (<usize>rN) * RR_BYTES;
  store<u64>(o + RR_VA, rBase + (<u64>rK << rPsh));
  store<u64>(o + RR_PA, rV);
  store<u32>(o + RR_PAGES, rCur - rK);
  store<u32>(o + RR_STATUS, rSt);
  rN++;
}

/** Value page k of the open run would have. */
// @ts-ignore: decorator
@inline function runExpect(k: u32): u64 {
  if ((rSt & ST_KIND_MASK) == K_OK) return rV + (<u64>(k - rK) << rPsh);
  if (rSh >= 64) return rV;
  return rV + ((rIn + (<u64>(k - rK) << rPsh)) >> rSh) * rEb;
}

/** Pages [k, k+count) with status st, first value v (pa steps by a page when OK; a fault's entry is one for all). */
function runAdd(k: u32, count: u32, v: u64, st: u32): void {
  if (rOpen && k == rCur && st == rSt && v == runExpect(k)) {
    // A span's pages follow its first one exactly when the run's rule gives them
    // the same entry: for a fault, only when the span lies in one step of the run.
    if ((st & ST_KIND_MASK) == K_OK || count == 1 || rSh >= 64 || runExpect(k + count - 1) == v) { rCur = k + count; return; }
    rCur = k + 1;
    k++;
    count--;
  }
  if (rOpen) {
    runClose();
    if (rN >= rMax) { rStop = true; rOpen = false; rK = k; return; }
  }
  rOpen = true;
  rK = k;
  rCur = k + count;
  rV = v;
  rSt = st;
  if ((st & ST_KIND_MASK) == K_OK) return;
  if ((st & ST_KIND_MASK) == K_NON_CANONICAL) { rSh = 64; return; }
  rSh = shiftOf(<i32>((st >> ST_LEVEL_SHIFT) & 0xf));
  const va = rBase + (<u64>k << rPsh);
  rIn = rSh >= 64 ? va : va & ((<u64>1 << rSh) - 1);
}

// @ts-ignore: decorator
@inline function sinkPage<T>(outPtr: usize, k: u32, st: u32): void {
  if (sizeof<T>() == 1) emit(outPtr + (<usize>k) * BR_BYTES, st);
  else runAdd(k, 1, (st & ST_KIND_MASK) == K_OK ? wPa : wEntryAddr, st);
}

/**
 * Translate `pages` consecutive base pages from `va` into records at `outPtr`.
 * Each table is walked once: after a walk, the rest of the leaf table is read
 * entry by entry, and a large leaf (or a fault above the last level) answers for
 * every page of its span without another read.
 */
export function translateRange(root: u64, va: u64, pages: u32, outPtr: usize, acc: u32): void {
  const sp = currentSpec();
  if (sp == SPEC_X86_64) rangeWalk<u8, WalkerX86_64>(root, va, pages, outPtr, acc);
  else if (sp == SPEC_X86_64_LA57) rangeWalk<u8, WalkerX86_64_LA57>(root, va, pages, outPtr, acc);
  else rangeWalk<u8, GenericWalker>(root, va, pages, outPtr, acc);
}

/**
 * Translate `pages` consecutive base pages from `va` into at most `maxRuns` RR_*
 * run records at `outPtr` (the same walk as translateRange; every page of a run
 * has exactly translateRange's status, and its pa/entry address follows from
 * the run's, see src/abi.ts). Returns the runs written; RES_PAGES_COVERED = pages covered
 * (less than `pages` when maxRuns stopped it: continue from there). At most
 * `maxEntries` table entries are read (a walk costs the entries from the level it
 * restarts at to the one it ends at, a leaf-table entry one); when the next page
 * would need more, the walk stops before it: RES_PAGES_COVERED is that page and
 * RES_ENTRIES_READ what was read.
 */
export function translateRuns(root: u64, va: u64, pages: u32, outPtr: usize, maxRuns: u32, acc: u32, maxEntries: u32): u32 {
  rOut = outPtr;
  rMax = maxRuns;
  rN = 0;
  rStop = false;
  rOpen = false;
  rLeft = maxEntries;
  rDry = false;
  const last = levels() - 1;
  rPsh = shiftOf(last);
  rEb = <u64>entryBytes();
  rBase = va;
  let covered = pages;
  if (maxRuns == 0) covered = 0;
  else {
    const sp = currentSpec();
    if (sp == SPEC_X86_64) rangeWalk<u16, WalkerX86_64>(root, va, pages, 0, acc);
    else if (sp == SPEC_X86_64_LA57) rangeWalk<u16, WalkerX86_64_LA57>(root, va, pages, 0, acc);
    else rangeWalk<u16, GenericWalker>(root, va, pages, 0, acc);
    if (rStop) covered = rK;
    else if (rOpen) { runClose(); covered = rDry ? rAt : pages; }
    else if (rDry) covered = rAt;
  }
  store<u64>(RES + RES_PAGES_COVERED, <u64>covered);
  store<u64>(RES + RES_ENTRIES_READ, <u64>(maxEntries - rLeft));
  return rN;
}

function rangeWalk<T, W>(root: u64, va: u64, pages: u32, outPtr: usize, acc: u32): void {
  const w = changetype<W>(0);
  root &= rootMask();
  setAccess(acc);
  clearTableMemo();
  const last = levels() - 1;
  const pshift = shiftOf(last);
  const eb = entryBytes();
  const flags = walkFlags();
  const mask = load<u32>(lv(last) + LV_INDEX_MASK);
  const vmask = load<u32>(lv(last) + LV_VALID_MASK);
  const vval = load<u32>(lv(last) + LV_VALID_VALUE);
  let prev: u64 = 0;
  let prevEnd: i32 = -1;
  let k: u32 = 0;
  while (k < pages) {
    let cur = va + (<u64>k << pshift);
    if (!w.canonical(cur)) {
      sinkPage<T>(outPtr, k, walk(root, cur, acc));
      k++;
      prevEnd = -1;
      if (sizeof<T>() != 1 && rStop) return;
      continue;
    }
    // Runs: the restart level, for the walk's cost (the same test walkCachedWith makes).
    const from = sizeof<T>() != 1 && prevEnd >= 0 ? w.restart(cur, prev, prevEnd) : 0;
    const st = walkCachedWith<W>(root, cur, prev, prevEnd, acc);
    if (sizeof<T>() != 1) {
      const cost = ((st >> ST_LEVEL_SHIFT) & 0xf) + 1 - <u32>from;
      if (cost > rLeft) { rDry = true; rAt = k; return; }
      rLeft -= cost;
    }
    sinkPage<T>(outPtr, k, st);
    k++;
    if (sizeof<T>() != 1 && rStop) return;
    const end = wEnd;
    if (end < last) {
      // Same answer for the rest of this entry's span; only the offset moves.
      const sshift = shiftOf(end);
      const spanLeft = ((((cur >> sshift) + 1) << sshift) - cur) >> pshift; // pages in span from cur
      const ok = (st & ST_KIND_MASK) == K_OK;
      let pa = wPa;
      let m: u64 = 1;
      if (sizeof<T>() != 1) {
        // The rest of the span in one step.
        const left = <u64>(pages - k);
        const cnt = <u32>(spanLeft - 1 < left ? spanLeft - 1 : left);
        if (cnt > 0) {
          runAdd(k, cnt, ok ? pa + (<u64>1 << pshift) : wEntryAddr, st);
          k += cnt;
          if (rStop) return;
        }
        m = spanLeft;
      }
      while (m < spanLeft && k < pages) {
        const out = outPtr + (<usize>k) * BR_BYTES;
        pa += <u64>1 << pshift;
        store<u64>(out + BR_PA, ok ? pa : wEntryAddr);
        store<u32>(out + BR_STATUS, st);
        store<u32>(out + BR_ENTRY_LO, <u32>wEntry);
        m++;
        k++;
      }
      prev = va + (<u64>(k - 1) << pshift);
      prevEnd = end;
      continue;
    }
    // The walk reached the last level: read the following entries of the same table.
    const c = cacheTable(last);
    const table = load<u64>(c, WC_TABLE);
    const and_ = load<u64>(c, WC_AND);
    const or_ = load<u64>(c, WC_OR);
    const deny = tableDeny(and_, or_);
    let idx = <u32>(cur >> pshift) & mask;
    // In one leaf table the deny bits above are fixed, so a valid leaf's status
    // depends only on the entry's bits outside its output address (and the ones
    // its checks read: reserved, required and rights bits). An entry whose key
    // equals the previous OK entry's has the same status; only pa is computed.
    const L = lv(last);
    const laddr = load<u64>(L + LV_LEAF_ADDR);
    const xmask = load<u64>(L + LV_LEAF_EXT_MASK);
    const xshift = <u64>load<u32>(L + LV_LEAF_EXT_SHIFT);
    const keyMask = leafKeyMask(last);
    const poff = va & ((<u64>1 << pshift) - 1); // va's offset in its page: the same for every page
    let memo = false;
    let memoKey: u64 = 0;
    let memoSt: u32 = 0;
    // Records, 8-byte entries, no split address bits, the whole table in the image:
    // while entries keep the previous OK entry's key (a linear mapping), a page is
    // one load, one compare and three stores.
    // Runs: while the entries also continue the open run's output addresses, a page
    // is one load and two compares, and the run is extended once at the end.
    const tight = eb == 8 && xmask == 0;
    while (k < pages && idx < mask) {
      // The whole table, for the loop below only: nothing else reads physical memory in it.
      const t = tight && memo && (sizeof<T>() == 1 || (rOpen && k == rCur && memoSt == rSt)) ? physAddr(table, <u64>(mask + 1) << 3) : 0;
      if (t != 0) {
        const lim = sizeof<T>() == 1 ? min(pages - k, mask - idx) : min(min(pages - k, mask - idx), rLeft);
        let p = t + (<usize>(idx + 1) << 3);
        let j: u32 = 0;
        if (sizeof<T>() == 1) {
          let o = outPtr + (<usize>k) * BR_BYTES;
          // Four pages a step while the stretch lasts: two vector loads, one
          // compare and branch, four 16-byte record stores (the record is the
          // output address, then the status in lane 2, the entry's low half in
          // lane 3). A page at a time spent more on the loop than on the memory.
          const km = i64x2.splat(keyMask), mk = i64x2.splat(memoKey), la = i64x2.splat(laddr), po = i64x2.splat(poff);
          while (j + 4 <= lim) {
            const e01 = v128.load(p);
            const e23 = v128.load(p, 16);
            if (!i64x2.all_true(v128.and(i64x2.eq(v128.and(e01, km), mk), i64x2.eq(v128.and(e23, km), mk)))) break;
            const p01 = v128.or(v128.and(e01, la), po);
            const p23 = v128.or(v128.and(e23, la), po);
            v128.store(o, i32x4.replace_lane(i8x16.shuffle(p01, e01, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 16, 17, 18, 19), 2, memoSt));
            v128.store(o, i32x4.replace_lane(i8x16.shuffle(p01, e01, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 24, 25, 26, 27), 2, memoSt), 16);
            v128.store(o, i32x4.replace_lane(i8x16.shuffle(p23, e23, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 16, 17, 18, 19), 2, memoSt), 32);
            v128.store(o, i32x4.replace_lane(i8x16.shuffle(p23, e23, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 24, 25, 26, 27), 2, memoSt), 48);
            p += 32;
            o += 64;
            j += 4;
          }
          // The last pages of the stretch, or the ones before the entry that ends it.
          while (j < lim) {
            const e = load<u64>(p);
            if ((e & keyMask) != memoKey) break;
            store<u64>(o + BR_PA, (e & laddr) | poff);
            store<u32>(o + BR_STATUS, memoSt);
            store<u32>(o + BR_ENTRY_LO, <u32>e);
            p += 8;
            o += BR_BYTES;
            j++;
          }
        } else {
          const step = <u64>1 << pshift;
          let want = rV + (<u64>(k - rK) << pshift);
          while (j < lim) {
            const e = load<u64>(p);
            if ((e & keyMask) != memoKey || ((e & laddr) | poff) != want) break;
            want += step;
            p += 8;
            j++;
          }
          rCur = k + j;
          rLeft -= j;
        }
        idx += j;
        k += j;
        cur += <u64>j << pshift;
        if (k >= pages || idx >= mask) break;
      }
      if (sizeof<T>() != 1) {
        if (rLeft == 0) { rDry = true; rAt = k; return; }
        rLeft--;
      }
      idx++;
      cur += <u64>1 << pshift;
      const ea = table + <u64>(idx * eb);
      const out = outPtr + (<usize>k) * BR_BYTES;
      let s: u32;
      const a = physAddr(ea, eb);
      if (a == 0) {
        // Not reachable with page-aligned tables and a page-multiple image; kept for safety.
        s = walkFrom(cur, last, table, and_, or_, acc, true);
        memo = false;
      } else {
        const e = loadEntry(a, eb);
        if (memo && (e & keyMask) == memoKey) {
          const pa = (e & laddr) | ((e & xmask) << xshift) | poff;
          if (sizeof<T>() == 1) {
            store<u64>(out + BR_PA, pa);
            store<u32>(out + BR_STATUS, memoSt);
            store<u32>(out + BR_ENTRY_LO, <u32>e);
          } else if (rOpen && k == rCur && memoSt == rSt && pa == rV + (<u64>(k - rK) << pshift)) {
            rCur = k + 1; // the hot path: the next page of an OK run
          } else {
            runAdd(k, 1, pa, memoSt);
            if (rStop) return;
          }
          k++;
          continue;
        }
        if ((<u32>e & vmask) != vval) {
          s = walkFrom(cur, last, table, and_, or_, acc, true);
          memo = false;
        } else {
          s = entryStatus(ea, e, last, cur, deny, acc, flags);
          memo = (s & ST_KIND_MASK) == K_OK;
          memoKey = e & keyMask;
          memoSt = s;
        }
      }
      sinkPage<T>(outPtr, k, s);
      k++;
      if (sizeof<T>() != 1 && rStop) return;
    }
    prev = cur;
    prevEnd = last;
  }
}
