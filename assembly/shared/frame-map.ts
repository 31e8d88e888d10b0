// Physical memory of an engine over a source: frames are found through the frame
// map (an open-addressing table written by the TS frame cache), and a frame that is
// not there is faulted in by the imported `fetchFrame`, which reads it from the
// source, may evict another (clean) frame, and returns the slot's address (0: the
// source has no such frame). Callers never keep a slot address across another
// physical access, so an eviction can never pull a frame from under them.
import { FM_KEY_LO, FM_ADDR, FM_FLAGS, FM_PRIVATE, FM_HASH_MULT, FM_HASH_MIX } from '../../src/abi';

// @ts-ignore: decorator
@external('env', 'fetchFrame')
declare function fetchFrame(pfn: f64, write: u32): u32;

let MAP_BASE: usize = 0;
let MAP_BITS: u32 = 0;
let MAP_MASK: u32 = 0;

export function setFrameMap(base: usize, bits: u32): void {
  MAP_BASE = base;
  MAP_BITS = bits;
  MAP_MASK = (<u32>1 << bits) - 1;
}

/**
 * Address of physical [pa, pa+bytes) in the frame cache, faulting its frame in;
 * 0 when the source has no such frame or the span leaves the frame.
 */
export function cachedAddr(pa: u64, bytes: u64, write: bool): usize {
  if ((pa & 0xfff) + bytes > 0x1000) return 0;
  const pfn = pa >> 12;
  const key = pfn + 1;
  let i = ((<u32>pfn ^ (<u32>(pfn >> 32) * <u32>FM_HASH_MIX)) * <u32>FM_HASH_MULT) >> (32 - MAP_BITS);
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
  const a = fetchFrame(<f64>pfn, write ? 1 : 0);
  return a == 0 ? 0 : <usize>a + <usize>(pa & 0xfff);
}
