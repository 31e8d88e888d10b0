// translateRuns: the run-length form of translateRange. On random tables (x86-64
// and the other formats), both backends: expanding the runs gives exactly
// translateRange's per-page pa and status, the runs are maximal, both backends
// write the same runs, and a kernel stopped by maxRuns continues where it stopped.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import * as A from '../src/abi.js';
import { accessFlags } from '../src/paging/operations.js';
import {
  createEngine, x86_64, x86_64_la57, aarch64_4k, aarch64_16k, aarch64_64k, x86_pae, x86_32, CapacityError, InvalidInputError,
  type Engine, type PagingFormat, type RunsResult,
} from '../src/index.js';
import { tableImageArb, walkOptionsArb, RAM_BYTES } from './helpers/random-tables.js';
import { formatImageArb, geometry, walkOptionsArbFor } from './helpers/random-format-tables.js';

const cols = (r: RunsResult) => ({ va: [...r.va], addr: [...r.addr], pages: [...r.pages], status: [...r.status] });

/** Runs of `e` over [start, start + n pages): lossless, maximal, continuable. */
function checkRuns(e: Engine, root: bigint, start: bigint, n: number, opts: Parameters<Engine['translateRange']>[3] & { format: PagingFormat }) {
  const range = e.translateRange(root, start, n, opts);
  const runs = e.translateRuns(root, start, n, opts);
  expect(runs.totalPages).toBe(n);
  const x = runs.expand();
  expect([...x.vas]).toEqual([...range.vas]);
  expect([...x.addr]).toEqual([...range.addr]);
  expect([...x.status]).toEqual([...range.status]);
  const via = e.translateRange(root, start, n, { ...opts, viaRuns: true });
  expect([...via.addr]).toEqual([...range.addr]);
  for (let i = 0; i + 1 < runs.length; i++) {
    const mergeable = runs.status[i] === runs.status[i + 1] && runs.addrOf(i, runs.pages[i]!) === runs.addr[i + 1];
    expect(mergeable, `runs ${i} and ${i + 1} could merge`).toBe(false);
    expect(runs.pages[i]).toBeGreaterThan(0);
  }
  // The kernel with a small maxRuns, continued from RES_PAGES_COVERED, writes the same runs.
  const k = e.backend.paging;
  e.prepare(opts);
  const psize = BigInt(opts.format.pageSize);
  const acc = accessFlags(opts.access, opts.user);
  for (const max of [1, 2, 3]) {
    const got: bigint[][] = [];
    let off = 0;
    while (off < n) {
      const m = k.translateRuns(BigInt.asUintN(64, root), BigInt.asUintN(64, start + BigInt(off) * psize), n - off, e.layout.ioBase, max, acc, 0xffffffff) >>> 0;
      const covered = Number(e.view.getBigUint64(A.RES + A.RES_PAGES_COVERED, true));
      expect(m).toBeLessThanOrEqual(max);
      expect(covered).toBeGreaterThan(0);
      let sum = 0;
      for (let i = 0; i < m; i++) {
        const b = e.layout.ioBase + i * A.RR_BYTES;
        const pages = e.view.getUint32(b + A.RR_PAGES, true);
        sum += pages;
        got.push([e.view.getBigUint64(b + A.RR_VA, true), e.view.getBigUint64(b + A.RR_PA, true), BigInt(pages), BigInt(e.view.getUint32(b + A.RR_STATUS, true))]);
      }
      expect(sum).toBe(covered);
      off += covered;
    }
    const full = cols(runs);
    expect(got).toEqual(full.va.map((v, i) => [v, full.addr[i]!, BigInt(full.pages[i]!), BigInt(full.status[i]!)]));
  }
  return cols(runs);
}

describe.each([4, 5] as const)('x86-64 %i-level: translateRuns == translateRange, both backends', (depth) => {
  const wasm = createEngine({ ramBytes: RAM_BYTES, ioBytes: 1 << 16 });
  const ref = wasm.withBackend('reference');
  test('random table images', () => {
    fc.assert(
      fc.property(tableImageArb(depth), walkOptionsArb, fc.integer({ min: 0, max: 3 }), (img, o, pick) => {
        wasm.phys.fill(0, RAM_BYTES);
        for (const [pa, v] of img.writes) wasm.phys.write64(pa, v);
        const format = depth === 5 ? x86_64_la57 : x86_64;
        const start = img.vas[pick % img.vas.length]! & ~0xfffn;
        const opts = { ...o, format };
        const a = checkRuns(wasm, img.cr3, start, 1100, opts);
        const b = checkRuns(ref, img.cr3, start, 1100, opts);
        expect(b).toEqual(a);
        // Into the non-canonical hole.
        const edge = depth === 5 ? 0x00fffffffffff000n - 4096n * 5n : 0x00007ffffffff000n - 4096n * 5n;
        expect(checkRuns(ref, img.cr3, edge, 20, opts)).toEqual(checkRuns(wasm, img.cr3, edge, 20, opts));
      }),
      { numRuns: 150 },
    );
  });
});

