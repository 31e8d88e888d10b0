import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../src/dumps/detect.js';
import { openSource, sourceFromBytes } from '../src/dumps/open.js';
import { InvalidInputError, MalformedFileError, NotFoundError, UnsupportedFormatError } from '../src/errors.js';
import { bufferSource } from '../src/images/elf.js';
import { writeElfCore } from '../src/perf/dump-writers/elf.js';
import { flatten, writeKdump } from '../src/perf/dump-writers/kdump.js';
import { writeLime } from '../src/perf/dump-writers/lime.js';
import { writeXenDumpCore } from '../src/perf/dump-writers/xen.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { tempDir } from '../src/perf/dump-writers/sparse.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A page of filler after the signature, so nothing but the signature says what the file is. */
function withSignature(at: number, sig: Uint8Array | string): Uint8Array {
  const b = new Uint8Array(8192).fill(0x11);
  b.set(typeof sig === 'string' ? Uint8Array.from(sig, (c) => c.charCodeAt(0)) : sig, at);
  return b;
}

describe('detection by content', () => {
  const kd = writeKdump({ maxMapnr: 8, exists: [[0, 8]], dumped: [0, 1] });
  const supported: [string, Uint8Array, string][] = [
    ['qemu-elf', writeElfCore({ notes: qemuNotes([{ cr0: 0x80000011n, cr3: 0x1000n, cr4: 0x20n }]), segments: [{ pa: 0, fileBytes: 4096 }] }).file.toBuffer(), 'elf-core'],
    ['elf-core', writeElfCore({ segments: [{ pa: 0, fileBytes: 4096 }] }).file.toBuffer(), 'elf-core'],
    ['kdump', kd.file.toBuffer(), 'kdump'],
    ['kdump-flat', flatten(kd.file).file.toBuffer(), 'kdump-flat'],
    ['lime', writeLime([{ start: 0, size: 4096 }]).file.toBuffer(), 'lime'],
    ['xen-dump-core', writeXenDumpCore({ pages: [{ pfn: 0, mfn: 5 }], vcpus: [] }).file.toBuffer(), 'xen-dump-core'],
  ];
  for (const [format, bytes, reader] of supported) {
    it(`${format} is found by its signature and opens with its reader`, () => {
      const path = tmp.path(`${format}.bin.raw`); // the name says raw: only the content counts
      writeFileSync(path, bytes);
      const src = openSource(path);
      expect(src.description.format).toBe(format);
      src.close();
      expect(detectFormat(bufferSource(bytes, 'x'))).toBe(reader);
    });
  }

  const unsupported: [string, number, Uint8Array | string, RegExp][] = [
    ['Windows 64-bit crash dump', 0, 'PAGEDU64', /64-bit Windows crash dump \(PAGEDU64\)/],
    ['Windows 32-bit crash dump', 0, 'PAGEDUMP', /32-bit Windows crash dump \(PAGEDUMP\)/],
    ['Windows minidump', 0, 'MDMP', /Windows minidump/],
    ['Windows hibernation file', 0, 'HIBR', /Windows hibernation file \(HIBR\)/],
    ['Windows hibernation file (wake)', 0, 'wake', /Windows hibernation file \(wake\)/],
    ['Linux hibernation image', 4086, 'S1SUSPEND', /Linux hibernation image .*S1SUSPEND/],
    ['AVML', 0, 'AVML', /AVML memory snapshot/],
    ['VMware .vmss', 0, Uint8Array.of(0xd0, 0xbe, 0xd2, 0xbe), /VMware .*0xbed2bed0/],
    ['VMware .vmsn', 0, Uint8Array.of(0xd3, 0xbe, 0xd3, 0xbe), /VMware .*0xbed3bed3/],
    ['QEMU savevm', 0, 'QEVM', /QEMU savevm/],
    ['VirtualBox saved state', 0, '\x7fVirtualBox SavedState V2.0\n', /VirtualBox saved state/],
    ['diskdump', 0, 'DISKDUMP', /diskdump file/],
    ['gzip', 0, Uint8Array.of(0x1f, 0x8b, 8, 0), /gzip-compressed file: decompress it first/],
    ['xz', 0, Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0), /xz-compressed/],
    ['zstd', 0, Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd), /zstd-compressed/],
    ['ZIP / AFF4', 0, 'PK\x03\x04', /ZIP archive/],
  ];
  for (const [what, at, sig, message] of unsupported) {
    it(`${what} is named, not read as raw`, () => {
      const path = tmp.path(`${what.replace(/\W+/g, '-')}.img`);
      writeFileSync(path, withSignature(at, sig));
      let err: unknown;
      try {
        openSource(path).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedFormatError);
      const m = (err as Error).message;
      expect(m.startsWith(`${path}: `)).toBe(true);
      expect(m).not.toContain('\n');
      expect(m).toMatch(message);
      // Forcing a reader still works: the user said it is raw.
      const forced = openSource(path, { format: 'raw' });
      expect(forced.description.format).toBe('raw');
      forced.close();
    });
  }

  it('a file with a supported signature but a broken header is an error, never raw', () => {
    const broken = kd.file.toBuffer().slice(0, 200);
    expect(() => sourceFromBytes(bufferSource(broken, 'cut.kdump'))).toThrow(MalformedFileError);
    const elf = new Uint8Array(30);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(() => sourceFromBytes(bufferSource(elf, 'cut.elf'))).toThrow(MalformedFileError);
  });

  it('no signature: raw; an empty file, a missing file, a directory and an unknown forced format are typed errors', () => {
    expect(detectFormat(bufferSource(new Uint8Array(4096), 'zero.img'))).toBe('raw');
    expect(() => sourceFromBytes(bufferSource(new Uint8Array(0), 'empty.img'))).toThrow(/^empty\.img: the file is empty/);
    expect(() => openSource(tmp.path('nope'))).toThrow(NotFoundError);
    expect(() => openSource(tmp.dir)).toThrow(InvalidInputError);
    expect(() => sourceFromBytes(bufferSource(new Uint8Array(4096), 'x.img'), { format: 'vmdk' as never })).toThrow(/image format 'vmdk' is not one of raw, elf-core/);
  });
});
