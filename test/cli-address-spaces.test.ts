import { beforeAll, describe, test, expect } from 'vitest';
import { linkSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, BumpAllocator, openDump } from '../src/index.js';
import { memwalk, expectUserError } from './helpers/cli.js';
import { testDir } from './helpers/temp-dir.js';

const dir = testDir('memwalk-spaces-');
const img = join(dir, 'spaces.raw');
const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const hasXxd = spawnSync('xxd', ['-v']).status === 0;

// The bytes around the page boundary at VA 0x401000: the end of PA 0x80000's page, then PA 0x20000.
const tail = Buffer.from('..the end of page one: HELLO', 'latin1');
const head = Buffer.from('WORLD, and page two goes on\x00\x01\xff', 'latin1');

beforeAll(async () => {
  // Root 0x1000: VA 0x400000 -> PA 0x80000 and VA 0x401000 -> PA 0x20000 (user, 4 KiB each),
  // the first 1 MiB of RAM at 0xffff800000000000. Root 0xf0000 copies only the kernel half.
  const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  const a = new BumpAllocator(2, 64);
  e.map(0x1000n, 0x400000n, 0x80000n, 0x1000n, { user: true, write: true }, a);
  e.map(0x1000n, 0x401000n, 0x20000n, 0x1000n, { user: true }, a);
  e.map(0x1000n, 0xffff800000000000n, 0n, 0x100000n, { write: true }, a);
  e.phys.write(0xf0000n + 2048n, e.phys.read(0x1000n + 2048n, 2048));
  e.phys.write(0x81000n - BigInt(tail.length), tail);
  e.phys.write(0x20000n, head);
  await e.phys.save(img);
});

const run = (...args: string[]) => memwalk(...args, '--image', img);

describe('memwalk read', () => {
  test.skipIf(!hasXxd)("prints the bytes across two pages exactly as xxd -o prints them", () => {
    const bytes = Buffer.concat([tail, head]);
    const va = 0x401000 - tail.length;
    writeFileSync(join(dir, 'want.bin'), bytes);
    const want = spawnSync('xxd', ['-o', String(va), join(dir, 'want.bin')], { encoding: 'utf8' }).stdout;
    const r = run('read', '--cr3', '0x1000', `0x${va.toString(16)}`, String(bytes.length));
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(want);
  });

  test('an unmapped page is named with its fault, never printed as zeros', () => {
    const r = run('read', '--cr3', '0x1000', '0x401ff8', '16');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^00401ff8: 0000 0000 0000 0000 /);
    // PT entry 2 of the PT that maps 0x400000 is empty: not-present at level 1.
    expect(lines[1]).toMatch(/^00402000: unreadable, 8 bytes to 0x402008: fault not-present at level 1 \(entry 0x[0-9a-f]+010 = 0x0\)/);
    expect(r.stderr).toMatch(/note: 8 of 16 bytes could not be read/);
    expectUserError(run('read', '--cr3', '0x1000', '--raw', '0x401ff8', '16'), /read: 0x402000 \(8 bytes\) cannot be read: fault not-present/);
  });

  test('--raw --out writes the bytes; --physical reads by physical address; --json lists pieces', () => {
    const out = join(dir, 'raw.bin');
    expect(run('read', '--cr3', '0x1000', '--raw', '--out', out, '0x401000', String(head.length)).code).toBe(0);
    expect(readFileSync(out).equals(head)).toBe(true);
    const p = run('read', '--physical', '0x20000', '5');
    expect(p.stdout).toBe('00020000: 574f 524c 44                             WORLD\n');
    const j = JSON.parse(run('read', '--cr3', '0x1000', '--json', '0x401ffe', '4').stdout);
    expect(j.pieces).toEqual([
      { address: '0x401ffe', bytes: '0000' },
      { address: '0x402000', length: 2, fault: expect.objectContaining({ kind: 'not-present', level: 1 }) },
    ]);
  });
});

describe('memwalk read --out never writes the dump', () => {
  test('--out naming the image, a symbolic link or a hard link to it is refused and the image is unchanged', () => {
    const before = readFileSync(img);
    symlinkSync(img, join(dir, 'sym.raw'));
    linkSync(img, join(dir, 'hard.raw'));
    for (const out of [img, join(dir, 'sym.raw'), join(dir, 'hard.raw')]) {
      expectUserError(run('read', '--physical', '--raw', '--out', out, '0', '0x100'), /--out: .* is the dump .* being read; a dump is never written to/);
    }
    expect(readFileSync(img).equals(before)).toBe(true);
  });

  test('the library: save() of an engine over a dump, onto the dump or a link to it, is refused; elsewhere it writes the edited copy', async () => {
    const before = readFileSync(img);
    const dump = openDump(img);
    dump.engine.phys.write(0x20000n, Buffer.from('EDITED'));
    for (const out of [img, join(dir, 'sym.raw'), join(dir, 'hard.raw')]) {
      await expect(dump.engine.phys.save(out)).rejects.toThrow(/save: path: .* is the dump .* being read; a dump is never written to/);
    }
    expect(readFileSync(img).equals(before)).toBe(true);
    await dump.engine.phys.save(join(dir, 'edited.raw'));
    const edited = readFileSync(join(dir, 'edited.raw'));
    expect(edited.subarray(0x20000, 0x20006).toString('latin1')).toBe('EDITED');
    expect(edited.subarray(0x20006).equals(before.subarray(0x20006))).toBe(true);
    dump.close?.();
  });

  test('--out into a directory that does not exist is one line naming the file, and nothing is left behind', () => {
    expectUserError(run('read', '--physical', '--raw', '--out', join(dir, 'no-such-dir', 'x.bin'), '0', '16'), /--out: .*x\.bin.* cannot be written: ENOENT/);
  });
});