describe.each([aarch64_4k, aarch64_16k, aarch64_64k, x86_pae, x86_32].map((f) => [f.name, f] as const))(
  '%s: translateRuns == translateRange, both backends',
  (_name, format) => {
    const g = geometry(format);
    const wasm = createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 16 });
    const ref = wasm.withBackend('reference');
    test('random table images', () => {
      fc.assert(
        fc.property(formatImageArb(format, g), walkOptionsArbFor(format), (img, o) => {
          wasm.phys.fill(0, wasm.phys.size);
          for (const [pa, v] of img.writes) {
            if (g.params.entryBytes === 8) wasm.phys.write64(pa, v);
            else wasm.phys.write32(pa, Number(v));
          }
          const page = BigInt(format.pageSize);
          const start = img.vas[0]! & ~(page - 1n);
          const opts = { ...o, format };
          expect(checkRuns(ref, img.root, start, 300, opts)).toEqual(checkRuns(wasm, img.root, start, 300, opts));
        }),
        { numRuns: 60 },
      );
    });
  },
);

describe('translateRuns by hand: a 2 MiB leaf, then 4 KiB pages', () => {
  test.each(['wasm', 'reference'] as const)('%s', (name) => {
    const base = createEngine({ ramBytes: 1 << 20, ioBytes: 1 << 16 });
    const e = name === 'wasm' ? base : base.withBackend('reference');
    const w = (pa: number, v: bigint) => e.phys.write64(BigInt(pa), v);
    w(0x1000, 0x2000n | 3n); // PML4[0] -> PDPT
    w(0x2000, 0x3000n | 3n); // PDPT[0] -> PD
    w(0x3000 + 8, 0x40200000n | 0x83n); // PD[1]: 2 MiB leaf, va 0x200000 -> pa 0x40200000
    w(0x3000 + 16, 0x4000n | 3n); // PD[2] -> PT (va 0x400000)
    for (let i = 0; i < 4; i++) w(0x4000 + i * 8, BigInt(0x40400000 + i * 4096) | 3n); // PT[0..3]: consecutive
    // PT[4]: not present
    w(0x4000 + 5 * 8, 0x800000n | 3n); // PT[5]: elsewhere
    // PT[6], PT[7]: not present
    w(0x4000 + 8 * 8, 0x801000n | 3n); // PT[8]: follows PT[5]'s frame but not its page: a new run
    const r = e.translateRuns(0x1000n, 0x1ff000n, 522, { format: x86_64 });
    const got = r.runs.map((x) => ({ va: x.va, pa: x.pa, pages: x.pages, ok: x.result.ok, size: x.result.ok ? x.result.pageSize : undefined, kind: x.result.ok ? undefined : x.result.fault.kind }));
    expect(got).toEqual([
      { va: 0x1ff000n, pa: 0x3000n, pages: 1, ok: false, size: undefined, kind: 'not-present' }, // PD[0] empty
      { va: 0x200000n, pa: 0x40200000n, pages: 512, ok: true, size: 2 << 20, kind: undefined },
      { va: 0x400000n, pa: 0x40400000n, pages: 4, ok: true, size: 4096, kind: undefined },
      { va: 0x404000n, pa: 0x4020n, pages: 1, ok: false, size: undefined, kind: 'not-present' },
      { va: 0x405000n, pa: 0x800000n, pages: 1, ok: true, size: 4096, kind: undefined },
      { va: 0x406000n, pa: 0x4030n, pages: 2, ok: false, size: undefined, kind: 'not-present' },
      { va: 0x408000n, pa: 0x801000n, pages: 1, ok: true, size: 4096, kind: undefined },
    ]);
  });
});

