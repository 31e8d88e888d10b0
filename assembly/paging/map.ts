// map / unmap / protect over any format. Each runs twice when called by the TS
// layer: a dry run that reads only (finds conflicts, counts the table pages a
// map needs), then the real run.
//
// Why a journal as well: the real run can still meet a conflict the dry run did
// not, when it reads an entry it has itself written (tables that alias: a root
// that maps itself, two entries sharing a table, an allocator handing out a frame
// that is a live table). No read-only pass can foresee that without playing the
// writes, so the real run of map and protect notes what each write replaced in
// the caller's journal, and a refused run is undone by replaying it backwards (TS,
// src/paging/undo.ts). The notes are kept small: a write into a table this run
// created is covered by the one note of that table's former contents (usually
// "all zero"), and consecutive entries that held the same value share a note, so
// a map into fresh tables notes a handful of records whatever its size. unmap
// needs none: it only ever makes entries invalid, and an invalid entry is skipped,
// so its real run reads either what the dry run read or an invalid entry and
// cannot meet a conflict the dry run did not.
//
// Speed: the format's constants of a level are read once per table into locals,
// and a table's entries are found with one physical lookup per table, not one per
// entry (an engine over a source looks the table up again after anything that
// may evict it: a descent or a new table).
import {
  RES, RES_TABLES_NEEDED, RES_LEAVES, RES_VA, RES_ENTRY_ADDR, RES_ENTRY_VALUE, RES_JOURNAL_BYTES, WP, WP_MAX_LEAF,
  LV_SHIFT, LV_INDEX_MASK, LV_LEAF_ALLOWED, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_MASK, LV_LEAF_VALUE,
  LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_LEAF_EXT_SHIFT, LV_RSVD_TABLE,
  LV_TABLE_TEMPLATE, LV_LEAF_TEMPLATE, WF_CHECK_RSVD,
  MAP_OK, MAP_ALREADY_MAPPED, MAP_INSIDE_LEAF, MAP_OUTSIDE_IMAGE, MAP_POOL_EMPTY, MAP_SPLITS_LEAF, MAP_BAD_ENTRY,
  MAP_PA_UNREPRESENTABLE, MAP_JOURNAL_FULL,
  JR_BYTES, JR_ADDR, JR_VALUE, JR_KIND, JR_COUNT, JK_ENTRIES, JK_RIGHTS, JK_ZERO, JK_SAVED,
} from '../../src/abi';
import { levels, entryBytes, walkFlags, lv, rootMask } from './params';
import { physAddr, physWriteAddr } from '../shared/phys';
import { CACHED } from '../shared/layout';

let count: u64 = 0;
let poolPtr: usize = 0;
let poolLeft: u32 = 0;
let EB: u64 = 8;
let LEAF_BITS: u64 = 0;
let MAX_LEAF: i32 = 0;
let CHECK_RSVD: bool = false;
// The journal: next free byte, end, and the last record if a note may extend it (0: none).
let jAt: usize = 0;
let jEnd: usize = 0;
let jRun: usize = 0;

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

// @ts-ignore: decorator
@inline function loadE(a: usize): u64 {
  return EB == 8 ? load<u64>(a) : <u64>load<u32>(a);
}

// @ts-ignore: decorator
@inline function storeE(a: usize, v: u64): void {
  if (EB == 8) store<u64>(a, v);
  else store<u32>(a, <u32>v);
}

/** Wasm address of `bytes` at physical `pa` (for writing in a real run), or 0. */
// @ts-ignore: decorator
@inline function lookup(pa: u64, bytes: u64, dry: bool): usize {
  return dry ? physAddr(pa, bytes) : physWriteAddr(pa, bytes);
}

// ---- the journal ----------------------------------------------------------------

function jNew(kind: u32, addr: u64, value: u64, n: u32): bool {
  const r = jAt;
  if (r + JR_BYTES > jEnd) return false;
  store<u64>(r + JR_ADDR, addr);
  store<u64>(r + JR_VALUE, value);
  store<u32>(r + JR_KIND, kind);
  store<u32>(r + JR_COUNT, n);
  jRun = r;
  jAt = r + JR_BYTES;
  return true;
}

