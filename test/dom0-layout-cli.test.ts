import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBzImage, xtfElf } from './fixtures/dom0/build-kernel.js';
import { seed001Block, seedsAvailable } from './helpers/seed001.js';
import { testDir } from './helpers/temp-dir.js';

const seeds = seedsAvailable();

const MAIN = new URL('../dist/src/cli/main.js', import.meta.url).pathname;

function memwalk(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'dom0-layout', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The seed block as Xen printed it, as the command prints it. */
const seedBlock = () => seed001Block().join('\n') + '\n';

/** One line on stderr, "memwalk: ..." and exit 1: the contract for every bad input. */
function expectUserError(r: ReturnType<typeof memwalk>, message: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^memwalk: /);
  expect(r.stderr).toMatch(message);
}

const SEED = ['--kernel-start', '0x100000', '--kernel-end', '0x112000', '--entry', '0x100000', '--nr-pages', '241755', '--alloc-base', '0x3e800000'];
let dir: string;

beforeAll(() => {
  dir = testDir('memwalk-dom0-');
  writeFileSync(join(dir, 'xtf'), xtfElf());
  writeFileSync(join(dir, 'vmlinuz'), buildBzImage(new Uint8Array(readFileSync(new URL('./fixtures/dom0/linux64.elf.xz', import.meta.url)))));
  writeFileSync(join(dir, 'initrd.img'), new Uint8Array(30 * 1024 * 1024 + 123));
  const cut = buildBzImage(new Uint8Array(readFileSync(new URL('./fixtures/dom0/linux64.elf.xz', import.meta.url))));
  writeFileSync(join(dir, 'cut'), cut.subarray(0, cut.length - 1000));
  writeFileSync(join(dir, 'bz2'), buildBzImage(new Uint8Array([0x42, 0x5a, 0x68, 0x39, 1, 2, 3, 4])));
});

