import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { dom0Layout, formatArrangement, layoutJson, orderFromBytes, XenPanicError, type Dom0LayoutInputs } from '../src/xen/dom0-layout.js';
import { seed001Block as seedBlock, seedsAvailable } from './helpers/seed001.js';


/** Section 6 of dom0-layout.md: the XTF kernel of seed 001. */
export const SEED_INPUTS: Dom0LayoutInputs = {
  virtBase: 0n,
  kernelStart: 0x100000n,
  kernelEnd: 0x112000n,
  entry: 0x100000n,
  nrPages: 241755n,
  allocBase: 0x3e800000n,
};

describe.skipIf(!seedsAvailable())('dom0Layout: seed 001 golden printout (read from shared/seeds)', () => {
  it('reproduces the 4.15-shaped block line for line', () => {
    const expected = seedBlock();
    expect(expected).toHaveLength(13);
    expect(formatArrangement(dom0Layout(SEED_INPUTS), '4.15')).toEqual(expected);
  });

  it('prints the 4.17 shape without the empty ramdisk and the shim-only rings', () => {
    const lines = formatArrangement(dom0Layout(SEED_INPUTS), '4.17');
    const expected = seedBlock().filter((l) => !/Init\. ramdisk|Xenstore ring|Console ring/.test(l));
    expect(lines).toEqual(expected);
    expect(formatArrangement(dom0Layout(SEED_INPUTS))).toEqual(expected);
  });

  it('has the numbers section 6 derives by hand', () => {
    const l = dom0Layout(SEED_INPUTS);
    expect(l.p2m).toEqual({ start: 0x112000n, end: 0x2ea2d8n }); // 241755 * 8 = 0x1d82d8
    expect(l.startInfo).toEqual({ start: 0x2eb000n, end: 0x2eb4b8n });
    expect(l.pageTables).toEqual({ start: 0x2ec000n, end: 0x2f1000n, pages: 5n }); // 1 + 1 + 1 + 2
    expect(l.bootStack).toEqual({ start: 0x2f1000n, end: 0x2f2000n });
    expect(l.total).toEqual({ start: 0n, end: 0x400000n });
    expect(l.order).toBe(10);
    expect(l.allocPages).toBe(1024n);
    expect(l.pagesToBeAllocated).toBe(240731n);
    expect(l.alloc).toEqual({ start: 0x3e800000n, end: 0x3ec00000n });
  });

  it('gives the JSON form with lowercase 0x addresses', () => {
    expect(layoutJson(dom0Layout(SEED_INPUTS))).toMatchObject({
      kernel: { start: '0x100000', end: '0x112000' },
      initrd: { start: '0x112000', end: '0x112000' },
      p2m: { start: '0x112000', end: '0x2ea2d8' },
      startInfo: { start: '0x2eb000', end: '0x2eb4b8' },
      pageTables: { start: '0x2ec000', end: '0x2f1000', pages: 5 },
      bootStack: { start: '0x2f1000', end: '0x2f2000' },
      total: { start: '0x0', end: '0x400000' },
      entry: '0x100000',
      nrPages: 241755,
      allocPages: 1024,
      order: 10,
      pagesToBeAllocated: 240731,
      alloc: { start: '0x3e800000', end: '0x3ec00000' },
    });
  });
});

