// 4-level x86-64 is enumerated by a loop generated with its rules compiled in
// (build/gen/enum-specs.ts), LA57 by the generic loop; the reference backend's
// enumerator reads the rules from the walk parameters. Over random images (shared tables, cycles, reserved
// bits, tables outside the image) and every MAXPHYADDR and reserved-bit setting,
// both must write the same records in the same order, whatever the batch size the
// caller resumes with.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, x86_64, x86_64_la57, type Engine, type PagingFormat } from '../src/index.js';
import { MR_BYTES } from '../src/abi.js';
import { formatImageArb, geometry, type FormatImage } from './helpers/random-format-tables.js';

function load(e: Engine, img: FormatImage): void {
  e.phys.fill(0, e.phys.size);
  for (const [pa, v] of img.writes) e.phys.write64(pa, v);
}

/** Every record of the enumeration of `root`, `max` records a call, as hex text (28 bytes each: the padding word is not written). */
function records(e: Engine, root: bigint, max: number): string[] {
  const k = e.backend.paging, at = e.layout.ioBase;
  const out: string[] = [];
  k.enumStart(root);
  let m: number;
  while ((m = k.enumNext(at, max)) !== 0) {
    expect(m).toBeLessThanOrEqual(max);
    for (let i = 0; i < m; i++) out.push(Buffer.from(e.u32.buffer, at + i * MR_BYTES, 28).toString('hex'));
    if (out.length > 20000) break; // cycles alias without end; the prefix is compared
  }
  return out;
}

describe.each([x86_64, x86_64_la57].map((f) => [f.name, f] as const))('%s: the wasm enumerator writes what the reference one writes', (_name, format: PagingFormat) => {
  const g = geometry(format);
  const wasm = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20 });
  const ref = wasm.withBackend('reference');

  test('random images, any MAXPHYADDR and reserved-bit setting, batches of 1, 3 and 4096', () => {
    fc.assert(
      fc.property(
        formatImageArb(format, g),
        fc.constantFrom(36, 46, 50, 52),
        fc.boolean(),
        fc.constantFrom(1, 3, 4096),
        (img, maxPhyAddr, ignoreReserved, max) => {
          load(wasm, img);
          wasm.prepare({ format, maxPhyAddr, ignoreReserved });
          const a = records(wasm, img.root, max);
          const b = records(ref, img.root, max);
          expect(a).toEqual(b);
        },
      ),
      { numRuns: 120 },
    );
  });

  test('a hand-made table: one 4 KiB leaf, one 2 MiB leaf, a table beyond the image', () => {
    // Root at 0x1000: slot 0 -> PDPT 0x2000 -> PD 0x3000 (slot 0 -> PT 0x4000, slot 1 a 2 MiB leaf),
    // slot 1 -> a PDPT far beyond the 64 KiB image (read as zeros: nothing listed).
    const e = createEngine({ ramBytes: 64 * 1024, ioBytes: 1 << 20 });
    const top = format === x86_64 ? [0x1000n, 0x2000n] : [0x1000n, 0x5000n, 0x2000n];
    for (let i = 0; i + 1 < top.length; i++) e.phys.write64(top[i]!, top[i + 1]! | 0x7n);
    e.phys.write64(top[0]! + 8n, 0x40_0000_0000n | 0x3n);
    const pdpt = top[top.length - 1]!;
    e.phys.write64(pdpt, 0x3000n | 0x7n);
    e.phys.write64(0x3000n, 0x4000n | 0x3n); // supervisor table: user denied below
    e.phys.write64(0x3008n, 0x8000_0000_0020_0000n | 0x80n | 0x7n); // 2 MiB leaf, user, NX
    e.phys.write64(0x4000n + 5n * 8n, 0xabc_d000n | 0x3n); // 4 KiB leaf at VA 0x5000
    e.prepare({ format });
    const k = e.backend.paging, at = e.layout.ioBase;
    k.enumStart(0x1000n);
    const n = k.enumNext(at, 100);
    expect(n).toBe(2);
    expect(k.enumNext(at + 100 * MR_BYTES, 100)).toBe(0);
    const rec = (i: number) => {
      const v = new DataView(e.u32.buffer, at + i * MR_BYTES, MR_BYTES);
      return { va: v.getBigUint64(0, true), pa: v.getBigUint64(8, true), entry: v.getBigUint64(16, true), status: v.getUint32(24, true) };
    };
    const shift = (s: number) => s >>> 24, level = (s: number) => (s >>> 4) & 0xf, rights = (s: number) => (s >>> 16) & 0xf;
    const L = top.length - 1; // level index of the PDPT
    // 4 KiB leaf: write allowed, user denied by the PD entry, exec allowed: rights W|X|UX = 1|4|8.
    expect(rec(0)).toMatchObject({ va: 0x5000n, pa: 0xabc_d000n, entry: 0xabc_d003n });
    expect([shift(rec(0).status), level(rec(0).status), rights(rec(0).status)]).toEqual([12, L + 2, 0b1101]);
    // 2 MiB leaf at PD slot 1: VA 0x20_0000, user and write allowed, NX: rights W|U = 3.
    expect(rec(1)).toMatchObject({ va: 0x20_0000n, pa: 0x20_0000n });
    expect([shift(rec(1).status), level(rec(1).status), rights(rec(1).status)]).toEqual([21, L + 1, 0b0011]);
  });
});