/** Note that the entry at `ea` held `old` (JK_ENTRIES) or `old` in the protect mask (JK_RIGHTS). */
// @ts-ignore: decorator
@inline function noteEntry(kind: u32, ea: u64, old: u64): bool {
  const r = jRun;
  if (r != 0 && load<u32>(r + JR_KIND) == kind && load<u64>(r + JR_VALUE) == old) {
    const n = load<u32>(r + JR_COUNT);
    if (load<u64>(r + JR_ADDR) + <u64>n * EB == ea && n < 0x7fffffff) {
      store<u32>(r + JR_COUNT, n + 1);
      return true;
    }
  }
  return jNew(kind, ea, old, 1);
}

function isZero(a: usize, n: usize): bool {
  let acc = i64x2.splat(0);
  let p = a;
  const end = a + (n & ~15);
  for (; p < end; p += 16) acc = v128.or(acc, v128.load(p));
  let rest: u64 = 0;
  if (n & 8) rest = load<u64>(end);
  return !v128.any_true(acc) && rest == 0;
}

/** Zero the new table at `t`, noting what it held; MAP_OK, MAP_JOURNAL_FULL or MAP_OUTSIDE_IMAGE. */
function freshTable(t: u64, bytes: u64): u32 {
  // A table may span frames (64 KiB granule): frame by frame.
  for (let z: u64 = 0; z < bytes; z += 0x1000) {
    const n = bytes - z < 0x1000 ? bytes - z : 0x1000;
    const at = t + z;
    const a = physWriteAddr(at, n);
    if (a == 0) return conflict(MAP_OUTSIDE_IMAGE, 0, at, 0);
    if (isZero(a, <usize>n)) {
      const r = jRun;
      if (r != 0 && load<u32>(r + JR_KIND) == JK_ZERO && load<u64>(r + JR_ADDR) + <u64>load<u32>(r + JR_COUNT) == at && load<u32>(r + JR_COUNT) < 0x7fff0000) {
        store<u32>(r + JR_COUNT, load<u32>(r + JR_COUNT) + <u32>n);
      } else if (!jNew(JK_ZERO, at, 0, <u32>n)) return MAP_JOURNAL_FULL;
    } else {
      const padded = (<usize>n + 7) & ~7;
      if (jAt + padded + JR_BYTES > jEnd) return MAP_JOURNAL_FULL;
      memory.copy(jAt, a, <usize>n);
      jAt += padded;
      jNew(JK_SAVED, at, 0, <u32>n);
      memory.fill(a, 0, <usize>n);
    }
  }
  return MAP_OK;
}

// ---- map --------------------------------------------------------------------------

/** Can a leaf hold output `pa` (no address bit lost, e.g. above MAXPHYADDR or 4 GiB)? */
// @ts-ignore: decorator
@inline function representable(addr: u64, ext: u64, extShift: u64, pa: u64): bool {
  const a = (pa & addr) | ((pa >> extShift) & ext);
  return ((a & addr) | ((a & ext) << extShift)) == pa;
}

// @ts-ignore: decorator
@inline function leafAddrBits(addr: u64, ext: u64, extShift: u64, pa: u64): u64 {
  return (pa & addr) | ((pa >> extShift) & ext);
}

/**
 * Can every output of `n` leaves from `p0`, `span` apart, be held? Only the last
 * needs checking when a leaf's address bits, with the offset bits below them, are
 * one field from bit 0 (every format's leaves are): a leaf holds `p` exactly when
 * `p` has no bit above it. Else false, and each leaf is checked on its own.
 */
// @ts-ignore: decorator
@inline function runFits(lAddr: u64, lExt: u64, lExtShift: u64, p0: u64, n: u64, span: u64): bool {
  const field = lAddr | (lExt << lExtShift) | (span - 1);
  return (lAddr & lExt) == 0 && (field & (field + 1)) == 0 && p0 + (n - 1) * span <= field;
}

