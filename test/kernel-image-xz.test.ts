import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedFileError } from '../src/errors.js';
import { bcjX86Decode, crc32, decodeLzmaAlone, decodeXz } from '../src/images/xz.js';
import { readKernelImage } from '../src/xen/kernel-image.js';
import { buildBzImage, codeFill, concat, le32, linuxElf } from './fixtures/dom0/build-kernel.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/dom0/${name}`, import.meta.url)));
const hasXz = spawnSync('xz', ['--version']).status === 0;

describe('committed fixtures (made once with xz, see make-fixtures.ts)', () => {
  it('decodes an xz payload with the x86 BCJ filter and Linux\'s size trailer', () => {
    const xz = fixture('linux64.elf.xz');
    const elf = linuxElf();
    expect(decodeXz(xz)).toEqual(elf);
    // The trailer is the uncompressed size, as Linux appends it.
    expect(new DataView(xz.buffer, xz.byteOffset + xz.length - 4).getUint32(0, true)).toBe(elf.length);
  });

  it('decodes a legacy .lzma payload (unknown size, end marker)', () => {
    expect(decodeLzmaAlone(fixture('linux64.elf.lzma'))).toEqual(linuxElf());
  });

  it('reads a bzImage with an xz payload, like a distribution kernel', () => {
    const k = readKernelImage(buildBzImage(fixture('linux64.elf.xz')), 'vmlinuz');
    expect(k).toMatchObject({ container: 'bzImage', compression: 'xz', virtBase: 0xffffffff80000000n, kernelStart: 0xffffffff81000000n, kernelEnd: 0xffffffff83a2b000n, p2mBase: 0x8000000000n, unmappedInitrd: true });
    expect(readKernelImage(buildBzImage(fixture('linux64.elf.lzma')), 'vmlinuz').compression).toBe('lzma');
  });

  it('reports corrupt xz data with the offset in the kernel file', () => {
    const xz = fixture('linux64.elf.xz').slice();
    xz[200] ^= 0x55; // inside the LZMA2 data of the first block
    let err: unknown;
    try {
      readKernelImage(buildBzImage(xz), 'vmlinuz');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedFileError);
    expect((err as Error).message).toMatch(/^vmlinuz: xz payload at offset 0x[0-9a-f]+: /);
    expect((err as MalformedFileError).details.offset).toBeGreaterThanOrEqual(0xdb4);
    const cut = fixture('linux64.elf.xz').subarray(0, 3000);
    expect(() => decodeXz(cut, 'cut.xz')).toThrow(/^cut\.xz: xz payload at offset 0x[0-9a-f]+: /);
    const badHeader = fixture('linux64.elf.xz').slice();
    badHeader[7] = 0x0f; // check type changed: the stream flags CRC no longer matches
    expect(() => decodeXz(badHeader, 'h.xz')).toThrow(/^h\.xz: xz payload at offset 0x6: xz stream flags CRC32 does not match$/);
  });

  it('computes CRC32 like zlib (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('BCJ x86 leaves data without E8/E9 opcodes alone', () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    bcjX86Decode(buf);
    expect(buf).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  });
});

describe.skipIf(!hasXz)('round trips through the xz tool', () => {
  const sample = (n: number, seed: number): Uint8Array => {
    const out = new Uint8Array(n);
    let x = seed >>> 0;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Mostly code-like bytes with runs, so matches, reps and literals all occur.
      out[i] = i % 97 < 40 ? codeFill(i) : i % 97 < 70 ? (x >>> 24) & 0xff : out[i - 7] ?? 0;
    }
    return out;
  };

  it.each([
    [['--check=crc32', '--x86', '--lzma2=preset=6,dict=1MiB']],
    [['--check=crc64', '-0']],
    [['--check=sha256', '-9']],
    [['--check=none', '--lzma2=lc=0,lp=2,pb=0']],
    [['--check=crc32', '--x86=start=4096', '--lzma2=lc=4,lp=0,pb=4']],
    [['--check=crc32', '--block-size=40000']],
  ])('xz %j', (args) => {
    const data = sample(150_000, args.length);
    const xz = execFileSync('xz', ['-c', ...args], { input: data, maxBuffer: 1 << 26 });
    expect(decodeXz(concat([xz, le32(data.length)]))).toEqual(data);
  });

  it('concatenated streams with stream padding', () => {
    const a = sample(5000, 1);
    const b = sample(7000, 2);
    const xa = execFileSync('xz', ['-c'], { input: a });
    const xb = execFileSync('xz', ['-c', '--x86', '--lzma2=preset=6'], { input: b });
    expect(decodeXz(concat([xa, new Uint8Array(8), xb]))).toEqual(concat([a, b]));
  });

  it('empty input and incompressible input', () => {
    expect(decodeXz(execFileSync('xz', ['-c'], { input: new Uint8Array(0) }))).toEqual(new Uint8Array(0));
    const noise = new Uint8Array(70_000).map((_, i) => (Math.imul(i, 2654435761) >>> 13) & 0xff);
    expect(decodeXz(execFileSync('xz', ['-c'], { input: noise }))).toEqual(noise);
  });

  it('.lzma from stdin (unknown size, end marker) and with odd lc/lp/pb', () => {
    const data = sample(50_000, 9);
    expect(decodeLzmaAlone(execFileSync('xz', ['--format=lzma', '-c'], { input: data }))).toEqual(data);
    expect(decodeLzmaAlone(execFileSync('xz', ['--format=lzma', '--lzma1=lc=1,lp=3,pb=1', '-c'], { input: data }))).toEqual(data);
  });
});
