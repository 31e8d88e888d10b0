// Giving frames of the free pool to a domain and taking them back. The pool is
// every frame whose owner is OWNER_NONE; a pattern names which frames, the
// order says in which order they join the domain's page list. The kernels do the
// per-frame work; a large allocation runs in slices so a progress bar can move.
import { assertScratchFree } from '../core/scratch-lease.js';
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import type { ProgressCallback } from '../util/progress.js';
import { frameError } from './refusal.js';
import { NO_FRAME, checkFrameNumber } from './frame-info.js';

/** The order in which allocated frames join the page list. */
export type AllocationOrder = 'ascending' | 'random';

/**
 * Which frames: element k (0 <= k < count) of the pattern is frame
 * `first + floor(k / chunk) * stride + k % chunk`. chunk = stride = 1 (the default)
 * is the contiguous range [first, first + count).
 */
export interface FramePattern {
  readonly first: number;
  readonly count: number;
  readonly chunk?: number;
  readonly stride?: number;
}

export interface AllocateOptions extends FramePattern {
  readonly order?: AllocationOrder;
  /** Seed of the random order (any u32; default 1). */
  readonly seed?: number;
  readonly onProgress?: ProgressCallback;
}

/** Frames handed to the kernel per call, so progress can be reported. */
const SLICE = 1 << 22;

/** Frame number of element k of a pattern. */
export function patternFrame(p: FramePattern, k: number): number {
  const chunk = p.chunk ?? 1;
  const stride = p.stride ?? chunk;
  return p.first + Math.floor(k / chunk) * stride + (k % chunk);
}

function checkPattern(ctx: EngineContext, p: FramePattern): { chunk: number; stride: number } {
  const chunk = p.chunk ?? 1;
  const stride = p.stride ?? chunk;
  for (const [name, v] of [['first', p.first], ['count', p.count], ['chunk', chunk], ['stride', stride]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) {
      throw new InvalidInputError(`allocate: ${name} ${v} must be a whole number from 0 to 2^32-1`, { input: name, value: v });
    }
  }
  if (chunk < 1) throw new InvalidInputError(`allocate: chunk ${chunk} must be at least 1`, { input: 'chunk', value: chunk });
  if (stride < chunk) {
    throw new InvalidInputError(`allocate: stride ${stride} must be at least chunk ${chunk} (elements would repeat)`, { input: 'stride', value: stride });
  }
  if (p.count > 0) {
    const last = patternFrame(p, p.count - 1);
    if (last >= ctx.layout.frames) {
      throw new InvalidInputError(
        `allocate: the pattern's last frame ${hex(last)} is beyond the frame table (${ctx.layout.frames} frames)`,
        { input: 'count', value: p.count, last },
      );
    }
  }
  return { chunk, stride };
}

/**
 * Allocate the frames of `pattern` to domain `dom`, appending them to its page
 * list in ascending pattern order or in a seeded random order. All or nothing:
 * if any frame is not free, nothing is allocated and the error names it.
 */
export function allocate(ctx: EngineContext, dom: number, options: AllocateOptions): void {
  const { chunk, stride } = checkPattern(ctx, options);
  const k = ctx.backend.frames;
  const busy = k.allocCheck(options.first, chunk, stride, options.count) >>> 0;
  if (busy !== NO_FRAME) {
    throw new InvalidInputError(`allocate: frame ${hex(busy)} of the pattern is not free [not-free]`, { rule: 'not-free', frame: busy });
  }
  const order = options.order === 'random' ? A.ORDER_RANDOM : A.ORDER_ASCENDING;
  if (options.order !== undefined && options.order !== 'ascending' && options.order !== 'random') {
    throw new InvalidInputError(`order: '${options.order}' is not one of ascending, random`, { input: 'order', value: options.order });
  }
  const seed = (options.seed ?? 1) >>> 0;
  const n = options.count;
  // Half the progress for claiming (sequential), half for linking (the list order).
  for (let from = 0; from < n; from += SLICE) {
    const to = Math.min(n, from + SLICE);
    const rc = k.allocClaim(dom, options.first, chunk, stride, from, to);
    if (rc !== A.TE_OK) {
      // Only a missing domain can fail here (the pattern was checked free).
      throw frameError(rc, 'allocate', `domain ${dom}`);
    }
    options.onProgress?.(Math.floor(to / 2), n);
  }
  for (let from = 0; from < n; from += SLICE) {
    const to = Math.min(n, from + SLICE);
    k.allocLink(dom, options.first, chunk, stride, n, from, to, order, seed);
    options.onProgress?.(Math.floor((n + to) / 2), n);
  }
}

/** Allocate exactly these frames, in this order, to `dom` (all or nothing). */
export function allocateFrames(ctx: EngineContext, dom: number, frames: ArrayLike<number>): void {
  const e = ctx;
  const per = Math.floor(e.layout.ioBytes / 4);
  if (frames.length > per) {
    throw new InvalidInputError(`allocateFrames: ${frames.length} frames exceed one I/O buffer (${per}); use allocate() with a pattern`, {
      input: 'frames',
    });
  }
  for (let i = 0; i < frames.length; i++) checkFrameNumber(e, frames[i]!);
  assertScratchFree(e, 'allocateFrames');
  const buf = new Uint32Array(e.memory.buffer, e.layout.ioBase, frames.length);
  for (let i = 0; i < frames.length; i++) buf[i] = frames[i]!;
  const rc = e.backend.frames.allocList(dom, e.layout.ioBase, frames.length);
  if (rc !== A.TE_OK) {
    const f = e.view.getUint32(A.FR + A.FR_ERR_FRAME, true);
    throw frameError(rc, 'allocateFrames', rc === A.TE_NO_DOMAIN ? `domain ${dom}` : `frame ${hex(f)}`);
  }
}

/** Give one frame back to the free pool: it must hold only its allocation reference. */
export function freeFrame(ctx: EngineContext, frame: number): void {
  checkFrameNumber(ctx, frame);
  const rc = ctx.backend.frames.freeFrame(frame);
  if (rc !== A.TE_OK) throw frameError(rc, 'free', `frame ${hex(frame)}`);
}