/**
 * Write `n` whole leaves from entry `idx` of `table` (wasm address `base`, 0: look
 * each entry up), for [cva, ...) onto [cpa, ...); `fits`: runFits said every output
 * can be held. Specialised by entry width, and the loops that fill a table of
 * leaves kept to a load, a compare and a store.
 */
function leafRun<T>(table: u64, fresh: bool, base: usize, idx: u64, n: u64, cva: u64, cpa: u64, shift: u64,
  vMask: u32, vValue: u32, lAddr: u64, lExt: u64, lExtShift: u64, leafTmpl: u64, dry: bool, fits: bool): u32 {
  const eb = <u64>sizeof<T>();
  if (base != 0 && fits && (dry || fresh)) {
    const start = base + <usize>(idx * eb);
    const end = start + <usize>(n * eb);
    let a = start;
    if (dry) {
      for (; a < end; a += <usize>eb) if ((<u32>load<T>(a) & vMask) == vValue) break;
    } else {
      const step: u64 = <u64>1 << shift;
      let p = cpa;
      for (; a < end; a += <usize>eb, p += step) {
        if ((<u32>load<T>(a) & vMask) == vValue) break;
        store<T>(a, <T>(leafTmpl | leafAddrBits(lAddr, lExt, lExtShift, p)));
      }
      count += <u64>(a - start) / eb;
    }
    if (a == end) return MAP_OK;
    const k = <u64>(a - start) / eb;
    return conflict(MAP_ALREADY_MAPPED, cva + (k << shift), table + (idx + k) * eb, <u64>load<T>(a));
  }
  let written: u64 = 0;
  for (let k: u64 = 0; k < n; k++) {
    const ea = table + (idx + k) * eb;
    const a = base != 0 ? base + <usize>((idx + k) * eb) : lookup(ea, eb, dry);
    const va = cva + (k << shift);
    if (a == 0) return conflict(MAP_OUTSIDE_IMAGE, va, ea, 0);
    const e = <u64>load<T>(a);
    const p = cpa + (k << shift);
    if ((<u32>e & vMask) == vValue) return conflict(MAP_ALREADY_MAPPED, va, ea, e);
    if (!fits && !representable(lAddr, lExt, lExtShift, p)) return conflict(MAP_PA_UNREPRESENTABLE, va, ea, e);
    if (!dry) {
      if (!fresh && !noteEntry(JK_ENTRIES, ea, e)) return MAP_JOURNAL_FULL;
      store<T>(a, <T>(leafTmpl | leafAddrBits(lAddr, lExt, lExtShift, p)));
      written++;
    }
  }
  count += written;
  return MAP_OK;
}

/**
 * Map [va, va+size) to [pa, pa+size) in `table` at level `i` (ABSENT: a table the
 * dry run would create). `fresh`: the table was created by this run, so writes into
 * it need no note of their own.
 */
