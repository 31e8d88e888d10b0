// Physical memory of an engine over a source: frames are found through the frame
// map (an open-addressing table written by the TS frame cache), and a frame that is
// not there is faulted in by the imported `fetchFrame`, which reads it from the
// source, may evict another (clean) frame, and returns the slot's address (0: the
// source has no such frame). Callers never keep a slot address across another
// physical access, so an eviction can never pull a frame from under them.
//
// The hit is inlined into every kernel. Most frames sit in their home slot (the
// low bits of the frame number; see src/memory/frame-cache.ts): the address then
// follows from the frame number alone, and the home tag is only compared, so the
// load of the table entry does not wait for it. Other frames take one load of
// their map entry (the key and the slot address share it) before the table entry,
// no call, no loop. Frame numbers are hashed by groups of 16: frames that follow
// each other (page tables are allocated together) sit in one run of map entries,
// so the map lines a walk touches stay few and cached; the probe loop is out of line.
import { FM_KEY_LO, FM_ADDR, FM_FLAGS, FM_PRIVATE, FM_HASH_MULT, FM_HASH_MIX } from '../../src/abi';

// @ts-ignore: decorator
@external('env', 'fetchFrame')
declare function fetchFrame(pfn: f64, write: u32): u32;

let MAP_BASE: usize = 0;
let MAP_MASK: u32 = 0;
/** 36 - log2(entries): shifts a 32-bit hash down to a group of 16 entries. */
let GROUP_SHIFT: u32 = 32;
let SLOTS_BASE: usize = 0;
let TAG_BASE: usize = 0;
let HOME_MASK: u32 = 0;
let HOME_BITS: u64 = 0;

export function setFrameMap(base: usize, bits: u32, slotsBase: usize, tagBase: usize, homeBits: u32): void {
  MAP_BASE = base;
  MAP_MASK = (<u32>1 << bits) - 1;
  GROUP_SHIFT = 36 - bits;
  SLOTS_BASE = slotsBase;
  TAG_BASE = tagBase;
  HOME_MASK = (<u32>1 << homeBits) - 1;
  HOME_BITS = <u64>homeBits;
}

/** Home entry of `pfn`: its group of 16 frames hashed (both halves), then its place in the group. */
// @ts-ignore: decorator
@inline function home(pfn: u64): u32 {
  const g = pfn >> 4;
  return ((((<u32>g ^ (<u32>(g >> 32) * <u32>FM_HASH_MIX)) * <u32>FM_HASH_MULT) >> GROUP_SHIFT) << 4) | (<u32>pfn & 15);
}

/**
 * Address of physical [pa, pa+bytes) in the frame cache, faulting its frame in;
 * 0 when the source has no such frame or the span leaves the frame. `inFrame`
 * (a constant where it is inlined): the caller knows the span lies in one frame.
 */
// @ts-ignore: decorator
@inline export function cachedAddr(pa: u64, bytes: u64, write: bool, inFrame: bool = false): usize {
  const pfn = pa >> 12;
  const h = <usize>(<u32>pfn & HOME_MASK);
  // At home (a write may need the frame made private first: the map path decides).
  // The tag, widened, is compared with all of pfn's high bits: no frame matches another's tag.
  if (<u64>load<u32>(TAG_BASE + (h << 2)) == (pfn >> HOME_BITS) + 1 && (inFrame || (pa & 0xfff) + bytes <= 0x1000) && !write) {
    return SLOTS_BASE + (h << 12) + <usize>(pa & 0xfff);
  }
  const e = MAP_BASE + (<usize>home(pfn) << 4);
  const k = load<u64>(e, FM_KEY_LO);
  const v = load<u64>(e, FM_ADDR); // slot address, then flags
  // The frame in its home entry (most are), the span inside it, and no copy to make for a write.
  if (k == pfn + 1 && (pa & 0xfff) + bytes <= 0x1000 && (!write || (<u32>(v >> 32) & FM_PRIVATE) != 0)) {
    const a = <usize>(<u32>v);
    return a == 0 ? 0 : a + <usize>(pa & 0xfff);
  }
  return cachedAddrSlow(pa, bytes, write);
}

// The table memo of the specialised walkers: per level, the table frame the last
// walk read there and its slot address. A walk from the root reads the same top
// tables address after address, so a hit replaces the frame lookup (hash, map
// entry load, compares: all on the walk's dependent path) by one compare that does
// not delay the table read. Valid while no frame is faulted in (fetchFrame may
// evict any frame: the slow path clears it) and within one kernel call (the TS
// frame cache may change the map between calls: the kernels clear it on entry).
let TM0: u64 = <u64>-1, TM1: u64 = <u64>-1, TM2: u64 = <u64>-1, TM3: u64 = <u64>-1, TM4: u64 = <u64>-1;
let TB0: usize = 0, TB1: usize = 0, TB2: usize = 0, TB3: usize = 0, TB4: usize = 0;

/** Frames faulted in so far: a kernel holding addresses across lookups checks it did not move. */
export let FETCHES: u32 = 0;

export function clearTableMemo(): void {
  TM0 = <u64>-1;
  TM1 = <u64>-1;
  TM2 = <u64>-1;
  TM3 = <u64>-1;
  TM4 = <u64>-1;
}

/**
 * cachedAddr for entry `ea` of the table `table` read at level `i` (a constant
 * where it is inlined). The entry lies inside the table's frame: a table is
 * aligned to its size, at most a frame (gen-walk-specs checks the size).
 */
// @ts-ignore: decorator
@inline export function tableAddr(i: i32, table: u64, ea: u64, bytes: u64, write: bool): usize {
  const m = i == 0 ? TM0 : i == 1 ? TM1 : i == 2 ? TM2 : i == 3 ? TM3 : TM4;
  if (m == table) return (i == 0 ? TB0 : i == 1 ? TB1 : i == 2 ? TB2 : i == 3 ? TB3 : TB4) + <usize>(ea - table);
  const a = cachedAddr(ea, bytes, write, true);
  if (a != 0 && (table & 0xfff) == 0) {
    const b = a - <usize>(ea - table);
    if (i == 0) { TM0 = table; TB0 = b; }
    else if (i == 1) { TM1 = table; TB1 = b; }
    else if (i == 2) { TM2 = table; TB2 = b; }
    else if (i == 3) { TM3 = table; TB3 = b; }
    else { TM4 = table; TB4 = b; }
  }
  return a;
}

/** The rest of cachedAddr: a span over two frames, a probe past the home entry, a miss. */
function cachedAddrSlow(pa: u64, bytes: u64, write: bool): usize {
  if ((pa & 0xfff) + bytes > 0x1000) return 0;
  const pfn = pa >> 12;
  const key = pfn + 1;
  let i = home(pfn);
  while (true) {
    const e = MAP_BASE + (<usize>i << 4);
    const k = load<u64>(e, FM_KEY_LO);
    if (k == key) {
      if (write && !(load<u32>(e, FM_FLAGS) & FM_PRIVATE)) break;
      const a = load<u32>(e, FM_ADDR);
      return a == 0 ? 0 : <usize>a + <usize>(pa & 0xfff);
    }
    if (k == 0) break;
    i = (i + 1) & MAP_MASK;
  }
  clearTableMemo(); // fetchFrame may evict a memoised frame
  FETCHES++;
  const a = fetchFrame(<f64>pfn, write ? 1 : 0);
  return a == 0 ? 0 : <usize>a + <usize>(pa & 0xfff);
}