// Aliasing tables: PML4[0] -> PDPT, PDPT[0] -> PD, and all 512 PD entries -> one PT
// whose 512 leaves map 0x80000.. consecutively. Every 2 MiB of the first GiB maps
// the same 2 MiB, so runs break every 512 pages. Entries the walk reads, by hand:
// the first 2 MiB costs a full walk (PML4, PDPT, PD, PT: 4) and PT[1..511] (511);
// each next 2 MiB restarts at the PD (PD[i], PT[0]: 2) and reads PT[1..511] (511).
describe('translateRuns maxEntries: aliasing tables', () => {
  const ROOT = 0x1000n;
  const LEAF0 = 0x80000n;
  const aliasing = (name: 'wasm' | 'reference') => {
    const base = createEngine({ ramBytes: 1 << 20, ioBytes: 1 << 16 });
    const e = name === 'wasm' ? base : base.withBackend('reference');
    const w = (pa: number, v: bigint) => e.phys.write64(BigInt(pa), v);
    w(0x1000, 0x2000n | 3n);
    w(0x2000, 0x3000n | 3n);
    for (let i = 0; i < 512; i++) w(0x3000 + i * 8, 0x4000n | 3n);
    for (let i = 0; i < 512; i++) w(0x4000 + i * 8, (LEAF0 + BigInt(i) * 4096n) | 3n);
    return e;
  };
  const firstGiB = Array.from({ length: 512 }, (_, i) => ({ va: BigInt(i) << 21n, pa: LEAF0, pages: 512, kind: 'ok' }));
  const summary = (r: RunsResult) => r.runs.map((x) => ({ va: x.va, pa: x.pa, pages: x.pages, kind: x.result.ok ? 'ok' : x.result.fault.kind }));

  test.each(['wasm', 'reference'] as const)('%s: refused past the budget, same runs within it', (name) => {
    const e = aliasing(name);
    const three = 3 * 512; // 4 + 511 + 2 * (2 + 511) = 1541 entries
    expect(summary(e.translateRuns(ROOT, 0n, three, { maxEntries: 1541 }))).toEqual(firstGiB.slice(0, 3));
    // One short: the third PT's last entry (page 1535) is the one not read.
    expect(() => e.translateRuns(ROOT, 0n, three, { maxEntries: 1540 })).toThrow(
      /^translateRuns: more than 1540 table entries read by 0x5ff000; the tables alias heavily; ask for a smaller range or raise maxEntries$/,
    );
    // 1028 entries answer two 2 MiB; the third's walk needs 2 more.
    expect(() => e.translateRuns(ROOT, 0n, three, { maxEntries: 1029 })).toThrow(/ read by 0x400000;/);
    expect(() => e.translateRuns(ROOT, 0n, three, { maxEntries: 0 })).toThrow(/^translateRuns: more than 0 table entries read by 0x0;/);
    // The whole 64-bit space: 1541 entries answer 6 MiB, the fourth walk 2 and PT[1..457]; page 1994 is refused.
    let err: unknown;
    try {
      e.translateRuns(ROOT, 0n, 2 ** 52, { maxEntries: 2000 });
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(CapacityError);
    expect((err as CapacityError).message).toMatch(/^translateRuns: more than 2000 table entries read by 0x7ca000;/);
    expect((err as CapacityError).details).toMatchObject({ input: 'options.maxEntries', max: 2000, va: 0x7ca000n });
    // With the default budget the whole space is answered: the first GiB as 512 runs, then the empty rest.
    expect(summary(e.translateRuns(ROOT, 0n, 2 ** 52))).toEqual([
      ...firstGiB,
      { va: 1n << 30n, pa: 0x2008n, pages: 511 * 2 ** 18, kind: 'not-present' }, // PDPT[1..511]
      { va: 1n << 39n, pa: 0x1008n, pages: 255 * 2 ** 27, kind: 'not-present' }, // PML4[1..255]
      { va: 1n << 47n, pa: 0n, pages: 2 ** 52 - 2 ** 36, kind: 'non-canonical' },
      { va: 0xffff800000000000n, pa: 0x1800n, pages: 2 ** 35, kind: 'not-present' }, // PML4[256..511]
    ]);
    // The hole reads no entry: a budget of 0 answers it.
    expect(e.translateRuns(ROOT, 1n << 47n, 10, { maxEntries: 0 }).totalPages).toBe(10);
  });

  test('maxEntries is validated', () => {
    const e = aliasing('wasm');
    expect(() => e.translateRuns(ROOT, 0n, 1, { maxEntries: -1 })).toThrow(InvalidInputError);
    expect(() => e.translateRuns(ROOT, 0n, 1, { maxEntries: 1.5 })).toThrow(/^options\.maxEntries: /);
    expect(() => e.translateRuns(ROOT, 0n, 1, { maxEntries: '9' as never })).toThrow(InvalidInputError);
  });
});
