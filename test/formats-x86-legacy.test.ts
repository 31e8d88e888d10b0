// Hand-built PAE and 32-bit x86 tables; expected values worked out from the
// entry bits (Intel SDM vol. 3, 4.3 / 4.4, and shared/spec/paging.md).
import { describe, test, expect } from 'vitest';
import { createEngine, x86_pae, x86_32, BumpAllocator, type Engine } from '../src/index.js';

const P = 1n, RW = 2n, US = 4n, PS = 0x80n, XD = 1n << 63n;
const TABLE = P | RW | US;

describe.each(['wasm', 'reference'] as const)('x86_pae on %s', (backend) => {
  const format = x86_pae;
  // PDPT at 0x1020 (32-byte aligned, inside frame 1), PD at 0x3000, PT at 0x4000.
  function setup(): Engine {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const w = (a: bigint, v: bigint) => e.phys.write64(a, v);
    w(0x1028n, 0x3000n | P); // PDPT[1] -> PD
    w(0x1030n, 0x5000n | P | RW); // PDPT[2]: R/W is reserved in a PDPTE
    w(0x1038n, 0x40000000n | P); // PDPT[3] -> a PD at 1 GiB, outside the image
    w(0x3010n, 0x123400000n | PS | P | RW | US); // PD[2]: 2 MiB leaf at 0x123400000
    w(0x3018n, 0x4000n | TABLE); // PD[3] -> PT
    w(0x3020n, 0x600000n | 1n << 13n | PS | P); // PD[4]: 2 MiB leaf with reserved bit 13
    w(0x3028n, 0x6000n | P | RW); // PD[5] -> PT at 0x6000, supervisor only
    w(0x4020n, 0x555000n | P | RW | US); // PT[4]: page at 0x555000
    w(0x4028n, 0x556000n | P | US | XD); // PT[5]: read-only, no execute
    w(0x6000n, 0x557000n | P | RW | US); // under a supervisor-only PDE
    return e;
  }
  // CR3 bits 4..0 are not part of the PDPT address.
  const cr3 = 0x1020n | 0x18n;
  const GiB = 1n << 30n, M2 = 1n << 21n;

  test('2 MiB leaf: VA 0x40412345 -> 0x123412345 (PAE reaches above 4 GiB)', () => {
    const r = setup().translate(cr3, 0x40412345n, { format, access: 'write', user: true });
    expect(r).toEqual({
      ok: true, va: 0x40412345n, pa: 0x123412345n, pageSize: 2 ** 21, level: 2,
      rights: { write: true, user: true, execute: true, userExecute: true },
      entryAddress: 0x3010n, entryValue: 0x123400000n | PS | P | RW | US,
    });
  });

  test('4 KiB page: VA 0x40604678 -> 0x555678; PDPTEs carry no rights', () => {
    expect(setup().translate(cr3, 0x40604678n, { format, access: 'write', user: true })).toMatchObject({ ok: true, pa: 0x555678n, pageSize: 4096, level: 1, entryAddress: 0x4020n });
  });

  test('faults: not-present PDPTE, reserved bits of a PDPTE and of a 2 MiB leaf, XD, non-canonical, outside-image', () => {
    const e = setup();
    expect(e.translate(cr3, 0x1000n, { format })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 3, entryAddress: 0x1020n } });
    expect(e.translate(cr3, 2n * GiB, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 3, errorCode: 1 | 8 } });
    expect(e.translate(cr3, GiB + 4n * M2, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 2 } });
    expect(e.translate(cr3, GiB + 4n * M2, { format, ignoreReserved: true })).toMatchObject({ ok: true, pa: 0x600000n });
    // XD is reserved without NXE.
    expect(e.translate(cr3, GiB + 3n * M2 + 0x5000n, { format, nxe: false })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 1 } });
    expect(e.translate(cr3, 1n << 32n, { format })).toMatchObject({ ok: false, fault: { kind: 'non-canonical', errorCode: 0 } });
    expect(e.translate(cr3, 3n * GiB, { format })).toMatchObject({ ok: false, fault: { kind: 'outside-image', level: 2, entryAddress: 0x40000000n } });
  });

  test('protection: read-only and XD leaf, supervisor-only PDE', () => {
    const e = setup();
    const ro = GiB + 3n * M2 + 0x5000n;
    expect(e.translate(cr3, ro, { format, access: 'write' })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1, errorCode: 1 | 2 } });
    expect(e.translate(cr3, ro, { format, access: 'execute' })).toMatchObject({ ok: false, fault: { kind: 'protection', errorCode: 1 | 16 } });
    expect(e.translate(cr3, ro, { format, access: 'write', wp: false })).toMatchObject({ ok: true, pa: 0x556000n });
    expect(e.translate(cr3, GiB + 5n * M2, { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1, errorCode: 1 | 4 } });
  });

  test('map: 2 MiB leaves and 4 KiB pages, PDPTEs written with P only', () => {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const alloc = new BumpAllocator(2, 1024);
    const r = e.map(0x1000n, 0xc0000000n - M2, 0x200000n, M2 + 0x2000n, { write: true }, alloc, { format });
    // [3G-2M, 3G): one 2 MiB leaf in the PD of PDPT[2]; [3G, 3G+8K): 2 pages under PDPT[3].
    expect([r.leaves, r.tableFrames]).toEqual([3, [2, 3, 4]]);
    expect(e.phys.read64(0x1010n)).toBe(0x2000n | P);
    expect(e.phys.read64(0x1018n)).toBe(0x3000n | P);
    expect(e.translate(0x1000n, 0xc0001234n, { format, access: 'write' })).toMatchObject({ ok: true, pa: 0x401234n, pageSize: 4096 });
    expect(e.translate(0x1000n, 0xbfe00000n, { format })).toMatchObject({ ok: true, pa: 0x200000n, pageSize: 2 ** 21 });
  });
});

