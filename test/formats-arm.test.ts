// Hand-built AArch64 tables (4 KiB, 16 KiB, 64 KiB granules). Every expected
// physical address is worked out from the descriptor bits in shared/spec/paging.md.
import { describe, test, expect } from 'vitest';
import { createEngine, aarch64_4k, aarch64_16k, aarch64_64k, BumpAllocator, checkContiguous, type Engine } from '../src/index.js';

const bit = (n: number) => 1n << BigInt(n);
const TABLE = 3n, BLOCK = 1n, PAGE = 3n;
const AF = bit(10), AP1 = bit(6), AP2 = bit(7), PXN = bit(53), UXN = bit(54);
const PXN_T = bit(59), XN_T = bit(60), AP_T0 = bit(61), AP_T1 = bit(62);
const ALL = { write: true, user: true, execute: true, userExecute: true };

describe.each(['wasm', 'reference'] as const)('aarch64_4k on %s', (backend) => {
  const format = aarch64_4k;
  // L0 at 0x1000 -> L1 at 0x2000 -> L2 at 0x3000 -> L3 at 0x4000; more L3s at 0x5000, 0x6000.
  function setup(): Engine {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const w = (a: bigint, v: bigint) => e.phys.write64(a, v);
    w(0x1000n, 0x2000n | TABLE); // L0[0] -> L1
    w(0x1008n, 0x40000000n | AF | BLOCK); // L0[1]: a block at level 0 is invalid
    w(0x2008n, 0x140000000n | AF | AP1 | BLOCK); // L1[1]: 1 GiB block at 5 GiB
    w(0x2010n, 0x3000n | TABLE); // L1[2] -> L2
    w(0x2018n, 0x4000000000n | TABLE); // L1[3] -> a table at 256 GiB, outside the image
    w(0x3018n, 0x600000n | AF | BLOCK); // L2[3]: 2 MiB block at 6 MiB
    w(0x3020n, 0x4000n | TABLE); // L2[4] -> L3
    w(0x3028n, 0x5000n | TABLE | AP_T1); // L2[5] -> L3 at 0x5000, nothing below is writable
    w(0x3030n, 0x6000n | TABLE | AP_T0 | PXN_T); // L2[6] -> L3 at 0x6000, no EL0, no privileged execute
    w(0x3038n, 0x800000n | bit(12) | AF | BLOCK); // L2[7]: 2 MiB block with a RES0 address bit
    w(0x3040n, 0x7000n | TABLE | XN_T); // L2[8] -> L3 at 0x7000, no EL0 execute
    w(0x4028n, 0x777000n | AF | AP1 | PAGE); // L3[5]: page at 0x777000, EL0 read/write
    w(0x4038n, 0x788000n | AF | BLOCK); // L3[7]: `01` at level 3 is invalid
    w(0x4040n, 0x799000n | PAGE); // L3[8]: AF = 0
    w(0x4048n, 0x7aa000n | AF | AP2 | PAGE); // L3[9]: read-only, EL1 only
    w(0x4050n, 0x10000000000n | AF | PAGE); // L3[10]: output at 1 TiB (bit 40)
    w(0x4058n, 0x7bb000n | AF | AP1 | UXN | PAGE); // L3[11]: EL0 may not execute
    w(0x4060n, 0x7cc000n | AF | PXN | PAGE); // L3[12]: EL1 may not execute
    w(0x5000n, 0x7dd000n | AF | AP1 | PAGE); // under APTable[1]
    w(0x6000n, 0x7ee000n | AF | AP1 | PAGE); // under APTable[0] + PXNTable
    w(0x7000n, 0x7ff000n | AF | AP1 | PAGE); // under XNTable
    return e;
  }
  const root = 0x1000n;
  const GiB = 1n << 30n, MiB2 = 1n << 21n;
  const L3va = (i: bigint) => 2n * GiB + 4n * MiB2 + (i << 12n);

  test('1 GiB block: L1[1] maps 0x40000000 + 0x123456 to 5 GiB + 0x123456', () => {
    const r = setup().translate(root, GiB + 0x123456n, { format, access: 'write', user: true });
    expect(r).toEqual({
      ok: true, va: GiB + 0x123456n, pa: 0x140123456n, pageSize: 2 ** 30, level: 1, rights: ALL,
      entryAddress: 0x2008n, entryValue: 0x140000000n | AF | AP1 | BLOCK,
    });
  });

  test('2 MiB block: L2[3] maps 0x8061abcd to 0x61abcd, EL1 only', () => {
    const r = setup().translate(root, 0x8061abcdn, { format });
    expect(r).toMatchObject({ ok: true, pa: 0x61abcdn, pageSize: 2 ** 21, level: 2, rights: { write: true, user: false, execute: true, userExecute: true } });
  });

  test('4 KiB page: L3[5] maps 0x80805321 to 0x777321', () => {
    expect(L3va(5n) + 0x321n).toBe(0x80805321n);
    const r = setup().translate(root, 0x80805321n, { format, access: 'write', user: true });
    expect(r).toMatchObject({ ok: true, pa: 0x777321n, pageSize: 4096, level: 3, entryAddress: 0x4028n, rights: ALL });
  });

  test('not-present: an empty L3 slot, `01` at level 3, `01` at level 0', () => {
    const e = setup();
    expect(e.translate(root, L3va(6n), { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 3, entryAddress: 0x4030n, entryValue: 0n, errorCode: 0 } });
    expect(e.translate(root, L3va(7n), { format, access: 'write' })).toMatchObject({
      ok: false, fault: { kind: 'not-present', level: 3, entryAddress: 0x4038n, entryValue: 0x788000n | AF | BLOCK, errorCode: 2 },
    });
    expect(e.translate(root, 1n << 39n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 0, entryAddress: 0x1008n } });
  });

  test('access-flag: AF = 0 faults before permissions are looked at, unless the hardware manages AF', () => {
    const e = setup();
    expect(e.translate(root, L3va(8n), { format, access: 'write', user: true })).toMatchObject({
      ok: false, fault: { kind: 'access-flag', level: 3, entryAddress: 0x4040n, errorCode: 1 | 2 | 4 },
    });
    expect(e.translate(root, L3va(8n) + 8n, { format, hardwareAccessFlag: true })).toMatchObject({ ok: true, pa: 0x799008n });
    // The leaf is still a mapping: it is listed.
    expect(e.mappings(root, { format }).mappings.some((m) => m.pa === 0x799000n)).toBe(true);
  });

  test('protection: AP[2] read-only, AP[1] clear refuses EL0, PXN and UXN', () => {
    const e = setup();
    const ro = L3va(9n);
    expect(e.translate(root, ro, { format }).ok).toBe(true);
    expect(e.translate(root, ro, { format, access: 'write' })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 3, errorCode: 1 | 2 } });
    expect(e.translate(root, ro, { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', errorCode: 1 | 4 } });
    const nouxn = L3va(11n);
    expect(e.translate(root, nouxn, { format, access: 'execute' }).ok).toBe(true);
    expect(e.translate(root, nouxn, { format, access: 'execute', user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', errorCode: 1 | 4 | 16 } });
    const nopxn = L3va(12n);
    expect(e.translate(root, nopxn, { format, access: 'execute' })).toMatchObject({ ok: false, fault: { kind: 'protection', errorCode: 1 | 16 } });
    expect(e.translate(root, nopxn, { format }).ok && e.translate(root, nopxn, { format })).toMatchObject({
      rights: { write: true, user: false, execute: false, userExecute: true },
    });
  });

  test('table attributes restrict everything below: APTable[1], APTable[0], PXNTable, XNTable', () => {
    const e = setup();
    const under = (slot: bigint) => 2n * GiB + slot * MiB2;
    expect(e.translate(root, under(5n), { format, user: true })).toMatchObject({ ok: true, pa: 0x7dd000n, rights: { write: false, user: true, execute: true, userExecute: true } });
    expect(e.translate(root, under(5n), { format, access: 'write' })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 3 } });
    expect(e.translate(root, under(6n), { format })).toMatchObject({ ok: true, rights: { write: true, user: false, execute: false, userExecute: true } });
    expect(e.translate(root, under(6n), { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection' } });
    expect(e.translate(root, under(8n), { format, access: 'execute', user: true })).toMatchObject({ ok: false, fault: { kind: 'protection' } });
    expect(e.translate(root, under(8n), { format, access: 'execute' })).toMatchObject({ ok: true, pa: 0x7ff000n });
  });

  test('reserved-bit: RES0 address bits of a block, output bits above the PA size', () => {
    const e = setup();
    expect(e.translate(root, 2n * GiB + 7n * MiB2, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 2, errorCode: 1 | 8 } });
    expect(e.translate(root, 2n * GiB + 7n * MiB2, { format, ignoreReserved: true })).toMatchObject({ ok: true, pa: 0x800000n });
    // Bit 40 is an address bit with 48-bit PAs, reserved with 40-bit ones.
    expect(e.translate(root, L3va(10n), { format })).toMatchObject({ ok: true, pa: 1n << 40n });
    expect(e.translate(root, L3va(10n), { format, maxPhyAddr: 40 })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 3 } });
  });

  test('non-canonical: one root, so the VA is zero-extended from bit 47', () => {
    const e = setup();
    for (const va of [1n << 48n, 0xffff000000000000n, 0xffffffffffffffffn]) {
      expect(e.translate(root, va, { format })).toMatchObject({ ok: false, fault: { kind: 'non-canonical', level: 0, errorCode: 0 } });
    }
    expect(e.translate(root, (1n << 48n) - 1n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 0 } });
  });

  test('outside-image: L1[3] points at a table at 256 GiB', () => {
    expect(setup().translate(root, 3n * GiB + 0x5000n, { format })).toMatchObject({
      ok: false, fault: { kind: 'outside-image', level: 2, entryAddress: 0x4000000000n, entryValue: 0n },
    });
  });

  test('mappings lists every valid leaf with its VA, output and rights', () => {
    const list = setup().mappings(root, { format }).mappings;
    expect(list.map((m) => [m.va, m.pa, m.size, m.level])).toEqual([
      [GiB, 0x140000000n, 2 ** 30, 1],
      [2n * GiB + 3n * MiB2, 0x600000n, 2 ** 21, 2],
      [L3va(5n), 0x777000n, 4096, 3],
      [L3va(8n), 0x799000n, 4096, 3],
      [L3va(9n), 0x7aa000n, 4096, 3],
      [L3va(10n), 1n << 40n, 4096, 3],
      [L3va(11n), 0x7bb000n, 4096, 3],
      [L3va(12n), 0x7cc000n, 4096, 3],
      [2n * GiB + 5n * MiB2, 0x7dd000n, 4096, 3],
      [2n * GiB + 6n * MiB2, 0x7ee000n, 4096, 3],
      // L2[7] has a RES0 bit set: it maps nothing.
      [2n * GiB + 8n * MiB2, 0x7ff000n, 4096, 3],
    ]);
  });
});

