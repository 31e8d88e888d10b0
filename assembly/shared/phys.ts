// The one way the kernels reach physical memory. Today the whole RAM image is
// resident at RAM_BASE, so an address is a compare and an add; a frame cache over
// a dump will change only this file. The address returned is valid for `bytes`
// bytes until the next call of physAddr or physWriteAddr: a kernel never keeps
// it across another physical access. Every `pa` a kernel passes is below 2^63
// (a table address from an entry mask plus an index, or one the TS layer
// checked), so pa + bytes cannot wrap and one compare decides.
import { RAM_BASE, RAM_BYTES } from './layout';

/** Wasm address of [pa, pa+bytes) for reading, or 0 when it is not in the image. */
// @ts-ignore: decorator
@inline export function physAddr(pa: u64, bytes: u64): usize {
  return pa + bytes <= RAM_BYTES ? RAM_BASE + <usize>pa : 0;
}

/** Wasm address of [pa, pa+bytes) for writing, or 0 when it is not in the image. */
// @ts-ignore: decorator
@inline export function physWriteAddr(pa: u64, bytes: u64): usize {
  return pa + bytes <= RAM_BYTES ? RAM_BASE + <usize>pa : 0;
}
