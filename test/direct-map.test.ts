// The direct map of RAM banks (xen-mm.md §5, seed 003), checked by walking the
// tables it builds. Expected leaf counts, hinted groups and table pages are
// worked out by hand in the comments.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, aarch64_4k, x86_64, BumpAllocator, CapacityError, InvalidInputError, type Engine, type PagingFormat } from '../src/index.js';
import { setupDirectMap, type ReservedRange, type MemRange } from '../src/xen/direct-map.js';

const K = 1n << 10n, M = 1n << 20n, G = 1n << 30n, T = 1n << 40n;

// The 1 TiB layout. The RAM image is [0, 64 MiB): it covers the low part of bank 0,
// so the boot allocator's pages there can hold tables; everything above has no contents.
const BANKS: MemRange[] = [
  { start: 1n * M, size: 768n * G - 1n * M }, // bank 0: [1M, 768G)
  { start: 1n * T, size: 256n * G + 2n * M + 12n * K }, // bank 1: [1T, 1T+256G+2M+12K)
];
const RESERVED: ReservedRange[] = [
  { start: 0n, size: 1n * M, name: 'firmware' }, // below bank 0
  { start: 2n * M, size: 4n * M, name: 'xen+modules' }, // inside bank 0: mapped, never allocated
  { start: 1n * G, size: 4n * M, noMap: true, name: 'secure' }, // inside bank 0: not mapped
  { start: 768n * G, size: 1n * G, name: 'device window' }, // right after bank 0
];
const ENDS = { b0: 768n * G, b1: 1n * T + 256n * G + 2n * M + 12n * K };

function engine(): Engine {
  return createEngine({ ramBytes: '64M', ioBytes: 1 << 20 });
}

/** Merge the listed leaves into physical runs, checking va = base + pa and that no byte is mapped twice. */
function runsOf(e: Engine, root: bigint, format: PagingFormat, base: bigint): Array<[bigint, bigint]> {
  const runs: Array<[bigint, bigint]> = [];
  let prevEnd = -1n;
  for (const m of e.mappingsIter(root, { format })) {
    expect(m.va - base).toBe(m.pa);
    expect(m.pa >= prevEnd).toBe(true);
    prevEnd = m.pa + BigInt(m.size);
    const last = runs[runs.length - 1];
    if (last && last[1] === m.pa) last[1] = m.pa + BigInt(m.size);
    else runs.push([m.pa, m.pa + BigInt(m.size)]);
  }
  return runs;
}