describe('memwalk dom0-layout', () => {
  it.skipIf(!seeds)('prints the seed 001 block line for line (--print 4.15)', () => {
    const r = memwalk(...SEED, '--print', '4.15');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(seedBlock());
  });

  it.skipIf(!seeds)('reads the same numbers from the XTF kernel file', () => {
    const r = memwalk('--kernel', join(dir, 'xtf'), '--nr-pages', '241755', '--alloc-base', '0x3e800000', '--print', '4.15');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(seedBlock());
  });

  it.skipIf(!seeds)('defaults to the 4.17 shape', () => {
    const r = memwalk(...SEED);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(seedBlock().split('\n').filter((l) => !/Init\. ramdisk|Xenstore|Console/.test(l)).join('\n'));
  });

  it('lays out a bzImage with an xz payload and an initrd file (hand-checked)', () => {
    const r = memwalk('--kernel', join(dir, 'vmlinuz'), '--dom0-mem', '1500M', '--avail', '16G', '--initrd', join(dir, 'initrd.img'), '--initrd-addr', '0x7d000000', '--alloc-base', '0x100000000');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
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
        '',
      ].join('\n'),
    );
  });

  it('--verbose prefixes the kernel\'s ELF: lines', () => {
    const r = memwalk('--kernel', join(dir, 'xtf'), '--nr-pages', '241755', '--verbose');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['ELF: VIRT_BASE unset, using 0', '    virt_kend        = 0x112000', 'PHYSICAL MEMORY ARRANGEMENT:']));
  });

  it('--json gives the documented object', () => {
    const r = memwalk(...SEED, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      kernel: { start: '0x100000', end: '0x112000' },
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
    });
    expect(memwalk('--kernel', join(dir, 'vmlinuz'), '--nr-pages', '384000', '--json').stdout).toMatch(/"initrd": null/);
  });

  it('prints Xen\'s clipping message before the block', () => {
    // Legacy 64-bit kernel (no INIT_P2M) on a 1 TiB host: clipped to 0x7f000000 / 16 pages.
    const r = memwalk('--virt-base', '0xffffffff80000000', '--kernel-start', '0xffffffff80100000', '--kernel-end', '0xffffffff81000000', '--avail', '1T');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Dom0 memory clipped to 133169152 pages');
  });

  it.each([
    [['--nr-pages', '1023'], /^memwalk: nr-pages: 1023 pages cannot hold the order-10 allocation .*Domain 0 allocation is too small for kernel image/],
    [['--print', '4.16'], /^memwalk: --print: '4\.16' is not one of 4\.17, 4\.15$/m],
    [['--alloc-base', '0x1000'], /alloc-base: 0x1000 is not aligned/],
    [['--kernel-start', 'zz'], /--kernel-start: 'zz' is not a number/],
    [['--entry', '0x200000'], /entry 0x200000 is outside the kernel/],
    [['--initrd-size', '5', '--initrd-addr', '0x10'], /initrd-addr: 0x10 is not page aligned/],
  ])('rejects %j in one line', (extra, message) => {
    const args = [...SEED];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i]!);
      if (at >= 0) args.splice(at, 2);
      args.push(extra[i]!, extra[i + 1]!);
    }
    expectUserError(memwalk(...args), message);
  });

  it('rejects missing or conflicting sizing options', () => {
    expectUserError(memwalk('--kernel-start', '0x100000', '--kernel-end', '0x112000'), /--nr-pages: required \(or --avail with an optional --dom0-mem\)/);
    expectUserError(memwalk('--kernel-start', '0x100000', '--kernel-end', '0x112000', '--dom0-mem', '1G'), /--avail: needed with --dom0-mem/);
    expectUserError(memwalk('--kernel-start', '0x100000', '--kernel-end', '0x112000', '--dom0-mem', '1G+2G', '--avail', '1000000'), /dom0_mem '1G\+2G': '1G\+2G' has a size after the percentage/);
    expectUserError(memwalk(...SEED, '--avail', '100'), /^memwalk: option '--nr-pages <n>' cannot be used with option '--avail <n>'$/m);
    expectUserError(memwalk('--kernel-end', '0x112000', '--nr-pages', '1'), /--kernel-start: required unless --kernel FILE is given/);
    expectUserError(memwalk('--kernel', join(dir, 'xtf'), '--kernel-start', '0x1000', '--nr-pages', '1'), /^memwalk: option '-k, --kernel <file>' cannot be used with option '--kernel-start <addr>'$/m);
    expectUserError(memwalk(...SEED, '--initrd-size', '1', '--initrd', join(dir, 'initrd.img')), /^memwalk: option '--initrd-size <size>' cannot be used with option '--initrd <file>'$/m);
    expectUserError(memwalk(...SEED, '--avail', '16G', '--nr-pages', '5'), /cannot be used with/);
  });

  it('rejects bad kernel files in one line', () => {
    expectUserError(memwalk('--kernel', dir, '--nr-pages', '1'), /^memwalk: --kernel: '.*' is a directory, not a file$/m);
    expectUserError(memwalk('--kernel', join(dir, 'missing'), '--nr-pages', '1'), /^memwalk: --kernel: '.*missing': no such file$/m);
    expectUserError(memwalk('--kernel', join(dir, 'cut'), '--nr-pages', '1'), /cut: bzImage payload at offset 0xdb4: truncated, payload_length/);
    expectUserError(memwalk('--kernel', join(dir, 'bz2'), '--nr-pages', '1'), /bz2: payload at offset 0xdb4: unsupported payload compression bzip2/);
    expectUserError(memwalk('--kernel', join(dir, 'initrd.img'), '--nr-pages', '1'), /initrd\.img: kernel at offset 0x0: unknown payload compression/);
  });

  it('has --help', () => {
    const r = memwalk('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--dom0-mem <spec>/);
    expect(r.stdout).toMatch(/--print <version>/);
  });
});
