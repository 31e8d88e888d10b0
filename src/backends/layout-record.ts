// The LAYOUT block of the control area: where the regions of the engine's memory
// are, written before any kernel module is instantiated (each module's `init`
// reads it).
import * as A from '../abi.js';
import type { Layout } from '../memory/layout.js';

export function writeLayoutRecord(memory: WebAssembly.Memory, l: Layout): void {
  const v = new DataView(memory.buffer, A.LAYOUT, A.LAYOUT_BYTES);
  const u32 = (at: number, x: number) => v.setUint32(at, x, true);
  u32(A.LY_RAM_BASE, l.ramBase);
  u32(A.LY_FRAMES, l.frames);
  u32(A.LY_COL_TYPE, l.colType);
  u32(A.LY_COL_COUNT, l.colCount);
  u32(A.LY_COL_OWNER, l.colOwner);
  u32(A.LY_COL_NEXT, l.colNext);
  u32(A.LY_COL_PREV, l.colPrev);
  u32(A.LY_DOMAINS, l.domains);
  u32(A.LY_L4_NEXT, l.l4Next);
  u32(A.LY_L4_PREV, l.l4Prev);
  v.setBigUint64(A.LY_RAM_BYTES, BigInt(l.ramBytes), true);
  u32(A.LY_CACHED, l.cache ? 1 : 0);
  u32(A.LY_MAP_BASE, l.cache?.mapBase ?? 0);
  u32(A.LY_MAP_BITS, l.cache?.mapBits ?? 0);
  u32(A.LY_SLOTS_BASE, l.cache?.slotsBase ?? 0);
  u32(A.LY_TAG_BASE, l.cache?.tagBase ?? 0);
  u32(A.LY_HOME_BITS, l.cache?.homeBits ?? 0);
  u32(A.LY_WRITE_INTENT, 0);
}
