// Differential property tests for the formats of issue 5: random table images
// (valid trees, garbage, cycles, reserved bits, tables outside the image) are
// walked by the wasm and the reference backend over the SAME memory, and every
// answer must be identical: translate, translateBatch (every strategy),
// translateRange, mappings, the contiguous-hint update and check.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import {
  createEngine, aarch64_4k, aarch64_16k, aarch64_64k, x86_pae, x86_32, x86_64, BumpAllocator, checkContiguous,
  type Engine, type PagingFormat, type TranslateResult, type WalkOptions,
} from '../src/index.js';
import { formatImageArb, geometry, walkOptionsArbFor, prng, type FormatImage } from './helpers/random-format-tables.js';

const FORMATS: PagingFormat[] = [aarch64_4k, aarch64_16k, aarch64_64k, x86_pae, x86_32];
const RUNS = 150;

function load(e: Engine, eb: number, img: FormatImage): void {
  e.phys.fill(0, e.phys.size);
  for (const [pa, v] of img.writes) {
    if (eb === 8) e.phys.write64(pa, v);
    else e.phys.write32(pa, Number(v));
  }
}

const batchView = (r: TranslateResult) =>
  r.ok
    ? { ok: true, pa: r.pa, pageSize: r.pageSize, level: r.level, rights: r.rights }
    : { ok: false, kind: r.fault.kind, level: r.fault.level, at: r.fault.entryAddress, errorCode: r.fault.errorCode };

function answers(e: Engine, format: PagingFormat, img: FormatImage, o: WalkOptions) {
  const opts = { ...o, format };
  const singles = img.vas.map((va) => e.translate(img.root, va, opts));
  const batches = (['naive', 'cached', 'interleaved'] as const).map((strategy) => {
    const b = e.translateBatch(img.root, img.vas, { ...opts, strategy });
    return img.vas.map((_, i) => batchView(b.get(i)));
  });
  const page = BigInt(format.pageSize);
  const start = img.vas[0]! & ~(page - 1n);
  const r = e.translateRange(img.root, start, 40, opts);
  const range = Array.from({ length: 40 }, (_, i) => batchView(r.get(i)));
  const pages = Array.from({ length: 40 }, (_, i) => BigInt.asUintN(64, start + BigInt(i) * page));
  const b = e.translateBatch(img.root, pages, { ...opts, strategy: 'naive' });
  const rangeByBatch = pages.map((_, i) => batchView(b.get(i)));
  return { singles, batches, range, rangeByBatch, mappings: e.mappings(img.root, { ...opts, limit: 3000 }) };
}

