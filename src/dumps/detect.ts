/**
 * Telling dump formats apart by content, never by name. A file with a signature
 * memwalk reads is opened by its reader; a file with a signature memwalk knows but
 * does not read is refused with an UnsupportedFormatError naming the format; only
 * a file with no known signature is a raw image.
 */
import { MalformedFileError, UnsupportedFormatError } from '../errors.js';
import { ElfFile } from '../images/elf.js';
import { ascii, field, hasBytes } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { requireCore } from './elf-core.js';
import { FLAT_SIGNATURE } from './flattened.js';
import { KDUMP_SIGNATURE } from './kdump.js';
import { LIME_MAGIC } from './lime.js';
import { isXenDumpCore } from './xen-dump-core.js';

/** The readers, by the name `--image-format` takes. */
export const DUMP_FORMATS = ['raw', 'elf-core', 'kdump', 'kdump-flat', 'lime', 'xen-dump-core'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

interface Known {
  at: number;
  bytes: Uint8Array;
  name: string;
}

const text = (at: number, s: string, name: string): Known => ({ at, bytes: ascii(s), name });
const magic32 = (v: number, name: string): Known => ({ at: 0, bytes: Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24), name });
const bytesAt0 = (b: number[], name: string): Known => ({ at: 0, bytes: Uint8Array.from(b), name });

/** Signatures of formats memwalk recognises but does not read, with what to tell the user. */
const UNSUPPORTED: readonly Known[] = [
  text(0, 'PAGEDU64', 'a 64-bit Windows crash dump (PAGEDU64)'),
  text(0, 'PAGEDUMP', 'a 32-bit Windows crash dump (PAGEDUMP)'),
  text(0, 'MDMP', 'a Windows minidump (MDMP)'),
  ...['hibr', 'HIBR', 'wake', 'WAKE', 'RSTR', 'rstr'].map((s) => text(0, s, `a Windows hibernation file (${s})`)),
  ...['S1SUSPEND', 'S2SUSPEND', 'ULSUSPEND', 'LINHIB0001'].map((s) => text(4086, s, `a Linux hibernation image in a swap area (${s})`)),
  text(0, 'AVML', 'an AVML memory snapshot (AVML)'),
  ...[0xbed2bed0, 0xbad1bad1, 0xbed2bed2, 0xbed3bed3].map((v) => magic32(v, `a VMware suspended-state or snapshot file (.vmss/.vmsn, magic 0x${v.toString(16)})`)),
  text(0, 'QEVM', 'a QEMU savevm / migration stream (QEVM)'),
  text(0, '\x7fVirtualBox SavedState', 'a VirtualBox saved state'),
  text(0, 'DISKDUMP', 'a diskdump file (DISKDUMP), the format before kdump-compressed'),
  bytesAt0([0x1f, 0x8b], 'a gzip-compressed file: decompress it first'),
  bytesAt0([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz-compressed file: decompress it first'),
  bytesAt0([0x28, 0xb5, 0x2f, 0xfd], 'a zstd-compressed file: decompress it first'),
  bytesAt0([0x04, 0x22, 0x4d, 0x18], 'an lz4-compressed file: decompress it first'),
  text(0, 'BZh', 'a bzip2-compressed file: decompress it first'),
  bytesAt0([0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an AFF4 image?): extract the memory image first'),
];

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 4096;

/**
 * The reader for `bytes`, by content. Throws UnsupportedFormatError for a known
 * format memwalk does not read, MalformedFileError for an empty file or a broken
 * ELF header (an ELF file is never raw).
 */
export function detectFormat(bytes: ByteSource): DumpFormat {
  if (bytes.size === 0) throw new MalformedFileError(`${bytes.name}: the file is empty (offset 0x0): no memory to read`, { file: bytes.name, offset: 0n });
  const head = bytes.read(0, Math.min(DETECT_BYTES, bytes.size));
  if (ElfFile.hasMagic(head)) {
    const elf = new ElfFile(bytes);
    requireCore(elf);
    return isXenDumpCore(elf) ? 'xen-dump-core' : 'elf-core';
  }
  if (hasBytes(head, 0, FLAT_SIGNATURE)) return 'kdump-flat';
  if (hasBytes(head, 0, KDUMP_SIGNATURE)) return 'kdump';
  if (head.length >= 4 && field.u32(head, 0) === LIME_MAGIC) return 'lime';
  for (const k of UNSUPPORTED) {
    if (hasBytes(head, k.at, k.bytes)) {
      throw new UnsupportedFormatError(`${bytes.name}: ${k.name} (signature at offset 0x${k.at.toString(16)}); memwalk does not read this format`, {
        file: bytes.name,
        format: k.name,
        offset: BigInt(k.at),
      });
    }
  }
  return 'raw';
}
