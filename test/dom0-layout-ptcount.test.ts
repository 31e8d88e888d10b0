import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityError } from '../src/errors.js';
import { dom0Layout, XenPanicError } from '../src/xen/dom0-layout.js';
import { pageTableCount, pageTableCountByLoop, placePageTables, requiredPageTables, slots, type PageTableSearch } from '../src/xen/page-table-count.js';

const TWO64 = 1n << 64n;
const U64 = TWO64 - 1n;
const M4 = 1n << 22n;
const G1 = 1n << 30n;
const G512 = 1n << 39n;
const wrap = (x: bigint) => ((x % TWO64) + TWO64) % TWO64;
const LOOP_LIMIT = 1n << 15n;

const req = (s: PageTableSearch, n: bigint) => requiredPageTables(s.vStart, placePageTables(s.vptStart, n).vEnd, s.compat);

/**
 * The mapping grew without wrapping back toward v_start: (v_end - v_start) mod 2^64
 * rose from n = 2 to n and stayed below 2^64 - 2^40, under every level's "cut".
 * There the count is exact (see page-table-count.ts).
 */
function noWrap(s: PageTableSearch, n: bigint): boolean {
  const x0 = wrap(placePageTables(s.vptStart, 2n).vEnd - s.vStart);
  const x = wrap(placePageTables(s.vptStart, n).vEnd - s.vStart);
  return x0 <= x && x < TWO64 - (1n << 40n);
}

/**
 * Compare the formula with Xen's loop. The loop runs at most a few rounds past
 * the formula's answer, so any disagreement shows (a smaller fixed point makes
 * the loop stop early, a larger one makes it overrun). Where the answer is past
 * LOOP_LIMIT (layouts spanning terabytes, or wrapping around v_start) the loop
 * still proves there is no fixed point up to the limit, and the answer is
 * checked to be a fixed point with none just below it.
 */
function agree(s: PageTableSearch, boundedLoop = LOOP_LIMIT): 'loop' | 'bounded' {
  const direct = pageTableCount(s);
  if (direct <= LOOP_LIMIT) {
    let loop: bigint;
    try {
      loop = pageTableCountByLoop(s, direct + 4n);
    } catch (err) {
      if (!(err instanceof CapacityError)) throw err;
      loop = -1n;
    }
    if (loop !== direct) {
      throw new Error(`formula ${direct} != loop ${loop < 0n ? '(more)' : loop} for vStart 0x${s.vStart.toString(16)} vptStart 0x${s.vptStart.toString(16)} compat ${s.compat}`);
    }
    return 'loop';
  }
  expect(() => pageTableCountByLoop(s, boundedLoop)).toThrow(CapacityError);
  expect(req(s, direct)).toBeLessThanOrEqual(direct);
  for (let n = direct - 1n; n >= direct - 128n; n--) expect(req(s, n)).toBeGreaterThan(n);
  return 'bounded';
}

const u64 = fc.bigInt({ min: 0n, max: U64 });
const pageAligned = (a: fc.Arbitrary<bigint>) => a.map((x) => x & ~0xfffn);
/** Addresses near 0, near 2^64, near the Linux virt_base, or anywhere. */
const base = fc.oneof(
  fc.bigInt({ min: 0n, max: 1n << 40n }),
  fc.bigInt({ min: 0n, max: 1n << 40n }).map((x) => U64 - x),
  fc.bigInt({ min: 0n, max: 1n << 32n }).map((x) => (0xffffffff80000000n + x) & U64),
  u64,
);
/** How far after v_start the page-table area starts: tiny to huge, or slightly before v_start. */
const gap = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 1n << 24n }), weight: 3 },
  { arbitrary: fc.bigInt({ min: 0n, max: 1n << 33n }), weight: 3 },
  { arbitrary: fc.bigInt({ min: 0n, max: 1n << 45n }), weight: 1 },
  { arbitrary: fc.bigInt({ min: 1n, max: 1n << 24n }).map((x) => -x), weight: 3 }, // before v_start: a wrapping layout
);

