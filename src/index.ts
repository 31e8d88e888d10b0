// The package's top level, `memwalk`: the engine, the paging formats and the errors.
// Everything else has its own entry point (see the "exports" field of package.json
// and docs/api.md): memwalk/images, memwalk/frames, memwalk/xen, memwalk/compare,
// memwalk/parallel, memwalk/perf, memwalk/address.
export { createEngine, Engine, type EngineOptions, type PagingOptions } from './engine/engine.js';
export { computeLayout, FRAME_BYTES, MAX_MEMORY, type Layout } from './memory/layout.js';
export { PhysicalMemory } from './core/phys.js';
export { openDump, openDumpBytes, type Dump, type OpenDumpOptions } from './engine/open-dump.js';
export { memorySource } from './memory/memory-source.js';
export { FrameState, type PhysicalSource, type PhysRange, type SourceDescription } from './memory/source.js';
export type { QemuVcpu, PagingMode } from './memory/vcpu.js';
export type { FrameCacheStats } from './memory/frame-cache.js';
export type { Backend, BackendName, PagingKernels, FrameKernels, SearchKernels } from './backends/backend.js';
export { x86_64, x86_64_la57 } from './paging/formats/x86.js';
export { x86_pae, x86_32 } from './paging/formats/x86-legacy.js';
export { aarch64_4k, aarch64_16k, aarch64_64k } from './paging/formats/aarch64.js';
export type { PagingFormat, MapFlags, WalkParams, LevelSpec } from './paging/format.js';
export { BumpAllocator, type FrameAllocator } from './paging/allocator.js';
export {
  BatchResult, RunsResult,
  type RangeOptions, type RunsOptions, type BatchStrategy, type MapReport, type MappingList, type MappingsOptions, type BatchOptions, type MapOptions,
} from './paging/operations.js';
export type * from './paging/types.js';
export {
  checkContiguous,
  type ContiguousCheck, type ContiguousCheckOptions, type ContiguousViolation, type ContiguousRule,
} from './paging/contiguous.js';
export * from './errors.js';