describe.each(['wasm', 'reference'] as const)('aarch64_16k on %s', (backend) => {
  const format = aarch64_16k;
  // 16 KiB tables: L0 (2 entries) at 0x1000, L1 at 0x4000, L2 at 0x8000, L3 at 0xc000.
  function setup(): Engine {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const w = (a: bigint, v: bigint) => e.phys.write64(a, v);
    w(0x1000n, 0x4000n | TABLE); // L0[0]
    w(0x4000n, 0x8000n | TABLE); // L1[0]
    w(0x4008n, 0x1000000000n | AF | BLOCK); // L1[1]: no level-1 blocks with 16 KiB and 48-bit OA
    w(0x8010n, 0x102000000n | AF | BLOCK); // L2[2]: 32 MiB block at 4 GiB + 32 MiB
    w(0x8018n, 0xc000n | TABLE); // L2[3] -> L3
    w(0x8020n, 0x4000000n | bit(14) | AF | BLOCK); // L2[4]: RES0 bit 14 in a 32 MiB block
    w(0xc020n, 0x124000n | AF | PAGE); // L3[4]: 16 KiB page at 0x124000
    return e;
  }
  const root = 0x1000n;

  test('level split: L0 bit 47, L1 46..36, L2 35..25, L3 24..14; 32 MiB and 16 KiB leaves', () => {
    const p = format.params();
    expect(p.levels.map((l) => [l.name, l.shift, l.bits, l.leafAllowed])).toEqual([
      ['L0', 47, 1, false], ['L1', 36, 11, false], ['L2', 25, 11, true], ['L3', 14, 11, true],
    ]);
  });

  test('32 MiB block: VA 0x4012345 -> 0x102012345', () => {
    expect(setup().translate(root, 0x4012345n, { format })).toMatchObject({ ok: true, pa: 0x102012345n, pageSize: 2 ** 25, level: 2 });
  });

  test('16 KiB page: VA 0x6013abc -> 0x127abc', () => {
    expect(setup().translate(root, 0x6013abcn, { format })).toMatchObject({ ok: true, pa: 0x127abcn, pageSize: 2 ** 14, level: 3, entryAddress: 0xc020n });
  });

  test('faults: a level-1 block, an empty L0 slot, a RES0 bit, AF, non-canonical, outside-image', () => {
    const e = setup();
    expect(e.translate(root, 1n << 36n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 1, entryAddress: 0x4008n } });
    expect(e.translate(root, 1n << 47n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 0, entryAddress: 0x1008n } });
    expect(e.translate(root, 4n << 25n, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 2 } });
    e.phys.write64(0xc020n, 0x124000n | PAGE);
    expect(e.translate(root, 0x6013abcn, { format })).toMatchObject({ ok: false, fault: { kind: 'access-flag', level: 3 } });
    expect(e.translate(root, 1n << 48n, { format })).toMatchObject({ ok: false, fault: { kind: 'non-canonical' } });
    e.phys.write64(0x8028n, 0x80000000n | TABLE); // L2[5] -> 2 GiB, outside the 4 MiB image
    expect(e.translate(root, 5n << 25n, { format })).toMatchObject({ ok: false, fault: { kind: 'outside-image', level: 3, entryAddress: 0x80000000n } });
    // The 32 MiB block has AP[1] clear: EL0 is refused.
    expect(e.translate(root, 0x4012345n, { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 2, errorCode: 1 | 4 } });
  });

  test('map uses 32 MiB blocks and 16 KiB pages, with 16 KiB tables', () => {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const alloc = new BumpAllocator(4, 1024);
    const M32 = 1n << 25n;
    const r = e.map(root, M32, 2n * M32, M32 + 0x8000n, { write: true }, alloc, { format });
    // [32M, 64M): one block; [64M, 64M+32K): two pages. Tables: L1 (frames 4..7), L2 (8..11), L3 (12..15).
    expect([r.leaves, r.tableFrames]).toEqual([3, [4, 8, 12]]);
    expect(e.translate(root, M32 + 5n, { format })).toMatchObject({ ok: true, pa: 2n * M32 + 5n, pageSize: 2 ** 25 });
    expect(e.translate(root, 2n * M32 + 0x4007n, { format })).toMatchObject({ ok: true, pa: 3n * M32 + 0x4007n, pageSize: 2 ** 14 });
  });
});

