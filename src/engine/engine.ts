import { computeLayout, computeCachedLayout, DEFAULT_CACHE_BYTES, type Layout } from '../memory/layout.js';
import { FrameCache } from '../memory/frame-cache.js';
import type { PhysicalSource } from '../memory/source.js';
import type { PhysicalMemory } from '../core/phys.js';
import { adoptContext, createContext, type EngineContext, type SourceBacking } from '../core/context.js';
import type { Backend, BackendName } from '../backends/backend.js';
import type { WalkParams } from '../paging/format.js';
import { InvalidInputError } from '../errors.js';
import * as V from '../paging/arguments.js';
import * as ops from '../paging/operations.js';
import { prepareWalk, type PagingOptions } from '../paging/prepare.js';
import { FrameTable } from '../frames/frame-table.js';
import { Domains } from '../frames/domains.js';

export type { PagingOptions } from '../paging/prepare.js';

/** An engine whose physical memory is all in its RAM image (built guests, tests). */
export interface ResidentEngineOptions {
  /** Bytes of RAM image (a multiple of 4096; numbers, bigints or strings such as '512M'). */
  readonly ramBytes: number | bigint | string;
  readonly source?: undefined;
  /** Frames with metadata (default: the image's frames). May exceed the image. */
  readonly frames?: number;
  readonly backend?: BackendName;
  /** Bytes of I/O buffer for batch calls (default 32 MiB). */
  readonly ioBytes?: number;
  /**
   * Back the engine with a SharedArrayBuffer so worker threads can scan it
   * (default false: Linux gives shared memory no transparent huge pages, which
   * makes random page walks about 2x slower).
   */
  readonly shared?: boolean;
}

/** An engine whose physical memory is a bounded cache over a source (a dump file). */
export interface SourceEngineOptions {
  readonly source: PhysicalSource;
  /** Bytes of frame cache (default 256 MiB; at least 1 MiB). Memory stays bounded by it whatever the dump's size. */
  readonly cacheBytes?: number | bigint | string;
  /** Frames with metadata (default none: a dump's frames have no Xen metadata unless asked for). */
  readonly frames?: number;
  readonly backend?: BackendName;
  readonly ioBytes?: number;
}

export type EngineOptions = ResidentEngineOptions | SourceEngineOptions;

/**
 * One machine's memory: a RAM image with metadata for every frame, in one
 * WebAssembly memory, and a backend that runs the kernels over it. The facade
 * over the models: it is itself an EngineContext, handed to each of them.
 */
export class Engine implements EngineContext {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  readonly backend: Backend;
  readonly phys: PhysicalMemory;
  /** Views of the whole memory for the TS layer (control block, I/O buffers). */
  readonly view: DataView;
  readonly u32: Uint32Array;
  readonly big: BigUint64Array;
  readonly backing: SourceBacking | undefined;

  /** @internal use createEngine */
  constructor(ctx: EngineContext) {
    adoptContext(this, ctx);
    this.memory = ctx.memory;
    this.layout = ctx.layout;
    this.backend = ctx.backend;
    this.phys = ctx.phys;
    this.view = ctx.view;
    this.u32 = ctx.u32;
    this.big = ctx.big;
    this.backing = ctx.backing;
  }

  /** The source physical memory is read from (undefined for a resident engine). */
  get source(): PhysicalSource | undefined {
    return this.backing?.source;
  }

  /** Another view of the same memory running the other (or same) backend. */
  withBackend(backend: BackendName): Engine {
    return new Engine(createContext(this.memory, this.layout, V.oneOf(BACKENDS, backend, 'backend'), this.backing));
  }

  /** Resolve and, if changed, write the walk parameters; returns them. */
  prepare(options: PagingOptions = {}, maxLeafIndex = 0): WalkParams {
    return prepareWalk(this, V.pagingOptions(options), maxLeafIndex);
  }

  // ---- frames and domains (see frames/) ------------------------------
  private framesView: FrameTable | undefined;
  private domainsView: Domains | undefined;
  /** Frame metadata, page lists, the type system and allocation over this memory. */
  get frames(): FrameTable {
    return (this.framesView ??= new FrameTable(this));
  }
  /** Domain records: create, look up, destroy. */
  get domains(): Domains {
    return (this.domainsView ??= new Domains(this));
  }

