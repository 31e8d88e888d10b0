/**
 * One interface for the physical-memory images memwalk reads:
 *
 * - `raw`: a flat file whose byte at offset N is guest-physical address N;
 * - `qemu-elf`: the ELF core of QEMU's `dump-guest-memory` (qemu-core.ts), whose
 *   PT_LOAD segments place RAM blocks anywhere in the file and whose notes give
 *   each vCPU's control registers.
 *
 * `openImage(path)` tells them apart by the ELF magic and reads only headers.
 * `image.loadInto(target)` then streams the segments into a RAM image chunk by
 * chunk (8 MiB reads by default); holes between segments are not written, so they
 * keep whatever the target holds there (zero for a fresh engine).
 */
import { existingFileSync } from '../util/validate.js';
import { CapacityError, MalformedFileError } from '../errors.js';
import { hex, sizeName } from '../util/numbers.js';
import { ElfFile, bufferSource, fileSource } from './elf.js';
import type { ByteSource } from './elf.js';
import { fileOffsetOf, parseQemuCore } from './qemu-core.js';
import type { PhysSegment, QemuCore, QemuVcpu } from './qemu-core.js';

export type { PhysSegment, QemuVcpu, QemuCore } from './qemu-core.js';

export type ImageKind = 'raw' | 'qemu-elf';

/** Where loadInto copies to: the engine's physical memory, or anything with the same shape. */
export interface LoadTarget {
  /** Size of the RAM image: physical addresses [0, ramBytes) can be written. */
  readonly ramBytes: bigint | number;
  /**
   * Copy `chunk` to physical address `pa`. The chunk's buffer is reused for the
   * next read once this returns, so copy it, do not keep it.
   */
  write(pa: bigint, chunk: Uint8Array): void;
}

/** Called after every chunk with bytes copied so far and the total to copy. */
export type LoadProgress = (done: number, total: number) => void;

export interface LoadOptions {
  /** Bytes per read (default 8 MiB). */
  readonly chunkBytes?: number;
  /**
   * Load only what lies below `ramBytes` instead of refusing the image, and list
   * the parts left out in the result. A QEMU dump of a 512 MiB `pc` guest ends at
   * 4 GiB because of the BIOS ROM segment at 0xfffc0000: with `clip` it fits a
   * 512 MiB RAM image, and page tables are never in that ROM.
   */
  readonly clip?: boolean;
}

export interface LoadResult {
  /** Bytes written to the target. */
  readonly bytesCopied: bigint;
  /** Parts of segments not loaded because they lie at or above ramBytes (only with `clip`). */
  readonly skipped: readonly PhysSegment[];
}

export interface MemoryImage {
  readonly kind: ImageKind;
  /** The path (or name) it was opened from, used in messages. */
  readonly path: string;
  readonly fileSize: bigint;
  /**
   * End (exclusive) of the highest segment: the smallest `ramBytes` that holds the
   * whole image. For a raw image, its size.
   */
  readonly highestAddress: bigint;
  /** Physical runs stored in the file, in ascending physical order, non-overlapping. */
  readonly segments: readonly PhysSegment[];
  /** Per-vCPU paging state (QEMU dumps; empty for raw images). */
  readonly vcpus: readonly QemuVcpu[];
  /** The parsed ELF core (qemu-elf only). */
  readonly core?: QemuCore;
  /** File offset holding physical address `pa`, or undefined when the image has no byte there. */
  fileOffsetOf(pa: bigint): bigint | undefined;
  /**
   * Copy every segment into `target`, chunk by chunk. Refuses, before copying
   * anything, an image that does not fit `target.ramBytes` (unless `clip`).
   */
  loadInto(target: LoadTarget, onProgress?: LoadProgress, options?: LoadOptions): Promise<LoadResult>;
}

export const DEFAULT_CHUNK_BYTES = 8 << 20;

/** Open an image file: a QEMU ELF core when it starts with the ELF magic, else a raw image. */
export function openImage(path: string): MemoryImage {
  existingFileSync(path, 'image');
  return openFromSource(fileSource(path), () => fileSource(path));
}

