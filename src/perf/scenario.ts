// Benchmark and demo scenarios: deterministic page tables and address lists that
// every backend (wasm, reference, native C) runs over, on the same memory.
import { createEngine, type Engine } from '../engine/engine.js';
import { BumpAllocator } from '../paging/allocator.js';
import { x86_64 } from '../paging/formats/x86.js';
import type { MapFlags } from '../paging/format.js';
import { Rng } from '../util/rng.js';

export const GiB = 2 ** 30;
export const PAGE = 4096;

/** Page tables in one engine mapping `bytes` of VA at `va` onto PA 0 with one leaf size. */
export interface WalkScenario {
  readonly engine: Engine;
  readonly root: bigint;
  readonly va: bigint;
  readonly bytes: number;
  readonly leafSize: number;
  /** Frames used by the tables (root included). */
  readonly tableFrames: number;
  /** First frame the allocator handed out, and the next free frame after the build. */
  readonly firstTableFrame: number;
  readonly nextFreeFrame: number;
}

/** The Linux direct-map base: a canonical upper-half address. */
export const DIRECT_MAP_VA = 0xffff_8880_0000_0000n;

/** Table frames for `bytes` mapped with `leaf`-byte leaves on x86-64 4-level, plus the root. */
export function tableFramesFor(bytes: number, leaf = PAGE): number {
  let frames = 1;
  let span = leaf * 512; // bytes mapped by one table of the lowest level used
  for (let lvl = leaf; lvl < 2 ** 39; lvl *= 512) {
    frames += Math.ceil(bytes / span);
    span *= 512;
  }
  return frames;
}

export interface WalkScenarioOptions {
  /** Bytes of VA to map (default 64 GiB). */
  readonly bytes?: number;
  /** Leaf size: 4096, 2 MiB or 1 GiB (default 4096). */
  readonly leafSize?: number;
  /** An engine to build in (default: a new one just big enough). */
  readonly engine?: Engine;
  /** First frame for the tables (default 256, i.e. 1 MiB). */
  readonly firstFrame?: number;
  readonly va?: bigint;
  readonly flags?: MapFlags;
  /** Free RAM to leave after the tables, for map/unmap work (default 32 MiB). */
  readonly spareBytes?: number;
  /** Back a new engine with a SharedArrayBuffer (for worker threads; default false). */
  readonly shared?: boolean;
}

/**
 * Build x86-64 4-level tables mapping `bytes` (default 64 GiB) of VA with
 * `leafSize` leaves, with engine.map on the wasm backend.
 */
export function buildWalkScenario(options: WalkScenarioOptions = {}): WalkScenario {
  const bytes = options.bytes ?? 64 * GiB;
  const leafSize = options.leafSize ?? PAGE;
  const first = options.firstFrame ?? 256;
  const frames = tableFramesFor(bytes, leafSize);
  const spare = options.spareBytes ?? 32 * 2 ** 20;
  const ramBytes = Math.ceil(((first + frames) * PAGE + spare) / (16 * 2 ** 20)) * 16 * 2 ** 20;
  const engine = options.engine ?? createEngine({ ramBytes, ...(options.shared ? { shared: true } : {}) });
  const alloc = new BumpAllocator(first + 1, engine.layout.ramBytes / PAGE);
  const root = BigInt(first) * BigInt(PAGE);
  engine.phys.fill(root, PAGE, 0);
  const va = options.va ?? DIRECT_MAP_VA;
  const wasm = engine.backend.name === 'wasm' ? engine : engine.withBackend('wasm');
  // One call per 64 GiB keeps the table pool inside the I/O buffer.
  const step = 64 * GiB;
  for (let off = 0; off < bytes; off += step) {
    const n = Math.min(step, bytes - off);
    wasm.map(root, va + BigInt(off), BigInt(off), BigInt(n), options.flags ?? { write: true, execute: false, global: true }, alloc, {
      format: x86_64,
      largestLeaf: leafSize,
    });
  }
  return {
    engine,
    root,
    va,
    bytes,
    leafSize,
    tableFrames: frames,
    firstTableFrame: first,
    nextFreeFrame: alloc.end - alloc.remaining,
  };
}

/** `n` uniformly random addresses (any byte offset) inside [va, va + bytes). */
export function randomAddresses(va: bigint, bytes: number, n: number, seed = 7): BigUint64Array {
  const rng = new Rng(seed);
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) out[i] = va + BigInt(rng.below(bytes));
  return out;
}

/** `n` consecutive page addresses from `va`. */
export function consecutivePages(va: bigint, n: number, page = PAGE): BigUint64Array {
  const out = new BigUint64Array(n);
  const p = BigInt(page);
  for (let i = 0; i < n; i++) out[i] = va + BigInt(i) * p;
  return out;
}

/** A sorted copy (ascending VA): what a caller can do to make random batches cache-friendly. */
export function sortedCopy(vas: BigUint64Array): BigUint64Array {
  return vas.slice().sort();
}