  // ---- paging (see paging/operations.ts) -------------------------------------------
  translate(root: bigint, va: bigint, options?: PagingOptions & { access?: ops.AccessKind }) {
    return ops.translate(this, root, va, options);
  }
  translateBatch(root: bigint, vas: BigUint64Array | readonly bigint[], options?: ops.BatchOptions) {
    return ops.translateBatch(this, root, vas, options);
  }
  translateRange(root: bigint, va: bigint, pages: number, options?: ops.RangeOptions) {
    return ops.translateRange(this, root, va, pages, options);
  }
  /** The same walk as translateRange, as maximal runs of pages (see ops.RunsResult). */
  translateRuns(root: bigint, va: bigint, pages: number, options?: ops.RunsOptions) {
    return ops.translateRuns(this, root, va, pages, options);
  }
  mappings(root: bigint, options?: ops.MappingsOptions) {
    return ops.mappings(this, root, options);
  }
  mappingsIter(root: bigint, options?: ops.MappingsIterOptions) {
    return ops.mappingsIter(this, root, options);
  }
  map(root: bigint, va: bigint, pa: bigint, size: bigint, flags: ops.MapFlags, allocator: ops.FrameAllocator, options?: ops.MapOptions) {
    return ops.map(this, root, va, pa, size, flags, allocator, options);
  }
  unmap(root: bigint, va: bigint, size: bigint, options?: PagingOptions) {
    return ops.unmap(this, root, va, size, options);
  }
  protect(root: bigint, va: bigint, size: bigint, flags: ops.MapFlags, options?: PagingOptions) {
    return ops.protect(this, root, va, size, flags, options);
  }
}

const BACKENDS: Readonly<Record<string, BackendName>> = Object.freeze({ wasm: 'wasm', reference: 'reference' });

function backendOf(v: unknown): BackendName {
  return v === undefined ? 'wasm' : V.oneOf(BACKENDS, v, 'backend');
}

/**
 * Create an engine: one shared WebAssembly memory holding the control block,
 * I/O buffers, frame metadata columns and the RAM image. A request that cannot
 * fit in 4 GiB is refused before anything is allocated.
 */
export function createEngine(options: EngineOptions): Engine {
  const o = V.options<Record<string, unknown>>(options) as { [K in keyof ResidentEngineOptions | keyof SourceEngineOptions]?: unknown };
  if (o.source !== undefined) return createSourceEngine(o as unknown as SourceEngineOptions);
  const ramBytes = V.byteCount(o.ramBytes, 'ramBytes');
  const frames = o.frames === undefined ? ramBytes / 4096 : V.wholeNumber(o.frames, 'frames');
  const ioBytes = o.ioBytes === undefined ? undefined : V.byteCount(o.ioBytes, 'ioBytes');
  const shared = V.flag(o.shared, 'shared') ?? false;
  const backend = backendOf(o.backend);
  const layout = computeLayout(ramBytes, frames, ioBytes);
  const pages = layout.totalBytes / 65536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
  return new Engine(createContext(memory, layout, backend));
}

function createSourceEngine(options: SourceEngineOptions): Engine {
  const source = options.source as Partial<PhysicalSource> | null;
  if (source === null || typeof source !== 'object' || typeof source.readFrame !== 'function' || typeof source.end !== 'bigint' || !Array.isArray(source.ranges)) {
    throw new InvalidInputError(`source: ${V.describe(options.source)} is not a physical source (see openDump)`, { input: 'source' });
  }
  const cacheBytes = options.cacheBytes === undefined ? DEFAULT_CACHE_BYTES : V.byteCount(options.cacheBytes, 'cacheBytes');
  const frames = options.frames === undefined ? 0 : V.wholeNumber(options.frames, 'frames');
  const ioBytes = options.ioBytes === undefined ? undefined : V.byteCount(options.ioBytes, 'ioBytes');
  const backend = backendOf(options.backend);
  const layout = computeCachedLayout(cacheBytes, frames, ioBytes);
  const pages = layout.totalBytes / 65536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const cache = new FrameCache(memory, layout.cache!, options.source);
  return new Engine(createContext(memory, layout, backend, { source: options.source, cache }));
}