describe('dom0Layout: hand-checked layouts', () => {
  // Linux-like 64-bit kernel: INIT_P2M (p2m outside the mapping), MOD_START_PFN
  // (initrd not mapped), dom0_mem=1500M -> 384000 pages, 30 MiB + 123 B initrd.
  // By hand: start info at pup(kend) = 0xffffffff83a2b000, vpt_start 0xffffffff83a2c000;
  // v_end = 0xffffffff83c00000 for every small n, so required = 1 + 1 + 1 + 30 = 33;
  // count 0x3c00000 = 15360 pages -> order 14; 384000 - 16384 - 7681 = 359935.
  const linux: Dom0LayoutInputs = {
    virtBase: 0xffffffff80000000n,
    kernelStart: 0xffffffff81000000n,
    kernelEnd: 0xffffffff83a2b000n,
    entry: 0xffffffff82a3e1c0n,
    p2mBase: 0x8000000000n,
    unmappedInitrd: true,
    initrdLength: 30n * 1024n * 1024n + 123n,
    initrdBase: 0x7d000000n,
    nrPages: 384000n,
    allocBase: 0x100000000n,
  };

  it('64-bit with INIT_P2M and an unmapped initrd (4.17 shape)', () => {
    expect(formatArrangement(dom0Layout(linux))).toEqual([
      'PHYSICAL MEMORY ARRANGEMENT:',
      ' Dom0 alloc.:   0000000100000000->0000000104000000 (359935 pages to be allocated)',
      ' Init. ramdisk: 000000007d000000->000000007ee0007b',
      'VIRTUAL MEMORY ARRANGEMENT:',
      ' Loaded kernel: ffffffff81000000->ffffffff83a2b000',
      ' Phys-Mach map: 0000008000000000->00000080002ee000',
      ' Start info:    ffffffff83a2b000->ffffffff83a2b4b8',
      ' Page tables:   ffffffff83a2c000->ffffffff83a4d000',
      ' Boot stack:    ffffffff83a4d000->ffffffff83a4e000',
      ' TOTAL:         ffffffff80000000->ffffffff83c00000',
      ' ENTRY ADDRESS: ffffffff82a3e1c0',
    ]);
  });

  it('64-bit unmapped initrd in the 4.15 shape prints the zero virtual ramdisk', () => {
    const lines = formatArrangement(dom0Layout(linux), '4.15');
    expect(lines[5]).toBe(' Init. ramdisk: 0000000000000000->0000000000000000');
    expect(lines).toContain(' Xenstore ring: 0000000000000000->0000000000000000');
  });

  // Compat guest with a mapped initrd of 0x123456 bytes, 65536 pages (4-byte p2m entries).
  // By hand: initrd [0xc0a60000, 0xc0b83456), p2m [0xc0b84000, 0xc0bc4000), vpt 0xc0bc5000,
  // v_end 0xc1000000: required = 1 (L3) + 4 (L2) + 8 (L1) = 13; count = 0x1000000 - 0x124000
  // = 3804 pages -> order 12; 65536 - 4096 - 292 = 61148.
  const compat: Dom0LayoutInputs = {
    virtBase: 0xc0000000n,
    kernelStart: 0xc0100000n,
    kernelEnd: 0xc0a5f123n,
    entry: 0xc0100000n,
    compat: true,
    initrdLength: 0x123456n,
    initrdBase: 0x1f000000n,
    nrPages: 65536n,
    allocBase: 0x20000000n,
  };

  it('compat (32-bit PAE) with a mapped initrd', () => {
    expect(formatArrangement(dom0Layout(compat))).toEqual([
      'PHYSICAL MEMORY ARRANGEMENT:',
      ' Dom0 alloc.:   0000000020000000->0000000021000000 (61148 pages to be allocated)',
      ' Init. ramdisk: 000000001f000000->000000001f123456',
      'VIRTUAL MEMORY ARRANGEMENT:',
      ' Loaded kernel: 00000000c0100000->00000000c0a5f123',
      ' Init. ramdisk: 00000000c0a60000->00000000c0b83456',
      ' Phys-Mach map: 00000000c0b84000->00000000c0bc4000',
      ' Start info:    00000000c0bc4000->00000000c0bc44b8',
      ' Page tables:   00000000c0bc5000->00000000c0bd2000',
      ' Boot stack:    00000000c0bd2000->00000000c0bd3000',
      ' TOTAL:         00000000c0000000->00000000c1000000',
      ' ENTRY ADDRESS: 00000000c0100000',
    ]);
  });

  it('compat ignores an INIT_P2M base and says so', () => {
    const l = dom0Layout({ ...compat, p2mBase: 0x1000000n });
    expect(l.messages).toEqual(['P2M table base ignored']);
    expect(l.p2m).toEqual({ start: 0xc0b84000n, end: 0xc0bc4000n });
  });

  it('pv-shim: Xenstore and console pages follow the start info, which loses the VGA info', () => {
    // Start info [0x2eb000, 0x2eb490); rings at 0x2ec000 and 0x2ed000; tables from 0x2ee000, n = 5.
    const lines = formatArrangement(dom0Layout({ ...SEED_INPUTS, pvShim: true }));
    expect(lines.slice(5)).toEqual([
      ' Start info:    00000000002eb000->00000000002eb490',
      ' Xenstore ring: 00000000002ec000->00000000002ed000',
      ' Console ring:  00000000002ed000->00000000002ee000',
      ' Page tables:   00000000002ee000->00000000002f3000',
      ' Boot stack:    00000000002f3000->00000000002f4000',
      ' TOTAL:         0000000000000000->0000000000400000',
      ' ENTRY ADDRESS: 0000000000100000',
    ]);
  });

  it('omits "(N pages to be allocated)" when the block is all of dom0', () => {
    // 1024 pages: p2m [0x112000, 0x114000), tables at 0x115000, v_end 0x400000 -> order 10 = 1024.
    const l = dom0Layout({ ...SEED_INPUTS, nrPages: 1024n });
    expect(l.pagesToBeAllocated).toBe(0n);
    expect(formatArrangement(l)[1]).toBe(' Dom0 alloc.:   000000003e800000->000000003ec00000');
  });

  it('panics like Xen when nr_pages cannot hold the block', () => {
    const run = () => dom0Layout({ ...SEED_INPUTS, nrPages: 1023n });
    expect(run).toThrow(XenPanicError);
    expect(run).toThrow(/Domain 0 allocation is too small for kernel image/);
    expect(run).toThrow(/^nr-pages: 1023 pages cannot hold the order-10 allocation \(1024 pages\)/);
    // initrd pages count too: 1024 + PFN_UP(1) > 1024.
    expect(() => dom0Layout({ ...SEED_INPUTS, nrPages: 1024n, initrdLength: 1n, unmappedInitrd: true })).toThrow(XenPanicError);
  });

  it('a mapped initrd is not counted twice in the block', () => {
    // Seed kernel + 1 MiB mapped initrd: initrd [0x112000, 0x212000), p2m [0x212000, 0x3ea2d8),
    // start info 0x3eb000, tables from 0x3ec000. Any stack end below 0x400000 leaves less than
    // 512 KiB, so v_end = 0x800000 and required = 1 + 1 + 1 + 4 = 7 (stack end 0x3f4000).
    // count = 0x800000 - 0x100000 (the initrd's pages are reused) = 1792 pages -> order 11.
    const l = dom0Layout({ ...SEED_INPUTS, initrdLength: 0x100000n });
    expect(l.initrd).toEqual({ start: 0x112000n, end: 0x212000n });
    expect(l.pageTables).toEqual({ start: 0x3ec000n, end: 0x3f3000n, pages: 7n });
    expect(l.total.end).toBe(0x800000n);
    expect(l.order).toBe(11);
    expect(l.pagesToBeAllocated).toBe(241755n - 2048n - 256n);
  });
});

