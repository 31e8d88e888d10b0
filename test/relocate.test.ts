import { describe, test, expect } from 'vitest';
import { createEngine, MappingConflictError, InvalidInputError } from '../src/index.js';
import { buildHypervisorTables, XEN_VIRT_START, DIRECTMAP_VIRT_START, LINEAR_PT_SLOT } from '../src/xen/hypervisor-tables.js';
import { relocateHypervisorTables } from '../src/xen/relocate.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { x86_pae } from '../src/paging/formats/x86-legacy.js';
import type { PagingFormat } from '../src/paging/format.js';

const MiB = 1n << 20n;
const base = 16n * MiB;
const delta = 32n * MiB;

function setup(backend: 'wasm' | 'reference') {
  const e = createEngine({ ramBytes: '64M', backend, ioBytes: 1 << 20 });
  // Some content in the image's text/data so the copy can be checked too.
  for (let i = 0n; i < 64n; i++) e.phys.write64(base + i * 65536n, 0xc0de0000n + i);
  return { e, h: buildHypervisorTables(e, base) };
}

describe.each(['wasm', 'reference'] as const)('relocateHypervisorTables on %s', (backend) => {
  test('fixes each table once and reports what it did (counts worked out by hand)', () => {
    const { e, h } = setup(backend);
    const r = relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image });
    expect(r).toEqual({ tables: 5, entries: 8, root: h.root + delta, l2xenmap: h.l2xenmap + delta });
  });

  test('the copy differs from the original in exactly the 8 relocated entries, by delta; nothing else changed', () => {
    const { e, h } = setup(backend);
    const before = e.phys.read(0, e.phys.size);
    relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image });
    const after = e.phys.read(0, e.phys.size);
    const [root, l3xen, l2xenmap, l3direct, l2direct] = h.tables;
    const relocated = new Set(
      [
        root! + BigInt(LINEAR_PT_SLOT) * 8n, root! + 261n * 8n, root! + 262n * 8n,
        l3xen! + 322n * 8n, l3direct! + 1n * 8n, l2direct! + 2n * 8n,
        l2xenmap! + 0n, l2xenmap! + 8n,
      ].map((a) => a + delta),
    );
    const word = (b: Uint8Array, a: bigint) => Buffer.from(b.buffer, b.byteOffset + Number(a), 8).readBigUInt64LE();
    // Outside the copy: unchanged, the original image included.
    const copy = [h.image.start + delta, h.image.end + delta];
    expect(Buffer.compare(Buffer.from(after.subarray(0, Number(copy[0]))), Buffer.from(before.subarray(0, Number(copy[0]))))).toBe(0);
    expect(Buffer.compare(Buffer.from(after.subarray(Number(copy[1]))), Buffer.from(before.subarray(Number(copy[1]))))).toBe(0);
    // Inside the copy: the original's bytes, plus delta in the relocated words.
    const expected = Buffer.from(before.slice(Number(h.image.start), Number(h.image.end)));
    for (const a of relocated) expected.writeBigUInt64LE(word(before, a - delta) + delta, Number(a - copy[0]!));
    expect(Buffer.from(after.subarray(Number(copy[0]), Number(copy[1]))).equals(expected)).toBe(true);
  });

  test('every virtual address of the image translates to old + delta; the direct map is unchanged', () => {
    const { e, h } = setup(backend);
    const old = e.translateRange(h.root, XEN_VIRT_START, 1024);
    relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image });
    const now = e.translateRange(h.root + delta, XEN_VIRT_START, 1024);
    for (let i = 0; i < 1024; i++) {
      expect(old.get(i)).toMatchObject({ ok: true, pa: base + BigInt(i) * 4096n });
      expect(now.get(i)).toMatchObject({ ok: true, pa: base + delta + BigInt(i) * 4096n });
    }
    for (const [va, pa] of [
      [DIRECTMAP_VIRT_START + 0x12345n, 0x12345n],
      [DIRECTMAP_VIRT_START + (1n << 30n) + 5n, (1n << 30n) + 5n],
      [DIRECTMAP_VIRT_START + (1n << 30n) + 4n * MiB + 0x10n, 0xfee00010n],
    ] as const) {
      expect(e.translate(h.root + delta, va)).toMatchObject({ ok: true, pa });
    }
    // Through the self-map four times, the root maps itself: now the new root.
    const s = BigInt(LINEAR_PT_SLOT);
    const selfVa = BigInt.asUintN(64, BigInt.asIntN(48, (s << 39n) | (s << 30n) | (s << 21n) | (s << 12n)));
    expect(e.translate(h.root + delta, selfVa)).toMatchObject({ ok: true, pa: h.root + delta });
  });

  test('a 4 KiB mapping in l2_xenmap is an error naming the slot, and nothing is modified', () => {
    const { e, h } = setup(backend);
    e.phys.write64(h.l2xenmap + 5n * 8n, (h.image.start + 4n * MiB + 0x5000n) | 3n); // a pointer to an L1 table
    const before = Buffer.from(e.phys.read(0, e.phys.size));
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image })).toThrow(MappingConflictError);
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image })).toThrow(
      /l2_xenmap slot 5 \(entry 0x1402028 = 0x1405003\) points to a 4 KiB page table, not a 2 MiB leaf; nothing was modified/,
    );
    expect(Buffer.from(e.phys.read(0, e.phys.size)).equals(before)).toBe(true);
  });

  test('with the tables already copied, check and fix-up run as one call: the same memory as the copying call', () => {
    const { e, h } = setup(backend);
    const want = setup(backend);
    relocateHypervisorTables(want.e, { root: want.h.root, l2xenmap: want.h.l2xenmap, delta, image: want.h.image });
    e.phys.write(h.image.start + delta, e.phys.read(h.image.start, Number(h.image.end - h.image.start)));
    const r = relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta });
    expect(r).toEqual({ tables: 5, entries: 8, root: h.root + delta, l2xenmap: h.l2xenmap + delta });
    // The copy is all either call writes (the test above checks the rest stays as it was).
    const copy = (x: typeof e) => Buffer.from(x.phys.read(h.image.start + delta, Number(h.image.end - h.image.start)));
    expect(copy(e).equals(copy(want.e))).toBe(true);
  });

  test('with the tables already copied, a 4 KiB table in the copy of l2_xenmap is refused and nothing is modified', () => {
    const { e, h } = setup(backend);
    e.phys.write(h.image.start + delta, e.phys.read(h.image.start, Number(h.image.end - h.image.start)));
    e.phys.write64(h.l2xenmap + delta + 9n * 8n, (h.image.start + delta + 4n * MiB + 0x5000n) | 3n);
    const copy = () => Buffer.from(e.phys.read(h.image.start + delta, Number(h.image.end - h.image.start)));
    const before = copy();
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta })).toThrow(/l2_xenmap slot 9 /);
    expect(copy().equals(before)).toBe(true);
  });

  test('with the tables already copied, a table outside the image found deep in the walk is refused and nothing is modified', () => {
    const { e, h } = setup(backend);
    e.phys.write(h.image.start + delta, e.phys.read(h.image.start, Number(h.image.end - h.image.start)));
    // The copy of l3direct points (non-leaf: present | writable) at 60 GiB: the root's entries come first in the walk.
    const l3direct = h.tables[3]!;
    e.phys.write64(l3direct + delta + 5n * 8n, (60n << 30n) | 3n);
    const copy = () => Buffer.from(e.phys.read(h.image.start + delta, Number(h.image.end - h.image.start)));
    const before = copy();
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta })).toThrow(/the table at 0xf02000000 lies outside the RAM image; nothing was modified/);
    expect(copy().equals(before)).toBe(true);
  });

  test('leaves at the edges of the kernel\'s eight-entry groups are each relocated once', () => {
    const { e, h } = setup(backend);
    // Four more 2 MiB leaves in l2_xenmap (present | writable | PS): slots 7, 8, 15 and 511.
    const extra = [7n, 8n, 15n, 511n];
    for (const s of extra) e.phys.write64(h.l2xenmap + s * 8n, (s << 21n) | 0x83n);
    const r = relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta, image: h.image });
    expect(r.entries).toBe(8 + 4);
    for (const s of extra) expect(e.phys.read64(h.l2xenmap + delta + s * 8n)).toBe((s << 21n) + delta + 0x83n);
    // Their neighbours stay empty.
    for (const s of [6n, 9n, 14n, 16n, 510n]) expect(e.phys.read64(h.l2xenmap + delta + s * 8n)).toBe(0n);
  });

  test('bad arguments are refused before anything is copied', () => {
    const { e, h } = setup(backend);
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta: MiB, image: h.image })).toThrow(/delta 0x100000 must be a multiple of 2 MiB/);
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta: 4n * MiB, image: h.image })).toThrow(InvalidInputError);
    expect(() => relocateHypervisorTables(e, { root: h.root, l2xenmap: h.l2xenmap, delta: 64n * MiB, image: h.image })).toThrow(/would lie outside the RAM image/);
  });
});

