import type { Layout } from '../engine/layout.js';

/**
 * The paging kernels, as numeric functions over the engine's memory. Both
 * backends implement exactly these signatures; everything above them (the
 * engine API, Xen models, CLI, benchmarks) never knows which one it has.
 * Walk parameters are read from the control block (see writeWalkParams).
 */
export interface PagingKernels {
  /** Translate one address; full result in the RES block. Returns the status word. */
  translate(root: bigint, va: bigint, access: number): number;
  /** `n` u64 addresses at `inPtr` -> 16-byte records at `outPtr`; `cached` reuses upper tables. */
  translateBatch(root: bigint, inPtr: number, outPtr: number, n: number, access: number, cached: number): void;
  /** `pages` consecutive base pages from `va` -> 16-byte records at `outPtr`. */
  translateRange(root: bigint, va: bigint, pages: number, outPtr: number, access: number): void;
  enumStart(root: bigint): void;
  /** Up to `max` 32-byte mapping records at `outPtr`; 0 when the listing is complete. */
  enumNext(outPtr: number, max: number): number;
  mapRange(root: bigint, va: bigint, pa: bigint, size: bigint, leafBits: bigint, pool: number, poolCount: number, dry: number): number;
  unmapRange(root: bigint, va: bigint, size: bigint, dry: number): number;
  protectRange(root: bigint, va: bigint, size: bigint, set: bigint, clear: bigint, dry: number): number;
}

export type BackendName = 'wasm' | 'reference';

/** A set of kernels bound to one engine memory. */
export interface Backend {
  readonly name: BackendName;
  readonly paging: PagingKernels;
}

/** What a backend factory receives: the memory and where its regions are. */
export interface BackendContext {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
}