function mapLevel(table: u64, fresh: bool, i: i32, va: u64, pa: u64, size: u64, dry: bool): u32 {
  const L = lv(i);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const span: u64 = <u64>1 << shift;
  const eb = EB;
  const imask = <u64>load<u32>(L + LV_INDEX_MASK);
  const leafHere = load<u32>(L + LV_LEAF_ALLOWED) != 0 && i >= MAX_LEAF;
  const vMask = load<u32>(L + LV_VALID_MASK), vValue = load<u32>(L + LV_VALID_VALUE);
  const lMask = load<u32>(L + LV_LEAF_MASK), lValue = load<u32>(L + LV_LEAF_VALUE);
  const leafOk = load<u32>(L + LV_LEAF_ALLOWED) != 0;
  const lAddr = load<u64>(L + LV_LEAF_ADDR), lExt = load<u64>(L + LV_LEAF_EXT_MASK), lExtShift = <u64>load<u32>(L + LV_LEAF_EXT_SHIFT);
  const leafTmpl = load<u64>(L + LV_LEAF_TEMPLATE) | LEAF_BITS;
  const tAddr = load<u64>(L + LV_TABLE_ADDR);
  const tableBytes = (imask + 1) * eb;
  let base: usize = table == ABSENT ? 0 : lookup(table, tableBytes, dry);
  let off: u64 = 0;
  while (off < size) {
    const cva = va + off;
    const cpa = pa + off;
    const left = size - off;
    const room = toSpanEnd(cva, shift);
    const chunk = room < left ? room : left;
    const idx = (cva >> shift) & imask;
    // The superpage rule: a leaf here only when va, pa and length all fit it exactly.
    if (leafHere && chunk == span && (cpa & (span - 1)) == 0) {
      // A run of whole leaves, to the end of the range or of the table.
      let n = left >> shift;
      if (imask + 1 - idx < n) n = imask + 1 - idx;
      const fits = runFits(lAddr, lExt, lExtShift, cpa, n, span);
      if (table == ABSENT) {
        if (!fits) {
          for (let k: u64 = 0; k < n; k++) {
            if (!representable(lAddr, lExt, lExtShift, cpa + k * span)) return conflict(MAP_PA_UNREPRESENTABLE, cva + k * span, 0, 0);
          }
        }
      } else {
        const r = EB == 8
          ? leafRun<u64>(table, fresh, base, idx, n, cva, cpa, shift, vMask, vValue, lAddr, lExt, lExtShift, leafTmpl, dry, fits)
          : leafRun<u32>(table, fresh, base, idx, n, cva, cpa, shift, vMask, vValue, lAddr, lExt, lExtShift, leafTmpl, dry, fits);
        if (r != MAP_OK) return r;
      }
      off += n << shift;
      continue;
    }
    let r: u32 = MAP_OK;
    if (table == ABSENT) {
      count++;
      r = mapLevel(ABSENT, true, i + 1, cva, cpa, chunk, dry);
    } else {
      const ea = table + idx * eb;
      const a = base != 0 ? base + <usize>(idx * eb) : lookup(ea, eb, dry);
      if (a == 0) return conflict(MAP_OUTSIDE_IMAGE, cva, ea, 0);
      const e = loadE(a);
      if ((<u32>e & vMask) == vValue) {
        if (leafOk && (<u32>e & lMask) == lValue) return conflict(MAP_INSIDE_LEAF, cva, ea, e);
        if (CHECK_RSVD && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) return conflict(MAP_BAD_ENTRY, cva, ea, e);
        r = mapLevel(e & tAddr, false, i + 1, cva, cpa, chunk, dry);
      } else if (dry) {
        count++;
        r = mapLevel(ABSENT, true, i + 1, cva, cpa, chunk, dry);
      } else {
        if (poolLeft == 0) return conflict(MAP_POOL_EMPTY, cva, ea, e);
        const t = load<u64>(poolPtr);
        poolPtr += 8;
        poolLeft--;
        // Zero the new table first (it may be this very table, if the allocator says so).
        const z = freshTable(t, (<u64>load<u32>(lv(i + 1) + LV_INDEX_MASK) + 1) * eb);
        if (z != MAP_OK) {
          if (z == MAP_OUTSIDE_IMAGE) store<u64>(RES + RES_VA, cva);
          return z;
        }
        if (!fresh && !noteEntry(JK_ENTRIES, ea, e)) return MAP_JOURNAL_FULL;
        // freshTable looked memory up: an engine over a source finds the entry again.
        const w = CACHED ? physWriteAddr(ea, eb) : a;
        storeE(w, load<u64>(L + LV_TABLE_TEMPLATE) | (t & tAddr));
        r = mapLevel(t, true, i + 1, cva, cpa, chunk, dry);
      }
      if (CACHED && base != 0) base = lookup(table, tableBytes, dry);
    }
    if (r != MAP_OK) return r;
    off += chunk;
  }
  return MAP_OK;
}

/**
 * Map [va, va+size) to [pa, pa+size). Dry run: RES_TABLES_NEEDED = table pages
 * needed. Real run: tables come from the u64 frame addresses at `pool` (the dry
 * run's count of them, checked to be inside the image), RES_LEAVES = leaves
 * written, and [journal, journal+journalBytes) receives the undo notes
 * (RES_JOURNAL_BYTES of them).
 */
