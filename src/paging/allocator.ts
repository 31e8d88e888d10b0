import { CapacityError, InvalidInputError } from '../errors.js';
import { wholeNumber } from '../util/validate.js';

/**
 * Where page-table pages come from. `allocate(n)` returns the first frame number
 * of `n` contiguous free 4 KiB frames (n > 1 for 16 KiB / 64 KiB granule tables),
 * or undefined when none is left. `free` takes back what map did not use.
 */
export interface FrameAllocator {
  allocate(frames?: number): number | undefined;
  free?(frame: number, frames?: number): void;
}

/** Hands out frames upward from `first` to `end` (exclusive), like a boot allocator. */
export class BumpAllocator implements FrameAllocator {
  private next: number;
  private readonly freed: number[] = [];

  constructor(first: number, readonly end: number) {
    wholeNumber(first, 'BumpAllocator: first');
    wholeNumber(end, 'BumpAllocator: end');
    if (end < first) throw new InvalidInputError(`BumpAllocator: frames [${first}, ${end}) is not a range of frame numbers`);
    this.next = first;
  }

  allocate(frames = 1): number | undefined {
    wholeNumber(frames, 'allocate: frames', 1);
    if (frames === 1 && this.freed.length) return this.freed.pop();
    const aligned = Math.ceil(this.next / frames) * frames;
    if (aligned + frames > this.end) return undefined;
    this.next = aligned + frames;
    return aligned;
  }

  free(frame: number, frames = 1): void {
    wholeNumber(frame, 'free: frame');
    wholeNumber(frames, 'free: frames', 1);
    if (frame + frames === this.next) this.next = frame;
    else for (let i = 0; i < frames; i++) this.freed.push(frame + i);
  }

  /** Frames still available. */
  get remaining(): number {
    return this.end - this.next + this.freed.length;
  }
}

/** Allocate `n` units of `frames` frames each, or give them all back and throw. */
export function allocateAll(allocator: FrameAllocator, n: number, frames: number, what: string): number[] {
  const got: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = allocator.allocate(frames);
    if (f === undefined) {
      // Last first: a bump allocator is then exactly as it was.
      for (let k = got.length - 1; k >= 0; k--) allocator.free?.(got[k]!, frames);
      throw new CapacityError(`${what}: the frame allocator ran out after ${got.length} of ${n} table pages; nothing was mapped`, {
        needed: n,
        got: got.length,
        missing: n - got.length,
      });
    }
    got.push(f);
  }
  return got;
}
