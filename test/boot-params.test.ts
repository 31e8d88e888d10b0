// boot_params (the x86 zero page), its e820 map as direct-map input, and the
// early on-demand mapper that must map every 4 KiB step before reading it.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64, MalformedFileError, OutsideImageError, CapacityError, type Engine } from '../src/index.js';
import {
  buildBootParams, parseBootParams, readBootParams, e820ToBanks, subarchName, BOOT_PARAMS_BYTES,
} from '../src/xen/boot-params.js';
import { EarlyMapper, EarlyPageFault, readBootParamsEarly, LINUX_PAGE_OFFSET } from '../src/xen/early-mapper.js';
import { setupDirectMap } from '../src/xen/direct-map.js';

const E820 = [
  { addr: 0x0n, size: 0x9fc00n, type: 1 }, // RAM, ends inside a page
  { addr: 0x9fc00n, size: 0x400n, type: 2 }, // EBDA
  { addr: 0xf0000n, size: 0x10000n, type: 2 }, // BIOS
  { addr: 0x100000n, size: 0x7ef0000n, type: 1 }, // RAM [1M, 0x7ff0000)
  { addr: 0x7ff0000n, size: 0x10000n, type: 3 }, // ACPI
  { addr: 0x100000000n, size: 0x40000000n, type: 1 }, // RAM [4G, 5G)
  { addr: 0x140000000n, size: 0x10000000n, type: 1 }, // RAM [5G, 5G+256M): touches the previous one
];
const PAGE_XEN = buildBootParams({ hardwareSubarch: 2, hardwareSubarchData: 0x1122334455667788n, e820: E820 });

describe('boot_params', () => {
  test('the fields at their offsets: subarch u32 at 0x23c, data u64 at 0x240, e820_entries u8 at 0x1e8, table at 0x2d0', () => {
    // Write the fields by hand, independent of buildBootParams.
    const b = new Uint8Array(4096);
    const v = new DataView(b.buffer);
    v.setUint8(0x1e8, 2);
    v.setUint32(0x23c, 4, true);
    v.setBigUint64(0x240, 0xdeadbeefn, true);
    v.setBigUint64(0x2d0, 0x1000n, true);
    v.setBigUint64(0x2d8, 0x2000n, true);
    v.setUint32(0x2e0, 1, true);
    v.setBigUint64(0x2e4, 0x8000n, true);
    v.setBigUint64(0x2ec, 0x1000n, true);
    v.setUint32(0x2f4, 7, true);
    expect(parseBootParams(b)).toEqual({
      hardwareSubarch: 4,
      hardwareSubarchName: 'CE4100',
      hardwareSubarchData: 0xdeadbeefn,
      e820: [
        { addr: 0x1000n, size: 0x2000n, type: 1, typeName: 'RAM' },
        { addr: 0x8000n, size: 0x1000n, type: 7, typeName: 'persistent memory' },
      ],
    });
    expect(buildBootParams({ hardwareSubarch: 4, hardwareSubarchData: 0xdeadbeefn, e820: [{ addr: 0x1000n, size: 0x2000n, type: 1 }, { addr: 0x8000n, size: 0x1000n, type: 7 }] })).toEqual(b);
  });

  test('every subarch name', () => {
    expect([0, 1, 2, 3, 4, 5].map(subarchName)).toEqual(['PC', 'lguest', 'Xen', 'Intel MID', 'CE4100', 'unknown (5)']);
  });

  test('malformed pages: too short, too many e820 entries', () => {
    expect(() => parseBootParams(new Uint8Array(100), 'zp.bin')).toThrow(MalformedFileError);
    expect(() => parseBootParams(new Uint8Array(100), 'zp.bin')).toThrow('zp.bin: boot_params is 4096 bytes, only 100 were given');
    expect(() => parseBootParams(buildBootParams({ e820Entries: 129 }))).toThrow(/e820_entries \(offset 0x1e8\) is 129, more than the 128 slots/);
    expect(parseBootParams(buildBootParams({ e820Entries: 128 })).e820.length).toBe(128);
  });

  test('read from the RAM image, and refused outside it', () => {
    const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
    e.phys.write(0x9000n, PAGE_XEN);
    expect(readBootParams(e, 0x9000n)).toMatchObject({ hardwareSubarchName: 'Xen', hardwareSubarchData: 0x1122334455667788n });
    expect(() => readBootParams(e, 0xff800n)).toThrow(OutsideImageError);
  });

  test('e820 -> banks (whole pages, touching RAM merged) and no-map reserved regions -> a direct map', () => {
    const { banks, reserved } = e820ToBanks(parseBootParams(PAGE_XEN).e820);
    expect(banks).toEqual([
      { start: 0x0n, size: 0x9f000n },
      { start: 0x100000n, size: 0x7ef0000n },
      { start: 0x100000000n, size: 0x50000000n },
    ]);
    expect(reserved.map((r) => [r.start, r.size, r.noMap, r.name])).toEqual([
      [0x9fc00n, 0x400n, true, 'e820 reserved'],
      [0xf0000n, 0x10000n, true, 'e820 reserved'],
      [0x7ff0000n, 0x10000n, true, 'e820 ACPI'],
    ]);
    const e = createEngine({ ramBytes: '8M', ioBytes: 1 << 20 });
    const r = setupDirectMap({ engine: e, format: x86_64, banks, reserved, base: LINUX_PAGE_OFFSET });
    // [0, 0x9f000): 159 pages. [1M, 2M): 256 pages, [2M, 0x7e00000): 62 x 2M, [0x7e00000, 0x7ff0000): 496 pages.
    // [4G, 5G): one 1G; [5G, 5G+256M): 128 x 2M.
    expect(r.leaves).toEqual({ '1G': 1, '2M': 62 + 128, '4K': 159 + 256 + 496 });
    expect(e.translate(r.root, LINUX_PAGE_OFFSET + 0x140001234n)).toMatchObject({ ok: true, pa: 0x140001234n, pageSize: 2 ** 21 });
    expect(e.translate(r.root, LINUX_PAGE_OFFSET + 0x9f000n).ok).toBe(false);
  });
});