describe.each(['wasm', 'reference'] as const)('x86_32 on %s', (backend) => {
  const format = x86_32;
  // PD at 0x1000 (1024 x 32-bit entries), PT at 0x2000.
  function setup(): Engine {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const w = (a: number, v: number) => e.phys.write32(a, v);
    w(0x1004, 0x00800000 | 0x80 | 1 | 2); // PD[1]: 4 MiB page at 8 MiB
    w(0x1008, 0x00400000 | (0x12 << 13) | 0x80 | 1); // PD[2]: 4 MiB page at 0x12_0040_0000 (PSE-36)
    w(0x100c, 0x00c00000 | (1 << 21) | 0x80 | 1); // PD[3]: reserved bit 21
    w(0x1010, 0x2000 | 7); // PD[4] -> PT
    w(0x1014, 0xfffff000 | 1); // PD[5] -> a PT at 4 GiB - 4 KiB, outside the image
    w(0x1018, 0x2000 | 1 | 2); // PD[6] -> the same PT, supervisor only
    w(0x2014, 0x333000 | 7); // PT[5]: page at 0x333000
    w(0x2018, 0x334000 | 5); // PT[6]: read-only
    return e;
  }
  const cr3 = 0x1000n;

  test('4 MiB leaf: VA 0x412345 -> 0x812345', () => {
    expect(setup().translate(cr3, 0x412345n, { format, access: 'write' })).toMatchObject({ ok: true, pa: 0x812345n, pageSize: 2 ** 22, level: 2, entryAddress: 0x1004n });
  });

  test('PSE-36: bits 20..13 of a 4 MiB leaf are address bits 39..32: VA 0x834567 -> 0x1200434567', () => {
    const e = setup();
    expect(e.translate(cr3, 0x834567n, { format })).toMatchObject({ ok: true, pa: 0x1200434567n, pageSize: 2 ** 22 });
    // With MAXPHYADDR 36 only bits 16..13 hold address bits; 0x12 sets bit 17: reserved.
    expect(e.translate(cr3, 0x834567n, { format, maxPhyAddr: 36 })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 2, errorCode: 1 | 8 } });
  });

  test('4 KiB page: VA 0x1005abc -> 0x333abc, with 32-bit entries', () => {
    expect(setup().translate(cr3, 0x1005abcn, { format, user: true, access: 'write' })).toMatchObject({ ok: true, pa: 0x333abcn, pageSize: 4096, level: 1, entryAddress: 0x2014n, entryValue: 0x333007n });
  });

  test('faults: reserved bit 21, not-present (no I/D bit without NXE), protection, non-canonical, outside-image', () => {
    const e = setup();
    expect(e.translate(cr3, 0xc00000n, { format })).toMatchObject({ ok: false, fault: { kind: 'reserved-bit', level: 2 } });
    expect(e.translate(cr3, 0x2000000n, { format, access: 'execute', user: true })).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 2, entryAddress: 0x1020n, errorCode: 4 } });
    expect(e.translate(cr3, 0x1006000n, { format, access: 'write' })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1, errorCode: 1 | 2 } });
    expect(e.translate(cr3, 0x1805000n, { format, user: true })).toMatchObject({ ok: false, fault: { kind: 'protection', level: 1, errorCode: 1 | 4 } });
    expect(e.translate(cr3, 0x1805000n, { format, access: 'execute' })).toMatchObject({ ok: true, pa: 0x333000n, rights: { execute: true } });
    expect(e.translate(cr3, 1n << 32n, { format })).toMatchObject({ ok: false, fault: { kind: 'non-canonical' } });
    expect(e.translate(cr3, 0x1400000n, { format })).toMatchObject({ ok: false, fault: { kind: 'outside-image', level: 1, entryAddress: 0xfffff000n } });
  });

  test('mappings decode PSE-36 leaves', () => {
    const list = setup().mappings(cr3, { format }).mappings;
    expect(list.map((m) => [m.va, m.pa, m.size])).toEqual([
      [0x400000n, 0x800000n, 2 ** 22],
      [0x800000n, 0x1200400000n, 2 ** 22],
      [0x1005000n, 0x333000n, 4096],
      [0x1006000n, 0x334000n, 4096],
      [0x1805000n, 0x333000n, 4096],
      [0x1806000n, 0x334000n, 4096],
    ]);
  });

  test('map writes PSE-36 bits for a 4 MiB leaf above 4 GiB', () => {
    const e = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const alloc = new BumpAllocator(2, 1024);
    // A 4 KiB page cannot hold an address above 4 GiB: the whole map is refused, nothing written.
    expect(() => e.map(0x1000n, 0x800000n, 0x3400800000n, 0x401000n, { write: true }, alloc, { format })).toThrow(
      /map: a leaf for 0xc00000 cannot hold its physical address/,
    );
    expect(e.mappings(0x1000n, { format }).mappings).toEqual([]);
    const r = e.map(0x1000n, 0x800000n, 0x3400800000n, 0x400000n, { write: true }, alloc, { format });
    expect([r.leaves, r.tableFrames]).toEqual([1, []]);
    // PD[2] = 0x00800000 | (0x34 << 13) | PS | RW | P
    expect(e.phys.read32(0x1008n)).toBe(0x00800000 + 0x34 * 8192 + 0x83);
    expect(e.translate(0x1000n, 0x812345n, { format })).toMatchObject({ ok: true, pa: 0x3400812345n });
  });
});