describe('memwalk search, reverse, roots', () => {
  test('search finds the string split over two pages at its VA, and each half through the direct map', () => {
    const r = run('search', '--cr3', '0x1000', '--string', 'HELLOWORLD');
    expect([r.code, r.stdout]).toEqual([0, '0000000000400ffb pa 0000000000080ffb  root 0x1000 (--cr3)\n']);
    const w = run('search', '--cr3', '0x1000', '--hex', '574f524c44', '--json');
    expect(JSON.parse(w.stdout).matches).toEqual([
      { va: '0x401000', pa: '0x20000', roots: ['0x1000'] },
      { va: '0xffff800000020000', pa: '0x20000', roots: ['0x1000'] },
    ]);
    // Over every root: the kernel half the two roots share is searched once and names both.
    expect(JSON.parse(run('search', '--cr3', '0x1000', '--all-roots', '--hex', '574f524c44', '--json').stdout).matches).toEqual([
      { va: '0x401000', pa: '0x20000', roots: ['0x1000'] },
      { va: '0xffff800000020000', pa: '0x20000', roots: ['0x1000', '0xf0000'] },
    ]);
    expect(run('search', '--physical', '--string', 'HELLOWORLD').stderr).toMatch(/note: no match/);
    expectUserError(run('search', '--cr3', '0x1000', '--hex', '57f'), /--hex: '57f' must be pairs of hex digits/);
  });

  test('reverse names both VAs of a frame, the user one and the direct map', () => {
    const r = run('reverse', '--cr3', '0x1000', '0x20010');
    expect(r.stdout).toBe(
      '0000000000020010 <- 0000000000401010   4K -x user  root 0x1000 (--cr3)\n' +
        '0000000000020010 <- ffff800000020010   4K wx supervisor  root 0x1000 (--cr3)\n',
    );
  });

  test('roots finds the table that shares the kernel half, and reverse --all-roots names both roots for the kernel VA', () => {
    const r = run('roots', '--cr3', '0x1000', '--json');
    expect(r.code).toBe(0);
    const spaces = JSON.parse(r.stdout).spaces.map((s: { root: string; userBytes: number; kernelBytes: number; known: unknown[] }) => [s.root, s.userBytes, s.kernelBytes, s.known.length]);
    expect(spaces).toEqual([
      ['0x1000', 8192, 1 << 20, 1],
      ['0xf0000', 0, 1 << 20, 0],
    ]);
    const rev = run('reverse', '--cr3', '0x1000', '--all-roots', '0x20010');
    expect(rev.stdout.split('\n')[1]).toBe('0000000000020010 <- ffff800000020010   4K wx supervisor  root 0x1000 (--cr3), 0xf0000');
  });
});

describe('filters: mappings --range and translate -', () => {
  test('mappings --range lists only the leaves overlapping the range', () => {
    const r = run('mappings', '--cr3', '0x1000', '--range', '0x400800..0x401001');
    expect(r.stdout).toBe(
      '0000000000400000-0000000000401000 -> 0000000000080000   4K wx user\n' + '0000000000401000-0000000000402000 -> 0000000000020000   4K -x user\n',
    );
    expectUserError(run('mappings', '--cr3', '0x1000', '--range', '0x5000..0x4000'), /--range: the end 0x4000 must be above the start 0x5000/);
  });

  test('translate - reads addresses from stdin, one a line, and names a bad line', () => {
    const go = (input: string) => spawnSync(process.execPath, [BIN, 'translate', '--image', img, '--cr3', '0x1000', '-'], { input, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    const r = go('0x400010\n\n# the direct map\n0xffff800000000020\n');
    expect(r.stdout).toBe('0000000000400010 -> 0000000000080010   4K wx user\n' + 'ffff800000000020 -> 0000000000000020   4K wx supervisor\n');
    const bad = go('0x400010\nnope\n');
    expect([bad.status, bad.stderr]).toEqual([1, "memwalk: stdin line 2: 'nope' is not a number (0x... hex or decimal digits)\n"]);
  });
});