describe('page-table count: formula vs Xen loop', () => {
  it('agree on the seed layout (5) and a Linux-like one (33)', () => {
    expect(pageTableCountByLoop({ vStart: 0n, vptStart: 0x2ec000n, compat: false })).toBe(5n);
    expect(pageTableCount({ vStart: 0n, vptStart: 0x2ec000n, compat: false })).toBe(5n);
    const linux = { vStart: 0xffffffff80000000n, vptStart: 0xffffffff83a2c000n, compat: false };
    expect(pageTableCountByLoop(linux)).toBe(33n);
    expect(pageTableCount(linux)).toBe(33n);
  });

  it('agree on random (v_start, vpt_start) pairs, 64-bit and compat', () => {
    const counts = { loop: 0, bounded: 0, wrapped: 0 };
    fc.assert(
      fc.property(base, gap, fc.boolean(), fc.nat(4095), (vStart, d, compat, misalign) => {
        // v_start need not be page aligned (Xen takes VIRT_BASE as is); vpt_start always is.
        const v = wrap(vStart + BigInt(misalign));
        const s = { vStart: v, vptStart: wrap(v + d) & ~0xfffn, compat };
        counts[agree(s, 1n << 12n)]++;
        const n = pageTableCount(s);
        if (noWrap(s, n)) expect(req(s, n)).toBe(n);
        else counts.wrapped++;
      }),
      { numRuns: 600, seed: 0x5eed001 },
    );
    expect(counts.loop).toBeGreaterThan(450);
    expect(counts.wrapped).toBeGreaterThan(50); // wrapped layouts were exercised too
  });

  it('agree on an edge grid around 4 MiB, 1 GiB and 512 GiB boundaries and the wrap at 2^64', () => {
    const vStarts = [0n, 0x1000n, 0x1ff000n, 0x200000n, 0x3ff000n, G1 - 0x1000n, 0xc0000000n, 0xffffffff80000000n, TWO64 - G512, TWO64 - G1, TWO64 - M4, TWO64 - 0x1000n, G512 - 0x1000n, 0x12345678000n];
    // Distances chosen so that growing n moves v_end across a boundary (the slack rule,
    // a new L1, L2 or L3), or so that the area sits just below v_start (wrap cases).
    const deltas: bigint[] = [];
    for (const edge of [M4, 2n * M4, G1, G512, TWO64]) {
      // Far edges make long runs; a few steps around them are enough there.
      const steps = edge === G1 || edge === G512 ? [0n, 1n, 2n, 5n] : Array.from({ length: 13 }, (_, i) => BigInt(i));
      for (const k of steps) {
        deltas.push(edge - (512n << 10n) - k * 0x1000n);
        deltas.push(edge - k * 0x1000n);
        deltas.push(edge - M4 - k * 0x1000n);
      }
    }
    deltas.push(0n, 0x1000n, 0x2ec000n, -0x1000n, -0x200000n, -0x201000n, -(M4 * 3n));
    let n = 0;
    for (const vStart of vStarts) {
      for (const d of deltas) {
        for (const compat of [false, true]) {
          agree({ vStart, vptStart: wrap(vStart + d) & ~0xfffn, compat }, 1n << 8n);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(1500);
  });

  it('agree on whole layouts: kernel and initrd sizes, nr_pages up to 2^32, both guest kinds', () => {
    let compared = 0;
    let exact = 0;
    fc.assert(
      fc.property(
        fc.record({
          virtBase: base,
          kOffset: fc.bigInt({ min: 0n, max: 1n << 30n }),
          kSize: fc.oneof({ arbitrary: fc.bigInt({ min: 0n, max: 1n << 22n }), weight: 3 }, { arbitrary: fc.bigInt({ min: 0n, max: 1n << 31n }), weight: 1 }),
          initrd: fc.option(fc.oneof({ arbitrary: fc.bigInt({ min: 0n, max: 1n << 26n }), weight: 3 }, { arbitrary: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), weight: 1 }), { nil: undefined }),
          // Spread over every magnitude up to 2^32 pages (16 TiB).
          nrPages: fc.integer({ min: 10, max: 32 }).chain((bits) => fc.bigInt({ min: 1n << BigInt(bits - 1), max: 1n << BigInt(bits) })),
          compat: fc.boolean(),
          unmapped: fc.boolean(),
          p2m: fc.boolean(),
        }),
        (r) => {
          // Keep virt_base <= kstart <= kend < 2^64, as libelf demands.
          const kernelStart = r.virtBase + (r.kOffset % (U64 - r.virtBase + 1n));
          const kernelEnd = kernelStart + (r.kSize % (U64 - kernelStart + 1n));
          let layout;
          try {
            layout = dom0Layout({
              virtBase: r.virtBase,
              kernelStart,
              kernelEnd,
              entry: kernelStart,
              p2mBase: r.p2m && !r.compat ? 0x8000000000n : null,
              compat: r.compat,
              unmappedInitrd: r.unmapped,
              initrdLength: r.initrd,
              nrPages: r.nrPages,
            });
          } catch (err) {
            if (err instanceof XenPanicError) return;
            throw err;
          }
          const s = { vStart: r.virtBase, vptStart: layout.pageTables.start, compat: r.compat };
          agree(s);
          compared++;
          // The answer Xen prints: exactly the tables [v_start, v_end) needs whenever the
          // mapping does not wrap around back toward v_start.
          const n = layout.pageTables.pages;
          if (noWrap(s, n)) {
            expect(req(s, n)).toBe(n);
            exact++;
          }
        },
      ),
      { numRuns: 600, seed: 0xd0e0 },
    );
    expect(compared).toBeGreaterThan(280);
    expect(exact).toBeGreaterThan(250);
  });
});

/**
 * Xen's builder, page by page: a new L1 whenever the L1 cursor is at a page
 * boundary (entry 0 of a fresh table or after entry 511), likewise L2/L3,
 * starting each cursor at v_start's index. Counts the tables it takes from the
 * page-table area.
 */
function tablesUsedByBuilder(vStart: bigint, vEnd: bigint, compat: boolean): bigint {
  const pages = wrap(vEnd - vStart) >> 12n;
  let used = 1n; // 64-bit: the L4; compat: the one L3, taken before the loop
  let l1 = -1n;
  let l2 = -1n;
  let l3 = -1n;
  const l3Entries = new Set<bigint>();
  for (let i = 0n; i < pages; i++) {
    const va = wrap(vStart + i * 4096n);
    const i1 = va >> 21n;
    const i2 = va >> 30n;
    const i3 = va >> 39n;
    if (i1 === l1) continue;
    used++; // a new L1: its L2 cursor moves to the next entry
    l1 = i1;
    if (i2 === l2) continue;
    used++; // the L2 cursor crossed a page: a new L2
    l2 = i2;
    l3Entries.add(i2 & 3n);
    if (i3 === l3) continue;
    if (!compat) used++; // a new L3 (compat reuses the one it has)
    l3 = i3;
  }
  // Compat: "ensure the first four L3 entries are all populated".
  if (compat) used += 4n - BigInt(l3Entries.size);
  return used;
}

describe('page-table count: exact, not an upper bound', () => {
  it('NR() counts blocks touched, with the 2^64 wrap', () => {
    expect(slots(0xffffffff80000000n, 0xffffffff83c00000n, 39n)).toBe(1n);
    expect(slots(0xffffffff80000000n, 0xffffffff83c00000n, 30n)).toBe(1n);
    expect(slots(0xffffffff80000000n, 0xffffffff83c00000n, 21n)).toBe(30n);
    expect(slots(0x1000n, 0x400000n, 21n)).toBe(2n);
    expect(slots(0x1ff000n, 0x400000n, 21n)).toBe(2n);
    expect(slots(0x200000n, 0x400000n, 21n)).toBe(1n);
  });

  it('the smallest answers are 4 (64-bit) and 6 (compat), so starting at 2 only costs rounds', () => {
    // v_start 2 MiB with everything inside [2 MiB, 4 MiB): one L1, one L2, one L3 (+ L4).
    expect(pageTableCount({ vStart: 0x200000n, vptStart: 0x203000n, compat: false })).toBe(4n);
    expect(pageTableCountByLoop({ vStart: 0x200000n, vptStart: 0x203000n, compat: false })).toBe(4n);
    expect(pageTableCount({ vStart: 0x200000n, vptStart: 0x203000n, compat: true })).toBe(6n);
    expect(pageTableCountByLoop({ vStart: 0x200000n, vptStart: 0x203000n, compat: true })).toBe(6n);
  });

  it('a wrapped layout (table area below v_start) can reserve more than it needs', () => {
    // Unreachable from a kernel libelf accepts (virt_base <= kernel start), but the loop
    // allows it: at n = 3 v_end lands exactly on v_start, the range is "empty" and needs 2.
    const s = { vStart: 0x40000000n, vptStart: 0x3fb7d000n, compat: false };
    expect(pageTableCountByLoop(s)).toBe(3n);
    expect(pageTableCount(s)).toBe(3n);
    expect(placePageTables(s.vptStart, 3n).vEnd).toBe(0x40000000n);
    expect(req(s, 3n)).toBe(2n);
  });

  it('required() equals the tables the builder actually takes, for aligned and unaligned v_start', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 0n, max: 1n << 33n }), fc.bigInt({ min: 0n, max: 1n << 33n }).map((x) => U64 - (1n << 34n) + x)),
        fc.bigInt({ min: 1n, max: 48n }),
        fc.boolean(),
        (start, mib, compat) => {
          const vStart = start & ~0xfffn;
          // v_end is always 4 MiB aligned in Xen; the range here stays below 2^64 and inside 4 GiB for compat.
          const vEnd = (vStart + mib * (1n << 20n) + M4 - 1n) & ~(M4 - 1n);
          if (vEnd > U64) return;
          if (compat && vEnd > 1n << 32n) return;
          expect(tablesUsedByBuilder(vStart, vEnd, compat)).toBe(requiredPageTables(vStart, vEnd, compat));
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });
});
