import { CapacityError, InvalidInputError } from '../errors.js';
import { wholeNumber } from '../util/validate.js';
import { IO_BASE, DOM_MAX, DOM_STRIDE, FRAME_COLUMNS, FM_ENTRY_BYTES, FT_BYTES } from '../abi.js';
import type { FrameCacheRegion } from './frame-cache.js';

export const PAGE_SIZE = 4096;
const WASM_PAGE = 65536;
/** wasm32 addresses 4 GiB; V8 allows a memory of exactly that size. */
export const MAX_MEMORY = 2 ** 32;
export const DEFAULT_IO_BYTES = 32 * 2 ** 20;

/** Where each region of the engine's one memory starts, in bytes. */
export interface Layout {
  readonly ioBase: number;
  readonly ioBytes: number;
  readonly domains: number;
  readonly frames: number;
  readonly colType: number;
  readonly colCount: number;
  readonly colOwner: number;
  readonly colNext: number;
  readonly colPrev: number;
  /** L4 index links (one u32 each per frame of the RAM image; see src/frames). */
  readonly l4Next: number;
  readonly l4Prev: number;
  /** Resident engines: physical [0, ramBytes) at ramBase. Engines over a source: 0 (see cache). */
  readonly ramBase: number;
  readonly ramBytes: number;
  /** Engines over a source: the frame cache's slots, frame map and home tags (see src/memory/frame-cache.ts). */
  readonly cache?: FrameCacheRegion;
  readonly totalBytes: number;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(n % 2 ** 20 ? 1 : 0)} MiB`;

/** Bytes of frame metadata per frame. */
export const FRAME_BYTES = FRAME_COLUMNS * 4;
/** Bytes of L4-index links per frame of the RAM image (only image frames can be L4 tables). */
export const L4_INDEX_BYTES = 8;

/** Bytes between the starts of consecutive frame columns beyond whole pages (see columns()). */
const COLUMN_SKEW = 192;

/** Bytes taken by `ramBytes` of image plus its L4-index columns. */
const ramCost = (ramBytes: number) => align(ramBytes, WASM_PAGE) + 2 * align((ramBytes / PAGE_SIZE) * 4, WASM_PAGE);

/** The regions every engine has: I/O buffers, domain records, L4-index links and frame columns. */
function columns(io: number, frames: number, l4Frames: number) {
  const domains = IO_BASE + io;
  // Columns a few cache lines off page alignment, each at its own offset within a 4 KiB page: with
  // page-aligned columns, frame f's fields in every column share their low 12 address bits, and the
  // list kernels' stores to one column and loads from another at the same offset trip the CPU's
  // 4 KiB aliasing check: the list-order fix-up ran twice as slow (3.9 ms against 1.8 ms, 1M frames).
  const col = align(frames * 4, WASM_PAGE) + COLUMN_SKEW;
  const l4Base = align(domains + DOM_MAX * DOM_STRIDE, WASM_PAGE);
  const l4col = align(l4Frames * 4, WASM_PAGE);
  const colBase = l4Base + 2 * l4col;
  return {
    regions: {
      ioBase: IO_BASE,
      ioBytes: io,
      domains,
      frames,
      colType: colBase,
      colCount: colBase + col,
      colOwner: colBase + 2 * col,
      colNext: colBase + 3 * col,
      colPrev: colBase + 4 * col,
      l4Next: l4Base,
      l4Prev: l4Base + l4col,
    },
    /** First byte after the frame columns. */
    end: align(colBase + FRAME_COLUMNS * col, WASM_PAGE),
    col,
    l4Base,
    l4col,
  };
}

/**
 * Compute the regions for `ramBytes` of RAM image and `frames` frame records, or
 * refuse, before anything is allocated, a request that cannot fit in 4 GiB.
 */
export function computeLayout(ramBytes: number, frames: number, ioBytes = DEFAULT_IO_BYTES): Layout {
  wholeNumber(ramBytes, 'ramBytes');
  if (ramBytes < PAGE_SIZE || ramBytes % PAGE_SIZE !== 0) {
    throw new InvalidInputError(`ramBytes: ${ramBytes} must be a positive multiple of 4096`, { input: 'ramBytes', value: ramBytes });
  }
  wholeNumber(frames, 'frames');
  if (frames < ramBytes / PAGE_SIZE) {
    throw new InvalidInputError(
      `frames: ${frames} must be a whole number at least ramBytes/4096 = ${ramBytes / PAGE_SIZE} (every frame of the image has metadata)`,
      { input: 'frames', value: frames },
    );
  }
  wholeNumber(ioBytes, 'ioBytes');
  if (ioBytes < WASM_PAGE) {
    throw new InvalidInputError(`ioBytes: ${ioBytes} must be at least 65536`, { input: 'ioBytes', value: ioBytes });
  }
  const io = align(ioBytes, WASM_PAGE);
  // The L4-index links (two u32 per image frame) sit between the domain records
  // and the five frame columns.
  const { regions, end, col, l4Base, l4col } = columns(io, frames, ramBytes / PAGE_SIZE);
  const ramBase = end;
  const totalBytes = ramBase + align(ramBytes, WASM_PAGE);
  if (totalBytes > MAX_MEMORY) {
    const fixed = l4Base + align(FRAME_COLUMNS * col, WASM_PAGE);
    // Each 4 KiB of image also costs 8 B of L4-index links.
    let ramFits = Math.max(0, Math.floor(((MAX_MEMORY - fixed) * (PAGE_SIZE / (PAGE_SIZE + L4_INDEX_BYTES))) / WASM_PAGE) * WASM_PAGE);
    while (ramFits > 0 && fixed + ramCost(ramFits) > MAX_MEMORY) ramFits -= WASM_PAGE;
    const framesFit = Math.floor((MAX_MEMORY - l4Base - ramCost(ramBytes)) / (FRAME_COLUMNS * 4));
    throw new CapacityError(
      `engine does not fit in 4 GiB: asked for ${mib(ramBytes)} of RAM image and ${frames} frames ` +
        `(${FRAME_BYTES} B each = ${mib(FRAME_COLUMNS * col)}) plus ${mib(l4Base)} of buffers and ` +
        `${mib(2 * l4col)} of L4-index links (${L4_INDEX_BYTES} B per image frame) = ${mib(totalBytes)}; ` +
        `with ${frames} frames at most ${mib(ramFits)} of RAM fits, with ${mib(ramBytes)} of RAM at most ${Math.max(0, framesFit)} frames`,
      { ramBytes, frames, totalBytes, ramFits, framesFit },
    );
  }
  return { ...regions, ramBase, ramBytes, totalBytes };
}

/** Default frame cache of an engine over a source: 256 MiB of frames. */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;
/** The smallest frame cache: 64 KiB (16 frames; every access needs one frame at a time). */
export const MIN_CACHE_BYTES = 2 ** 16;

/**
 * Regions of an engine whose physical memory is a cache over a source: the same
 * control block, buffers, domain records and frame columns as a resident engine
 * (`frames` of them, none by default), then the frame map, the home tags and
 * `cacheBytes` of slots.
 */
export function computeCachedLayout(cacheBytes: number, frames = 0, ioBytes = DEFAULT_IO_BYTES): Layout {
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes < MIN_CACHE_BYTES || cacheBytes % PAGE_SIZE !== 0) {
    throw new InvalidInputError(`cacheBytes: ${cacheBytes} must be a multiple of 4096 of at least ${mib(MIN_CACHE_BYTES)}`, { input: 'cacheBytes', value: cacheBytes });
  }
  if (!Number.isSafeInteger(frames) || frames < 0) {
    throw new InvalidInputError(`frames: ${frames} must be a whole number >= 0`, { input: 'frames', value: frames });
  }
  if (!Number.isSafeInteger(ioBytes) || ioBytes < WASM_PAGE) {
    throw new InvalidInputError(`ioBytes: ${ioBytes} must be at least 65536`, { input: 'ioBytes', value: ioBytes });
  }
  const io = align(ioBytes, WASM_PAGE);
  // Any frame with metadata may be an L4 table: the L4-index links cover them all.
  const { regions, end, col } = columns(io, frames, frames);
  const slots = cacheBytes / PAGE_SIZE;
  const mapBits = Math.ceil(Math.log2(2 * slots));
  const homeBits = Math.floor(Math.log2(slots));
  const mapBase = end;
  const tagBase = mapBase + 2 ** mapBits * FM_ENTRY_BYTES;
  const slotsBase = align(tagBase + 2 ** homeBits * FT_BYTES, WASM_PAGE);
  // Whole wasm pages: a cache of any multiple of 4 KiB has all its slots in the memory.
  const totalBytes = align(slotsBase + cacheBytes, WASM_PAGE);
  if (totalBytes > MAX_MEMORY) {
    throw new CapacityError(
      `engine does not fit in 4 GiB: a frame cache of ${mib(cacheBytes)} with its map and tags of ${mib(slotsBase - mapBase)} ` +
        `and ${frames} frames of metadata (${mib(FRAME_COLUMNS * col + 2 * col)}) need ${mib(totalBytes)}; choose a smaller cacheBytes`,
      { cacheBytes, frames, totalBytes },
    );
  }
  return { ...regions, ramBase: 0, ramBytes: 0, cache: { slotsBase, slots, mapBase, mapBits, tagBase, homeBits }, totalBytes };
}