test('both backends leave identical memory', () => {
  const a = setup('wasm'), b = setup('reference');
  relocateHypervisorTables(a.e, { root: a.h.root, l2xenmap: a.h.l2xenmap, delta, image: a.h.image });
  relocateHypervisorTables(b.e, { root: b.h.root, l2xenmap: b.h.l2xenmap, delta, image: b.h.image });
  expect(Buffer.from(a.e.phys.read(0, a.e.phys.size)).equals(Buffer.from(b.e.phys.read(0, b.e.phys.size)))).toBe(true);
});

// The kernel skips groups of eight entries that hold no valid entry. These table
// sets put entries where that skipping must not lose them: a root of four
// entries (no whole group) and a format whose valid value is 0 (an empty group
// may then hold valid entries). Counts and values are worked out by hand.
describe.each(['wasm', 'reference'] as const)('relocation beyond 8-entry groups on %s', (backend) => {
  const P = 1n, PS = 0x80n;
  const d = 4n * MiB;

  test('PAE: a 4-entry root, l2_xenmap a page directory', () => {
    const e = createEngine({ ramBytes: '64M', backend, ioBytes: 1 << 20 });
    // Already moved: the tables live at their new addresses, their entries still point at the old ones.
    const root = 0x800020n, dir = 0x801000n, pt = 0x802000n, xen = 0x803000n;
    e.phys.write64(root + 0n * 8n, (dir - d) | P);
    e.phys.write64(root + 3n * 8n, (xen - d) | P);
    e.phys.write64(dir + 0n * 8n, (pt - d) | P | 2n);
    e.phys.write64(dir + 1n * 8n, 0x200000n | P | PS); // a 2 MiB leaf of the direct part: not relocated
    e.phys.write64(pt + 5n * 8n, 0x5000n | P); // a 4 KiB leaf: leaf tables are not touched
    e.phys.write64(xen + 0n * 8n, 0x400000n | P | PS);
    e.phys.write64(xen + 9n * 8n, 0x600000n | P | PS);
    const r = relocateHypervisorTables(e, { root: root - d, l2xenmap: xen - d, delta: d, format: x86_pae });
    // Root: 2 entries; the directory: its table entry; l2_xenmap: its 2 leaves.
    expect(r).toMatchObject({ tables: 3, entries: 5, root, l2xenmap: xen });
    expect(e.phys.read64(root)).toBe(dir | P);
    expect(e.phys.read64(root + 24n)).toBe(xen | P);
    expect(e.phys.read64(dir)).toBe(pt | P | 2n);
    expect(e.phys.read64(dir + 8n)).toBe(0x200000n | P | PS);
    expect(e.phys.read64(pt + 40n)).toBe(0x5000n | P);
    expect(e.phys.read64(xen)).toBe((0x400000n + d) | P | PS);
    expect(e.phys.read64(xen + 72n)).toBe((0x600000n + d) | P | PS);
  });

  test('a format whose valid entries have bit 0 clear: no group is skipped', () => {
    // x86-64 with the present bit inverted: an entry is valid when bit 0 is 0.
    const inverted: PagingFormat = {
      ...x86_64,
      name: 'x86_64-inverted-present',
      params: (o) => {
        const p = x86_64.params(o);
        return { ...p, levels: p.levels.map((l) => ({ ...l, validMask: 1, validValue: 0 })) };
      },
    };
    const e = createEngine({ ramBytes: '64M', backend, ioBytes: 1 << 20 });
    const root = 0x800000n, l3 = 0x801000n, xen = 0x802000n;
    // Every entry invalid (bit 0 set) but three.
    for (const t of [root, l3, xen]) for (let s = 0n; s < 512n; s++) e.phys.write64(t + s * 8n, 1n);
    e.phys.write64(root + 5n * 8n, l3 - d);
    e.phys.write64(l3 + 9n * 8n, xen - d);
    e.phys.write64(xen + 0n * 8n, 0x400000n | PS);
    const r = relocateHypervisorTables(e, { root: root - d, l2xenmap: xen - d, delta: d, format: inverted });
    expect(r).toMatchObject({ tables: 3, entries: 3 });
    expect(e.phys.read64(root + 40n)).toBe(l3);
    expect(e.phys.read64(l3 + 72n)).toBe(xen);
    expect(e.phys.read64(xen)).toBe((0x400000n + d) | PS);
    expect(e.phys.read64(xen + 8n)).toBe(1n);
  });
});