describe.each(['wasm', 'reference'] as const)('aarch64_64k on %s', (backend) => {
  const format = aarch64_64k;
  // 64 KiB tables: L1 (64 entries) at 0x1000, L2 at 0x10000, L3 at 0x20000.
  function setup(): Engine {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const w = (a: bigint, v: bigint) => e.phys.write64(a, v);
    w(0x1000n, 0x10000n | TABLE); // L1[0]
    w(0x1008n, 0x40000000000n | AF | BLOCK); // L1[1]: no 4 TiB blocks without 52-bit OA
    w(0x10008n, 0x120000000n | AF | AP1 | BLOCK); // L2[1]: 512 MiB block at 0x120000000
    w(0x10010n, 0x20000n | TABLE); // L2[2] -> L3
    w(0x20018n, 0x350000n | AF | PAGE); // L3[3]: 64 KiB page at 0x350000
    w(0x20020n, 0x360000n | bit(12) | AF | PAGE); // L3[4]: bit 12 would be OA[48] (FEAT_LPA)
    return e;
  }
  const root = 0x1000n;

  test('level split: L1 47..42 (64 entries), L2 41..29, L3 28..16; 512 MiB and 64 KiB leaves', () => {
    expect(format.params().levels.map((l) => [l.name, l.shift, l.bits, l.leafAllowed])).toEqual([
      ['L1', 42, 6, false], ['L2', 29, 13, true], ['L3', 16, 13, true],
    ]);
  });

  test('512 MiB block: VA 0x21234567 -> 0x121234567', () => {
    expect(setup().translate(root, 0x21234567n, { format, user: true })).toMatchObject({ ok: true, pa: 0x121234567n, pageSize: 2 ** 29, level: 2 });
  });

  test('64 KiB page: VA 0x4003fedc -> 0x35fedc', () => {
    expect(setup().translate(root, 0x4003fedcn, { format })).toMatchObject({ ok: true, pa: 0x35fedcn, pageSize: 2 ** 16, level: 3 });
  });

  test('faults: a level-1 block, OA[51:48] bits, EL0 without AP[1], non-canonical', () => {
    const e = setup();
    expect(e.translate(root, 1n << 42n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 1, entryAddress: 0x1008n } });
    expect(e.translate(root, 0x40040000n, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 3 } });
    expect(e.translate(root, 0x4003fedcn, { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 3 } });
    expect(e.translate(root, 1n << 63n, { format })).toMatchObject({ ok: false, fault: { kind: 'non-canonical' } });
    e.phys.write64(0x20028n, 0x370000n | PAGE); // L3[5]: AF = 0
    expect(e.translate(root, 0x40050000n, { format })).toMatchObject({ ok: false, fault: { kind: 'access-flag', level: 3, entryAddress: 0x20028n } });
    e.phys.write64(0x10018n, 0x100000000n | TABLE); // L2[3] -> 4 GiB, outside the image
    expect(e.translate(root, 0x60000000n, { format })).toMatchObject({ ok: false, fault: { kind: 'outside-image', level: 3, entryAddress: 0x100000000n } });
  });
});

