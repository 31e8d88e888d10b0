// Hand-built x86-64 tables with expected values worked out from paging.md.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64, x86_64_la57, type Engine } from '../src/index.js';

const P = 1n, RW = 2n, US = 4n, PS = 0x80n, XD = 1n << 63n;
const TABLE = P | RW | US;

describe.each(['wasm', 'reference'] as const)('x86-64 paging on %s', (backend) => {
  // Frames: 1 = PML4, 2 = PDPT, 3 = PD, 4 = PT, 5 = PML5 (for LA57).
  function setup(): Engine {
    const e = createEngine({ ramBytes: '1M', backend, ioBytes: 1 << 20 });
    e.phys.write64(0x1000n + 0n * 8n, 0x2000n | TABLE); // PML4[0] -> PDPT
    e.phys.write64(0x2000n + 0n * 8n, 0x3000n | TABLE); // PDPT[0] -> PD
    e.phys.write64(0x2000n + 1n * 8n, 0x40000000n | PS | P | RW); // PDPT[1]: 1 GiB leaf at 1 GiB
    e.phys.write64(0x3000n + 0n * 8n, 0x4000n | TABLE); // PD[0] -> PT
    e.phys.write64(0x3000n + 1n * 8n, 0x600000n | PS | P | RW | US); // PD[1]: 2 MiB leaf at 6 MiB
    e.phys.write64(0x4000n + 1n * 8n, 0x7000n | P | RW | US); // PT[1]: 4 KiB page at 0x7000
    e.phys.write64(0x4000n + 2n * 8n, 0x8000n | P | US | XD); // PT[2]: read-only, no-execute
    e.phys.write64(0x4000n + 3n * 8n, 0x9000n | P | RW); // PT[3]: supervisor only
    e.phys.write64(0x5000n, 0x1000n | TABLE); // PML5[0] -> PML4
    return e;
  }
  const cr3 = 0x1000n;

  test('4 KiB page: PT[1] maps va 0x1abc to 0x7abc', () => {
    const r = setup().translate(cr3, 0x1abcn, { access: 'write', user: true });
    expect(r).toEqual({
      ok: true, va: 0x1abcn, pa: 0x7abcn, pageSize: 4096, level: 1,
      rights: { write: true, user: true, execute: true, userExecute: true },
      entryAddress: 0x4008n, entryValue: 0x7007n,
    });
  });

  test('2 MiB leaf: PD[1] maps 0x2abcde to 0x6abcde; user bit missing above PD? no: all levels have U', () => {
    const r = setup().translate(cr3, 0x2abcden, { user: true });
    expect(r.ok && [r.pa, r.pageSize, r.level, r.rights.user, r.rights.write]).toEqual([0x6abcden, 2 ** 21, 2, true, true]);
  });

  test('1 GiB leaf: PDPT[1] maps 0x4123_4567 to 0x4123_4567, supervisor only (U clear in the leaf)', () => {
    const e = setup();
    const r = e.translate(cr3, 0x41234567n);
    expect(r.ok && [r.pa, r.pageSize, r.level, r.rights.user]).toEqual([0x41234567n, 2 ** 30, 3, false]);
    const u = e.translate(cr3, 0x41234567n, { user: true });
    expect(!u.ok && u.fault).toEqual({ kind: 'protection', level: 3, entryAddress: 0x2008n, entryValue: 0x40000083n, errorCode: 0b101 });
  });

  test('5-level: PML5[0] -> the same tree', () => {
    const r = setup().translate(0x5000n, 0x1abcn, { format: x86_64_la57 });
    expect(r.ok && [r.pa, r.level]).toEqual([0x7abcn, 1]);
  });

  test('not-present at each level, with the entry read last', () => {
    const e = setup();
    // PML4[1] empty: va 1<<39.
    expect(e.translate(cr3, 1n << 39n)).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 4, entryAddress: 0x1008n, entryValue: 0n, errorCode: 0 } });
    expect(e.translate(cr3, 2n << 30n)).toMatchObject({ fault: { kind: 'not-present', level: 3, entryAddress: 0x2010n } });
    expect(e.translate(cr3, 2n << 21n, { access: 'write' })).toMatchObject({ fault: { kind: 'not-present', level: 2, entryAddress: 0x3010n, errorCode: 0b10 } });
    expect(e.translate(cr3, 0n, { user: true, access: 'execute' })).toMatchObject({ fault: { kind: 'not-present', level: 1, entryAddress: 0x4000n, errorCode: 0b10100 } });
  });

  test('protection: write to read-only (P|W), user to supervisor (P|U), fetch from XD (P|I)', () => {
    const e = setup();
    expect(e.translate(cr3, 0x2000n, { access: 'write' })).toMatchObject({ fault: { kind: 'protection', level: 1, errorCode: 0b00011 } });
    expect(e.translate(cr3, 0x3000n, { user: true })).toMatchObject({ fault: { kind: 'protection', level: 1, errorCode: 0b00101 } });
    expect(e.translate(cr3, 0x2000n, { access: 'execute' })).toMatchObject({ fault: { kind: 'protection', level: 1, errorCode: 0b10001 } });
  });

  test('CR0.WP=0 lets a supervisor write a read-only page; a user write still faults', () => {
    const e = setup();
    expect(e.translate(cr3, 0x2000n, { access: 'write', wp: false }).ok).toBe(true);
    expect(e.translate(cr3, 0x2000n, { access: 'write', wp: false, user: true }).ok).toBe(false);
  });

  test('SMEP stops supervisor fetches from user pages, SMAP supervisor data accesses', () => {
    const e = setup();
    expect(e.translate(cr3, 0x1000n, { access: 'execute' }).ok).toBe(true);
    expect(e.translate(cr3, 0x1000n, { access: 'execute', smep: true })).toMatchObject({ fault: { kind: 'protection', errorCode: 0b10001 } });
    expect(e.translate(cr3, 0x1000n, { smap: true })).toMatchObject({ fault: { kind: 'protection', errorCode: 0b00001 } });
    expect(e.translate(cr3, 0x3000n, { smap: true }).ok).toBe(true); // supervisor page: SMAP does not apply
  });

  test('reserved bits: above MAXPHYADDR, PS in PML4, low bits of a large leaf, XD without NXE', () => {
    const e = setup();
    e.phys.write64(0x4000n + 4n * 8n, (1n << 40n) | 0xa000n | P); // address bit 40
    expect(e.translate(cr3, 0x4000n, { maxPhyAddr: 40 })).toMatchObject({ fault: { kind: 'reserved-bit', level: 1, entryAddress: 0x4020n, errorCode: 0b01001 } });
    expect(e.translate(cr3, 0x4000n, { maxPhyAddr: 41 }).ok).toBe(true);
    e.phys.write64(0x1000n + 2n * 8n, 0x2000n | TABLE | PS); // PS in a PML4 entry
    expect(e.translate(cr3, 2n << 39n)).toMatchObject({ fault: { kind: 'reserved-bit', level: 4 } });
    e.phys.write64(0x3000n + 2n * 8n, 0x800000n | (1n << 13n) | PS | P); // 2 MiB leaf with bit 13
    expect(e.translate(cr3, 2n << 21n)).toMatchObject({ fault: { kind: 'reserved-bit', level: 2 } });
    expect(e.translate(cr3, 0x2000n, { nxe: false })).toMatchObject({ fault: { kind: 'reserved-bit', level: 1, errorCode: 0b01001 } });
  });

  test('QEMU mode (ignoreReserved) takes PS in a PML4 entry as a pointer and skips reserved checks', () => {
    const e = setup();
    e.phys.write64(0x1000n + 2n * 8n, 0x2000n | TABLE | PS);
    expect(e.translate(cr3, (2n << 39n) | 0x1abcn, { ignoreReserved: true })).toMatchObject({ ok: true, pa: 0x7abcn });
  });

  test('non-canonical address: #GP, error code 0', () => {
    expect(setup().translate(cr3, 0x0000800000000000n)).toMatchObject({ ok: false, fault: { kind: 'non-canonical', errorCode: 0 } });
    expect(setup().translate(0x5000n, 0x0000800000000000n, { format: x86_64_la57 }).ok).toBe(false);
    expect(setup().translate(0x5000n, 0x0100000000000000n, { format: x86_64_la57 })).toMatchObject({ fault: { kind: 'non-canonical' } });
  });

  test('outside-image: a table beyond the RAM image is reported, never read', () => {
    const e = setup();
    e.phys.write64(0x1000n + 3n * 8n, 0x100000000n | TABLE); // PML4[3] -> 4 GiB, beyond the 1 MiB image
    expect(e.translate(cr3, 3n << 39n)).toMatchObject({ ok: false, fault: { kind: 'outside-image', level: 3, entryAddress: 0x100000000n, entryValue: 0n, errorCode: 0 } });
    expect(e.translate(0x200000n, 0n)).toMatchObject({ fault: { kind: 'outside-image', level: 4, entryAddress: 0x200000n } });
  });

  test('CR3 low bits (PCID) and bit 63 are not part of the root address', () => {
    expect(setup().translate(0x8000000000001fffn - 0xfffn + 0x123n, 0x1abcn)).toMatchObject({ ok: true, pa: 0x7abcn });
  });

  test('mappings: every leaf in address order, with the leaf entry and effective rights', () => {
    const { mappings, truncated } = setup().mappings(cr3);
    expect(truncated).toBe(false);
    expect(mappings.map((m) => [m.va, m.pa, m.size, m.level, m.rights.write, m.rights.user, m.rights.execute])).toEqual([
      [0x1000n, 0x7000n, 4096, 1, true, true, true],
      [0x2000n, 0x8000n, 4096, 1, false, true, false],
      [0x3000n, 0x9000n, 4096, 1, true, false, true],
      [0x200000n, 0x600000n, 2 ** 21, 2, true, true, true],
      [0x40000000n, 0x40000000n, 2 ** 30, 3, true, false, true],
    ]);
  });

  test('mappings through a self-map (Xen style, L4 slot 258) terminate and list each alias', () => {
    const e = createEngine({ ramBytes: '1M', backend, ioBytes: 1 << 20 });
    e.phys.write64(0x1000n, 0x2000n | TABLE);
    e.phys.write64(0x1000n + 258n * 8n, 0x1000n | TABLE); // root points to itself
    e.phys.write64(0x2000n, 0x3000n | TABLE);
    e.phys.write64(0x3000n, 0x4000n | TABLE);
    e.phys.write64(0x4000n, 0x5000n | P | RW);
    // Paths of four entries from the root ending on a valid entry (worked out by hand):
    // (0,0,0,0) -> page 0x5000; (258,0,0,0) -> PT 0x4000 seen as a page; (258,258,0,0) -> 0x3000;
    // (258,258,258,0) -> 0x2000; (258,258,258,258) -> 0x1000.
    const s = (i: bigint, l: number) => i << BigInt(12 + 9 * (l - 1));
    const canon = (v: bigint) => BigInt.asUintN(64, BigInt.asIntN(48, v));
    const got = e.mappings(cr3).mappings.map((m) => [m.va, m.pa]);
    expect(got).toEqual([
      [0n, 0x5000n],
      [canon(s(258n, 4)), 0x4000n],
      [canon(s(258n, 4) | s(258n, 3)), 0x3000n],
      [canon(s(258n, 4) | s(258n, 3) | s(258n, 2)), 0x2000n],
      [canon(s(258n, 4) | s(258n, 3) | s(258n, 2) | s(258n, 1)), 0x1000n],
    ]);
  });

  test('a PD whose 512 entries share one PT gives 512 aliases of its page', () => {
    const e = createEngine({ ramBytes: '1M', backend, ioBytes: 1 << 20 });
    e.phys.write64(0x1000n, 0x2000n | TABLE);
    e.phys.write64(0x2000n, 0x3000n | TABLE);
    for (let i = 0n; i < 512n; i++) e.phys.write64(0x3000n + i * 8n, 0x4000n | TABLE);
    e.phys.write64(0x4000n + 7n * 8n, 0x9000n | P);
    const { mappings } = e.mappings(cr3);
    expect(mappings.length).toBe(512);
    expect(mappings.every((m, i) => m.pa === 0x9000n && m.va === (BigInt(i) << 21n) + 0x7000n)).toBe(true);
  });

  test('a root that maps itself in all 512 slots (512^4 aliases) stops at the limit and says so', () => {
    const e = createEngine({ ramBytes: '1M', backend, ioBytes: 1 << 20 });
    for (let i = 0n; i < 512n; i++) e.phys.write64(0x1000n + i * 8n, 0x1000n | TABLE);
    const r = e.mappings(cr3, { limit: 10_000 });
    expect(r.truncated).toBe(true);
    expect(r.mappings.length).toBe(10_000);
    // Streaming stays bounded: take a million aliases without holding them.
    let n = 0;
    for (const _ of e.mappingsIter(cr3)) if (++n === 1_000_000) break;
    expect(n).toBe(1_000_000);
  });

  test('mappings on a format option set: LA57 lists the same leaves under PML5 slot 0', () => {
    const m = setup().mappings(0x5000n, { format: x86_64_la57 }).mappings;
    expect(m.map((x) => x.pa)).toEqual([0x7000n, 0x8000n, 0x9000n, 0x600000n, 0x40000000n]);
  });

  test('translateRange walks the tables once and equals per-address translation', () => {
    const e = setup();
    const r = e.translateRange(cr3, 0n, 1024);
    expect(r.length).toBe(1024);
    expect(r.get(1)).toMatchObject({ ok: true, pa: 0x7000n });
    expect(r.get(0)).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 1 } });
    expect(r.get(512 + 3)).toMatchObject({ ok: true, pa: 0x603000n, pageSize: 2 ** 21 });
    const b = e.translateBatch(cr3, Array.from({ length: 1024 }, (_, i) => BigInt(i) * 4096n));
    for (let i = 0; i < 1024; i++) expect(r.get(i)).toEqual(b.get(i));
  });
});

test('format defaults: x86_64 is 4-level with 48-bit VAs', () => {
  const p = x86_64.params();
  expect([p.levels.length, p.vaBits, p.levels.map((l) => l.shift)]).toEqual([4, 48, [39, 30, 21, 12]]);
});
