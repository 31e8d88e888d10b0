/** LiME files: per range a 32-byte header (`EMiL`, version 1, inclusive start and end) and the range's bytes. */
import { Bytes, SparseFile, patternFrame } from './sparse.js';

export interface LimeRange {
  start: number;
  /** Bytes in the range. */
  size: number;
  /** Frames (absolute pfns) to fill with patternFrame; the rest is zero. */
  frames?: readonly number[];
}

export function writeLime(ranges: readonly LimeRange[]): { file: SparseFile; headers: number[] } {
  const file = new SparseFile();
  const headers: number[] = [];
  let pos = 0;
  for (const r of ranges) {
    headers.push(pos);
    file.put(pos, new Bytes(32).u32(0, 0x4c694d45).u32(4, 1).u64(8, r.start).u64(16, r.start + r.size - 1).buf);
    for (const pfn of r.frames ?? []) file.put(pos + 32 + (pfn * 4096 - r.start), patternFrame(pfn));
    pos += 32 + r.size;
    file.size = Math.max(file.size, pos);
  }
  return { file, headers };
}