describe('the early mapper', () => {
  const base = LINUX_PAGE_OFFSET;
  const root = 0x1000n;
  function setup(pool: number[] = [2, 3, 4, 5, 6, 7]): { e: Engine; m: EarlyMapper } {
    const e = createEngine({ ramBytes: '8M', ioBytes: 1 << 20 });
    e.phys.write64(root + 511n * 8n, 0x8000n | 3n); // the kernel's own mapping, kept by resets
    e.phys.write(0x9000n, PAGE_XEN); // page aligned
    e.phys.write(0x1ff800n, PAGE_XEN); // straddles the 2 MiB boundary at 0x200000
    return { e, m: new EarlyMapper({ engine: e, root, pool }) };
  }

  test('reading boot_params before mapping faults on the first 4 KiB step', () => {
    const { m } = setup();
    expect(() => m.read(base + 0x9000n, BOOT_PARAMS_BYTES)).toThrow(EarlyPageFault);
    try {
      m.read(base + 0x9000n, BOOT_PARAMS_BYTES);
    } catch (err) {
      expect((err as EarlyPageFault).va).toBe(base + 0x9000n);
      // Root slot 273 (0xffff888000000000 >> 39 & 511) is empty.
      expect((err as EarlyPageFault).fault).toMatchObject({ kind: 'not-present', level: 4, entryAddress: root + 273n * 8n });
    }
  });

  test('with each step mapped first it reads: one 2 MiB leaf, two pool pages', () => {
    const { e, m } = setup();
    expect(readBootParamsEarly(m, base + 0x9000n)).toMatchObject({ hardwareSubarchName: 'Xen', e820: { length: 7 } });
    expect([m.mapped, m.poolUsed, m.resets]).toEqual([1, 2, 0]);
    // PML4[273] -> frame 2 (PDPT), PDPT[0] -> frame 3 (PD), PD[0] = the 2 MiB leaf at 0.
    expect(e.translate(root, base + 0x9000n)).toMatchObject({ ok: true, pa: 0x9000n, pageSize: 2 ** 21, entryAddress: 0x3000n });
  });

  test('a zero page straddling a 2 MiB boundary: the first step alone is not enough, every step is', () => {
    const { m } = setup();
    const va = base + 0x1ff800n;
    // Linux's loop (params + i for i < 4096) maps only the page of the start...
    m.handleFault(va);
    expect(() => m.read(va, BOOT_PARAMS_BYTES)).toThrow(`early read: ${'0x' + (base + 0x200000n).toString(16)} is not mapped`);
    // ...mapping the page of the end too makes the read succeed.
    expect(readBootParamsEarly(m, va)).toEqual(parseBootParams(PAGE_XEN));
    expect([m.mapped, m.poolUsed]).toEqual([2, 2]);
    // And the fault-handling read maps on demand.
    const other = setup();
    expect(other.m.readWithHandler(va, BOOT_PARAMS_BYTES)).toEqual(PAGE_XEN);
    expect(other.m.mapped).toBe(2);
  });

  test('an exhausted pool resets everything but the kernel slot and starts over', () => {
    const { e, m } = setup([2, 3, 4]);
    const G = 1n << 30n;
    m.handleFault(base); // PDPT + PD: pool pages 2, 3
    m.handleFault(base + G); // a second PD: page 4
    expect([m.poolUsed, m.resets]).toEqual([3, 0]);
    expect(e.translate(root, base + G + 5n)).toMatchObject({ ok: true, pa: G + 5n });
    m.handleFault(base + 2n * G); // needs one more PD: none left -> reset, then PDPT + PD again
    expect([m.poolUsed, m.resets, m.mapped]).toEqual([2, 1, 3]);
    expect(e.translate(root, base + 2n * G + 7n)).toMatchObject({ ok: true, pa: 2n * G + 7n });
    expect(e.translate(root, base).ok).toBe(false);
    expect(e.translate(root, base + G).ok).toBe(false);
    expect(e.phys.read64(root + 511n * 8n)).toBe(0x8000n | 3n);
    // Addresses outside the direct map are not the mapper's business.
    expect(m.handleFault(0x1000n)).toBe(false);
  });

  test('a pool too small for one region is an error, not a loop', () => {
    const { m } = setup([2]);
    expect(() => m.handleFault(base)).toThrow(CapacityError);
    expect(() => m.handleFault(base)).toThrow('early mapper: a pool of 1 table pages cannot map even one 2 MiB region');
  });
});