export function mapRange(root: u64, va: u64, pa: u64, size: u64, leafBits: u64, pool: usize, poolCount: u32, dry: u32, journal: usize, journalBytes: usize): u32 {
  count = 0;
  poolPtr = pool;
  poolLeft = poolCount;
  setUp(journal, journalBytes);
  LEAF_BITS = leafBits;
  MAX_LEAF = <i32>load<u32>(WP + WP_MAX_LEAF);
  const r = mapLevel(root & rootMask(), false, 0, va, pa, size, dry != 0);
  store<u64>(RES + (dry != 0 ? RES_TABLES_NEEDED : RES_LEAVES), count);
  store<u64>(RES + RES_JOURNAL_BYTES, jAt - journal);
  return r;
}

function setUp(journal: usize, journalBytes: usize): void {
  EB = <u64>entryBytes();
  CHECK_RSVD = (walkFlags() & WF_CHECK_RSVD) != 0;
  jAt = journal;
  jEnd = journal + journalBytes;
  jRun = 0;
}

// ---- unmap and protect -------------------------------------------------------------

/** op 0: unmap (clear leaves); op 1: protect (entry = entry & ~clear | set). */
function editLevel(table: u64, i: i32, va: u64, size: u64, op: u32, set: u64, clear: u64, dry: bool): u32 {
  const L = lv(i);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const span: u64 = <u64>1 << shift;
  const eb = EB;
  const imask = <u64>load<u32>(L + LV_INDEX_MASK);
  const tableBytes = (imask + 1) * eb;
  let base = lookup(table, tableBytes, dry);
  let off: u64 = 0;
  while (off < size) {
    const cva = va + off;
    const left = size - off;
    const room = toSpanEnd(cva, shift);
    const chunk = room < left ? room : left;
    const idx = (cva >> shift) & imask;
    if (chunk == span && base != 0) {
      // Whole entries, to the end of the range or of the table, in one loop.
      let n = left >> shift;
      if (imask + 1 - idx < n) n = imask + 1 - idx;
      const r = EB == 8 ? editRun<u64>(table, base, i, idx, n, cva, op, set, clear, dry) : editRun<u32>(table, base, i, idx, n, cva, op, set, clear, dry);
      if (r != MAP_OK) return r;
      off += n << shift;
      continue;
    }
    const ea = table + idx * eb;
    off += chunk;
    const a = lookup(ea, eb, dry);
    // A table outside the image maps nothing (it reads as zeros): nothing to edit.
    if (a == 0) continue;
    const r = editEntry(a, ea, i, cva, chunk, chunk == span, op, set, clear, dry);
    if (r != MAP_OK) return r;
    if (CACHED && base != 0) base = lookup(table, tableBytes, dry);
  }
  return MAP_OK;
}

