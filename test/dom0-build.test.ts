import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import * as A from '../src/abi.js';
import { CapacityError, InvalidInputError, TypeViolationError } from '../src/errors.js';
import { encodeTypeInfo } from '../src/frames/frame-info.js';
import { buildDom0, checkTablePage, dom0BuildJson, dom0EngineOptions, type Dom0BuildOptions, type Dom0BuildReport } from '../src/xen/dom0-build.js';
import type { Dom0LayoutInputs } from '../src/xen/dom0-layout.js';
import { x86_pae } from '../src/paging/formats/x86-legacy.js';

const BACKENDS = ['wasm', 'reference'] as const;
type BackendName = (typeof BACKENDS)[number];

const ALLOC3 = (A.PGC_ALLOCATED | 3) >>> 0; // 0x40000003

function build(backend: BackendName, inputs: Dom0LayoutInputs, options?: Dom0BuildOptions): { e: Engine; r: Dom0BuildReport } {
  const e = createEngine(dom0EngineOptions(inputs, { backend }));
  return { e, r: buildDom0(e, inputs, options) };
}

const entryAt = (e: Engine, frame: number, index: number) => e.phys.read64(BigInt(frame) * 4096n + BigInt(index) * 8n);

/*
 * Seed 001's XTF kernel (dom0-layout.md section 6): v_start 0, kernel
 * [0x100000, 0x112000), nr_pages 241755 -> page tables [0x2ec000, 0x2f1000)
 * (n = 5), TOTAL [0, 0x400000), order 10. The allocation is put at 4 MiB (the
 * seed's 0x3e800000 would need a 1 GiB image), so frame = 0x400 + va / 4096.
 * Xen takes the area's pages as: L4; then for the block [0, 2M) its L1, a new
 * L2 and a new L3; then the L1 of [2M, 4M). So 0x6ec L4, 0x6ed L1, 0x6ee L2,
 * 0x6ef L3, 0x6f0 L1. The area itself lies in the second 2 MiB block, so the
 * L1 at 0x6f0 holds the five read-only entries, at indexes 0xec..0xf0.
 */
const XTF: Dom0LayoutInputs = { virtBase: 0n, kernelStart: 0x100000n, kernelEnd: 0x112000n, entry: 0x100000n, nrPages: 241755n, allocBase: 0x400000n };

/*
 * Linux-like kernel near the top (the dom0-layout test's hand-checked layout):
 * v_start 0xffffffff80000000, INIT_P2M, unmapped 30 MiB + 123 B initrd,
 * nr_pages 384000: page tables [0xffffffff83a2c000, +33 pages), TOTAL
 * [0xffffffff80000000, 0xffffffff83c00000), order 14. Allocation at 64 MiB
 * (frame 0x4000), initrd at 32 MiB: 7681 frames [0x2000, 0x3e01). Area frame =
 * 0x4000 + 0x3a2c. 30 L1s (60 MiB / 2 MiB), one L2, one L3, the L4: L4 slot
 * 511 -> L3, L3 slot 510 -> L2, L2 slots 0..29 -> L1s.
 */
const LINUX: Dom0LayoutInputs = {
  virtBase: 0xffffffff80000000n,
  kernelStart: 0xffffffff81000000n,
  kernelEnd: 0xffffffff83a2b000n,
  entry: 0xffffffff82a3e1c0n,
  p2mBase: 0x8000000000n,
  unmappedInitrd: true,
  initrdLength: 30n * 1024n * 1024n + 123n,
  initrdBase: 0x2000000n,
  nrPages: 384000n,
  allocBase: 0x4000000n,
};

/*
 * The last 4 MiB of the address space: v_start 0xffffffffffc00000, a 64 KiB
 * kernel, INIT_P2M, no initrd. By hand: start info at 0xffffffffffc10000,
 * vpt_start 0xffffffffffc11000; v_end rounds up to 2^64, which Xen's unsigned
 * long wraps to 0; required = 1 + 1 + 1 + 2 = 5 = n. Area frames 0x411..0x415:
 * L4, L1 (block 0x...ffe), L2, L3, L1 (block 0x...fff).
 */
