/**
 * A physical source whose memory is a list of extents stored verbatim in one
 * file: a raw image (one extent), ELF cores (one per PT_LOAD), LiME (one per
 * range). The extent list is the whole index; a frame costs one positioned read
 * (two or more only where extents start or end inside the frame).
 */
import { FRAME_SIZE, FrameState } from '../memory/source.js';
import type { PhysRange, PhysicalSource, SourceDescription } from '../memory/source.js';
import { hex } from '../util/numbers.js';
import { PHYS_LIMIT, malformedFile } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { partitionPoint } from '../util/partition-point.js';

export interface Extent {
  /** Physical address of the first byte. */
  readonly start: number;
  /** Physical bytes covered; those past `fileBytes` read as zero (Excluded), as an ELF p_memsz tail. */
  readonly memBytes: number;
  /** Bytes stored in the file from `fileOffset`. */
  readonly fileBytes: number;
  readonly fileOffset: number;
  /** The structure that declared it and where, for messages: "program header 3", 0x100. */
  readonly structure: string;
  readonly structureOffset: number;
}

/**
 * Check extents against the file and each other, and sort them. Empty extents are
 * dropped; overlapping ones, ones past the file's end or beyond 52-bit physical
 * space are refused with the structure that declared them.
 */
export function checkExtents(bytes: ByteSource, extents: readonly Extent[]): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    if (e.fileBytes > e.memBytes) {
      throw malformedFile(bytes.name, e.structure, e.structureOffset, `stores ${hex(e.fileBytes)} bytes for a ${hex(e.memBytes)}-byte range`);
    }
    if (e.fileOffset + e.fileBytes > bytes.size) {
      throw malformedFile(
        bytes.name,
        e.structure,
        e.structureOffset,
        `its ${hex(e.fileBytes)} bytes at file offset ${hex(e.fileOffset)} run past the end of the file (size ${hex(bytes.size)})`,
      );
    }
    if (e.start + e.memBytes > PHYS_LIMIT) {
      throw malformedFile(
        bytes.name,
        e.structure,
        e.structureOffset,
        `physical range ${hex(BigInt(e.start))}..${hex(BigInt(e.start) + BigInt(e.memBytes))} goes beyond the 52-bit physical address space`,
      );
    }
    if (e.memBytes > 0) out.push(e);
  }
  out.sort((a, b) => a.start - b.start);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1]!;
    const cur = out[i]!;
    if (cur.start < prev.start + prev.memBytes) {
      throw malformedFile(
        bytes.name,
        cur.structure,
        cur.structureOffset,
        `physical range ${hex(cur.start)}..${hex(cur.start + cur.memBytes)} overlaps ${prev.structure} (${hex(prev.start)}..${hex(prev.start + prev.memBytes)})`,
      );
    }
  }
  return out;
}

/** Frame-aligned ranges covering sorted, non-overlapping byte runs, adjacent ones merged. */
export function frameRanges(runs: Iterable<{ start: number; end: number }>): PhysRange[] {
  const out: { start: number; end: number }[] = [];
  for (const r of runs) {
    const start = Math.floor(r.start / FRAME_SIZE) * FRAME_SIZE;
    const end = Math.ceil(r.end / FRAME_SIZE) * FRAME_SIZE;
    const last = out[out.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out.map((r) => ({ start: BigInt(r.start), end: BigInt(r.end) }));
}

export class ExtentSource implements PhysicalSource {
  readonly ranges: readonly PhysRange[];
  readonly end: bigint;
  private readonly starts: Float64Array;
  private readonly memEnds: Float64Array;
  private readonly fileEnds: Float64Array;
  private readonly offsets: Float64Array;

  /** `extents` as returned by checkExtents. The source owns `bytes` and closes it. */
  constructor(
    readonly description: SourceDescription,
    private readonly bytes: ByteSource,
    extents: readonly Extent[],
  ) {
    const n = extents.length;
    this.starts = new Float64Array(n);
    this.memEnds = new Float64Array(n);
    this.fileEnds = new Float64Array(n);
    this.offsets = new Float64Array(n);
    extents.forEach((e, i) => {
      this.starts[i] = e.start;
      this.memEnds[i] = e.start + e.memBytes;
      this.fileEnds[i] = e.start + e.fileBytes;
      this.offsets[i] = e.fileOffset;
    });
    this.ranges = frameRanges(extents.map((e) => ({ start: e.start, end: e.start + e.memBytes })));
    this.end = this.ranges.length ? this.ranges[this.ranges.length - 1]!.end : 0n;
  }

  readFrame(pfn: number, out: Uint8Array): FrameState {
    const pa = pfn * FRAME_SIZE;
    const paEnd = pa + FRAME_SIZE;
    // Last extent starting below the frame's end; extents before it end earlier still.
    let i = partitionPoint(this.starts.length, (k) => this.starts[k]! < paEnd) - 1;
    if (i < 0 || this.memEnds[i]! <= pa) {
      out.fill(0, 0, FRAME_SIZE);
      return FrameState.Absent;
    }
    if (this.starts[i]! <= pa && this.fileEnds[i]! >= paEnd) {
      this.bytes.read(this.offsets[i]! + (pa - this.starts[i]!), FRAME_SIZE, out);
      return FrameState.Present;
    }
    // The frame holds an extent boundary: zero it, then copy every stored piece.
    out.fill(0, 0, FRAME_SIZE);
    let state: FrameState = FrameState.Excluded;
    for (; i >= 0 && this.memEnds[i]! > pa; i--) {
      const from = Math.max(pa, this.starts[i]!);
      const to = Math.min(paEnd, this.fileEnds[i]!);
      if (to > from) {
        this.bytes.read(this.offsets[i]! + (from - this.starts[i]!), to - from, out.subarray(from - pa));
        state = FrameState.Present;
      }
    }
    return state;
  }

  close(): void {
    this.bytes.close();
  }
}
