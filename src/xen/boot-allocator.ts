/**
 * The hypervisor's boot allocator, as the direct-map setup uses it: the free
 * parts of the RAM banks are handed to it (never the reserved regions), and
 * page-table pages are then taken from it.
 *
 * The engine keeps the contents of physical [0, ramBytes) only, so a table page
 * must come from a free frame inside that image: the allocator holds every free
 * frame (they all count as free memory) but gives out only those below the
 * image's end, lowest first. It remembers which bank each page came from.
 */
import type { FrameAllocator } from '../paging/allocator.js';
import { InvalidInputError } from '../errors.js';

interface FreeRange {
  start: number;
  end: number;
  bank: number;
}

export class BootAllocator implements FrameAllocator {
  /** Free frames, sorted by start, non-overlapping. */
  private ranges: FreeRange[] = [];
  /** Every frame given out: frame -> bank. */
  readonly taken = new Map<number, number>();

  /** @param imageFrames frames [0, imageFrames) have contents: only they can hold tables. */
  constructor(readonly imageFrames: number) {}

  /** Hand frames [start, end) of bank `bank` to the allocator. */
  addRange(start: number, end: number, bank: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new InvalidInputError(`boot allocator: frames [${start}, ${end}) is not a range of frame numbers`);
    }
    if (start === end) return;
    for (const r of this.ranges) {
      if (start < r.end && r.start < end) {
        throw new InvalidInputError(`boot allocator: frames [${start}, ${end}) overlap free frames [${r.start}, ${r.end}) already given`);
      }
    }
    this.ranges.push({ start, end, bank });
    this.ranges.sort((a, b) => a.start - b.start);
  }

  /** The lowest `frames` contiguous free frames inside the image, aligned on `frames`. */
  allocate(frames = 1): number | undefined {
    for (const [i, r] of this.ranges.entries()) {
      const f = Math.ceil(r.start / frames) * frames;
      if (f + frames > r.end || f + frames > this.imageFrames) continue;
      const rest: FreeRange[] = [];
      if (f > r.start) rest.push({ start: r.start, end: f, bank: r.bank });
      if (f + frames < r.end) rest.push({ start: f + frames, end: r.end, bank: r.bank });
      this.ranges.splice(i, 1, ...rest);
      for (let k = 0; k < frames; k++) this.taken.set(f + k, r.bank);
      return f;
    }
    return undefined;
  }

  free(frame: number, frames = 1): void {
    const bank = this.taken.get(frame) ?? -1;
    for (let k = 0; k < frames; k++) this.taken.delete(frame + k);
    this.ranges.push({ start: frame, end: frame + frames, bank });
    this.ranges.sort((a, b) => a.start - b.start);
  }

  /** Free frames (inside the image or not). */
  get freeFrames(): number {
    return this.ranges.reduce((n, r) => n + r.end - r.start, 0);
  }

  /** Free frames that can hold page tables (inside the image). */
  get freeInImage(): number {
    return this.ranges.reduce((n, r) => n + Math.max(0, Math.min(r.end, this.imageFrames) - r.start), 0);
  }
}