const TOP: Dom0LayoutInputs = {
  virtBase: 0xffffffffffc00000n,
  kernelStart: 0xffffffffffc00000n,
  kernelEnd: 0xffffffffffc10000n,
  entry: 0xffffffffffc00000n,
  p2mBase: 0x8000000000n,
  unmappedInitrd: true,
  nrPages: 4096n,
  allocBase: 0x400000n,
};

/*
 * Compat (PAE) guest of the dom0-layout test: v_start 0xc0000000, mapped initrd
 * of 0x123456 bytes (292 pages) at virtual [0xc0a60000, 0xc0b83456), page
 * tables [0xc0bc5000, +13 pages), TOTAL [0xc0000000, 0xc1000000), order 12.
 * Allocation at 16 MiB (frame 0x1000), initrd module at 8 MiB (frame 0x800).
 * The initrd's 292 pages are not in the block, so page p >= 0xb84 of the range
 * maps to 0x1000 + p - 292: the area (page 0xbc5) starts at frame 0x1aa1.
 * Xen's order: the L3; for [0xc0000000, +2M) its L1 and the L2 of PDPT slot 3;
 * seven more L1s; then L2s for the empty slots 0, 1, 2.
 */
const COMPAT: Dom0LayoutInputs = {
  virtBase: 0xc0000000n,
  kernelStart: 0xc0100000n,
  kernelEnd: 0xc0a5f123n,
  entry: 0xc0100000n,
  compat: true,
  initrdLength: 0x123456n,
  initrdBase: 0x800000n,
  nrPages: 65536n,
  allocBase: 0x1000000n,
};

