// The contiguous hint (Arm bit 52): a group of N adjacent entries of one table
// (16 with a 4 KiB granule; the format says how many at each level) may all carry
// the hint when they are valid leaves of that level mapping one run of output,
// entry after entry, that starts on the group's size, with identical attributes.
//
// contigUpdate sets the hint on every group that qualifies and clears it from
// every group that does not, over the groups that touch a range (the TS layer
// runs it after map, unmap and protect). contigCheckStart/Next stream every
// group reachable from a root whose hint is set although a rule is broken.
import {
  RES, RES_HINTS_CHANGED, RES_ENTRIES_VISITED, CK,
  CR_BYTES, CR_TABLE, CR_VA, CR_INDEX, CR_LEVEL, CR_RULES, CR_HINTED,
  CG_NOT_LEAF, CG_NOT_ALL, CG_NOT_CONSECUTIVE, CG_MISALIGNED, CG_ATTRS_DIFFER,
  LV_SHIFT, LV_INDEX_MASK,
  LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_TABLE, LV_CONTIG_BIT, LV_CONTIG_ENTRIES,
  WF_CHECK_RSVD,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, loadEntry, storeEntry, isValid, isLeaf, rootMask, canonicalize } from './params';
import { physAddr, physWriteAddr } from '../shared/phys';
import { dfsStart, dfsRun, dfsVa } from './traverse';

/** Entries of the last analysed group that are valid leaves carrying the hint. */
let gHinted: u32 = 0;
/** Entries whose hint bit an update changed. */
let changed: u64 = 0;

/** Entry `idx` of `table`, or 0 when it lies outside the image (unbacked memory reads as zeros). */
// @ts-ignore: decorator
@inline function entryAt(table: u64, idx: u32, eb: u32): u64 {
  const a = physAddr(table + <u64>(idx * eb), eb);
  return a != 0 ? loadEntry(a, eb) : 0;
}

/**
 * The rules the group of `n` entries from index `g` of `table` (level record `L`)
 * breaks, as CG_* bits, ignoring whether the hints themselves are all set
 * (CG_NOT_ALL is the caller's business). Sets gHinted.
 */
function groupRules(table: u64, L: usize, g: u32, n: u32, eb: u32): u32 {
  const cbit = load<u64>(L + LV_CONTIG_BIT);
  const addrMask = load<u64>(L + LV_LEAF_ADDR);
  const extMask = load<u64>(L + LV_LEAF_EXT_MASK);
  const extShift = <u64>load<u32>(L + LV_LEAF_EXT_SHIFT);
  const attrMask = ~(addrMask | extMask | cbit);
  const span: u64 = <u64>1 << <u64>load<u32>(L + LV_SHIFT);
  let rules: u32 = 0;
  let hinted: u32 = 0;
  let first = true;
  let base: u64 = 0;
  let attrs: u64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const e = entryAt(table, g + k, eb);
    if (!isValid(L, e) || !isLeaf(L, e)) {
      rules |= CG_NOT_LEAF;
      continue;
    }
    if ((e & cbit) != 0) hinted++;
    const out = (e & addrMask) | ((e & extMask) << extShift);
    // The output the group's first entry would have if this entry is in the run.
    const start = out - <u64>k * span;
    if (first) {
      first = false;
      base = start;
      attrs = e & attrMask;
      if ((base & (<u64>n * span - 1)) != 0) rules |= CG_MISALIGNED;
    } else {
      if (start != base) rules |= CG_NOT_CONSECUTIVE;
      if ((e & attrMask) != attrs) rules |= CG_ATTRS_DIFFER;
    }
  }
  gHinted = hinted;
  return rules;
}

/** Set (qualifies && set) or clear the hint on every valid leaf of the group. */
function writeGroup(table: u64, L: usize, g: u32, n: u32, eb: u32, on: bool): void {
  const cbit = load<u64>(L + LV_CONTIG_BIT);
  for (let k: u32 = 0; k < n; k++) {
    const ea = table + <u64>((g + k) * eb);
    const a = physAddr(ea, eb);
    if (a == 0) continue;
    const e = loadEntry(a, eb);
    if (!isValid(L, e) || !isLeaf(L, e)) continue;
    const v = on ? e | cbit : e & ~cbit;
    if (v != e) {
      storeEntry(physWriteAddr(ea, eb), eb, v);
      changed++;
    }
  }
}

/** Groups that carry the hint after the update. */
let hintedGroups: u32 = 0;

