// The engine context: what every model (paging, frames, domains) needs of one
// machine's memory, and nothing else. Models take a context, never the Engine
// facade, so that the facade can be built from them without a circle.
import type { Layout } from '../memory/layout.js';
import { PhysicalMemory } from './phys.js';
import { createWasmBackend } from '../backends/wasm.js';
import { createReferenceBackend } from '../backends/reference/index.js';
import type { Backend, BackendName } from '../backends/backend.js';
import { InvalidInputError } from '../errors.js';
import { fail } from '../util/validate.js';
import * as A from '../abi.js';
import type { FrameCache } from '../memory/frame-cache.js';
import type { PhysicalSource } from '../memory/source.js';

/** An engine's physical memory over a source: the source and the frame cache in front of it. */
export interface SourceBacking {
  readonly source: PhysicalSource;
  readonly cache: FrameCache;
}

export interface EngineContext {
  /** The one WebAssembly memory: control block, I/O buffers, frame columns, RAM image. */
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  /** The kernels run over this memory. */
  readonly backend: Backend;
  /** The RAM image, read and written by physical address. */
  readonly phys: PhysicalMemory;
  /** Views of the whole memory for the TS side (control block, I/O buffers). */
  readonly view: DataView;
  readonly u32: Uint32Array;
  readonly big: BigUint64Array;
  /** Set when physical memory is a cache over a source (a dump); absent for a resident engine. */
  readonly backing?: SourceBacking;
}

/** Contexts made by createContext, and the engines built over them. */
const made = new WeakSet<object>();

/** Record `engine` as a context (an Engine is the facade over one createContext made). */
export function adoptContext(engine: EngineContext, from: EngineContext): void {
  engineContext(from, 'ctx');
  made.add(engine);
}

/** `v` as an engine context: an Engine from createEngine (or a context from createContext), nothing hand-made. */
export function engineContext(v: unknown, what = 'engine'): EngineContext {
  if (typeof v !== 'object' || v === null || !made.has(v)) fail(what, v, 'is not an engine (make one with createEngine)');
  return v as EngineContext;
}

/** A context over `memory` running `backend`; two contexts over one memory see the same bytes. */
export function createContext(memory: WebAssembly.Memory, layout: Layout, backend: BackendName, backing?: SourceBacking): EngineContext {
  if (backend !== 'wasm' && backend !== 'reference') {
    throw new InvalidInputError(`backend: '${backend}' is not one of wasm, reference`, { input: 'backend', value: backend });
  }
  const cache = backing?.cache;
  const kernels = backend === 'wasm' ? createWasmBackend({ memory, layout, cache }) : createReferenceBackend({ memory, layout, cache });
  const ctx: EngineContext = {
    memory,
    layout,
    backend: kernels,
    backing,
    phys: new PhysicalMemory(memory, layout, cache, backing ? Number(backing.source.end) : undefined),
    view: new DataView(memory.buffer),
    u32: new Uint32Array(memory.buffer),
    big: new BigUint64Array(memory.buffer),
  };
  made.add(ctx);
  return ctx;
}

/** One past the highest physical address that can hold contents (cached engines: MAXPHYADDR 52). */
export function physicalLimit(ctx: EngineContext): number {
  return ctx.backing ? 2 ** 52 : ctx.layout.ramBytes;
}

/**
 * Run a write operation. On an engine over a source, every frame the operation
 * touches (its dry run included) is made private first, so running out of cache
 * for private frames is refused before anything is written, and the source is never
 * written. `newFrames`: frames the operation will create (new tables).
 */
export function writing<T>(ctx: EngineContext, run: () => T, newFrames = 0): T {
  const cache = ctx.backing?.cache;
  if (!cache) return run();
  cache.reservePrivate(newFrames);
  const at = A.LAYOUT + A.LY_WRITE_INTENT;
  ctx.view.setUint32(at, 1, true);
  try {
    return run();
  } finally {
    ctx.view.setUint32(at, 0, true);
  }
}