/** Edit `n` whole entries from `idx` of `table` (at wasm address `base`). */
function editRun<T>(table: u64, base: usize, i: i32, idx: u64, n: u64, cva: u64, op: u32, set: u64, clear: u64, dry: bool): u32 {
  const L = lv(i);
  const shift = <u64>load<u32>(L + LV_SHIFT);
  const eb = <usize>sizeof<T>();
  const vMask = load<u32>(L + LV_VALID_MASK), vValue = load<u32>(L + LV_VALID_VALUE);
  const lMask = load<u32>(L + LV_LEAF_ALLOWED) != 0 ? load<u32>(L + LV_LEAF_MASK) : 0;
  // A level without leaves: a value no masked entry equals.
  const lValue = load<u32>(L + LV_LEAF_ALLOWED) != 0 ? load<u32>(L + LV_LEAF_VALUE) : 1;
  let start = base + <usize>idx * eb;
  let end = start + <usize>n * eb;
  let a = start;
  let edited: u64 = 0;
  while (a < end) {
    // The hot loops: a table of leaves and holes, cleared (or counted) in one pass.
    if (dry) {
      for (; a < end; a += eb) {
        const e = <u32>load<T>(a);
        if ((e & vMask) != vValue) continue;
        if ((e & lMask) != lValue) break;
        edited++;
      }
    } else if (op == 0) {
      for (; a < end; a += eb) {
        const e = <u32>load<T>(a);
        if ((e & vMask) != vValue) continue;
        if ((e & lMask) != lValue) break;
        store<T>(a, 0);
        edited++;
      }
    } else {
      for (; a < end; a += eb) {
        const e = <u64>load<T>(a);
        if ((<u32>e & vMask) != vValue) continue;
        if ((<u32>e & lMask) != lValue) break;
        if (!noteEntry(JK_RIGHTS, table + <u64>(a - base), e & clear)) return MAP_JOURNAL_FULL;
        store<T>(a, <T>((e & ~clear) | set));
        edited++;
      }
    }
    if (a == end) break;
    // A table entry: descend.
    count += edited;
    edited = 0;
    const k = <u64>(a - start) / <u64>eb;
    const r = editEntry(a, table + <u64>(a - base), i, cva + (k << shift), <u64>1 << shift, true, op, set, clear, dry);
    if (r != MAP_OK) return r;
    a += eb;
    if (CACHED && a < end) {
      // The descent may have moved this table's frame: find it again.
      const nb = lookup(table, (<u64>load<u32>(L + LV_INDEX_MASK) + 1) * <u64>eb, dry);
      // Not found again (a source that lost the frame): the rest entry by entry.
      if (nb == 0) return editLevel(table, i, cva + ((k + 1) << shift), (n - k - 1) << shift, op, set, clear, dry);
      a = nb + (a - base);
      start = nb + (start - base);
      end = nb + (end - base);
      base = nb;
    }
  }
  count += edited;
  return MAP_OK;
}

/** Edit the entry at wasm address `a` (physical `ea`), whose chunk of the range is `chunk` bytes (`whole`: its whole span). */
function editEntry(a: usize, ea: u64, i: i32, cva: u64, chunk: u64, whole: bool, op: u32, set: u64, clear: u64, dry: bool): u32 {
  const L = lv(i);
  const e = loadE(a);
  if ((<u32>e & load<u32>(L + LV_VALID_MASK)) != load<u32>(L + LV_VALID_VALUE)) return MAP_OK;
  if (load<u32>(L + LV_LEAF_ALLOWED) != 0 && (<u32>e & load<u32>(L + LV_LEAF_MASK)) == load<u32>(L + LV_LEAF_VALUE)) {
    if (!whole) return conflict(MAP_SPLITS_LEAF, cva, ea, e);
    if (!dry) {
      if (op == 0) storeE(a, 0);
      else {
        if (!noteEntry(JK_RIGHTS, ea, e & clear)) return MAP_JOURNAL_FULL;
        storeE(a, (e & ~clear) | set);
      }
    }
    count++;
    return MAP_OK;
  }
  if (CHECK_RSVD && (e & load<u64>(L + LV_RSVD_TABLE)) != 0) return conflict(MAP_BAD_ENTRY, cva, ea, e);
  if (i + 1 >= levels()) return MAP_OK;
  return editLevel(e & load<u64>(L + LV_TABLE_ADDR), i + 1, cva, chunk, op, set, clear, dry);
}

/** Clear every leaf in [va, va+size); RES_LEAVES = leaves (that would be) cleared. */
export function unmapRange(root: u64, va: u64, size: u64, dry: u32): u32 {
  count = 0;
  setUp(0, 0);
  const r = editLevel(root & rootMask(), 0, va, size, 0, 0, 0, dry != 0);
  store<u64>(RES + RES_LEAVES, count);
  return r;
}

/**
 * Rewrite the flags of every leaf in [va, va+size); RES_LEAVES = leaves changed.
 * Real run: undo notes in [journal, journal+journalBytes), RES_JOURNAL_BYTES of them.
 */
export function protectRange(root: u64, va: u64, size: u64, set: u64, clear: u64, dry: u32, journal: usize, journalBytes: usize): u32 {
  count = 0;
  setUp(journal, journalBytes);
  const r = editLevel(root & rootMask(), 0, va, size, 1, set, clear, dry != 0);
  store<u64>(RES + RES_LEAVES, count);
  store<u64>(RES + RES_JOURNAL_BYTES, jAt - journal);
  return r;
}