describe.each(['wasm', 'reference'] as const)('contiguous hint (aarch64_4k) on %s', (backend) => {
  const format = aarch64_4k;
  const K64 = 0x10000n, M2 = 1n << 21n, M32 = 1n << 25n, G = 1n << 30n;
  function fresh() {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    return { e, alloc: new BumpAllocator(2, 1024), root: 0x1000n };
  }
  const CONTIG = bit(52);

  test('map hints every aligned group of 16 leaves with consecutive, aligned output and equal attributes', () => {
    const { e, alloc, root } = fresh();
    // 4 KiB pages [0x10000, 0x38000): group 1 (0x10000..0x1ffff) is whole, group 2 (0x20000..0x2ffff) too,
    // group 3 has only 8 pages. Output = VA + 16 MiB: aligned on 64 KiB.
    const r = e.map(root, K64, K64 + 0x1000000n, 0x28000n, { write: true }, alloc, { format });
    expect(r.contiguousRuns).toBe(2);
    const list = e.mappings(root, { format }).mappings;
    expect(list.length).toBe(40);
    list.forEach((m) => expect((m.entry & CONTIG) !== 0n).toBe(m.va < 0x30000n));
    expect(e.translate(root, 0x1f123n, { format })).toMatchObject({ ok: true, pa: 0x101f123n });
  });

  test('an output not aligned on the group size gets no hint', () => {
    const { e, alloc, root } = fresh();
    expect(e.map(root, K64, K64 + 0x1000n, K64, {}, alloc, { format }).contiguousRuns).toBe(0);
    expect(e.mappings(root, { format }).mappings.every((m) => (m.entry & CONTIG) === 0n)).toBe(true);
  });

  test('groups of 2 MiB blocks (32 MiB) and 1 GiB blocks (16 GiB) are hinted too', () => {
    const { e, alloc, root } = fresh();
    // 2 MiB blocks over [32M, 96M): two groups. 1 GiB blocks over [16G, 32G): one group.
    expect(e.map(root, M32, M32, 2n * M32, {}, alloc, { format }).contiguousRuns).toBe(2);
    expect(e.map(root, 16n * G, 16n * G, 16n * G, {}, alloc, { format }).contiguousRuns).toBe(1);
    const list = e.mappings(root, { format }).mappings;
    expect(list.length).toBe(32 + 16);
    expect(list.every((m) => (m.entry & CONTIG) !== 0n)).toBe(true);
    expect(e.map(root, 0n, 0n, M2, {}, alloc, { format, contiguousHint: false }).contiguousRuns).toBe(0);
  });

  test('a group filled by two maps is hinted by the second one', () => {
    const { e, alloc, root } = fresh();
    expect(e.map(root, 0n, 0n, 0x8000n, {}, alloc, { format }).contiguousRuns).toBe(0);
    expect(e.map(root, 0x8000n, 0x8000n, 0x8000n, {}, alloc, { format }).contiguousRuns).toBe(1);
    expect(e.mappings(root, { format }).mappings.filter((m) => m.entry & CONTIG).length).toBe(16);
  });

  test('unmap and protect of part of a group take the hint off the rest', () => {
    const { e, alloc, root } = fresh();
    e.map(root, 0n, 0n, 2n * K64, { write: true }, alloc, { format });
    expect(e.protect(root, 0x3000n, 0x1000n, { write: false }, { format })).toBe(1);
    e.unmap(root, K64 + 0x5000n, 0x1000n, { format });
    const list = e.mappings(root, { format }).mappings;
    expect(list.length).toBe(31);
    expect(list.filter((m) => m.entry & CONTIG).length).toBe(0);
    expect(checkHints(e, root).violations).toEqual([]);
  });

  function checkHints(e: Engine, root: bigint) {
    return checkContiguous(e, root, { format });
  }

  test('the check reports every group whose hint breaks a rule: table, index, level and rule', () => {
    const { e, alloc, root } = fresh();
    e.map(root, 0n, 0n, 4n * K64, { write: true }, alloc, { format });
    // The L3 table is the third table frame: L1 at 0x2000, L2 at 0x3000, L3 at 0x4000.
    const l3 = 0x4000n;
    expect(e.phys.read64(l3) & CONTIG).toBe(CONTIG);
    expect(checkHints(e, root)).toEqual({ violations: [], truncated: false });
    const rd = (i: number) => e.phys.read64(l3 + BigInt(i) * 8n);
    const wr = (i: number, v: bigint) => e.phys.write64(l3 + BigInt(i) * 8n, v);
    wr(3, rd(3) | AP2); // group 0: attributes differ
    wr(16 + 5, rd(16 + 5) + 0x1000n); // group 1: output not consecutive (two entries map the same page)
    wr(32 + 7, rd(32 + 7) & ~CONTIG); // group 2: hint not on all
    wr(48 + 2, 0n); // group 3: an entry is not a leaf
    for (let i = 64; i < 80; i++) wr(i, BigInt(i + 1) * 0x1000n | AF | PAGE | CONTIG); // group 4: misaligned
    const v = checkHints(e, root).violations;
    expect(v.map((x) => [x.table, x.index, x.level, x.entries, x.va, x.hinted, x.rules])).toEqual([
      [l3, 0, 3, 16, 0n, 16, ['attributes-differ']],
      [l3, 16, 3, 16, 0x10000n, 16, ['output-not-consecutive']],
      [l3, 32, 3, 16, 0x20000n, 15, ['hint-not-on-all']],
      [l3, 48, 3, 16, 0x30000n, 15, ['not-a-leaf', 'hint-not-on-all']],
      [l3, 64, 3, 16, 0x40000n, 16, ['output-misaligned']],
    ]);
  });

  test('a table that maps itself 512 times: the check stops at maxEntries and says so', () => {
    const { e, root } = fresh();
    for (let i = 0n; i < 512n; i++) e.phys.write64(root + i * 8n, root | TABLE);
    // Every level re-reads the root: 512^4 entries in all.
    expect(checkContiguous(e, root, { format, maxEntries: 100_000 })).toEqual({ violations: [], truncated: true });
    e.phys.write64(root, 0n);
    for (let i = 1n; i < 512n; i++) e.phys.write64(root + i * 8n, 0n);
    expect(checkContiguous(e, root, { format, maxEntries: 100_000 })).toEqual({ violations: [], truncated: false });
  });

  test('a table reached through several paths is reported once', () => {
    const { e, alloc, root } = fresh();
    e.map(root, 0n, 0n, K64, {}, alloc, { format });
    // L2[0] -> L3 at 0x4000; alias it through L2[1] as well.
    e.phys.write64(0x3008n, e.phys.read64(0x3000n));
    e.phys.write64(0x4000n, e.phys.read64(0x4000n) | AP1);
    const v = checkHints(e, root).violations;
    expect(v.length).toBe(1);
    expect(v[0]).toMatchObject({ table: 0x4000n, index: 0, va: 0n, rules: ['attributes-differ'] });
  });
});
