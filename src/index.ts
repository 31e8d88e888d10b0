// memwalk's library surface.
export { createEngine, Engine, type EngineOptions, type PagingOptions } from './engine/engine.js';
export { computeLayout, FRAME_BYTES, MAX_MEMORY, type Layout } from './engine/layout.js';
export { PhysicalMemory } from './engine/phys.js';
export type { Backend, BackendName, PagingKernels } from './backends/backend.js';
export { x86_64, x86_64_la57 } from './paging/formats/x86.js';
export type { PagingFormat, MapFlags, WalkParams, LevelSpec } from './paging/format.js';
export { BumpAllocator, type FrameAllocator } from './paging/allocator.js';
export { BatchResult, type MapReport, type MappingList, type MappingsOptions, type BatchOptions, type MapOptions } from './paging/operations.js';
export type * from './paging/types.js';
export * from './errors.js';
export { parseBig, parseCount, hex, hex16 } from './util/numbers.js';
