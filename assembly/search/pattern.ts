// Find a byte pattern in the stream of spans. Inside a chunk (a whole span of a
// resident image, one frame of the frame cache) candidates are found 32 positions
// at a time (16 at the tail) by comparing the pattern's first and last bytes (SIMD), then checked
// with a memory compare; positions whose match would leave the chunk are checked
// byte by byte across frames and spans.
import { HIT_BYTES, HIT_SPAN, HIT_OFFSET } from '../../src/abi';
import { physAddr } from '../shared/phys';
import { CACHED } from '../shared/layout';
import { spanPa, spanLength, matchesFrom } from './spans';

// @ts-ignore: decorator
@inline function hit(out: usize, i: u32, s: u32, off: u64): void {
  const r = out + <usize>i * HIT_BYTES;
  store<u32>(r, s, HIT_SPAN);
  store<u32>(r, <u32>off, HIT_OFFSET);
}

/**
 * Matches of the `n`-byte pattern that start in spans [from, starts) at or after
 * offset `fromOffset` of span `from`, in stream order, as hit records at `out`
 * (at most `max`). Spans [starts, count) are only read by matches that run on into
 * them. Returns the hits written; `max` means there may be more (resume after the
 * last one).
 */
export function searchPattern(spans: usize, count: u32, starts: u32, pattern: usize, n: u32, from: u32, fromOffset: u64, out: usize, max: u32): u32 {
  if (n == 0 || max == 0) return 0;
  const first = load<u8>(pattern);
  const last = load<u8>(pattern + n - 1);
  const vf = i8x16.splat(first);
  const vl = i8x16.splat(last);
  let hits: u32 = 0;
  for (let s = from; s < starts; s++) {
    const len = spanLength(spans, s);
    let off: u64 = s == from ? fromOffset : 0;
    while (off < len) {
      const pa = spanPa(spans, s) + off;
      let chunk = len - off;
      if (CACHED) {
        const room = 0x1000 - (pa & 0xfff);
        if (chunk > room) chunk = room;
      }
      let a = physAddr(pa, chunk);
      if (a == 0) {
        // Not one readable piece (a hole, or a resident span past the image): go frame by frame.
        const room = 0x1000 - (pa & 0xfff);
        if (chunk > room) chunk = room;
        a = physAddr(pa, chunk);
        if (a == 0) { off += chunk; continue; }
      }
      // Positions [0, inside) keep the whole match in the chunk.
      const inside: u64 = chunk >= <u64>n ? chunk - n + 1 : 0;
      let i: u64 = 0;
      // 32 positions a step, one test for both halves (nearly every step finds no candidate).
      if (inside >= 32) {
        const last = <usize>(n - 1);
        const end = a + <usize>(inside - 32);
        let p = a;
        while (p <= end) {
          const x0 = v128.and(i8x16.eq(v128.load(p), vf), i8x16.eq(v128.load(p + last), vl));
          const x1 = v128.and(i8x16.eq(v128.load(p, 16), vf), i8x16.eq(v128.load(p + last, 16), vl));
          if (v128.any_true(v128.or(x0, x1))) {
            let bits = <u32>i8x16.bitmask(x0) | (<u32>i8x16.bitmask(x1) << 16);
            while (bits != 0) {
              const j = <u64>(p - a) + <u64>ctz(bits);
              bits &= bits - 1;
              if (n <= 2 || memory.compare(a + <usize>j + 1, pattern + 1, n - 2) == 0) {
                hit(out, hits++, s, off + j);
                if (hits == max) return hits;
              }
            }
          }
          p += 32;
        }
        i = <u64>(p - a);
      }
      while (i + 16 <= inside) {
        const m0 = i8x16.eq(v128.load(a + <usize>i), vf);
        const m1 = i8x16.eq(v128.load(a + <usize>i + n - 1), vl);
        let bits = i8x16.bitmask(v128.and(m0, m1));
        while (bits != 0) {
          const j = i + <u64>ctz(bits);
          bits &= bits - 1;
          if (n <= 2 || memory.compare(a + <usize>j + 1, pattern + 1, n - 2) == 0) {
            hit(out, hits++, s, off + j);
            if (hits == max) return hits;
          }
        }
        i += 16;
      }
      for (; i < inside; i++) {
        if (load<u8>(a + <usize>i) == first && memory.compare(a + <usize>i, pattern, n) == 0) {
          hit(out, hits++, s, off + i);
          if (hits == max) return hits;
        }
      }
      // Positions whose match would run past the chunk.
      for (; i < chunk; i++) {
        const rest = <u32>(chunk - i);
        if (memory.compare(a + <usize>i, pattern, rest) != 0) continue;
        if (matchesFrom(spans, count, s, off + chunk, pattern + rest, n - rest)) {
          hit(out, hits++, s, off + i);
          if (hits == max) return hits;
        }
        // That check may have evicted this chunk's frame: find it again.
        a = physAddr(pa, chunk);
        if (a == 0) break;
      }
      off += chunk;
    }
  }
  return hits;
}
