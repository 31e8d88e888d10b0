// Region offsets of the engine's memory, read once per module instance by `init`
// from the LAYOUT block (written by the TS layer; see src/backends/layout-record.ts).
import {
  LAYOUT, LY_RAM_BASE, LY_RAM_BYTES, LY_FRAMES, LY_COL_TYPE, LY_COL_COUNT, LY_COL_OWNER, LY_COL_NEXT, LY_COL_PREV,
  LY_DOMAINS, LY_L4_NEXT, LY_L4_PREV, LY_CACHED, LY_MAP_BASE, LY_MAP_BITS, LY_SLOTS_BASE, LY_TAG_BASE, LY_HOME_BITS,
} from '../../src/abi';
import { setFrameMap } from './frame-map';

export let RAM_BASE: usize = 0;
/** Bytes of RAM image: physical addresses [0, RAM_BYTES) have contents. */
export let RAM_BYTES: u64 = 0;
export let FRAMES: u32 = 0;
export let COL_TYPE: usize = 0;
export let COL_COUNT: usize = 0;
export let COL_OWNER: usize = 0;
export let COL_NEXT: usize = 0;
export let COL_PREV: usize = 0;
export let DOMAINS: usize = 0;
export let L4_NEXT: usize = 0;
export let L4_PREV: usize = 0;
/** Physical memory is the frame cache of an engine over a source (see frame-map.ts). */
export let CACHED: bool = false;

// @ts-ignore: decorator
@inline function field(at: u32): usize { return <usize>load<u32>(LAYOUT + at); }

/** Read the layout record; every module calls this once, at instantiation. */
export function initLayout(): void {
  RAM_BASE = field(LY_RAM_BASE);
  RAM_BYTES = load<u64>(LAYOUT + LY_RAM_BYTES);
  FRAMES = <u32>field(LY_FRAMES);
  COL_TYPE = field(LY_COL_TYPE);
  COL_COUNT = field(LY_COL_COUNT);
  COL_OWNER = field(LY_COL_OWNER);
  COL_NEXT = field(LY_COL_NEXT);
  COL_PREV = field(LY_COL_PREV);
  DOMAINS = field(LY_DOMAINS);
  L4_NEXT = field(LY_L4_NEXT);
  L4_PREV = field(LY_L4_PREV);
  CACHED = field(LY_CACHED) != 0;
  if (CACHED) setFrameMap(field(LY_MAP_BASE), <u32>field(LY_MAP_BITS), field(LY_SLOTS_BASE), field(LY_TAG_BASE), <u32>field(LY_HOME_BITS));
}
