// Reading span records, and single bytes by (span, offset) for the rare checks
// that cross a frame or span boundary.
import { SP_BYTES, SP_LOGICAL, SP_PA, SP_LENGTH } from '../../src/abi';
import { physAddr } from '../shared/phys';

// @ts-ignore: decorator
@inline export function spanLogical(spans: usize, s: u32): u64 { return load<u64>(spans + <usize>s * SP_BYTES, SP_LOGICAL); }
// @ts-ignore: decorator
@inline export function spanPa(spans: usize, s: u32): u64 { return load<u64>(spans + <usize>s * SP_BYTES, SP_PA); }
// @ts-ignore: decorator
@inline export function spanLength(spans: usize, s: u32): u64 { return load<u64>(spans + <usize>s * SP_BYTES, SP_LENGTH); }

/**
 * Do the `n` bytes at `pattern` follow at (span s, offset off), the stream going
 * on into the next spans while their logical starts follow on? A byte physical
 * memory has no contents for never matches.
 */
export function matchesFrom(spans: usize, count: u32, s: u32, off: u64, pattern: usize, n: u32): bool {
  for (let k: u32 = 0; k < n; k++) {
    while (off >= spanLength(spans, s)) {
      const next = s + 1;
      if (next >= count || spanLogical(spans, next) != spanLogical(spans, s) + spanLength(spans, s)) return false;
      off -= spanLength(spans, s);
      s = next;
    }
    const a = physAddr(spanPa(spans, s) + off, 1);
    if (a == 0 || load<u8>(a) != load<u8>(pattern + k)) return false;
    off++;
  }
  return true;
}
