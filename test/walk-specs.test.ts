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