/** The same for an image held in memory (tests, library users with their own I/O). */
export function imageFromBuffer(bytes: Uint8Array, name: string): MemoryImage {
  return openFromSource(bufferSource(bytes, name), () => bufferSource(bytes, name));
}

function openFromSource(src: ByteSource, reopen: () => ByteSource): MemoryImage {
  try {
    const head = src.read(0, Math.min(4, src.size));
    if (ElfFile.hasMagic(head)) {
      const core = parseQemuCore(new ElfFile(src));
      return makeImage('qemu-elf', src.name, BigInt(src.size), core.segments, core.vcpus, core.highestAddress, reopen, core);
    }
    if (src.size === 0) {
      throw new MalformedFileError(`${src.name}: the image file is empty (offset 0x0): nothing to load`, { file: src.name, offset: 0n });
    }
    const size = BigInt(src.size);
    return makeImage('raw', src.name, size, [{ pa: 0n, fileOffset: 0n, size }], [], size, reopen);
  } finally {
    src.close();
  }
}

function makeImage(
  kind: ImageKind,
  path: string,
  fileSize: bigint,
  segments: readonly PhysSegment[],
  vcpus: readonly QemuVcpu[],
  highestAddress: bigint,
  reopen: () => ByteSource,
  core?: QemuCore,
): MemoryImage {
  return {
    kind,
    path,
    fileSize,
    highestAddress,
    segments,
    vcpus,
    ...(core ? { core } : {}),
    fileOffsetOf: (pa) => fileOffsetOf(segments, pa),
    loadInto: (target, onProgress, options) => loadSegments(path, segments, highestAddress, reopen, target, onProgress, options),
  };
}

async function loadSegments(
  path: string,
  segments: readonly PhysSegment[],
  highestAddress: bigint,
  reopen: () => ByteSource,
  target: LoadTarget,
  onProgress?: LoadProgress,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const ram = BigInt(target.ramBytes);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(`loadInto: chunkBytes must be a positive integer, got ${chunkBytes}`);
  }

  // Decide everything before the first byte moves.
  const plan: PhysSegment[] = [];
  const skipped: PhysSegment[] = [];
  for (const s of segments) {
    const end = s.pa + s.size;
    if (end <= ram) {
      plan.push(s);
    } else if (s.pa >= ram) {
      skipped.push(s);
    } else {
      plan.push({ pa: s.pa, fileOffset: s.fileOffset, size: ram - s.pa });
      skipped.push({ pa: ram, fileOffset: s.fileOffset + (ram - s.pa), size: end - ram });
    }
  }
  if (skipped.length > 0 && !options.clip) {
    const top = segments[segments.length - 1]!;
    throw new CapacityError(
      `${path}: the image needs a RAM image of ${hex(highestAddress)} bytes (${sizeName(highestAddress)}; highest segment ` +
        `${hex(top.pa)}..${hex(top.pa + top.size)}) but the target holds ${hex(ram)} bytes (${sizeName(ram)})`,
      { file: path, needed: highestAddress, ramBytes: ram },
    );
  }

  const total = plan.reduce((n, s) => n + s.size, 0n);
  const totalNum = Number(total);
  let done = 0;
  const src = reopen();
  try {
    const buf = new Uint8Array(Math.max(1, Math.min(chunkBytes, totalNum)));
    for (const s of plan) {
      let off = 0n;
      while (off < s.size) {
        const n = Number(s.size - off < BigInt(buf.length) ? s.size - off : BigInt(buf.length));
        const chunk = src.read(Number(s.fileOffset + off), n, buf);
        target.write(s.pa + off, chunk);
        off += BigInt(n);
        done += n;
        onProgress?.(done, totalNum);
        // Let timers (progress bars) and other work run between chunks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    src.close();
  }
  return { bytesCopied: total, skipped: options.clip ? skipped : [] };
}
