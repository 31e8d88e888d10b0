import { beforeAll, describe, test, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, BumpAllocator, x86_64_la57, x86_pae, aarch64_4k } from '../src/index.js';
import { memwalk, expectUserError } from './helpers/cli.js';
import { testDir } from './helpers/temp-dir.js';

const dir = testDir('memwalk-cli-');
const img = join(dir, 'tables.raw');
const img5 = join(dir, 'tables5.raw');
const imgPae = join(dir, 'pae.raw');
const imgArm = join(dir, 'arm.raw');

beforeAll(async () => {
  // A kernel-half 2 MiB leaf, three 4 KiB pages after it, and two user pages that are read-only and NX.
  const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  const a = new BumpAllocator(2, 200);
  e.map(0x1000n, 0xffff800000000000n, 0x200000n, 0x203000n, { write: true }, a);
  e.map(0x1000n, 0x400000n, 0xa000n, 0x2000n, { user: true, execute: false }, a);
  await e.phys.save(img);
  const f = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  f.map(0x1000n, 0xff00000000000000n, 0x5000n, 0x1000n, {}, new BumpAllocator(2, 200), { format: x86_64_la57 });
  await f.phys.save(img5);
  // PAE: a 32-byte PDPT at 0x1000; 2 MiB at 0xc0000000 -> 0x400000. Arm 4K: 2 MiB block at 0x40000000 -> 0x200000.
  const g = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  g.map(0x1000n, 0xc0000000n, 0x400000n, 0x200000n, { write: true }, new BumpAllocator(2, 200), { format: x86_pae });
  await g.phys.save(imgPae);
  const h = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  h.map(0x1000n, 0x40000000n, 0x200000n, 0x200000n, { write: false }, new BumpAllocator(2, 200), { format: aarch64_4k });
  await h.phys.save(imgArm);
});

describe('memwalk translate', () => {
  test('human output, one line per address, walk worked out by hand', () => {
    const r = memwalk('translate', '--image', img, '--cr3', '4096', '0xffff800000001234', '0x400fff', '0x0000800000000000');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n')).toEqual([
      'ffff800000001234 -> 0000000000201234   2M wx supervisor',
      '0000000000400fff -> 000000000000afff   4K -- user',
      '0000800000000000 fault non-canonical: the address is outside both canonical halves (no table read)',
      '',
    ]);
  });

  test('--json: one object per address, addresses as lowercase hex strings', () => {
    const r = memwalk('translate', '--image', img, '--cr3', '0x1000', '--json', '--access', 'w', '--user', '0x400010', '0xFFFF800000000010', '0x123456789abcdef0');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { va: '0x400010', fault: { kind: 'protection', level: 1, errorCode: 7, entryAddress: '0x7000', entryValue: '0x800000000000a005' } },
      { va: '0xffff800000000010', fault: { kind: 'protection', level: 2, errorCode: 7, entryAddress: '0x3000', entryValue: '0x200083' } },
      { va: '0x123456789abcdef0', fault: { kind: 'non-canonical', level: 4, errorCode: 0, entryAddress: '0x0', entryValue: '0x0' } },
    ]);
    const ok = JSON.parse(memwalk('translate', '--image', img, '--cr3', '0x1000', '--json', '0xffff800000202008').stdout);
    expect(ok).toEqual([{ va: '0xffff800000202008', pa: '0x402008', pageSize: 4096, level: 1, rights: { write: true, user: false, execute: true } }]);
  });

  test('walk options: --wp 0 lets a supervisor write read-only memory, --nxe 0 makes XD reserved', () => {
    expect(memwalk('translate', '--image', img, '--cr3', '0x1000', '--access', 'w', '--wp', '0', '0x400000').stdout).toMatch(/-> 000000000000a000/);
    expect(memwalk('translate', '--image', img, '--cr3', '0x1000', '--nxe', '0', '0x400000').stdout).toMatch(/fault reserved-bit at level 1/);
  });

  test('--paging 5 walks a PML5 root', () => {
    expect(memwalk('translate', '--image', img5, '--cr3', '0x1000', '--paging', '5', '0xff00000000000abc').stdout).toMatch(/^ff00000000000abc -> 0000000000005abc   4K/);
  });

  test('--paging pae and aarch64_4k walk those formats', () => {
    expect(memwalk('translate', '--image', imgPae, '--cr3', '0x1000', '--paging', 'pae', '0xc0012345').stdout).toBe('00000000c0012345 -> 0000000000412345   2M wx supervisor\n');
    const arm = memwalk('translate', '--image', imgArm, '--cr3', '0x1000', '--paging', 'aarch64_4k', '--access', 'w', '0x40000010', '0x40200000');
    expect(arm.stdout.split('\n')[0]).toMatch(/^0000000040000010 fault protection at level 2/);
    expect(arm.stdout.split('\n')[1]).toMatch(/^0000000040200000 fault not-present at level 2/);
  });

  test('--format qemu-gva2gpa prints what QEMU prints', () => {
    const r = memwalk('translate', '--image', img, '--cr3', '0x1000', '--format', 'qemu-gva2gpa', '0x400123', '0x0', '0xffff800000000000');
    expect(r.stdout).toBe('gpa: 0xa123\nUnmapped\ngpa: 0x200000\n');
  });

  test.each([
    [['--image', '/nonexistent/x.raw', '--cr3', '0x1000', '0x0'], /^memwalk: --image: '\/nonexistent\/x\.raw': no such file$/],
    [['--image', dir, '--cr3', '0x1000', '0x0'], /^memwalk: --image: '.*' is a directory, not a file$/],
    [['--image', img, '--cr3', '0x1000', '0xzz'], /^memwalk: VA: '0xzz' is not a number/],
    [['--image', img, '--cr3', 'xyz', '0x0'], /^memwalk: --cr3: 'xyz' is not a number/],
    [['--image', img, '--cr3', '1000abc', '0x0'], /^memwalk: --cr3: '1000abc' is not a number: hex needs 0x \(0x1000abc\)$/],
    [['--image', img, '--cr3', '0x40000000', '0x0'], /^memwalk: --cr3: 0x40000000 puts the root table at 0x40000000, in no physical range of '.*tables\.raw' \(see memwalk info\)$/],
    [['--image', img, '0x0'], /^memwalk: --cr3: required for raw image/],
    [['--image', img, '--cr3', '0x1000', '--paging', '7', '0x0'], /^memwalk: --paging: '7' is not one of 4, 5/],
    [['--image', img, '--cr3', '0x1000', '--access', 'q', '0x0'], /^memwalk: --access: 'q' is not one of r, w, x/],
    [['--image', img, '--cr3', '0x1000', '--nxe', '2', '0x0'], /^memwalk: --nxe: '2' must be 0 or 1/],
    [['--image', img, '--cr3', '0x1000', '--maxphyaddr', '60', '0x0'], /^memwalk: --maxphyaddr: '60' must be from 32 to 52$/],
    [['--image', img, '--cpu', '1', '0x0'], /^memwalk: --cpu: .* is a raw image without vCPU state/],
    [['--image', img, '--cr3', '0x1000', '--cpu', '1', '0x0'], /^memwalk: option '-c, --cpu <n>' cannot be used with option '--cr3 <addr>'$/],
  ])('bad input %j: one line, exit 1', (args, pattern) => {
    expectUserError(memwalk('translate', ...args), pattern);
  });
});

