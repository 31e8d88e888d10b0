import { beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { createEngine, BumpAllocator } from '../src/index.js';
import { escapeText, parseAddress, parseInteger, parseNumber, parseSize, type NumberKind } from '../src/util/numbers.js';
import { InvalidInputError } from '../src/errors.js';
import { memwalk, expectUserError } from './helpers/cli.js';
import { testDir } from './helpers/temp-dir.js';

// The one number grammar: 0x... hex, bare digits decimal, `_` between digits,
// K/M/G/T/P (KiB, KB) suffixes for sizes only; spellings a writer likely meant
// otherwise (hex digits without 0x, a leading zero) are refused. Expected values
// are worked out by hand.

describe('parseNumber', () => {
  test.each<[string, NumberKind, bigint]>([
    ['0', 'count', 0n],
    ['4096', 'address', 4096n],
    ['0x1000', 'address', 4096n],
    ['0X1f', 'address', 31n],
    ['0xFFFF_8000_0000_0000', 'address', 0xffff800000000000n],
    ['1_000_000', 'count', 1000000n],
    ['0xffffffffffffffff', 'address', 18446744073709551615n],
    ['4K', 'size', 4096n],
    ['4k', 'size', 4096n],
    ['1KiB', 'size', 1024n],
    ['1kb', 'size', 1024n],
    ['512M', 'size', 536870912n],
    ['2G', 'size', 2147483648n],
    ['1T', 'size', 1099511627776n],
    ['0x10M', 'size', 16777216n],
    ['1500', 'size', 1500n],
  ])('%s as %s is %s', (text, kind, value) => {
    expect(parseNumber(text, '--x', kind)).toBe(value);
  });

  test.each<[string, NumberKind, RegExp]>([
    ['', 'count', /^--x: '' is not a number \(0x\.\.\. hex or decimal digits\)$/],
    [' ', 'count', /^--x: ' ' is not a number/],
    [' 1', 'count', /is not a number/],
    ['1 ', 'count', /is not a number/],
    ['1e0', 'count', /^--x: '1e0' is not a number: hex needs 0x \(0x1e0\)$/],
    ['1.0', 'count', /^--x: '1\.0' is not a number/],
    ['-1', 'count', /is not a number/],
    ['+1', 'count', /is not a number/],
    ['0x', 'address', /is not a number/],
    ['0b101', 'count', /is not a number/],
    ['1__0', 'count', /is not a number/],
    ['_1', 'count', /is not a number/],
    ['1_', 'count', /is not a number/],
    ['0x_1', 'address', /is not a number/],
    ['13702abc', 'address', /^--x: '13702abc' is not a number: hex needs 0x \(0x13702abc\)$/],
    ['DEADBEEF', 'address', /hex needs 0x \(0xdeadbeef\)$/],
    ['2B', 'size', /hex needs 0x \(0x2b\)$/],
    ['0400000', 'address', /^--x: '0400000' has a leading zero: write 0x400000 for hex, or drop the zeros for decimal$/],
    ['0000000002a04000', 'address', /hex needs 0x/],
    ['0000000002004000', 'address', /leading zero: write 0x2004000 for hex/],
    ['4K', 'address', /^--x: '4K' is not a number: size suffixes \(K, M, G, T\) are only for sizes/],
    ['1M', 'count', /size suffixes \(K, M, G, T\) are only for sizes \(write a count as 0x\.\.\. hex or decimal digits\)$/],
    ['0x10000000000000000', 'address', /^--x: '0x10000000000000000' does not fit in 64 bits$/],
    ['16384P', 'size', /does not fit in 64 bits/],
    ['4KK', 'size', /is not a number/],
  ])('%j as %s is refused', (text, kind, message) => {
    let err: unknown;
    try {
      parseNumber(text, '--x', kind);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(message);
  });

  test('the kind wrappers and bounds', () => {
    expect(parseAddress('0x1000', 'a')).toBe(4096n);
    expect(parseSize('8K', 's')).toBe(8192n);
    expect(parseInteger('0x10', 'n')).toBe(16);
    expect(() => parseInteger('17', 'n', 16)).toThrow(/^n: '17' is larger than the maximum 16$/);
    expect(() => parseAddress('0x100000000', 'a', 32)).toThrow(/does not fit in 32 bits/);
  });

  test('messages quote values with control characters escaped', () => {
    expect(escapeText('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(escapeText('\u0007\u001b\u007f\u0085')).toBe('\\x07\\x1b\\x7f\\x85');
    expect(escapeText('x\u2028y')).toBe('x\\u2028y');
    expect(() => parseNumber('1\n2', '--x', 'count')).toThrow(/^--x: '1\\n2' is not a number/);
  });
});

describe('the CLI reads every number by the same rule', () => {
  const dir = testDir('memwalk-num-');
  const img = join(dir, 'tables.raw');

  beforeAll(async () => {
    // VA 0x61a80's page (0x61000) and VA 0x400000 map to distinct frames, so the output tells which was walked.
    const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
    const a = new BumpAllocator(2, 200);
    e.map(0x1000n, 0x61000n, 0x7000n, 0x1000n, { write: true }, a, { largestLeaf: 4096 });
    e.map(0x1000n, 0x400000n, 0x9000n, 0x1000n, { write: true }, a, { largestLeaf: 4096 });
    await e.phys.save(img);
  });

  test('--cr3 in decimal and in hex name the same root (no longer read as hex without 0x)', () => {
    const hex = memwalk('translate', '-f', img, '--cr3', '0x1000', '0x400000');
    const dec = memwalk('translate', '-f', img, '--cr3', '4096', '0x400000');
    expect(hex.stdout).toBe('0000000000400000 -> 0000000000009000   4K wx supervisor\n');
    expect([dec.code, dec.stdout, dec.stderr]).toEqual([0, hex.stdout, '']);
  });

  test('a bare VA is decimal: 400000 is 0x61a80, and a note says so', () => {
    const r = memwalk('translate', '-f', img, '--cr3', '0x1000', '400000');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0000000000061a80 -> 0000000000007a80   4K wx supervisor\n');
    expect(r.stderr).toBe('memwalk: note: VA 400000 is read as decimal (0x61a80); for hex write 0x400000\n');
  });

  test('a long bare decimal --cr3 that fails carries the note on its one error line', () => {
    expectUserError(
      memwalk('translate', '-f', img, '--cr3', '42975232', '0x0'),
      /^memwalk: --cr3: 0x28fc000 puts the root table at 0x28fc000, in no physical range of '.*' \(see memwalk info\) \(note: --cr3 42975232 is read as decimal \(0x28fc000\); for hex write 0x42975232\)$/,
    );
  });

  test.each(['', ' ', '1e0', '1.0', '-1', '0x', '1_'])('--cpu %j is refused', (cpu) => {
    expectUserError(memwalk('translate', '-f', img, '--cpu', cpu, '0x0'), /^memwalk: --cpu: '.*' is not a number/);
  });

  test('hex digits without 0x and leading zeros are refused, for addresses and counts alike', () => {
    expectUserError(memwalk('translate', '-f', img, '--cr3', '13702abc', '0x0'), /^memwalk: --cr3: '13702abc' is not a number: hex needs 0x \(0x13702abc\)$/);
    expectUserError(memwalk('translate', '-f', img, '--cr3', '0x1000', 'ffff800000000000'), /^memwalk: VA: 'ffff800000000000' is not a number: hex needs 0x/);
    expectUserError(memwalk('mappings', '-f', img, '--cr3', '0x1000', '--limit', '010'), /^memwalk: --limit: '010' has a leading zero/);
    expectUserError(memwalk('boot-params', '-f', img, '--at', '0000000000001000'), /^memwalk: --at: '0000000000001000' has a leading zero/);
  });

  test('size suffixes where a size is meant, and only there', () => {
    expectUserError(memwalk('scan', '--guest', '4M', '--processes', '1K'), /^memwalk: --processes: '1K' is not a number: size suffixes/);
    expectUserError(memwalk('direct-map', '--paging', '4', '--bank', '1G:1G'), /^memwalk: --bank start: '1G' is not a number: size suffixes/);
    expectUserError(memwalk('dom0-layout', '--kernel-start', '1M', '--kernel-end', '0x112000', '--nr-pages', '1'), /^memwalk: --kernel-start: '1M' is not a number: size suffixes/);
    expectUserError(memwalk('mappings', '-f', img, '--cr3', '4K'), /^memwalk: --cr3: '4K' is not a number: size suffixes/);
    const r = memwalk('scan', '--guest', '0x400000', '--processes', '0x2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).guest).toMatchObject({ memoryBytes: 4194304, processes: 2 });
  });
});
