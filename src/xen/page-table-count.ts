/**
 * How many page-table pages Xen 4.17 reserves for the initial PV domain, computed
 * two ways: by Xen's own trial loop and by a direct formula. The layout code uses
 * the formula; the loop stays as the reference the tests compare it with.
 *
 * Everything here is 64-bit wrapping arithmetic, as in Xen (`unsigned long`).
 */
import { CapacityError } from '../errors.js';
import { hex } from '../util/numbers.js';

const U64 = (1n << 64n) - 1n;
const wrap = (x: bigint): bigint => x & U64;

export const PAGE_SIZE = 4096n;
const SUPER_4M = 1n << 22n;
const MIN_SLACK = 512n << 10n;

/** The fixed inputs of the search: where the address space starts and where the page-table area starts. */
export interface PageTableSearch {
  /** v_start: the guest's virt_base. */
  vStart: bigint;
  /** vpt_start: first byte of the page-table area (page aligned in Xen). */
  vptStart: bigint;
  /** 32-bit PAE (compat) guest: its L4 lives outside the area and it always gets four L2s. */
  compat: boolean;
}

/** Where the page tables, the boot stack and the end of the mapping land for a given count n. */
export interface PageTableArea {
  pages: bigint;
  vptEnd: bigint;
  stackStart: bigint;
  stackEnd: bigint;
  vEnd: bigint;
}

/** Place n page-table pages, the boot stack after them, and round v_end as Xen does. */
export function placePageTables(vptStart: bigint, n: bigint): PageTableArea {
  const vptEnd = wrap(vptStart + n * PAGE_SIZE);
  const stackStart = vptEnd;
  const stackEnd = wrap(stackStart + PAGE_SIZE);
  let vEnd = wrap(stackEnd + SUPER_4M - 1n) & ~(SUPER_4M - 1n);
  // Xen insists on at least 512 KiB between the stack and v_end.
  if (wrap(vEnd - stackEnd) < MIN_SLACK) vEnd = wrap(vEnd + SUPER_4M);
  return { pages: n, vptEnd, stackStart, stackEnd, vEnd };
}

/**
 * Xen's NR(lo, hi, shift): how many 2^shift-aligned blocks [lo, hi) touches,
 * computed with wrapping subtraction (so a range ending at 2^64 still counts right).
 */
export function slots(lo: bigint, hi: bigint, shift: bigint): bigint {
  const mask = (1n << shift) - 1n;
  return wrap((wrap(hi + mask) & ~mask) - (lo & ~mask)) >> shift;
}

/** Page-table pages needed to map [vStart, vEnd): Xen's "required" sum. */
export function requiredPageTables(vStart: bigint, vEnd: bigint, compat: boolean): bigint {
  const l3 = slots(vStart, vEnd, 39n);
  const l1 = slots(vStart, vEnd, 21n);
  if (compat) return l3 + 4n + l1; // L4 allocated separately; always four PAE L2s
  return 1n + l3 + slots(vStart, vEnd, 30n) + l1;
}

/**
 * Xen's search, literally: n = 2, 3, ... until required(v_end(n)) <= n.
 * `maxIterations` guards against layouts where Xen itself would spin for
 * billions of rounds (a range that wraps around the whole address space).
 */
export function pageTableCountByLoop(s: PageTableSearch, maxIterations = 1n << 26n): bigint {
  // Same statements as placePageTables/requiredPageTables, inlined: the tests run
  // this loop millions of times and BigInt object churn dominates otherwise.
  const vStart = s.vStart;
  const down39 = vStart & ~((1n << 39n) - 1n);
  const down30 = vStart & ~((1n << 30n) - 1n);
  const down21 = vStart & ~((1n << 21n) - 1n);
  const m39 = (1n << 39n) - 1n;
  const m30 = (1n << 30n) - 1n;
  const m21 = (1n << 21n) - 1n;
  const m4 = SUPER_4M - 1n;
  let stackEnd = wrap(s.vptStart + 3n * PAGE_SIZE); // n = 2
  for (let n = 2n; ; n++, stackEnd = wrap(stackEnd + PAGE_SIZE)) {
    let vEnd = wrap(stackEnd + m4) & ~m4;
    if (wrap(vEnd - stackEnd) < MIN_SLACK) vEnd = wrap(vEnd + SUPER_4M);
    const l3 = wrap((wrap(vEnd + m39) & ~m39) - down39) >> 39n;
    const l1 = wrap((wrap(vEnd + m21) & ~m21) - down21) >> 21n;
    const required = s.compat ? l3 + 4n + l1 : 1n + l3 + (wrap((wrap(vEnd + m30) & ~m30) - down30) >> 30n) + l1;
    if (required <= n) return n;
    if (n - 2n >= maxIterations) {
      throw new CapacityError(
        `page-table search: more than ${maxIterations} rounds for v_start ${hex(s.vStart)}, vpt_start ${hex(s.vptStart)} (use the direct formula)`,
        { vStart: s.vStart, vptStart: s.vptStart },
      );
    }
  }
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? (a + b - 1n) / b : -(-a / b));

