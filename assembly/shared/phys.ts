// The one way the kernels reach physical memory. A resident RAM image is a compare
// and an add; an engine over a source finds the frame in its frame cache
// (frame-map.ts), faulting it in, and a span over two frames is not one address. The address returned is valid for `bytes`
// bytes until the next call of physAddr or physWriteAddr: a kernel never keeps
// it across another physical access. Every `pa` a kernel passes is below 2^63
// (a table address from an entry mask plus an index, or one the TS layer
// checked), so pa + bytes cannot wrap and one compare decides.
import { RAM_BASE, RAM_BYTES, CACHED } from './layout';
import { cachedAddr } from './frame-map';
import { LAYOUT, LY_WRITE_INTENT } from '../../src/abi';

/** Wasm address of [pa, pa+bytes) for reading, or 0 when it is not in the image. */
// @ts-ignore: decorator
@inline export function physAddr(pa: u64, bytes: u64): usize {
  if (CACHED) return cachedAddr(pa, bytes, load<u32>(LAYOUT + LY_WRITE_INTENT) != 0);
  return pa + bytes <= RAM_BYTES ? RAM_BASE + <usize>pa : 0;
}

/** Wasm address of [pa, pa+bytes) for writing, or 0 when it is not in the image. */
// @ts-ignore: decorator
@inline export function physWriteAddr(pa: u64, bytes: u64): usize {
  if (CACHED) return cachedAddr(pa, bytes, true);
  return pa + bytes <= RAM_BYTES ? RAM_BASE + <usize>pa : 0;
}