describe.each(BACKENDS)('buildDom0 on %s', (backend) => {
  it('builds seed 001 (XTF): tables in Xen order, every page walks back, the area is read-only', () => {
    const { e, r } = build(backend, XTF);
    expect(r.allocation).toEqual({ first: 0x400, frames: 1024, order: 10, initrd: null, totPages: 1024 });
    expect(r.root).toEqual({ frame: 0x6ec, level: 'L4', address: 0x6ec000n });
    expect(r.tables.map((t) => [t.frame, t.va, t.level])).toEqual([
      [0x6ec, 0x2ec000n, 'L4'],
      [0x6ed, 0x2ed000n, 'L1'],
      [0x6ee, 0x2ee000n, 'L2'],
      [0x6ef, 0x2ef000n, 'L3'],
      [0x6f0, 0x2f0000n, 'L1'],
    ]);
    expect(r.byLevel).toEqual({ L4: [0x6ec], L3: [0x6ef], L2: [0x6ee], L1: [0x6ed, 0x6f0] });
    expect(r.pageTableCount).toEqual({ layout: 5, needed: 5, exact: true, surplus: 0 });
    expect(r.violations).toEqual([]);
    expect(r.marked).toMatchObject({ pages: 5, l1EntriesCleared: 5, countInfo: ALLOC3, rootPinned: false });
    expect(r.walk).toMatchObject({ pages: 1024, mapped: 1024, mismatchCount: 0, readOnlyTables: 5, writableData: 1019, writeMismatches: 0, ok: true });

    // The entries, by hand: tables P RW US A D (0x67), leaves P RW US A (0x27), area leaves without RW (0x25).
    expect(entryAt(e, 0x6ec, 0)).toBe(0x6ef067n);
    expect(entryAt(e, 0x6ef, 0)).toBe(0x6ee067n);
    expect(entryAt(e, 0x6ee, 0)).toBe(0x6ed067n);
    expect(entryAt(e, 0x6ee, 1)).toBe(0x6f0067n);
    expect(entryAt(e, 0x6ee, 2)).toBe(0n);
    expect(entryAt(e, 0x6ed, 0x100)).toBe(0x500027n); // the kernel's first page
    expect(entryAt(e, 0x6f0, 0xeb)).toBe(0x6eb027n); // start info page, writable
    for (let i = 0; i < 5; i++) expect(entryAt(e, 0x6f0, 0xec + i)).toBe(BigInt(0x6ec000 + i * 0x1000 + 0x25));
    expect(entryAt(e, 0x6f0, 0xf1)).toBe(0x6f1027n); // boot stack

    // Walks: va -> 0x400000 + va; the area refuses writes; beyond v_end nothing.
    const t = (va: bigint, access: 'read' | 'write' = 'read') => e.translate(0x6ec000n, va, { access });
    expect(t(0x100000n)).toMatchObject({ ok: true, pa: 0x500000n, pageSize: 4096, level: 1 });
    expect(t(0x2ee123n)).toMatchObject({ ok: true, pa: 0x6ee123n, rights: { write: false } });
    expect(t(0x2ee000n, 'write')).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1 } });
    expect(t(0x2f1000n, 'write')).toMatchObject({ ok: true, pa: 0x6f1000n });
    expect(t(0x3ff000n, 'write')).toMatchObject({ ok: true, pa: 0x7ff000n });
    expect(t(0x400000n)).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 2 } });

    // Metadata: the area "allocated + 3", validated, one type reference; mapped
    // data pages hold the writable type reference and general reference Xen's builder takes.
    expect(e.frames.info(0x6ec)).toMatchObject({ type: 'L4', validated: true, typeCount: 1, pinned: false, allocated: true, refCount: 3, owner: 0 });
    expect(e.frames.info(0x6ef)).toMatchObject({ type: 'L3', validated: true, typeCount: 1, countInfo: ALLOC3 });
    expect(e.frames.info(0x6f0)).toMatchObject({ type: 'L1', validated: true, typeCount: 1, countInfo: ALLOC3 });
    expect(e.frames.info(0x500)).toMatchObject({ type: 'writable', typeCount: 1, allocated: true, refCount: 2 });
    expect(e.frames.info(0x7ff)).toMatchObject({ type: 'writable', typeCount: 1, refCount: 2 });
    expect(e.domains.get(0).record()).toMatchObject({ pv64: true, totPages: 1024, listed: 1024, head: 0x400, tail: 0x7ff });
  });

  it('builds a Linux-like layout at 0xffffffff80000000 with an unmapped initrd', () => {
    const { e, r } = build(backend, LINUX);
    expect(r.allocation).toEqual({ first: 0x4000, frames: 16384, order: 14, initrd: { first: 0x2000, frames: 7681 }, totPages: 16384 + 7681 });
    expect(r.mapping).toEqual({ vStart: 0xffffffff80000000n, vEnd: 0xffffffff83c00000n, pages: 15360, initrd: null });
    const f0 = 0x4000 + 0x3a2c;
    expect(r.root.frame).toBe(f0);
    expect(r.tables.slice(0, 5).map((t) => t.level)).toEqual(['L4', 'L1', 'L2', 'L3', 'L1']);
    expect(r.tables.slice(4).every((t) => t.level === 'L1')).toBe(true);
    expect(r.byLevel.L1).toHaveLength(30);
    expect(r.pageTableCount).toEqual({ layout: 33, needed: 33, exact: true, surplus: 0 });
    expect(entryAt(e, f0, 511)).toBe(BigInt(f0 + 3) * 4096n + 0x67n);
    expect(entryAt(e, f0 + 3, 510)).toBe(BigInt(f0 + 2) * 4096n + 0x67n);
    expect(entryAt(e, f0 + 2, 0)).toBe(BigInt(f0 + 1) * 4096n + 0x67n);
    expect(entryAt(e, f0 + 2, 1)).toBe(BigInt(f0 + 4) * 4096n + 0x67n);
    expect(entryAt(e, f0 + 2, 29)).toBe(BigInt(f0 + 32) * 4096n + 0x67n);
    expect(entryAt(e, f0 + 2, 30)).toBe(0n);
    const cr3 = BigInt(f0) * 4096n;
    expect(e.translate(cr3, 0xffffffff81000000n)).toMatchObject({ ok: true, pa: 0x5000000n });
    expect(e.translate(cr3, 0xffffffff83a2c000n, { access: 'write' })).toMatchObject({ ok: false, fault: { kind: 'protection' } });
    expect(e.translate(cr3, 0xffffffff83a4d000n, { access: 'write' })).toMatchObject({ ok: true, pa: BigInt(f0 + 33) * 4096n });
    expect(r.walk).toMatchObject({ pages: 15360, mapped: 15360, readOnlyTables: 33, writableData: 15327, ok: true });
    // The initrd is dom0's but not mapped: no type reference on it.
    expect(e.frames.info(0x2000)).toMatchObject({ owner: 0, type: 'none', refCount: 1 });
  });

  it('maps the last 4 MiB of the address space (v_end wraps to 0)', () => {
    const { e, r } = build(backend, TOP);
    expect(r.layout.total).toEqual({ start: 0xffffffffffc00000n, end: 0n });
    expect(r.mapping).toMatchObject({ vEnd: 1n << 64n, pages: 1024 });
    expect(r.tables.map((t) => [t.frame, t.level])).toEqual([[0x411, 'L4'], [0x412, 'L1'], [0x413, 'L2'], [0x414, 'L3'], [0x415, 'L1']]);
    expect(r.pageTableCount.exact).toBe(true);
    expect(entryAt(e, 0x411, 511)).toBe(0x414067n);
    expect(entryAt(e, 0x414, 511)).toBe(0x413067n);
    expect(entryAt(e, 0x413, 510)).toBe(0x412067n);
    expect(entryAt(e, 0x413, 511)).toBe(0x415067n);
    expect(e.translate(0x411000n, 0xfffffffffffff000n)).toMatchObject({ ok: true, pa: 0x7ff000n });
    expect(r.walk.ok).toBe(true);
  });

  it('builds a compat (PAE) layout: one L3, four L2s, the mapped initrd in place', () => {
    const { e, r } = build(backend, COMPAT);
    expect(r.format).toBe(x86_pae);
    expect(r.root).toEqual({ frame: 0x1aa1, level: 'L3', address: 0x1aa1000n });
    expect(r.allocation).toEqual({ first: 0x1000, frames: 4096, order: 12, initrd: { first: 0x800, frames: 292 }, totPages: 4388 });
    expect(r.mapping.initrd).toEqual({ firstPage: 0xa60, pages: 292 });
    expect(r.tables.map((t) => t.level)).toEqual(['L3', 'L1', 'L2', 'L1', 'L1', 'L1', 'L1', 'L1', 'L1', 'L1', 'L2', 'L2', 'L2']);
    expect(r.tables.map((t) => t.frame)).toEqual(Array.from({ length: 13 }, (_, i) => 0x1aa1 + i));
    expect(r.byLevel.L2).toEqual([0x1aa3, 0x1aab, 0x1aac, 0x1aad]);
    expect(r.pageTableCount).toEqual({ layout: 13, needed: 13, exact: true, surplus: 0 });
    // PDPTEs carry P only; slot 3 holds the L2 the range needs, 0..2 the extra ones.
    expect([0, 1, 2, 3].map((i) => entryAt(e, 0x1aa1, i))).toEqual([0x1aab001n, 0x1aac001n, 0x1aad001n, 0x1aa3001n]);
    expect(entryAt(e, 0x1aa3, 0)).toBe(0x1aa2067n);
    expect(entryAt(e, 0x1aa3, 7)).toBe(0x1aaa067n);
    // Compat leaves: P RW A (0x23), the area's without RW (0x21).
    expect(entryAt(e, 0x1aa2, 0x100)).toBe(0x1100023n);
    const t = (va: bigint, access: 'read' | 'write' = 'read') => e.translate(0x1aa1000n, va, { format: x86_pae, access });
    expect(t(0xc0100000n)).toMatchObject({ ok: true, pa: 0x1100000n });
    expect(t(0xc0a60000n)).toMatchObject({ ok: true, pa: 0x800000n });
    expect(t(0xc0b83000n)).toMatchObject({ ok: true, pa: 0x923000n });
    expect(t(0xc0b84000n)).toMatchObject({ ok: true, pa: 0x1a60000n });
    expect(t(0xc0bc5000n)).toMatchObject({ ok: true, pa: 0x1aa1000n, rights: { write: false } });
    expect(t(0xc0bc5000n, 'write')).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1 } });
    expect(t(0xc0fff000n, 'write')).toMatchObject({ ok: true, pa: 0x1000000n + 0xfff000n - 0x124000n });
    expect(r.walk).toMatchObject({ pages: 4096, mapped: 4096, readOnlyTables: 13, ok: true });
    expect(e.frames.info(0x1aa1)).toMatchObject({ type: 'L3', validated: true, typeCount: 1, countInfo: ALLOC3 });
    expect(e.frames.info(0x1aad)).toMatchObject({ type: 'L2', validated: true, typeCount: 1, countInfo: ALLOC3 });
    // The mapped initrd pages took the writable reference; dom0 is not 64-bit.
    expect(e.frames.info(0x800)).toMatchObject({ owner: 0, type: 'writable', typeCount: 1, refCount: 2 });
    expect(e.domains.get(0).pv64).toBe(false);
  });

  it('reports each injected violation with frame, virtual address and bits, and still marks', () => {
    const { e, r } = build(backend, XTF, {
      inject: [
        { page: 2, kind: 'type' },
        { page: 3, kind: 'validated' },
        { page: 4, kind: 'count' },
        { page: 0, kind: 'pinned' },
      ],
    });
    const got = r.violations.map((v) => ({ rule: v.rule, index: v.index, frame: v.frame, va: v.va, bits: v.bits, found: v.found }));
    expect(got).toEqual([
      { rule: 'flags-set', index: 0, frame: 0x6ec, va: 0x2ec000n, bits: 0x08000000, found: 'pinned' },
      { rule: 'not-page-table-type', index: 2, frame: 0x6ee, va: 0x2ee000n, bits: 0xc0000000, found: 'writable' }, // type 6 << 29
      { rule: 'flags-set', index: 3, frame: 0x6ef, va: 0x2ef000n, bits: 0x10000000, found: 'validated' },
      { rule: 'type-count', index: 4, frame: 0x6f0, va: 0x2f0000n, bits: 1, found: 'type count 1' },
    ]);
    expect(r.violations[1]!.message).toBe(
      'page-table page 2 (frame 0x6ee, va 0x2ee000): type writable (bits 0xc0000000) is not a page-table type L1..L4 [not-page-table-type]',
    );
    // A release build marks regardless: |= validated | 1 keeps what was there.
    expect(e.frames.info(0x6ee)).toMatchObject({ type: 'writable', validated: true, typeCount: 1, countInfo: ALLOC3 });
    expect(e.frames.info(0x6f0)).toMatchObject({ type: 'L1', validated: true, typeCount: 1 });
    expect(r.walk.ok).toBe(true);
  });

  it('sees a type reference taken through the type system before marking (validated + count)', () => {
    // Taking an L1 reference on the first L1 validates it (its data pages are
    // writable-typed already), leaving validated and a count of 1: both of (b).
    const seen: number[] = [];
    const e = createEngine(dom0EngineOptions(XTF, { backend }));
    const r = buildDom0(e, XTF, {
      beforeCheck: (tables) => {
        seen.push(...tables.map((t) => t.frame));
        e.frames.getType(0x6ed, 'L1');
      },
    });
    expect(seen).toEqual([0x6ec, 0x6ed, 0x6ee, 0x6ef, 0x6f0]);
    expect(r.violations.map((v) => [v.rule, v.frame, v.bits])).toEqual([
      ['flags-set', 0x6ed, 0x10000000],
      ['type-count', 0x6ed, 1],
    ]);
  });

  it('strict: stops before marking, naming every violation', () => {
    const e = createEngine(dom0EngineOptions(XTF, { backend }));
    let err: unknown;
    try {
      buildDom0(e, XTF, { strict: true, inject: [{ page: 1, kind: 'count' }, { page: 4, kind: 'type', type: 'seg-desc' }] });
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(TypeViolationError);
    expect((err as TypeViolationError).message).toMatch(/2 page-table page check\(s\) failed.*frame 0x6ed.*\[type-count\].*frame 0x6f0.*seg-desc.*\[not-page-table-type\]/);
    // Nothing marked: the area is still writable and holds only its allocation reference.
    expect(e.frames.info(0x6ec)).toMatchObject({ type: 'L4', validated: false, typeCount: 0, countInfo: (A.PGC_ALLOCATED | 1) >>> 0 });
    expect(e.translate(0x6ec000n, 0x2ec000n, { access: 'write' })).toMatchObject({ ok: true });
  });

  it('"allocated + 3" is the allocation, the read-only mapping and the parent entry: the audit agrees except at the root', () => {
    // Recounting every reference from the tables: each non-root table page holds
    // 1 (allocation) + 1 (its read-only L1 entry) + 1 (its parent's entry), type
    // count 1 (the parent's entry); data pages 1 + 1 (a writable mapping), type 1.
    // Only the root differs: its third reference and its type reference stand for
    // the vCPU's CR3 (guest_table), which the engine does not model, and the
    // domain's L4 index never saw the L4 being promoted.
    const { e } = build(backend, XTF);
    const a = e.frames.audit({ references: true });
    expect(a.violations).toEqual([
      { domain: 0, field: 'nr_l4_pages', expected: 1, found: 0 },
      { domain: 0, field: 'l4_index', expected: '1 validated L4s', found: 0 },
      { frame: 0x6ec, domain: 0, field: 'count_info.count', expected: 2, found: 3 },
      { frame: 0x6ec, domain: 0, field: 'type_info.count', expected: 0, found: 1 },
    ]);
  });

  it('pinRoot: the top-level table also gets the pin mark_pv_pt_pages_rdonly gives it', () => {
    const { e, r } = build(backend, XTF, { pinRoot: true });
    expect(r.marked.rootPinned).toBe(true);
    expect(e.frames.info(0x6ec)).toMatchObject({ type: 'L4', validated: true, pinned: true, typeCount: 2, refCount: 4 });
    expect(e.frames.info(0x6ef)).toMatchObject({ type: 'L3', pinned: false, typeCount: 1, refCount: 3 });
    const c = build(backend, COMPAT, { pinRoot: true });
    expect(c.e.frames.info(0x1aa1)).toMatchObject({ type: 'L3', pinned: true, typeCount: 2, refCount: 4 });
  });
});