describe.each([
  ['aarch64_4k', aarch64_4k, 0n],
  ['x86_64 at Xen\'s directmap base', x86_64, 0xffff830000000000n],
] as const)('1 TiB, two banks: %s', (_n, format, base) => {
  test('maps every bank byte once except the no-map region, and nothing outside the banks', () => {
    const e = engine();
    const r = setupDirectMap({ engine: e, format, banks: BANKS, reserved: RESERVED, base });
    expect(runsOf(e, r.root, format, base)).toEqual([
      [1n * M, 1n * G],
      [1n * G + 4n * M, ENDS.b0],
      [1n * T, ENDS.b1],
    ]);
    expect(r.mapped.map((s) => [s.start, s.end])).toEqual(runsOf(e, r.root, format, base));
    // Probes on both sides of every edge.
    const probes: Array<[bigint, boolean]> = [
      [1n * M - 1n, false], [1n * M, true], [1n * G - 1n, true], [1n * G, false], [1n * G + 4n * M - 1n, false],
      [1n * G + 4n * M, true], [ENDS.b0 - 1n, true], [ENDS.b0, false], [1n * T - 1n, false], [1n * T, true],
      [ENDS.b1 - 1n, true], [ENDS.b1, false], [2n * M + 5n, true],
    ];
    const batch = e.translateBatch(r.root, probes.map(([pa]) => base + pa), { format });
    probes.forEach(([pa, ok], i) => {
      expect(batch.ok(i)).toBe(ok);
      if (ok) expect(batch.get(i)).toMatchObject({ pa });
    });
    expect(r.aliased).toEqual([]);
  });

  test('leaf counts, hinted groups and table pages, by hand', () => {
    const e = engine();
    const r = setupDirectMap({ engine: e, format, banks: BANKS, reserved: RESERVED, base });
    // 4K: [1M,2M) = 256 pages, bank 1's tail 12K = 3 pages.
    // 2M: [2M,1G) = 511, [1G+4M,2G) = 510, bank 1's [1T+256G, +2M) = 1.
    // 1G: [2G,768G) = 766, [1T,1T+256G) = 256.
    expect(r.leaves).toEqual({ '1G': 766 + 256, '2M': 511 + 510 + 1, '4K': 256 + 3 });
    // Tables: the root; three level-1 tables (root slots 0, 1, 2); level-2 tables for GiB 0,
    // GiB 1 and GiB 1T+256G; level-3 tables for [0,2M) and [1T+256G+2M, +2M). All from bank 0's
    // first free pages inside the image: 1M is the first free frame.
    expect(r.tablePages).toBe(9);
    expect(r.tablePagesByBank).toEqual([9, 0]);
    expect(r.tableFrames).toEqual([0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x108]);
    expect(r.root).toBe(0x100000n);
    // Groups of 16 (Arm only): level 3: [1M,2M) = 16 groups. Level 2: entries 16..511 of the
    // GiB-0 and GiB-1 tables = 31 + 31. Level 1: entries 16..511 of slot 0's table (31), 0..255 of
    // slot 1's (16) and of slot 2's (16).
    expect(r.contiguousRuns).toBe(format === aarch64_4k ? 16 + 31 + 31 + 31 + 16 + 16 : 0);
    // Free pages: bank 0 minus the reserved 4M + 4M, bank 1 whole, minus the 9 tables.
    const pages = (768n * G - 1n * M - 8n * M + 256n * G + 2n * M + 12n * K) / 4096n;
    expect(r.freePages).toBe(Number(pages) - 9);
  });

  test('alignBanksTo 1G reproduces the old rounding and lists what it aliases', () => {
    const e = engine();
    const r = setupDirectMap({ engine: e, format, banks: BANKS, reserved: RESERVED, base, alignBanksTo: '1G' });
    // Bank 0 rounds to [0, 768G): 768 blocks; bank 1 to [1T, 1T+257G): 257 blocks.
    expect(r.leaves).toEqual({ '1G': 768 + 257, '2M': 0, '4K': 0 });
    expect(runsOf(e, r.root, format, base)).toEqual([[0n, 768n * G], [1n * T, 1n * T + 257n * G]]);
    // Root + the level-1 tables of root slots 0, 1, 2.
    expect(r.tablePages).toBe(4);
    expect(r.aliased.map((a) => [a.start, a.end, a.kind])).toEqual([
      [0n, 1n * M, 'reserved'],
      [1n * G, 1n * G + 4n * M, 'no-map'],
      [ENDS.b1, 1n * T + 257n * G, 'non-ram'],
    ]);
    // Slot 0's table: 512 blocks = 32 groups; slot 1's: 256 = 16; slot 2's: 257 = 16.
    expect(r.contiguousRuns).toBe(format === aarch64_4k ? 32 + 16 + 16 : 0);
  });
});

describe('failures', () => {
  const format = aarch64_4k;

  test('a bank too small for its own tables: names the bank and the pages missing, maps nothing', () => {
    const e = engine();
    // 8 KiB bank, half reserved: 1 free page, but root + 3 tables are needed.
    const banks = [{ start: 1n * M, size: 8n * K }];
    const reserved = [{ start: 1n * M + 4n * K, size: 4n * K }];
    expect(() => setupDirectMap({ engine: e, format, banks, reserved })).toThrow(CapacityError);
    expect(() => setupDirectMap({ engine: e, format, banks, reserved })).toThrow(
      'direct map: bank 0 [0x100000, 0x102000) needs 4 table pages but the boot allocator has 1 inside the RAM image [0x0, 0x4000000): 3 pages missing; nothing was mapped',
    );
    expect(e.phys.read(0, 4 * 1024 * 1024).every((b) => b === 0)).toBe(true);
  });

  test('a later bank that cannot be mapped undoes the banks mapped before it', () => {
    const e = engine();
    // Bank 0 (4 pages) exactly holds root + 3 tables; bank 1 is all reserved and needs one level-3 table.
    const banks = [{ start: 1n * M, size: 16n * K }, { start: 3n * M, size: 8n * K }];
    const reserved = [{ start: 3n * M, size: 8n * K }];
    expect(() => setupDirectMap({ engine: e, format, banks, reserved })).toThrow(/bank 1 \[0x300000, 0x302000\) needs 1 table page but the boot allocator has 0 .*: 1 page missing/);
    // The root was the first page of bank 0: it is empty again, so nothing is mapped.
    expect(e.phys.read(1n * M, 4096).every((b) => b === 0)).toBe(true);
    expect(e.mappings(1n * M, { format }).mappings).toEqual([]);
    // With one more page in bank 0 both banks map.
    const ok = setupDirectMap({ engine: e, format, banks: [{ start: 1n * M, size: 20n * K }, banks[1]!], reserved });
    expect([ok.tablePages, ok.tablePagesByBank, ok.leaves]).toEqual([5, [5, 0], { '1G': 0, '2M': 0, '4K': 5 + 2 }]);
  });

  test('with a given root, a failure leaves the existing tables exactly as they were', () => {
    const e = engine();
    const root = 0x1000n;
    // Something already mapped through the same tables (tables in frames 2..15, outside the banks).
    e.map(root, 5n * M, 0x8000n, 0x3000n, { write: true }, new BumpAllocator(2, 16), { format });
    const before = Buffer.from(e.phys.read(0, 0x10000));
    const listed = e.mappings(root, { format }).mappings;
    const banks = [{ start: 1n * M, size: 4n * K }, { start: 7n * M, size: 4n * K }];
    const reserved = [{ start: 7n * M, size: 4n * K }];
    expect(() => setupDirectMap({ engine: e, format, banks, reserved, root })).toThrow(/bank 1 .*1 page missing/);
    expect(Buffer.from(e.phys.read(0, 0x10000)).equals(before)).toBe(true);
    expect(e.mappings(root, { format }).mappings).toEqual(listed);
  });

  test('malformed and overlapping banks, and a base that leaves the VA space', () => {
    const e = engine();
    const run = (banks: MemRange[], extra: object = {}) => () => setupDirectMap({ engine: e, format, banks, ...extra });
    expect(run([{ start: 0n, size: 1n * G }, { start: 512n * M, size: 1n * G }])).toThrow('banks: bank 0 [0x0, 0x40000000) overlaps bank 1 [0x20000000, 0x60000000)');
    expect(run([{ start: 0x1800n, size: 1n * M }])).toThrow(/bank 0 \[0x1800, 0x101800\): start and size must be multiples of 4 KiB/);
    expect(run([{ start: 0n, size: 0n }])).toThrow(InvalidInputError);
    expect(run([{ start: 1n * M, size: 1n * M }], { base: 0xffff000000000000n })).toThrow(/not inside one half of the 48-bit virtual address space of aarch64_4k/);
    expect(run([{ start: 1n * M, size: 1n * M }], { alignBanksTo: '2M' })).toThrow(/alignBanksTo: '2M' is not supported/);
  });
});

