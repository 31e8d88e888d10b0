/**
 * Where physical memory comes from. An engine's physical memory is a cache over
 * one PhysicalSource: the kernels ask the cache for a frame, and the cache asks
 * the source only for frames it does not hold. Sources are synchronous (positioned
 * reads of a file descriptor in Node, FileReaderSync over a File slice in a
 * browser worker), so a kernel can fault a frame in without unwinding.
 *
 * A source never writes: writes to an engine over a source land in the engine's
 * own copy of the frame (copy-on-write); the dump is never touched.
 */
import type { QemuVcpu } from './vcpu.js';

export const FRAME_SIZE = 4096;

/** One run of physical memory the source has: [start, end), frame-aligned. */
export interface PhysRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** What the source can say about a frame it is asked for. */
export const FrameState = {
  /** The frame's bytes were written to `out`. */
  Present: 0,
  /**
   * The frame is inside the machine's RAM but the dump left it out as zero (a
   * kdump's dumpable bitmap, a Xen dump-core page the guest did not have):
   * `out` holds zeros, and the caller reports it as a hole where its API does.
   */
  Excluded: 1,
  /** No range of the source holds this frame (a gap between segments, beyond RAM). */
  Absent: 2,
} as const;
export type FrameState = (typeof FrameState)[keyof typeof FrameState];

/** The format-specific facts a dump carries, for `memwalk info` and `openDump`. */
export interface SourceDescription {
  /** Reader name: 'raw', 'memory', 'elf-core', 'qemu-elf', 'kdump-flat', 'kdump', 'lime', 'xen-dump-core'. */
  readonly format: string;
  /** Path or name it was opened from (used in every message about it). */
  readonly name: string;
  readonly fileSize?: bigint;
  /** Per-page compression seen or declared: 'none', 'zlib', 'lzo', 'snappy', 'zstd' (several for kdump). */
  readonly compression?: readonly string[];
  /** Architecture, when the dump says: 'x86_64', 'i386', 'aarch64', ... */
  readonly machine?: string;
  /** vCPU paging state, as for QEMU ELF cores (empty when the dump has none). */
  readonly vcpus: readonly QemuVcpu[];
  /** Any further header facts worth printing (kdump utsname, Xen domain id, ...). */
  readonly details?: Readonly<Record<string, string | number | bigint | boolean>>;
}

export interface PhysicalSource {
  readonly description: SourceDescription;
  /** Physical ranges with contents, ascending and non-overlapping. */
  readonly ranges: readonly PhysRange[];
  /** One past the highest physical address any range holds. */
  readonly end: bigint;
  /**
   * Copy frame `pfn` (physical address pfn * 4096) into `out` (4096 bytes).
   * Never throws for a frame the source does not hold (returns Absent, `out`
   * zeroed); throws a MalformedFileError naming the file, the structure and
   * the offset when the dump is corrupt where that frame is stored.
   */
  readFrame(pfn: number, out: Uint8Array): FrameState;
  /** Release file handles (idempotent). */
  close(): void;
}
