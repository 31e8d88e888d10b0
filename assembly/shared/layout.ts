// Region offsets of the engine's memory, set once per module by `init` at engine
// creation (the TS layer computes them; see src/engine/layout.ts).

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

export function initLayout(
  ramBase: usize,
  ramBytes: u64,
  frames: u32,
  colType: usize,
  colCount: usize,
  colOwner: usize,
  colNext: usize,
  colPrev: usize,
  domains: usize,
): void {
  RAM_BASE = ramBase;
  RAM_BYTES = ramBytes;
  FRAMES = frames;
  COL_TYPE = colType;
  COL_COUNT = colCount;
  COL_OWNER = colOwner;
  COL_NEXT = colNext;
  COL_PREV = colPrev;
  DOMAINS = domains;
}

/** Physical address -> address in the wasm memory (caller has range-checked pa). */
// @ts-ignore: decorator
@inline export function phys(pa: u64): usize {
  return RAM_BASE + <usize>pa;
}
