import { beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, BumpAllocator } from '../src/index.js';
import { writeQemuCore } from './helpers/qemu-core-writer.js';
import { buildBzImage } from './fixtures/dom0/build-kernel.js';
import { memwalk, expectUserError } from './helpers/cli.js';
import { readFileSync } from 'node:fs';
import { testDir } from './helpers/temp-dir.js';

// What the commands print on ordinary input: no stray notes, one way to show
// rights, summaries whose numbers add up, defaults that work.

const dir = testDir('memwalk-out-');

describe('translate and mappings', () => {
  const img = join(dir, 'tables.raw');
  const pc = join(dir, 'pc.elf');

  beforeAll(async () => {
    const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
    const a = new BumpAllocator(2, 200);
    e.map(0x1000n, 0x400000n, 0x9000n, 0x1000n, { write: true, user: true, execute: false }, a, { largestLeaf: 4096 });
    e.map(0x1000n, 0xffff800000000000n, 0x200000n, 0x200000n, {}, a);
    await e.phys.save(img);
    // A QEMU `pc` machine's dump: RAM low, and the 256 KiB BIOS ROM just below 4 GiB, beyond what the engine loads.
    const tables = new Uint8Array(readFileSync(img)).subarray(0, 0x10000);
    writeFileSync(pc, writeQemuCore({ vcpus: [{ cr3: 0x1000n, cr4: 0x6f0n }], blocks: [{ pa: 0n, data: tables }, { pa: 0xfffc0000n, data: 0x40000 }] }));
  });

  test('the same rights text on both: size, w/x, user or supervisor', () => {
    const t = memwalk('translate', '-f', img, '--cr3', '0x1000', '0x400000', '0xffff800000000000');
    expect(t.stdout).toBe('0000000000400000 -> 0000000000009000   4K w- user\nffff800000000000 -> 0000000000200000   2M -x supervisor\n');
    const m = memwalk('mappings', '-f', img, '--cr3', '0x1000');
    expect(m.stdout).toBe(
      '0000000000400000-0000000000401000 -> 0000000000009000   4K w- user\n' +
        'ffff800000000000-ffff800000200000 -> 0000000000200000   2M -x supervisor\n',
    );
  });

  test('a non-canonical address says so, without a made-up entry', () => {
    const r = memwalk('translate', '-f', img, '--cr3', '0x1000', '0x800000000000');
    expect(r.stdout).toBe('0000800000000000 fault non-canonical: the address is outside both canonical halves (no table read)\n');
    expect(r.stdout).not.toMatch(/entry 0x0 = 0x0/);
  });

  test('an ordinary pc dump (BIOS ROM below 4 GiB) walks without a note on stderr', () => {
    for (const args of [['translate', '-f', pc, '0x400000'], ['mappings', '-f', pc]]) {
      const r = memwalk(...args);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^0000000000400000.* -> 0000000000009000 +4K w- user$/m);
    }
    expect(memwalk('info', '-f', pc).stdout).toMatch(/0xfffc0000\.\.0x100000000 +256K/);
  });
});

test('scan: the L4 counts add up', () => {
  // 3 processes, none prefilled: the run fills all 3; the faithful loop then meets the first again and stops.
  const r = memwalk('scan', '--guest', '4M', '--processes', '3');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^L4 tables +3 of 3 have the slot set: 3 filled by this run, 0 set before it$/m);
  expect(r.stdout).toMatch(/^already set +the loop met 1 L4 with the slot already set \(the faithful loop stops at the first\)$/m);
  const p = memwalk('scan', '--guest', '4M', '--processes', '3', '--prefilled', '1', '--strategy', 'counted');
  expect(p.stdout).toMatch(/^L4 tables +3 of 3 have the slot set: 2 filled by this run, 1 set before it$/m);
});

describe('dom0-layout and dom0-build', () => {
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');

  beforeAll(() => {
    writeFileSync(kernel, buildBzImage(new Uint8Array(readFileSync(new URL('./fixtures/dom0/linux64.elf.xz', import.meta.url)))));
    writeFileSync(initrd, new Uint8Array(30 * 1024 * 1024 + 123));
  });

  test('dom0-build works on its own defaults: the initrd goes just above the allocation', () => {
    const args = ['--kernel', kernel, '--initrd', initrd, '--dom0-mem', '1500M', '--avail', '16G'];
    const layout = memwalk('dom0-layout', ...args);
    expect(layout.code).toBe(0);
    const alloc = /^ Dom0 alloc\.: +([0-9a-f]{16})->([0-9a-f]{16})/m.exec(layout.stdout)!;
    const rd = /^ Init\. ramdisk: +([0-9a-f]{16})->([0-9a-f]{16})$/m.exec(layout.stdout)!;
    expect(BigInt('0x' + rd[1])).toBe(BigInt('0x' + alloc[2]));
    expect(BigInt('0x' + rd[2]) - BigInt('0x' + rd[1])).toBe(30n * 1024n * 1024n + 123n);
    const build = memwalk('dom0-build', ...args);
    expect([build.code, build.stderr]).toEqual([0, '']);
    expect(build.stdout).toMatch(/^Walk: (\d+) of \1 pages map where the layout puts them/m);
  });

  test.each(['dom0-layout', 'dom0-build'])('%s --kernel DIR is one line naming the option', (cmd) => {
    expectUserError(memwalk(cmd, '--kernel', dir, '--nr-pages', '100000'), /^memwalk: --kernel: '.*' is a directory, not a file$/);
  });
});
