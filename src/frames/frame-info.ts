// What the two metadata words of a frame mean (bit layout in src/abi.ts,
// "Frames and domains"), decoded for people and tests.
import * as A from '../abi.js';
import { InvalidInputError } from '../errors.js';
import type { EngineContext } from '../core/context.js';

/** Xen's page types: none, the four x86-64 page-table levels, segment descriptors, writable. */
export type FrameType = 'none' | 'L1' | 'L2' | 'L3' | 'L4' | 'seg-desc' | 'writable';
/** The page-table types (what pin accepts). */
export type TableType = 'L1' | 'L2' | 'L3' | 'L4';

export const FRAME_TYPES: readonly FrameType[] = ['none', 'L1', 'L2', 'L3', 'L4', 'seg-desc', 'writable'];

/** FRAME_NULL as an unsigned number: "no frame" in links and results. */
export const NO_FRAME = 0xffffffff;

export function typeCode(type: FrameType | string, what = 'type'): number {
  const i = FRAME_TYPES.indexOf(type as FrameType);
  if (i < 0) {
    throw new InvalidInputError(`${what}: '${type}' is not one of ${FRAME_TYPES.join(', ')}`, { input: what, value: type });
  }
  return i;
}

export function typeName(code: number): FrameType {
  return FRAME_TYPES[code] ?? 'none';
}

/** The decoded metadata of one frame. */
export interface FrameInfo {
  readonly frame: number;
  readonly type: FrameType;
  readonly typeCount: number;
  readonly validated: boolean;
  readonly pinned: boolean;
  readonly partial: boolean;
  readonly locked: boolean;
  /** Type and validated flag the frame had when its type count was last 0. */
  readonly undo: { readonly type: FrameType; readonly validated: boolean };
  readonly allocated: boolean;
  /** General reference count (count_info). */
  readonly refCount: number;
  /** Owning domain, or undefined for a free frame. */
  readonly owner: number | undefined;
  /** Page-list links (undefined = FRAME_NULL); meaningless for a frame on no list. */
  readonly next: number | undefined;
  readonly prev: number | undefined;
  readonly typeInfo: number;
  readonly countInfo: number;
}

export function decodeTypeInfo(x: number) {
  x >>>= 0;
  const undo = (x & A.PGT_UNDO_MASK) >>> A.PGT_UNDO_SHIFT;
  return {
    type: typeName(x >>> A.PGT_TYPE_SHIFT),
    typeCount: x & A.PGT_COUNT_MASK,
    validated: (x & A.PGT_VALIDATED) !== 0,
    pinned: (x & A.PGT_PINNED) !== 0,
    partial: (x & A.PGT_PARTIAL) !== 0,
    locked: (x & A.PGT_LOCKED) !== 0,
    undo: { type: typeName(undo >>> 1), validated: (undo & 1) !== 0 },
  };
}

/** A readable one-line form of a type_info word: "L2 validated pinned, type count 2". */
export function describeTypeInfo(x: number): string {
  const d = decodeTypeInfo(x);
  const flags = [d.validated && 'validated', d.pinned && 'pinned', d.partial && 'partial', d.locked && 'locked'].filter(Boolean);
  return `${d.type}${flags.length ? ' ' + flags.join(' ') : ''}, type count ${d.typeCount}`;
}

/** Build a type_info word (for tests and hand-made states). */
export function encodeTypeInfo(t: {
  type: FrameType;
  typeCount?: number;
  validated?: boolean;
  pinned?: boolean;
  partial?: boolean;
  locked?: boolean;
}): number {
  const code = typeCode(t.type);
  let x = (code << A.PGT_TYPE_SHIFT) | ((t.typeCount ?? 0) & A.PGT_COUNT_MASK);
  if (t.validated) x |= A.PGT_VALIDATED;
  if (t.pinned) x |= A.PGT_PINNED;
  if (t.partial) x |= A.PGT_PARTIAL;
  if (t.locked) x |= A.PGT_LOCKED;
  // At rest with a count of 0 the undo field mirrors the type and validated flag.
  x |= ((x >>> 28) & 0xf) << A.PGT_UNDO_SHIFT;
  return x >>> 0;
}

/** Refuse a frame number that is not one of the table's, naming it. */
export function checkFrameNumber(ctx: EngineContext, frame: number, what = 'frame'): void {
  if (!Number.isSafeInteger(frame) || frame < 0 || frame >= ctx.layout.frames) {
    throw new InvalidInputError(`${what}: ${frame} is not a frame of the frame table [0, ${ctx.layout.frames})`, {
      input: what,
      value: frame,
    });
  }
}

