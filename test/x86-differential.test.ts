import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, x86_64, x86_64_la57, type Engine, type TranslateResult } from '../src/index.js';
import { oracleFormat } from './helpers/oracle-formats.js';
import { OracleMemory, oracleTranslate } from './helpers/oracle-walk.js';
import { tableImageArb, walkOptionsArb, RAM_BYTES, type TableImage } from './helpers/random-tables.js';

// One memory, two views: every image is written once and walked by both backends.
const wasm = createEngine({ ramBytes: RAM_BYTES, ioBytes: 1 << 20 });
const ref = wasm.withBackend('reference');

function load(img: TableImage): void {
  wasm.phys.fill(0, RAM_BYTES);
  for (const [pa, v] of img.writes) wasm.phys.write64(pa, v);
}


/** The fields a batch keeps (it drops the entry value). */
function batchView(r: TranslateResult) {
  return r.ok
    ? { ok: true, pa: r.pa, pageSize: r.pageSize, level: r.level, rights: r.rights }
    : { ok: false, kind: r.fault.kind, level: r.fault.level, at: r.fault.entryAddress, errorCode: r.fault.errorCode };
}

function checkImage(e: Engine, img: TableImage, o: fc.RecordValue<typeof walkOptionsArb>) {
  const format = img.depth === 5 ? x86_64_la57 : x86_64;
  const opts = { ...o, format };
  const singles = img.vas.map((va) => e.translate(img.cr3, va, opts));
  // 1. translate == the oracle, field by field.
  const mem = OracleMemory.fromWrites(RAM_BYTES, 8, img.writes);
  singles.forEach((r, i) => expect(r).toEqual(oracleTranslate(mem, oracleFormat(format.name), img.cr3, img.vas[i]!, o)));
  // 2. translateBatch, every strategy, == translate.
  for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
    const b = e.translateBatch(img.cr3, img.vas, { ...opts, strategy });
    img.vas.forEach((_, i) => expect(batchView(b.get(i))).toEqual(batchView(singles[i]!)));
  }
  // 3. translateRange == a batch over the same consecutive pages.
  const start = img.vas[0]! & ~0xfffn;
  const range = e.translateRange(img.cr3, start, 70, opts);
  const pages = Array.from({ length: 70 }, (_, i) => BigInt.asUintN(64, start + BigInt(i) * 4096n));
  const batch = e.translateBatch(img.cr3, pages, { ...opts, strategy: 'naive' });
  for (let i = 0; i < 70; i++) expect(batchView(range.get(i))).toEqual(batchView(batch.get(i)));
  return { singles, mappings: e.mappings(img.cr3, { ...opts, limit: 5000 }) };
}

describe.each([4, 5] as const)('x86-64 %i-level: wasm, reference and an independent oracle agree', (depth) => {
  test('on 500 random table images', () => {
    fc.assert(
      fc.property(tableImageArb(depth), walkOptionsArb, (img, o) => {
        load(img);
        const a = checkImage(wasm, img, o);
        const b = checkImage(ref, img, o);
        expect(b.mappings).toEqual(a.mappings);
        // 4. Every listed mapping is what a walk of its own address finds.
        const format = depth === 5 ? x86_64_la57 : x86_64;
        const plain = { format, maxPhyAddr: o.maxPhyAddr, nxe: o.nxe, ignoreReserved: o.ignoreReserved };
        for (const m of a.mappings.mappings.slice(0, 200)) {
          const t = wasm.translate(img.cr3, m.va, plain);
          expect(t.ok && { pa: t.pa, size: t.pageSize, rights: t.rights }).toEqual({ pa: m.pa, size: m.size, rights: m.rights });
        }
        // 5. And every address that translates lies in a listed mapping.
        if (!a.mappings.truncated) {
          for (const va of img.vas) {
            const t = wasm.translate(img.cr3, va, plain);
            if (t.ok) expect(a.mappings.mappings.some((m) => m.va <= va && va < m.va + BigInt(m.size))).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