/*
 * The direct formula: the least fixed point of n >= f(n) without walking n.
 *
 * 1. v_end depends on n only through one step function. With
 *    stack_end = vpt_start + 4096 (n + 1), Xen's "round up to 4 MiB, add 4 MiB if
 *    the slack is under 512 KiB" equals up_4M(stack_end + 512 KiB). So in
 *    unbounded integers V(n) = up_4M(Q + 4096 n), Q = vpt_start + 4096 + 512 KiB,
 *    and Xen's v_end is V(n) mod 2^64. Write V = 4 MiB * W. All n with the same W
 *    form the run [nhi(W) - 1023, nhi(W)], nhi(W) = (4 MiB W - Q) / 4096
 *    (Q is page aligned, so this is exact); the first run is clipped at n = 2.
 *
 * 2. required depends on n only through W. Let X = V - v_start (the offset of
 *    v_end from v_start), a_k = v_start mod 2^k. Xen's wrapping NR() for level k
 *    is ceil((X + a_k) / 2^k) - 2^(64-k) * [X > 2^64 - 2^k - a_k]: the count
 *    grows with X and drops to 0/1 once the range wraps past v_start ("a cut").
 *    X starts at X0 = (V(2) - v_start) mod 2^64 and grows by 4 MiB per W; it can
 *    cross each level's cut at most once before any answer (n < 2^44), so the W
 *    axis splits into at most four pieces with a fixed set of cuts.
 *
 * 3. Inside a run, n = max(nlo, required) is the least solution iff
 *    required(W) <= nhi(W). psi(W) = nhi(W) - required(W) rises by at least
 *    1020 per W (nhi by 1024, required by at most 2 + 1 + 1), and rises further
 *    at a cut. So the answer is the first W with psi(W) >= 0. In a piece that
 *    starts at W = W0 + lo, with t = W - W0 - lo and the cuts fixed,
 *    psi = A + 1022 t - ceil((b30 + t) / 256) - ceil((b39 + t) / 2^17)
 *    (2 L1s per 4 MiB; an L2 per 256 steps; an L3 per 2^17). Dropping the
 *    ceilings gives a line U(t) with U - 2 < psi <= U; its root t_a is a lower
 *    bound and psi(t_a + 1) > 0. So each piece needs at most two evaluations:
 *    t_a (clamped to the piece) and t_a + 1.
 *
 * For a 64-bit guest the levels are 39, 30, 21 plus one L4; for compat 39 and
 * 21 plus a constant 4. No loop over n: at most 4 pieces x 2 checks.
 */
export function pageTableCount(s: PageTableSearch): bigint {
  const vStart = wrap(s.vStart);
  const Q = wrap(s.vptStart) + PAGE_SIZE + MIN_SLACK; // unbounded: may exceed 2^64
  const q = Q / PAGE_SIZE;
  const W0 = ceilDiv(Q + 2n * PAGE_SIZE, SUPER_4M);
  const nhi = (W: bigint): bigint => 1024n * W - q;
  const X0 = wrap(W0 * SUPER_4M - vStart);

  const levels = s.compat ? [39n, 21n] : [39n, 30n, 21n];
  const constant = s.compat ? 4n : 1n;
  const TWO64 = 1n << 64n;
  const level = levels.map((k) => {
    const a = vStart & ((1n << k) - 1n);
    const cutX = TWO64 - (1n << k) - a;
    // First j where X0 + 4M j passes the cut; never within reach if X0 already has.
    const cutAt = X0 <= cutX ? (cutX - X0) / SUPER_4M + 1n : null;
    return { k, a, cutAt, cutFromStart: X0 > cutX };
  });

  const required = (j: bigint): bigint => {
    const X = X0 + SUPER_4M * j;
    let r = constant;
    for (const l of level) {
      const cut = l.cutFromStart || (l.cutAt !== null && j >= l.cutAt);
      r += ceilDiv(X + l.a, 1n << l.k) - (cut ? 1n << (64n - l.k) : 0n);
    }
    return r;
  };
  const psi = (j: bigint): bigint => nhi(W0 + j) - required(j);
  const l21 = level.find((l) => l.k === 21n)!;
  const l30 = level.find((l) => l.k === 30n);
  const l39 = level.find((l) => l.k === 39n)!;
  // Scaled by 2^17 so the line's coefficients are integers.
  const slope = 1022n * (1n << 17n) - (l30 ? 512n : 0n) - 1n;

  const bounds = [0n, ...level.flatMap((l) => (l.cutAt !== null ? [l.cutAt] : []))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  for (let p = 0; p < bounds.length; p++) {
    const lo = bounds[p]!;
    const hi = p + 1 < bounds.length ? bounds[p + 1]! : null;
    if (hi !== null && hi <= lo) continue;
    const X = X0 + SUPER_4M * lo;
    const cutSum = level.reduce((acc, l) => acc + ((l.cutFromStart || (l.cutAt !== null && lo >= l.cutAt)) ? 1n << (64n - l.k) : 0n), 0n);
    const e21 = ceilDiv(X + l21.a, 1n << 21n);
    const b39 = ceilDiv(X + l39.a, SUPER_4M);
    const b30 = l30 ? ceilDiv(X + l30.a, SUPER_4M) : 0n;
    const A = nhi(W0 + lo) - constant + cutSum - e21;
    // U(t) * 2^17 = slope * t - (512 b30 + b39) + A * 2^17 >= 0.
    const offset = (l30 ? 512n * b30 : 0n) + b39 - A * (1n << 17n);
    let t = ceilDiv(offset, slope);
    if (t < 0n) t = 0n;
    let j = lo + t;
    if (psi(j) < 0n) j += 1n;
    if (hi !== null && j >= hi) continue;
    const W = W0 + j;
    const nlo = W === W0 ? 2n : nhi(W) - 1023n;
    const r = required(j);
    return r > nlo ? r : nlo;
  }
  // Unreachable: the last piece is unbounded and psi grows without limit.
  throw new Error('page-table formula found no fixed point');
}
