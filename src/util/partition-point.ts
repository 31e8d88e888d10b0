/**
 * The first index in [0, n) at which `before(i)` is false, for a `before` that is
 * true on a prefix and false after it (binary search over sorted data); n when
 * it is true everywhere.
 */
export function partitionPoint(n: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
