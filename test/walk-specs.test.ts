// The x86-64 walkers with the format's constants compiled in (build/gen/walk-specs.ts)
// run when the walk parameters are exactly the ones they were generated from:
// MAXPHYADDR 52, NXE on, reserved bits checked (any access kind, WP, SMEP, SMAP).
// Under those options every batch strategy, translateRange and translateRuns must
// give the independent oracle's answer for every address, on random tables full of
// faults, large leaves, reserved bits and entries outside the image.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, x86_64, x86_64_la57, type TranslateResult } from '../src/index.js';
import { oracleFormat } from './helpers/oracle-formats.js';
import { OracleMemory, oracleTranslate } from './helpers/oracle-walk.js';
import { tableImageArb, RAM_BYTES, type TableImage } from './helpers/random-tables.js';

const wasm = createEngine({ ramBytes: RAM_BYTES, ioBytes: 1 << 20 });

const specOptions = fc.record({
  access: fc.constantFrom('read' as const, 'write' as const, 'execute' as const),
  user: fc.boolean(),
  wp: fc.boolean(),
  smep: fc.boolean(),
  smap: fc.boolean(),
});

function view(r: TranslateResult) {
  return r.ok
    ? { ok: true, pa: r.pa, pageSize: r.pageSize, level: r.level, rights: r.rights }
    : { ok: false, kind: r.fault.kind, level: r.fault.level, at: r.fault.entryAddress, errorCode: r.fault.errorCode };
}