describe('random layouts', () => {
  // Bank 0 starts inside the 16 MiB image (so tables have a home); the other banks lie anywhere up to 2 TiB.
  const pageAt = (lo: bigint, hi: bigint) => fc.bigInt({ min: lo / 4096n, max: hi / 4096n }).map((f) => f * 4096n);
  const sizeArb = fc.oneof(pageAt(4096n, 64n * M), pageAt(G, 600n * G), fc.constantFrom(G, 2n * M, 2n * M + 4096n, 3n * G + 2n * M));
  const layoutArb = fc.record({
    format: fc.constantFrom(aarch64_4k, x86_64),
    bank0: fc.record({ start: pageAt(1n * M, 8n * M), size: fc.oneof(pageAt(8n * M, 64n * G), fc.constant(8n * M)) }),
    others: fc.array(fc.record({ start: fc.oneof(pageAt(0n, 2n * T), fc.bigInt({ min: 1n, max: 2047n }).map((g) => g * G)), size: sizeArb }), { maxLength: 3 }),
    reserved: fc.array(fc.record({ start: fc.oneof(pageAt(0n, 64n * G), pageAt(0n, 2n * T)), size: fc.oneof(pageAt(4096n, 8n * M), fc.constant(2n * M)), noMap: fc.boolean() }), { maxLength: 5 }),
    base: fc.constantFrom(0n, 64n * G, 512n * G),
    aligned: fc.boolean(),
  });

  test('both backends build the same tables; the map covers exactly the banks minus no-map, with the largest leaves', () => {
    const wasm = createEngine({ ramBytes: '16M', ioBytes: 1 << 20 });
    const ref = createEngine({ ramBytes: '16M', ioBytes: 1 << 20, backend: 'reference' });
    fc.assert(
      fc.property(layoutArb, (l) => {
        // Drop banks that overlap an earlier one.
        const banks: MemRange[] = [];
        for (const b of [l.bank0, ...l.others]) if (!banks.some((x) => b.start < x.start + x.size && x.start < b.start + b.size)) banks.push(b);
        const base = l.format === x86_64 ? 0xffff830000000000n + l.base : l.base;
        const opts = { format: l.format, banks, reserved: l.reserved, base, ...(l.aligned ? { alignBanksTo: '1G' as const } : {}) };
        const out = [wasm, ref].map((e) => {
          e.phys.fill(0, e.phys.size);
          try {
            return { r: setupDirectMap({ engine: e, ...opts }), image: Buffer.from(e.phys.read(0, e.phys.size)) };
          } catch (err) {
            if (!(err instanceof CapacityError)) throw err;
            return { err: (err as Error).message, image: Buffer.from(e.phys.read(0, e.phys.size)) };
          }
        });
        expect(out[1]!.image.equals(out[0]!.image)).toBe(true);
        const { r, err } = out[0] as { r?: ReturnType<typeof setupDirectMap>; err?: string };
        expect(out[1]).toMatchObject(err ? { err } : { r });
        if (!r) {
          // A failure maps nothing: the image is all zeros again.
          expect(out[0]!.image.every((b) => b === 0)).toBe(true);
          return;
        }
        // What must be mapped, piece by piece (a larger leaf never spans two pieces).
        const span = (s: bigint, z: bigint) => ({ start: s, end: s + z });
        const rs = l.reserved.map((x) => ({ start: x.start - (x.start % 4096n), end: x.start + x.size + ((4096n - ((x.start + x.size) % 4096n)) % 4096n), noMap: x.noMap }));
        const pieces = banks.flatMap((b) => {
          if (l.aligned) return [{ start: b.start - (b.start % G), end: ((b.start + b.size + G - 1n) / G) * G }];
          let cur = [span(b.start, b.size)];
          for (const x of rs.filter((q) => q.noMap)) cur = cur.flatMap((c) => (x.end <= c.start || x.start >= c.end ? [c] : [...(c.start < x.start ? [{ start: c.start, end: x.start }] : []), ...(x.end < c.end ? [{ start: x.end, end: c.end }] : [])]));
          return cur;
        });
        const merged: Array<[bigint, bigint]> = [];
        for (const p of [...pieces].sort((a, b) => (a.start < b.start ? -1 : 1))) {
          const last = merged[merged.length - 1];
          if (last && p.start <= last[1]) last[1] = p.end > last[1] ? p.end : last[1];
          else merged.push([p.start, p.end]);
        }
        expect(runsOf(wasm, r.root, l.format, base)).toEqual(merged);
        // Largest leaves: a leaf smaller than the largest is never inside an aligned bigger block
        // that lies wholly in one piece (and whose VA is aligned the same way).
        const sizes = [1n << 30n, 1n << 21n, 1n << 12n];
        let count = 0;
        for (const m of wasm.mappingsIter(r.root, { format: l.format })) {
          count++;
          for (const big of sizes.filter((z) => z > BigInt(m.size))) {
            const blk = m.pa - (m.pa % big);
            const fits = (m.va - m.pa + blk) % big === 0n && pieces.some((p) => p.start <= blk && blk + big <= p.end);
            expect(fits).toBe(false);
          }
        }
        expect(Object.values(r.leaves).reduce((a, b) => a + b, 0)).toBe(count);
        // Tables: inside the image, in free bank pages, never in a reserved region.
        for (const f of r.tableFrames) {
          const pa = BigInt(f) * 4096n;
          expect(pa < 16n * M).toBe(true);
          expect(banks.some((b) => b.start <= pa && pa < b.start + b.size)).toBe(true);
          expect(rs.some((x) => x.start <= pa && pa < x.end)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe.each([
  ['x86_64', x86_64],
  ['aarch64_4k', aarch64_4k],
] as const)('direct map into an existing root (%s)', (_name, format) => {
  test('tables that exist already are counted and taken as they are', () => {
    const e = engine();
    // A root at 32 MiB and one 4 KiB page mapped at 0x1000, its three tables from 33 MiB up.
    const root = 32n * M;
    e.map(root, 0x1000n, 0x1000n, 0x1000n, { write: true }, new BumpAllocator(Number((33n * M) / 4096n), Number((34n * M) / 4096n)), { format });
    // A 2 MiB bank at 2 MiB is one 2 MiB leaf in the level-2 table the page above made:
    // by hand, no table page is needed.
    const r = setupDirectMap({ engine: e, format, banks: [{ start: 2n * M, size: 2n * M }], root });
    expect(r).toMatchObject({ root, tablePages: 0, tableFrames: [], leaves: { '2M': 1, '4K': 0 } });
    // Then [4M, 8M) (two leaves in that same table) and [1G + 2M, 1G + 4M), which needs a level-2
    // table of its own under the existing level-1 table: one page, taken from the first bank.
    const s = setupDirectMap({ engine: e, format, banks: [{ start: 4n * M, size: 4n * M }, { start: 1n * G + 2n * M, size: 2n * M }], root });
    expect(s).toMatchObject({ tablePages: 1, tablePagesByBank: [1, 0], leaves: { '2M': 3 } });
    expect(e.translate(root, 1n * G + 2n * M + 0x1234n, { format, hardwareAccessFlag: true })).toMatchObject({ ok: true, pa: 1n * G + 2n * M + 0x1234n });
  });
});
