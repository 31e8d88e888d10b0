// Column and record accessors of the frame metadata (see src/abi.ts, "Frames and
// domains"). Every frame field is one u32 in its own column, indexed by frame number.
import {
  FRAME_NULL, DOM_STRIDE, DOM_MAX, DOM_FLAGS, DF_IN_USE, PGT_TYPE_SHIFT, FR,
} from '../../src/abi';
import { COL_TYPE, COL_COUNT, COL_OWNER, COL_NEXT, COL_PREV, DOMAINS, FRAMES, RAM_BYTES, L4_NEXT, L4_PREV, CACHED, initLayout } from '../shared/layout';
import { physAddr, physWriteAddr } from '../shared/phys';

/** Frames of the RAM image, [0, RAM_FRAMES): the frames the L4-index links cover. */
export let RAM_FRAMES: u32 = 0;

/** Read the layout record (once, at instantiation). */
export function init(): void {
  initLayout();
  const f = RAM_BYTES >> 12;
  // Table frames have contents below RAM_BYTES, or anywhere a source has them.
  RAM_FRAMES = CACHED || f >= <u64>FRAMES ? FRAMES : <u32>f;
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

// @ts-ignore: decorator
@inline function entryPa(f: u32, i: u32): u64 { return (<u64>f << 12) + (<u64>i << 3); }

/** Entry `i` of table frame `f` (the caller checked f < RAM_FRAMES). */
// @ts-ignore: decorator
@inline export function tableEntry(f: u32, i: u32): u64 { return load<u64>(physAddr(entryPa(f, i), 8)); }

// @ts-ignore: decorator
@inline export function setTableEntry(f: u32, i: u32, v: u64): void { store<u64>(physWriteAddr(entryPa(f, i), 8), v); }

// @ts-ignore: decorator
@inline export function fr(field: u32, v: u32): void { store<u32>(FR + field, v); }
// @ts-ignore: decorator
@inline export function frGet(field: u32): u32 { return load<u32>(FR + field); }
