// Column and record accessors of the frame metadata (see src/abi.ts, "Frames and
// domains"). Every frame field is one u32 in its own column, indexed by frame number.
import {
  FRAME_NULL, DOM_STRIDE, DOM_MAX, DOM_FLAGS, DF_IN_USE, PGT_TYPE_SHIFT, FR,
} from '../../src/abi';
import { COL_TYPE, COL_COUNT, COL_OWNER, COL_NEXT, COL_PREV, DOMAINS, FRAMES, RAM_BYTES, RAM_BASE } from '../shared/layout';

/** L4-index link columns (one u32 per frame of the RAM image). */
export let L4_NEXT: usize = 0;
export let L4_PREV: usize = 0;
/** Frames with contents: [0, RAM_FRAMES). */
export let RAM_FRAMES: u32 = 0;

/** Second init step of this module: the L4-index columns (after the shared `init`). */
export function initFrames(l4Next: usize, l4Prev: usize): void {
  L4_NEXT = l4Next;
  L4_PREV = l4Prev;
  const f = RAM_BYTES >> 12;
  RAM_FRAMES = f < <u64>FRAMES ? <u32>f : FRAMES;
}

export const NULL: u32 = <u32>FRAME_NULL;

// @ts-ignore: decorator
@inline export function typeInfo(f: u32): u32 { return load<u32>(COL_TYPE + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setTypeInfo(f: u32, v: u32): void { store<u32>(COL_TYPE + (<usize>f << 2), v); }
// @ts-ignore: decorator
@inline export function countInfo(f: u32): u32 { return load<u32>(COL_COUNT + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setCountInfo(f: u32, v: u32): void { store<u32>(COL_COUNT + (<usize>f << 2), v); }
// @ts-ignore: decorator
@inline export function ownerOf(f: u32): u32 { return load<u32>(COL_OWNER + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setOwner(f: u32, d: u32): void { store<u32>(COL_OWNER + (<usize>f << 2), d); }
// @ts-ignore: decorator
@inline export function nextOf(f: u32): u32 { return load<u32>(COL_NEXT + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setNext(f: u32, v: u32): void { store<u32>(COL_NEXT + (<usize>f << 2), v); }
// @ts-ignore: decorator
@inline export function prevOf(f: u32): u32 { return load<u32>(COL_PREV + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setPrev(f: u32, v: u32): void { store<u32>(COL_PREV + (<usize>f << 2), v); }
// @ts-ignore: decorator
@inline export function l4NextOf(f: u32): u32 { return load<u32>(L4_NEXT + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setL4Next(f: u32, v: u32): void { store<u32>(L4_NEXT + (<usize>f << 2), v); }
// @ts-ignore: decorator
@inline export function l4PrevOf(f: u32): u32 { return load<u32>(L4_PREV + (<usize>f << 2)); }
// @ts-ignore: decorator
@inline export function setL4Prev(f: u32, v: u32): void { store<u32>(L4_PREV + (<usize>f << 2), v); }

// @ts-ignore: decorator
@inline export function typeOf(x: u32): u32 { return x >>> PGT_TYPE_SHIFT; }

/** Address of a u32 field of domain `d`'s record. */
// @ts-ignore: decorator
@inline export function dom(d: u32, field: u32): usize { return DOMAINS + <usize>d * DOM_STRIDE + field; }
// @ts-ignore: decorator
@inline export function domGet(d: u32, field: u32): u32 { return load<u32>(dom(d, field)); }
// @ts-ignore: decorator
@inline export function domSet(d: u32, field: u32, v: u32): void { store<u32>(dom(d, field), v); }
// @ts-ignore: decorator
@inline export function domainLive(d: u32): bool { return d < <u32>DOM_MAX && (domGet(d, DOM_FLAGS) & DF_IN_USE) != 0; }

/** Address of an entry of table frame `f` (caller checked f < RAM_FRAMES). */
// @ts-ignore: decorator
@inline export function entryAddr(f: u32, i: u32): usize { return RAM_BASE + (<usize>f << 12) + (<usize>i << 3); }

// @ts-ignore: decorator
@inline export function fr(field: u32, v: u32): void { store<u32>(FR + field, v); }
// @ts-ignore: decorator
@inline export function frGet(field: u32): u32 { return load<u32>(FR + field); }
