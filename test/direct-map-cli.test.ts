// The real `memwalk` binary: direct-map and boot-params (run `npx tsc -p tsconfig.json` first).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildBootParams } from '../src/xen/boot-params.js';
import { writeQemuCore } from './helpers/qemu-core-writer.js';
import { testDir } from './helpers/temp-dir.js';

const MAIN = new URL('../dist/src/cli/main.js', import.meta.url).pathname;

function memwalk(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectUserError(r: ReturnType<typeof memwalk>, message: RegExp | string): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.startsWith('memwalk: ')).toBe(true);
  expect(r.stderr).toMatch(message);
}

// The 1 TiB layout of test/direct-map.test.ts, as command-line arguments.
const LAYOUT = [
  '--bank', '0x100000:0xbffff00000', '--bank', '0x10000000000:0x4000203000',
  '--reserved', '0:1M', '--reserved', '0x200000:4M', '--reserved', '0x40000000:4M:nomap', '--reserved', '0xc000000000:1G',
];

describe('memwalk direct-map', () => {
  test('--json: exact map of the 1 TiB layout on aarch64_4k (counts worked out in direct-map.test.ts)', () => {
    const r = memwalk('direct-map', '--paging', 'aarch64_4k', ...LAYOUT, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      format: 'aarch64_4k',
      base: '0x0',
      leaves: { '1G': 1022, '2M': 1022, '4K': 259 },
      contiguousRuns: 141,
      tablePages: 9,
      tablePagesByBank: [9, 0],
      aliased: [],
      mapped: [
        { start: '0x100000', end: '0x40000000' },
        { start: '0x40400000', end: '0xc000000000' },
        { start: '0x10000000000', end: '0x14000203000' },
      ],
    });
  });

  test('--align-banks 1G on x86_64 at a high base: 1 GiB leaves and the aliased ranges', () => {
    const r = memwalk('direct-map', '--paging', '4', ...LAYOUT, '--align-banks', '1G', '--base', '0xffff830000000000', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ base: '0xffff830000000000', leaves: { '1G': 1025, '2M': 0, '4K': 0 }, contiguousRuns: 0, tablePages: 4 });
    expect(j.aliased).toEqual([
      { start: '0x0', end: '0x100000', kind: 'reserved' },
      { start: '0x40000000', end: '0x40400000', kind: 'no-map' },
      { start: '0x14000203000', end: '0x14040000000', kind: 'non-ram' },
    ]);
  });

  test('text output', () => {
    const r = memwalk('direct-map', '--paging', 'aarch64_4k', '--bank', '0x100000:0x200000');
    expect(r.code).toBe(0);
    // [1M, 2M): 256 pages; [2M, 3M): 256 pages (3M is not 2M aligned). Tables: root, L1, L2,
    // and two L3s (one for [0, 2M), one for [2M, 4M)).
    expect(r.stdout).toContain('leaves:  1G 0, 2M 0, 4K 512\n');
    expect(r.stdout).toContain('table pages: 5\n');
    expect(r.stdout).toContain('contiguous runs: 32\n');
    expect(r.stdout).toContain('aliased: none\n');
  });

  test('bad input: one line, exit 1', () => {
    expectUserError(memwalk('direct-map', '--paging', 'aarch64_4k', '--bank', '0x100000'), "--bank: '0x100000' is not START:SIZE");
    expectUserError(memwalk('direct-map', '--paging', 'aarch64_4k', '--bank', '0:1G', '--bank', '0x20000000:1G'), '--bank: bank 0 [0x0, 0x40000000) overlaps bank 1 [0x20000000, 0x60000000)');
    expectUserError(memwalk('direct-map', '--paging', 'aarch64_4k', '--bank', '0x100000:zz'), /--bank size: 'zz' is not a number/);
    expectUserError(memwalk('direct-map', '--paging', 'aarch64_4k', '--bank', '0x1800:1M'), /start and size must be multiples of 4 KiB/);
    expectUserError(memwalk('direct-map', '--paging', 'riscv', '--bank', '0:1G'), "--paging: 'riscv' is not one of 4, aarch64_4k");
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '1M:1G'), "--bank start: '1M' is not a number: size suffixes (K, M, G, T) are only for sizes");
    expectUserError(memwalk('direct-map', '--format', 'json', '--paging', '4', '--bank', '0:1G'), "unknown option '--format'");
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '0x100000:1G', '--align-banks', '2M'), /--align-banks: '2M' is not supported/);
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '0x100000:1G', '--reserved', '1:2:3'), /--reserved: '1:2:3' is not START:SIZE/);
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '0x100000:8K', '--reserved', '0x101000:4K'), /bank 0 \[0x100000, 0x102000\) needs 4 table pages .*: 3 pages missing/);
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '0x800000000:1G'), /--bank: the lowest free bank page is 0x800000000/);
  });

  test('--help', () => {
    const r = memwalk('direct-map', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--align-banks');
  });
});