describe('buildDom0: the page-table count, exact or an upper bound', () => {
  /*
   * Each n derived by hand from dom0-layout.md section 3 (required at the
   * loop's v_end); the builder's own need comes from the tables it writes, and
   * the census of validated table types counts them once more.
   */
  const cases: [string, Dom0LayoutInputs, number][] = [
    ['XTF (seed 001)', XTF, 5],
    ['Linux-like at the top', LINUX, 33],
    ['last 4 MiB', TOP, 5],
    ['compat with an initrd', COMPAT, 13],
    // v_start 0x1ff000, not 2 MiB aligned: p2m [0x212000, 0x3ea2d8), vpt 0x3ec000;
    // with n = 2 the slack is under 512 KiB, so v_end = 0x800000 for every n: L1
    // blocks 0..3 -> 4 + L2 + L3 + L4 = 7. The rounded-down v_start counts the extra L1.
    // count 0x601000 -> order 11, so the block is 8 MiB aligned.
    ['unaligned v_start', { ...XTF, virtBase: 0x1ff000n, kernelStart: 0x200000n, kernelEnd: 0x212000n, entry: 0x200000n, allocBase: 0x800000n }, 7],
    // 2,000,000 pages: p2m [0x112000, 0x1054400), vpt 0x1056000, v_end 0x1400000: 10 L1 + 3 = 13.
    ['XTF with a 16 MB p2m', { ...XTF, nrPages: 2_000_000n, allocBase: 0x2000000n }, 13],
    // [0x3fe00000, 0x40400000): L1 blocks 0x1ff..0x201 (3), L2s for GiB 0 and 1, one L3, the L4 = 7.
    ['across a 1 GiB boundary', { virtBase: 0x3fe00000n, kernelStart: 0x3fe00000n, kernelEnd: 0x40200000n, entry: 0x3fe00000n, nrPages: 4096n, allocBase: 0x800000n }, 7],
    // [0x7fffe00000, 0x8000400000): 3 L1s, 2 L2s, 2 L3s (512 GiB boundary), the L4 = 8.
    ['across a 512 GiB boundary', { virtBase: 0x7fffe00000n, kernelStart: 0x7fffe00000n, kernelEnd: 0x8000200000n, entry: 0x7fffe00000n, nrPages: 4096n, allocBase: 0x800000n }, 8],
    // Compat at 0: p2m 241755 * 4 = 0xec16c -> vpt 0x200000, v_end 0x400000: L3 + 4 L2 + 2 L1 = 7.
    ['compat XTF', { ...XTF, compat: true }, 7],
  ];

  it.each(cases)('%s: n is exactly what the builder needs', (_name, inputs, n) => {
    const { e, r } = build('wasm', inputs);
    expect(r.layout.pageTables.pages).toBe(BigInt(n));
    expect(r.pageTableCount).toEqual({ layout: n, needed: n, exact: true, surplus: 0 });
    const census = (['L1', 'L2', 'L3', 'L4'] as const).reduce((s, t) => s + e.frames.census(t, { domain: 0 }).count, 0);
    expect(census).toBe(n);
    expect(r.tables.every((t) => t.level !== undefined)).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.walk.ok).toBe(true);
  });

  it('orders the tables as Xen takes them across a 512 GiB boundary', () => {
    const { r } = build('reference', cases[7]![1]);
    expect(r.tables.map((t) => t.level)).toEqual(['L4', 'L1', 'L2', 'L3', 'L1', 'L2', 'L3', 'L1']);
  });
});