describe.each([4, 5] as const)('x86-64 %i-level, specialised walkers', (depth) => {
  test('every batch strategy, the range and the runs give the oracle\'s answers', () => {
    fc.assert(
      fc.property(tableImageArb(depth), specOptions, (img: TableImage, o) => {
        wasm.phys.fill(0, RAM_BYTES);
        for (const [pa, v] of img.writes) wasm.phys.write64(pa, v);
        const format = depth === 5 ? x86_64_la57 : x86_64;
        const opts = { ...o, format };
        const mem = OracleMemory.fromWrites(RAM_BYTES, 8, img.writes);
        const oracle = (va: bigint) => view(oracleTranslate(mem, oracleFormat(format.name), img.cr3, va, o));
        const expected = img.vas.map(oracle);
        for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
          const b = wasm.translateBatch(img.cr3, img.vas, { ...opts, strategy });
          img.vas.forEach((_, i) => expect(view(b.get(i))).toEqual(expected[i]));
        }
        const start = img.vas[0]! & ~0xfffn;
        const pages = Array.from({ length: 600 }, (_, i) => BigInt.asUintN(64, start + BigInt(i) * 4096n));
        const want = pages.map(oracle);
        const range = wasm.translateRange(img.cr3, start, pages.length, opts);
        const runs = wasm.translateRuns(img.cr3, start, pages.length, opts).expand();
        const viaRuns = wasm.translateRange(img.cr3, start, pages.length, { ...opts, viaRuns: true });
        for (let i = 0; i < pages.length; i++) {
          expect(view(range.get(i))).toEqual(want[i]);
          expect(viaRuns.get(i)).toEqual(range.get(i));
          expect([runs.addr[i], runs.status[i]]).toEqual([range.addr[i], range.status[i]]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

// The specialised walkers compile in the canonical rule and the restart level of the
// cached batch: addresses on either side of the canonical edges, and sequences whose
// neighbours differ in exactly the bit just below or at a level's shift (the cached
// batch restarts one level higher or lower there), must still give the oracle's answers.
describe.each([4, 5] as const)('x86-64 %i-level, canonical edges and restart levels', (depth) => {
  const vaBits = depth === 5 ? 57 : 48;
  const edges = [
    0n, (1n << BigInt(vaBits - 1)) - 1n, 1n << BigInt(vaBits - 1), (1n << 64n) - (1n << BigInt(vaBits - 1)) - 1n,
    (1n << 64n) - (1n << BigInt(vaBits - 1)), (1n << 64n) - 1n, 1n << 63n,
  ];
  const levelBits = Array.from({ length: depth }, (_, i) => 12 + 9 * i).flatMap((s) => [s - 1, s]);
  test('every batch strategy gives the oracle\'s answers', () => {
    fc.assert(
      fc.property(tableImageArb(depth), fc.array(fc.constantFrom(...levelBits), { minLength: 1, maxLength: 12 }), (img: TableImage, flips) => {
        wasm.phys.fill(0, RAM_BYTES);
        for (const [pa, v] of img.writes) wasm.phys.write64(pa, v);
        const format = depth === 5 ? x86_64_la57 : x86_64;
        const mem = OracleMemory.fromWrites(RAM_BYTES, 8, img.writes);
        const vas = [...edges];
        let va = img.vas[0]!;
        for (const b of flips) {
          va = BigInt.asUintN(64, BigInt.asIntN(vaBits, va ^ (1n << BigInt(b))));
          vas.push(va, ...edges.slice(0, 2));
        }
        vas.push(...img.vas);
        const expected = vas.map((v) => view(oracleTranslate(mem, oracleFormat(format.name), img.cr3, v, {})));
        for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
          const b = wasm.translateBatch(img.cr3, vas, { format, strategy });
          vas.forEach((_, i) => expect(view(b.get(i))).toEqual(expected[i]));
        }
      }),
      { numRuns: 100 },
    );
  });
});

// Hand-built tables where the members of one interleaved group leave at every
// level, for every reason (leaf, not present, reserved bit, outside the image),
// after table entries that take rights away; and one leaf table whose entries
// differ from their neighbours in a single bit, walked page by page, so the cached
// batch's leaf memo (its key mask and output address compiled into the generated
// walker) must see every difference.
const P = 1n, RW = 2n, US = 4n, PS = 0x80n, XD = 1n << 63n;
const OUTSIDE = 1n << 40n; // far past the 256 KiB image

function handBuiltTables(depth: 4 | 5) {
  const writes: Array<[bigint, bigint]> = [];
  const put = (frame: number, idx: number, v: bigint) => writes.push([BigInt(frame) * 4096n + BigInt(idx) * 8n, v]);
  const t = (frame: number) => BigInt(frame) * 4096n;
  // Frames 1..depth: one table per level (frame 1 the root), each level's index 0
  // and 3 point on down, 3 without the right the name says.
  for (let l = 0; l < depth - 1; l++) {
    const next = t(l + 2);
    put(l + 1, 0, next | P | RW | US);
    put(l + 1, 1, 0n); // not present
    put(l + 1, 2, l === 0 ? next | P | PS : (BigInt(l + 1) << 30n) | P | PS | RW | US); // root: PS reserved; below: a large leaf
    put(l + 1, 3, next | P | (l % 2 ? RW : US) | (l === 1 ? XD : 0n)); // rights taken away on the way down
    put(l + 1, 4, OUTSIDE | P | RW | US); // a table outside the image
    put(l + 1, 5, next | P | RW | US | (1n << 51n)); // a table at bit 51 and up: outside the image
    if (l > 0) put(l + 1, 6, (1n << 21n) | (1n << 13n) | P | PS | RW | US); // a large leaf with a reserved low bit
  }
  const leaf = depth;
  for (let j = 0; j < 8; j++) put(leaf, j, (BigInt(0x100 + j) << 12n) | P | (j & 1 ? RW : 0n) | (j & 2 ? US : 0n) | (j & 4 ? XD : 0n));
  put(leaf, 8, 0xabcn << 12n); // not present
  put(leaf, 9, (1n << 62n) | P); // present with a reserved bit
  const indices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const vas: bigint[] = [];
  // Every path of indices from a small set, in an order that mixes the levels
  // members leave at within each group of 16.
  const paths: number[][] = [[]];
  for (let l = 0; l < depth; l++) {
    const next: number[][] = [];
    for (const p of paths) for (const i of l < depth - 1 ? [0, 1, 2, 3, 4, 5, 6] : indices) next.push([...p, i]);
    paths.splice(0, paths.length, ...next);
  }
  paths.forEach((p, k) => {
    let va = BigInt((k * 37) % 4096);
    p.forEach((i, l) => (va |= BigInt(i) << BigInt(12 + 9 * (depth - 1 - l))));
    vas.push(BigInt.asUintN(64, BigInt.asIntN(depth === 5 ? 57 : 48, va)));
  });
  for (let k = vas.length - 1; k > 0; k--) {
    const j = (k * 7919) % (k + 1);
    [vas[k], vas[j]] = [vas[j]!, vas[k]!];
  }
  return { writes, vas, cr3: 0x1000n, leafTable: t(leaf) };
}

describe.each([4, 5] as const)('x86-64 %i-level, hand-built groups and leaf memo', (depth) => {
  const format = depth === 5 ? x86_64_la57 : x86_64;
  const { writes, vas, cr3, leafTable } = handBuiltTables(depth);
  const load = (extra: Array<[bigint, bigint]> = []) => {
    wasm.phys.fill(0, RAM_BYTES);
    for (const [pa, v] of [...writes, ...extra]) wasm.phys.write64(pa, v);
    return OracleMemory.fromWrites(RAM_BYTES, 8, [...writes, ...extra]);
  };
  const accesses = [
    { access: 'read' as const, user: false },
    { access: 'write' as const, user: true },
    { access: 'execute' as const, user: true },
    { access: 'write' as const, user: false, wp: true },
  ];

  test.each(accesses)('groups whose members leave at every level: %o', (o) => {
    const mem = load();
    const expected = vas.map((v) => view(oracleTranslate(mem, oracleFormat(format.name), cr3, v, o)));
    // The groups do mix: members leave at every level, some with faults, some with leaves.
    const levels = new Set(expected.map((r) => r.level));
    expect([...levels].sort()).toEqual(Array.from({ length: depth }, (_, i) => i + 1)); // 1: the leaf table, depth: the root
    expect(expected.some((r) => r.ok)).toBe(true);
    expect(new Set(expected.filter((r) => !r.ok).map((r) => r.kind)).size).toBeGreaterThanOrEqual(3);
    for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
      const b = wasm.translateBatch(cr3, vas, { ...o, format, strategy });
      vas.forEach((_, i) => expect(view(b.get(i)), `${strategy} ${vas[i]!.toString(16)}`).toEqual(expected[i]));
    }
  });

  test.each(accesses)('a leaf table walked page by page, neighbours one bit apart: %o', (o) => {
    // Leaf table entries: a linear mapping where every odd entry differs from its
    // neighbours in one bit of its status key (each rights bit, A, D, G, bit 52,
    // present) or of its address (bit 51, bit 12), or in none.
    const flips = [0n, RW, US, XD, 0x20n, 0x40n, 0x100n, 1n << 52n, P, 1n << 51n, 1n << 12n, 0n];
    const base = P | RW | US;
    const extra: Array<[bigint, bigint]> = [];
    for (let j = 0; j < 512; j++) extra.push([leafTable + BigInt(j) * 8n, ((0x40000n + BigInt(j)) << 12n | base) ^ (j % 2 ? flips[(j >> 1) % flips.length]! : 0n)]);
    const mem = load(extra);
    // Pages 0..511 of the leaf table reached through index 0 at every level above.
    const pages = Array.from({ length: 512 }, (_, j) => BigInt(j) << 12n | 0x123n);
    const expected = pages.map((v) => view(oracleTranslate(mem, oracleFormat(format.name), cr3, v, o)));
    expect(expected.filter((r) => r.ok).length).toBeGreaterThan(100);
    for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
      const b = wasm.translateBatch(cr3, pages, { ...o, format, strategy });
      pages.forEach((_, i) => expect(view(b.get(i)), `${strategy} page ${i}`).toEqual(expected[i]));
    }
  });
});