describe('memwalk boot-params', () => {
  let dir: string;
  const E820 = [
    { addr: 0n, size: 0x9fc00n, type: 1 },
    { addr: 0x9fc00n, size: 0x400n, type: 2 },
    { addr: 0x100000n, size: 0x3ff00000n, type: 1 },
  ];
  beforeAll(() => {
    dir = testDir('memwalk-bp-');
    const raw = new Uint8Array(0x20000);
    raw.set(buildBootParams({ hardwareSubarch: 2, hardwareSubarchData: 0x42n, e820: E820 }), 0x9000);
    writeFileSync(join(dir, 'raw.bin'), raw);
    raw.set(buildBootParams({ e820Entries: 200 }), 0x3000);
    writeFileSync(join(dir, 'bad.bin'), raw);
    // The same zero page in a QEMU ELF core, in a RAM block at 1 MiB.
    const block = new Uint8Array(0x4000);
    block.set(buildBootParams({ hardwareSubarch: 1, e820: E820 }), 0x1000);
    writeFileSync(join(dir, 'core.elf'), writeQemuCore({ vcpus: [{ cr3: 0x1000n, cr4: 0x20n }], blocks: [{ pa: 0x100000n, data: block }] }));
  });

  test('--json from a raw image', () => {
    const r = memwalk('boot-params', '--image', join(dir, 'raw.bin'), '--at', '0x9000', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      at: '0x9000',
      hardwareSubarch: 2,
      hardwareSubarchName: 'Xen',
      hardwareSubarchData: '0x42',
      e820: [
        { addr: '0x0', size: '0x9fc00', end: '0x9fc00', type: 1, typeName: 'RAM' },
        { addr: '0x9fc00', size: '0x400', end: '0xa0000', type: 2, typeName: 'reserved' },
        { addr: '0x100000', size: '0x3ff00000', end: '0x40000000', type: 1, typeName: 'RAM' },
      ],
      banks: [{ start: '0x0', size: '0x9f000' }, { start: '0x100000', size: '0x3ff00000' }],
      reserved: [{ start: '0x9fc00', size: '0x400', noMap: true }],
    });
  });

  test('text, from a QEMU ELF core', () => {
    const r = memwalk('boot-params', '--image', join(dir, 'core.elf'), '--at', '0x101000');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hardware_subarch: 1 (lguest)');
    expect(r.stdout).toContain('direct-map input: --bank 0x0:0x9f000 --bank 0x100000:0x3ff00000 --reserved 0x9fc00:0x400:nomap\n');
  });

  test('bad input: one line, exit 1', () => {
    expectUserError(memwalk('boot-params', '--image', join(dir, 'raw.bin'), '--at', '0x1f800'), /--at: boot_params \[0x1f800, 0x20800\) is not wholly in .*raw.bin: no byte at 0x20000/);
    expectUserError(memwalk('boot-params', '--image', join(dir, 'bad.bin'), '--at', '0x3000'), /e820_entries \(offset 0x1e8\) is 200, more than the 128 slots/);
    expectUserError(memwalk('boot-params', '--image', join(dir, 'raw.bin'), '--at', 'x'), /--at: 'x' is not a number/);
    expectUserError(memwalk('boot-params', '--image', join(dir, 'missing.bin'), '--at', '0'), /^memwalk: --image: '.*missing.bin': no such file$/m);
  });
});