describe('buildDom0: both backends leave identical memory and metadata', () => {
  it.each([
    ['XTF', XTF],
    ['Linux-like', LINUX],
    ['compat', COMPAT],
    ['XTF with violations', XTF],
  ] as const)('%s', (name, inputs) => {
    const opts: Dom0BuildOptions = name === 'XTF with violations' ? { inject: [{ page: 1, kind: 'type' }, { page: 2, kind: 'locked' }], pinRoot: true } : {};
    const a = build('wasm', inputs, opts);
    const b = build('reference', inputs, opts);
    const ram = (e: Engine) => Buffer.from(e.memory.buffer, e.layout.ramBase, e.layout.ramBytes);
    expect(ram(a.e).equals(ram(b.e))).toBe(true);
    const sa = a.e.frames.snapshot(), sb = b.e.frames.snapshot();
    for (const col of ['typeInfo', 'countInfo', 'owner', 'next', 'prev'] as const) {
      expect(Buffer.from(sa[col].buffer).equals(Buffer.from(sb[col].buffer)), col).toBe(true);
    }
    expect(a.e.domains.get(0).record()).toEqual(b.e.domains.get(0).record());
    expect(dom0BuildJson(a.r)).toEqual(dom0BuildJson(b.r));
  });
});

describe('buildDom0: refusals', () => {
  it('checkTablePage names every broken property of one word', () => {
    const ti = encodeTypeInfo({ type: 'L2', typeCount: 3, partial: true, locked: true });
    const v = checkTablePage(ti, { index: 7, frame: 0x1234, va: 0xabc000n });
    expect(v.map((x) => [x.rule, x.bits, x.found])).toEqual([
      ['flags-set', A.PGT_PARTIAL | A.PGT_LOCKED, 'partial locked'],
      ['type-count', 3, 'type count 3'],
    ]);
    expect(checkTablePage(encodeTypeInfo({ type: 'none' }), { index: 0, frame: 1, va: 0n }).map((x) => x.rule)).toEqual(['not-page-table-type']);
    expect(checkTablePage(encodeTypeInfo({ type: 'L4' }), { index: 0, frame: 1, va: 0n })).toEqual([]);
  });

  it('refuses an initrd on top of the allocation, a small engine, an existing domain', () => {
    const e = createEngine(dom0EngineOptions(LINUX));
    expect(() => buildDom0(e, { ...LINUX, initrdBase: 0x4100000n })).toThrow(/initrd-addr: the initrd's frames \[0x4100, 0x5f01\) overlap dom0's allocation \[0x4000, 0x8000\)/);
    expect(e.domains.has(0)).toBe(false);
    const small = createEngine({ ramBytes: 0x100000 });
    expect(() => buildDom0(small, XTF)).toThrow(CapacityError);
    const x = createEngine(dom0EngineOptions(XTF));
    buildDom0(x, XTF);
    expect(() => buildDom0(x, XTF)).toThrow(/domain: 0 already exists/);
    expect(() => buildDom0(x, XTF, { domain: 1 })).toThrow(/not free/);
  });

  it("refuses layouts that overlap the hypervisor's area, as Xen does", () => {
    const e = createEngine({ ramBytes: 0x100000 });
    const compatHigh = { ...COMPAT, virtBase: 0xf5000000n, kernelStart: 0xf5000000n, kernelEnd: 0xf5700000n, entry: 0xf5000000n };
    expect(() => buildDom0(e, compatHigh)).toThrow(/overlaps with Xen private area/);
    const xenArea = { ...TOP, virtBase: 0xffff800000000000n, kernelStart: 0xffff800000000000n, kernelEnd: 0xffff800000010000n, entry: 0xffff800000000000n };
    expect(() => buildDom0(e, xenArea)).toThrow(InvalidInputError);
    expect(() => buildDom0(e, XTF, { inject: [{ page: 5, kind: 'count' }] })).toThrow(/inject: page 5 is not a page of the 5-page page-table area/);
  });
});

