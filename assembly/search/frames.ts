// Find frames that hold given table entries: the way to find page-table roots that
// share the kernel half of a known one.
import { HIT_BYTES, HIT_SPAN, HIT_OFFSET } from '../../src/abi';
import { physAddr } from '../shared/phys';
import { spanPa, spanLength } from './spans';

/**
 * Frames of spans [from, count) (each span frame-aligned) whose `entries` u64
 * entries at byte `at` of the frame equal those at `ref`, the zero entries of `ref`
 * not compared, with at most `misses` differing. Hit records at `out` (at most
 * `max`) name the frame by span and offset. Returns the hits; `max` means there
 * may be more (resume after the last one).
 */
export function matchFrames(spans: usize, count: u32, at: u32, ref: usize, entries: u32, misses: u32, from: u32, fromOffset: u64, out: usize, max: u32): u32 {
  let hits: u32 = 0;
  if (max == 0) return 0;
  for (let s = from; s < count; s++) {
    const len = spanLength(spans, s);
    for (let off: u64 = s == from ? fromOffset : 0; off + 0x1000 <= len; off += 0x1000) {
      const a = physAddr(spanPa(spans, s) + off + at, <u64>entries * 8);
      if (a == 0) continue;
      let missed: u32 = 0;
      for (let k: u32 = 0; k < entries; k++) {
        const want = load<u64>(ref + <usize>k * 8);
        if (want != 0 && load<u64>(a + <usize>k * 8) != want && ++missed > misses) break;
      }
      if (missed <= misses) {
        const r = out + <usize>hits * HIT_BYTES;
        store<u32>(r, s, HIT_SPAN);
        store<u32>(r, <u32>off, HIT_OFFSET);
        if (++hits == max) return hits;
      }
    }
  }
  return hits;
}
