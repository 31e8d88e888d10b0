// translateRange over leaf tables that map long runs of pages alike (the linear
// stretches the range kernel answers several pages at a time), with the stretch
// broken at chosen places: a dirty bit, a hole, a no-execute page, frames out of
// order, the end of a leaf table. Every page of every range, from many starts and
// of many lengths (so a stretch ends at each position of a group of pages), must
// be what the independent oracle's walk of that page finds, on both backends.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64, type TranslateResult } from '../src/index.js';
import * as A from '../src/abi.js';
import { oracleFormat } from './helpers/oracle-formats.js';
import { OracleMemory, oracleTranslate } from './helpers/oracle-walk.js';

const P = 1n, RW = 2n, US = 4n, AC = 0x20n, D = 0x40n, XD = 1n << 63n;
const TABLE = P | RW | US;
const RAM = 8 << 20;

// PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> leaf tables at 0x4000 and 0x5000 (VA 0..4 MiB).
const writes: [bigint, bigint][] = [
  [0x1000n, 0x2000n | TABLE],
  [0x2000n, 0x3000n | TABLE],
  [0x3000n, 0x4000n | TABLE],
  [0x3008n, 0x5000n | TABLE],
];
for (let t = 0; t < 2; t++) {
  for (let i = 0; i < 512; i++) {
    const page = t * 512 + i;
    let e = (0x400000n + BigInt(page) * 4096n) | P | RW | US | AC;
    if (t === 0) {
      if (i === 5 || i === 9 || i === 10) e |= D; // the key changes for one or two pages
      if (i === 13) e = 0n; // a hole
      if (i >= 100 && i < 107) e = (0x700000n + BigInt(106 - i) * 4096n) | P | RW | US | AC; // frames backwards, same key
      if (i === 200) e |= XD;
      if (i === 301) e &= ~RW;
    } else if (i === 509) e |= D;
    writes.push([BigInt(0x4000 + t * 0x1000 + i * 8), e]);
  }
}

function view(r: TranslateResult) {
  return r.ok
    ? { ok: true, pa: r.pa, pageSize: r.pageSize, level: r.level, rights: r.rights }
    : { ok: false, kind: r.fault.kind, level: r.fault.level, at: r.fault.entryAddress };
}

describe.each(['wasm', 'reference'] as const)('translateRange over linear stretches on %s', (backend) => {
  const e = createEngine({ ramBytes: RAM, backend, ioBytes: 1 << 20 });
  for (const [pa, v] of writes) e.phys.write64(pa, v);
  const mem = OracleMemory.fromWrites(RAM, 8, writes);
  const f = oracleFormat('x86_64');
  const want = (va: bigint) => view(oracleTranslate(mem, f, 0x1000n, va));

  test('every page of ranges from many starts and of many lengths is the oracle walk of that page', () => {
    let pages = 0;
    for (const start of [0, 1, 2, 3, 4, 5, 6, 7, 11, 14, 98, 99, 101, 197, 298, 505, 506, 507, 508, 509, 510, 1019]) {
      for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 530, 1024 - start]) {
        const va = BigInt(start) * 4096n;
        const r = e.translateRange(0x1000n, va, n);
        expect(r.length).toBe(n);
        for (let i = 0; i < n; i++) expect(view(r.get(i))).toEqual(want(va + BigInt(i) * 4096n));
        pages += n;
      }
    }
    expect(pages).toBeGreaterThan(10000);
  });

  test("the kernel's raw records: each OK page's record holds its address and its own leaf entry's low half", () => {
    const entry = new Map(writes);
    e.prepare({ format: x86_64 });
    const out = e.layout.ioBase;
    for (const start of [0, 1, 2, 3, 6, 99, 505]) {
      const n = 1024 - start;
      e.backend.paging.translateRange(0x1000n, BigInt(start) * 4096n, n, out, 0);
      for (let i = 0; i < n; i++) {
        const page = start + i;
        const w = want(BigInt(page) * 4096n);
        if (!w.ok) continue;
        const leaf = entry.get(BigInt(0x4000 + page * 8))!;
        const at = out + i * A.BR_BYTES;
        expect([e.u32[(at + A.BR_PA) / 4]! + e.u32[(at + A.BR_PA) / 4 + 1]! * 2 ** 32, e.u32[(at + A.BR_ENTRY_LO) / 4]]).toEqual([
          Number(w.pa),
          Number(leaf & 0xffffffffn),
        ]);
      }
    }
  });

  test('spot checks typed from the tables: a linear page, the backwards frames, the hole, the dirty page', () => {
    const r = e.translateRange(0x1000n, 0n, 1024);
    expect(r.get(4)).toMatchObject({ ok: true, pa: 0x404000n });
    expect(r.get(102)).toMatchObject({ ok: true, pa: 0x704000n });
    expect(r.get(13)).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 1, entryAddress: 0x4000n + 13n * 8n } });
    expect(r.get(512 + 509)).toMatchObject({ ok: true, pa: 0x400000n + 1021n * 4096n });
    expect(r.get(1023)).toMatchObject({ ok: true, pa: 0x400000n + 1023n * 4096n });
  });
});