/** Update the groups of level `i` that touch [va, last] inside `table`, then descend. */
function updateLevel(table: u64, i: i32, va: u64, last: u64, set: bool): void {
  const L = lv(i);
  const eb = entryBytes();
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const imask = load<u32>(L + LV_INDEX_MASK);
  const first = <u32>(va >> shift) & imask;
  const end = <u32>(last >> shift) & imask;
  const n = load<u32>(L + LV_CONTIG_ENTRIES);
  if (n > 1) {
    for (let g = first & ~(n - 1); g <= end; g += n) {
      const rules = groupRules(table, L, g, n, eb);
      if (rules == 0 && (set || gHinted == n)) {
        if (gHinted != n) writeGroup(table, L, g, n, eb, true);
        hintedGroups++;
      } else if (gHinted != 0) {
        writeGroup(table, L, g, n, eb, false);
      }
    }
  }
  if (i + 1 >= levels()) return;
  const checkRsvd = (walkFlags() & WF_CHECK_RSVD) != 0;
  const tbase = va & ~((<u64>1 << shift) - 1) & ~(<u64>imask << shift);
  for (let idx = first; idx <= end; idx++) {
    const a = physAddr(table + <u64>(idx * eb), eb);
    if (a == 0) break;
    const e = loadEntry(a, eb);
    if (!isValid(L, e) || isLeaf(L, e)) continue;
    if (checkRsvd && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) continue;
    const s = tbase | (<u64>idx << shift);
    const t = s + ((<u64>1 << shift) - 1);
    updateLevel(e & load<u64>(L + LV_TABLE_ADDR), i + 1, s > va ? s : va, t < last ? t : last, set);
  }
}

/**
 * Normalise the hint over every group that touches [va, va+size): groups that
 * qualify get it (when `set`; otherwise they keep it only if all their entries
 * already had it), every other group loses it. Returns the groups that carry
 * the hint afterwards; RES_HINTS_CHANGED = entries whose hint bit changed.
 */
export function contigUpdate(root: u64, va: u64, size: u64, set: u32): u32 {
  changed = 0;
  hintedGroups = 0;
  if (size != 0) updateLevel(root & rootMask(), 0, va, va + size - 1, set != 0);
  store<u64>(RES + RES_HINTS_CHANGED, changed);
  return hintedGroups;
}

export function contigCheckStart(root: u64): void {
  dfsStart(CK, root);
}

let out: usize = 0;
let max: u32 = 0;
let steps: u32 = 0;
let count: u32 = 0;
let done: u32 = 0;

/** The check's visit: at the first slot of each group, a record when its hint is set while a rule is broken. */
@final @unmanaged class CheckGroups {
  // @ts-ignore: decorator
  @inline full(): bool { return count >= max || done >= steps; }
  // @ts-ignore: decorator
  @inline slot(d: i32, L: usize, table: u64, idx: u32): void {
    done++;
    const gn = load<u32>(L + LV_CONTIG_ENTRIES);
    if (gn <= 1 || (idx & (gn - 1)) != 0) return;
    let rules = groupRules(table, L, idx, gn, entryBytes());
    if (gHinted == 0) return;
    if (gHinted != gn) rules |= CG_NOT_ALL;
    if (rules == 0) return;
    const r = out + (<usize>count) * CR_BYTES;
    store<u64>(r + CR_TABLE, table);
    store<u64>(r + CR_VA, canonicalize(dfsVa(CK, d, L, idx)));
    store<u32>(r + CR_INDEX, idx);
    store<u32>(r + CR_LEVEL, <u32>d);
    store<u32>(r + CR_RULES, rules);
    store<u32>(r + CR_HINTED, gHinted);
    count++;
  }
  // @ts-ignore: decorator
  @inline leaf(d: i32, L: usize, table: u64, idx: u32, e: u64, va: u64, deny: u32): void {}
}

/**
 * Visit at most `maxSteps` entries and emit at most `maxRecords` 32-byte records at
 * `outPtr`, one per group (reached by one path) whose hint is set on some
 * entry while a rule is broken. Returns the records written; RES_ENTRIES_VISITED =
 * the entries visited. The check is over when the CK block's DFS_DEPTH is -1.
 */
export function contigCheckNext(outPtr: usize, maxRecords: u32, maxSteps: u32): u32 {
  out = outPtr;
  max = maxRecords;
  steps = maxSteps;
  count = 0;
  done = 0;
  dfsRun<CheckGroups>(CK);
  store<u64>(RES + RES_ENTRIES_VISITED, <u64>done);
  return count;
}
