import { computeLayout, type Layout } from './layout.js';
import { PhysicalMemory } from './phys.js';
import { createWasmBackend } from '../backends/wasm.js';
import { createReferenceBackend } from '../backends/reference/index.js';
import type { Backend, BackendName, BackendContext } from '../backends/backend.js';
import { writeWalkParams, type PagingFormat, type WalkParams } from '../paging/format.js';
import { x86_64 } from '../paging/formats/x86.js';
import type { WalkOptions } from '../paging/types.js';
import { InvalidInputError } from '../errors.js';
import { parseBig } from '../util/numbers.js';
import * as ops from '../paging/operations.js';
import { FrameTable } from '../frames/frame-table.js';
import { Domains } from '../xen/domain.js';

export interface EngineOptions {
  /** Bytes of RAM image (a multiple of 4096; numbers, bigints or strings such as '512M'). */
  readonly ramBytes: number | bigint | string;
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

/** Options of a paging call: the walk options plus the table format (default x86_64). */
export interface PagingOptions extends WalkOptions {
  readonly format?: PagingFormat;
}

/** State shared by every Engine view of one memory (see Engine.withBackend). */
interface SharedState {
  paramsKey: string;
  params: WalkParams | undefined;
}

/**
 * One machine's memory: a RAM image with metadata for every frame, in one
 * WebAssembly memory, and a backend that runs the kernels over it.
 */
export class Engine {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  readonly backend: Backend;
  readonly phys: PhysicalMemory;
  /** Views of the whole memory for the TS layer (control block, I/O buffers). */
  readonly view: DataView;
  readonly u32: Uint32Array;
  readonly big: BigUint64Array;
  private readonly shared: SharedState;

  /** @internal use createEngine */
  constructor(memory: WebAssembly.Memory, layout: Layout, backend: BackendName, shared?: SharedState) {
    if (backend !== 'wasm' && backend !== 'reference') {
      throw new InvalidInputError(`backend: '${backend}' is not one of wasm, reference`, { input: 'backend', value: backend });
    }
    this.memory = memory;
    this.layout = layout;
    const ctx: BackendContext = { memory, layout };
    this.backend = backend === 'wasm' ? createWasmBackend(ctx) : createReferenceBackend(ctx);
    this.phys = new PhysicalMemory(memory, layout);
    this.view = new DataView(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
    this.big = new BigUint64Array(memory.buffer);
    this.shared = shared ?? { paramsKey: '', params: undefined };
  }

  /** Another view of the same memory running the other (or same) backend. */
  withBackend(backend: BackendName): Engine {
    return new Engine(this.memory, this.layout, backend, this.shared);
  }

  /** Resolve and, if changed, write the walk parameters; returns them. */
  prepare(options: PagingOptions = {}, maxLeafIndex = 0): WalkParams {
    const format = options.format ?? x86_64;
    const { format: _f, ...walk } = options;
    const key = `${format.name}|${maxLeafIndex}|${JSON.stringify(walk)}`;
    if (key !== this.shared.paramsKey || !this.shared.params) {
      const params = format.params(walk);
      writeWalkParams(this.view, params, maxLeafIndex);
      this.shared.params = params;
      this.shared.paramsKey = key;
    }
    return this.shared.params;
  }

  // ---- frames and domains (see frames/, xen/domain.ts) ------------------------------
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
  translateRuns(root: bigint, va: bigint, pages: number, options?: ops.RangeOptions) {
    return ops.translateRuns(this, root, va, pages, options);
  }
  mappings(root: bigint, options?: ops.MappingsOptions) {
    return ops.mappings(this, root, options);
  }
  mappingsIter(root: bigint, options?: PagingOptions) {
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

function toBytes(v: number | bigint | string, what: string): number {
  const b = typeof v === 'string' ? parseBig(v, what) : BigInt(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidInputError(`${what}: ${v} is too large`, { input: what });
  return Number(b);
}

/**
 * Create an engine: one shared WebAssembly memory holding the control block,
 * I/O buffers, frame metadata columns and the RAM image. A request that cannot
 * fit in 4 GiB is refused before anything is allocated.
 */
export function createEngine(options: EngineOptions): Engine {
  const ramBytes = toBytes(options.ramBytes, 'ramBytes');
  const layout = computeLayout(ramBytes, options.frames ?? ramBytes / 4096, options.ioBytes);
  const pages = layout.totalBytes / 65536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: options.shared ?? false });
  return new Engine(memory, layout, options.backend ?? 'wasm');
}