describe('memwalk mappings', () => {
  test('every leaf in address order', () => {
    const r = memwalk('mappings', '--image', img, '--cr3', '0x1000');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      '0000000000400000-0000000000401000 -> 000000000000a000   4K -- user',
      '0000000000401000-0000000000402000 -> 000000000000b000   4K -- user',
      'ffff800000000000-ffff800000200000 -> 0000000000200000   2M wx supervisor',
    ]);
    expect(r.stdout.trimEnd().split('\n').length).toBe(6);
  });

  test('--limit stops the listing and says so on stderr', () => {
    const r = memwalk('mappings', '--image', img, '--cr3', '0x1000', '--limit', '2');
    expect([r.code, r.stdout.trimEnd().split('\n').length]).toEqual([0, 2]);
    expect(r.stderr).toMatch(/stopped at the limit of 2 mappings; more exist/);
  });

  test('--json', () => {
    const j = JSON.parse(memwalk('mappings', '--image', img, '--cr3', '0x1000', '--json').stdout);
    expect(j.truncated).toBe(false);
    expect(j.count).toBe(6);
    expect(j.mappings[2]).toEqual({ va: '0xffff800000000000', pa: '0x200000', size: 2097152, level: 2, entry: '0x200083', rights: { write: true, user: false, execute: true } });
  });

  test('terminates on a root that maps itself', async () => {
    const e = createEngine({ ramBytes: '64K', ioBytes: 1 << 16 });
    for (let i = 0n; i < 512n; i++) e.phys.write64(0x1000n + i * 8n, 0x1003n);
    const selfMap = join(dir, 'self.raw');
    await e.phys.save(selfMap);
    const r = memwalk('mappings', '--image', selfMap, '--cr3', '0x1000', '--limit', '1000', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.count, j.truncated]).toEqual([1000, true]);
  });

  test('bad --limit and --format', () => {
    expectUserError(memwalk('mappings', '--image', img, '--cr3', '0x1000', '--limit', 'many'), /^memwalk: --limit: 'many' is not a number/);
    expectUserError(memwalk('mappings', '--image', img, '--cr3', '0x1000', '--format', 'csv'), /^memwalk: --format: 'csv' is not one of memwalk, qemu-tlb, qemu-mem/);
  });

  test('an empty image file is a one-line error', () => {
    const empty = join(dir, 'empty.raw');
    writeFileSync(empty, '');
    expectUserError(memwalk('mappings', '--image', empty, '--cr3', '0x0'), /empty/);
  });
});

test('--help works for every command and exits 0', () => {
  for (const c of ['translate', 'mappings']) {
    const r = memwalk(c, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--image <file>/);
  }
});