describe('dom0Layout: input rules', () => {
  it('refuses kernels libelf refuses', () => {
    expect(() => dom0Layout({ ...SEED_INPUTS, kernelStart: 0x200000n })).toThrow(/kernel-start 0x200000 is above kernel-end 0x112000/);
    expect(() => dom0Layout({ ...SEED_INPUTS, entry: 0x200000n })).toThrow(/entry 0x200000 is outside the kernel/);
    expect(() => dom0Layout({ ...SEED_INPUTS, virtBase: 0x200000n, kernelEnd: 0x300000n, entry: 0x200000n })).toThrow(/virt-base 0x200000 is above kernel-start 0x100000/);
    expect(() => dom0Layout({ ...SEED_INPUTS, p2mBase: 0x100000n })).toThrow(/P->M table base is out of bounds/);
  });

  it('checks sizes and placements', () => {
    expect(() => dom0Layout({ ...SEED_INPUTS, initrdLength: 1n << 32n })).toThrow(InvalidInputError);
    expect(() => dom0Layout({ ...SEED_INPUTS, allocBase: 0x3e801000n })).toThrow(/alloc-base: 0x3e801000 is not aligned to the 0x400000-byte order-10 block/);
    expect(() => dom0Layout({ ...SEED_INPUTS, initrdLength: 5n, initrdBase: 0x123n })).toThrow(/initrd-addr: 0x123 is not page aligned/);
    expect(() => dom0Layout({ ...SEED_INPUTS, nrPages: undefined })).toThrow(/avail: needed/);
    expect(() => dom0Layout({ ...SEED_INPUTS, dom0Mem: '1G', avail: 1n << 20n })).toThrow(/not both/);
    expect(() => dom0Layout({ ...SEED_INPUTS, virtBase: -1n })).toThrow(/virt-base/);
  });

  it('sizes dom0 from dom0_mem and avail', () => {
    // dom0_mem=1500M: 384000 pages whatever the host (section 2).
    const l = dom0Layout({ ...SEED_INPUTS, nrPages: undefined, dom0Mem: '1500M', avail: 1n << 22n });
    expect(l.nrPages).toBe(384000n);
    // Default: avail - min(avail/16, 32768).
    expect(dom0Layout({ ...SEED_INPUTS, nrPages: undefined, avail: 1n << 22n, allocBase: 0n }).nrPages).toBe((1n << 22n) - 32768n);
  });

  it('orderFromBytes follows get_order_from_bytes', () => {
    expect(orderFromBytes(1n)).toBe(0);
    expect(orderFromBytes(4096n)).toBe(0);
    expect(orderFromBytes(4097n)).toBe(1);
    expect(orderFromBytes(0x400000n)).toBe(10);
    expect(orderFromBytes(0x400001n)).toBe(11);
    expect(orderFromBytes(0n)).toBe(52); // size - 1 wraps
  });
});