describe.each(FORMATS.map((f) => [f.name, f] as const))('%s: wasm and reference agree on random tables', (_name, format) => {
  const g = geometry(format);
  const wasm = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20 });
  const ref = wasm.withBackend('reference');

  test(`translate, translateBatch, translateRange, mappings (${RUNS} images)`, () => {
    fc.assert(
      fc.property(formatImageArb(format, g), walkOptionsArbFor(format), (img, o) => {
        load(wasm, g.params.entryBytes, img);
        const a = answers(wasm, format, img, o);
        const b = answers(ref, format, img, o);
        expect(b).toEqual(a);
        // Each backend is also consistent with itself: batches and ranges say what single walks say.
        for (const x of [a, b]) {
          x.batches.forEach((batch) => expect(batch).toEqual(x.singles.map(batchView)));
          expect(x.range).toEqual(x.rangeByBatch);
        }
        // Every listed mapping is what a plain walk of its own address finds
        // (a leaf without Arm's AF is listed, but its walk faults on the access flag).
        const plain = { format, maxPhyAddr: o.maxPhyAddr, ignoreReserved: o.ignoreReserved, hardwareAccessFlag: o.hardwareAccessFlag, nxe: o.nxe };
        for (const m of a.mappings.mappings.slice(0, 100)) {
          const t = wasm.translate(img.root, m.va, plain);
          if (!t.ok) {
            expect(t.fault.kind).toBe('access-flag');
            continue;
          }
          expect({ pa: t.pa, size: t.pageSize, rights: t.rights }).toEqual({ pa: m.pa, size: m.size, rights: m.rights });
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe.each([aarch64_4k, aarch64_16k, aarch64_64k].map((f) => [f.name, f] as const))('%s: contiguous-hint kernels agree', (_name, format) => {
  const g = geometry(format, 24);
  // Two memories: the update writes, so each backend gets its own copy of the image.
  const wasm = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20 });
  const ref = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20, backend: 'reference' });
  const p = g.params;
  const leafLevels = p.levels.filter((l) => l.leafAllowed);

  test(`update and check over mapped ranges with random damage (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 }), (seed, maps, damage) => {
        const results = [wasm, ref].map((e) => {
          const r2 = prng(seed);
          e.phys.fill(0, e.phys.size);
          const alloc = new BumpAllocator(g.tableBytes / 4096 * 2, g.ramBytes / 4096);
          const root = BigInt(g.tableBytes);
          for (let k = 0; k < maps; k++) {
            // A run of leaves of one size, group-aligned or not, at a random place.
            const l = leafLevels[Math.floor(r2() * leafLevels.length)]!;
            const span = 1n << BigInt(l.shift);
            const n = BigInt(l.contigEntries ?? 16);
            const count = BigInt(1 + Math.floor(r2() * Number(n) * 2.5));
            const va = (BigInt(Math.floor(r2() * 64)) * n + BigInt(r2() < 0.5 ? 0 : Math.floor(r2() * 4))) * span;
            const pa = r2() < 0.7 ? va : va + BigInt(Math.floor(r2() * 8)) * span;
            try {
              e.map(root, va, pa, count * span, { write: r2() < 0.5 }, alloc, { format, largestLeaf: Number(span), contiguousHint: r2() < 0.7 });
            } catch {
              // Overlaps with an earlier range: skipped the same way on both engines.
            }
          }
          // Damage: flip attribute, address, hint and valid bits of random mapped leaves.
          const leaves = e.mappings(root, { format, limit: 5000 }).mappings;
          for (let k = 0; k < damage && leaves.length; k++) {
            const m = leaves[Math.floor(r2() * leaves.length)]!;
            const t = e.translate(root, m.va, { format, hardwareAccessFlag: true, ignoreReserved: true });
            if (!t.ok) continue;
            const bitNo = [0, 1, 6, 7, 10, 52, 52, 52, p.levels[p.levels.length - 1]!.shift, 53][Math.floor(r2() * 10)]!;
            e.phys.write64(t.entryAddress, e.phys.read64(t.entryAddress) ^ (1n << BigInt(bitNo)));
          }
          const before = checkContiguous(e, root, { format });
          // Update over a few groups around a mapped address (or anywhere).
          const at = leaves.length ? leaves[Math.floor(r2() * leaves.length)]!.va : 0n;
          const l = leafLevels[Math.floor(r2() * leafLevels.length)]!;
          const groupBytes = (1n << BigInt(l.shift)) * BigInt(l.contigEntries!);
          e.prepare({ format });
          const hinted = e.backend.paging.contigUpdate(root, at - (at % groupBytes), groupBytes * BigInt(1 + Math.floor(r2() * 3)), r2() < 0.5 ? 1 : 0);
          const after = checkContiguous(e, root, { format });
          return { before, hinted, after, image: Buffer.from(e.phys.read(0, e.phys.size)).toString('base64'), list: e.mappings(root, { format, limit: 5000 }) };
        });
        const [a, b] = results;
        expect(b!.before).toEqual(a!.before);
        expect(b!.hinted).toBe(a!.hinted);
        expect(b!.after).toEqual(a!.after);
        expect(b!.image === a!.image).toBe(true);
        expect(b!.list).toEqual(a!.list);
      }),
      { numRuns: RUNS },
    );
  });

  test('without damage, map leaves no broken hint and every whole aligned group is hinted', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 5 }), (seed, maps) => {
        const e = wasm;
        const r2 = prng(seed);
        e.phys.fill(0, e.phys.size);
        const alloc = new BumpAllocator(g.tableBytes / 4096 * 2, g.ramBytes / 4096);
        const root = BigInt(g.tableBytes);
        for (let k = 0; k < maps; k++) {
          const l = leafLevels[Math.floor(r2() * leafLevels.length)]!;
          const span = 1n << BigInt(l.shift);
          const n = BigInt(l.contigEntries ?? 16);
          const va = BigInt(Math.floor(r2() * 64)) * n * span + BigInt(Math.floor(r2() * 3)) * span;
          try {
            e.map(root, va, va, BigInt(1 + Math.floor(r2() * 40)) * span, {}, alloc, { format, largestLeaf: Number(span) });
          } catch {
            /* overlap */
          }
        }
        expect(checkContiguous(e, root, { format }).violations).toEqual([]);
        // Identity maps with equal attributes: a leaf is hinted exactly when its whole aligned group is mapped.
        const list = e.mappings(root, { format, limit: 100000 }).mappings;
        const key = (m: { va: bigint; size: number }) => m.va;
        const have = new Set(list.map(key));
        for (const m of list) {
          const l = p.levels.find((x) => 2 ** x.shift === m.size)!;
          const groupBytes = BigInt(m.size) * BigInt(l.contigEntries!);
          const first = m.va - (m.va % groupBytes);
          let whole = true;
          for (let k = 0n; k < BigInt(l.contigEntries!); k++) whole &&= have.has(first + k * BigInt(m.size));
          expect((m.entry & (1n << 52n)) !== 0n).toBe(whole);
        }
      }),
      { numRuns: 60 },
    );
  });
});

test('x86-64 through the generic generator too (both backends agree)', () => {
  const g = geometry(x86_64);
  const wasm = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20 });
  const ref = wasm.withBackend('reference');
  fc.assert(
    fc.property(formatImageArb(x86_64, g), walkOptionsArbFor(x86_64), (img, o) => {
      load(wasm, 8, img);
      expect(answers(ref, x86_64, img, o)).toEqual(answers(wasm, x86_64, img, o));
    }),
    { numRuns: 60 },
  );
});
