// memwalk's library surface.
export { createEngine, Engine, type EngineOptions, type PagingOptions } from './engine/engine.js';
export { computeLayout, FRAME_BYTES, MAX_MEMORY, type Layout } from './engine/layout.js';
export { PhysicalMemory } from './engine/phys.js';
export type { Backend, BackendName, PagingKernels } from './backends/backend.js';
export { x86_64, x86_64_la57 } from './paging/formats/x86.js';
export type { PagingFormat, MapFlags, WalkParams, LevelSpec } from './paging/format.js';
export { BumpAllocator, type FrameAllocator } from './paging/allocator.js';
export { BatchResult, RunsResult, type RangeOptions, type BatchStrategy, type MapReport, type MappingList, type MappingsOptions, type BatchOptions, type MapOptions } from './paging/operations.js';
export type * from './paging/types.js';
export * from './errors.js';
export { parseBig, parseCount, hex, hex16 } from './util/numbers.js';
// Issue 5: more paging formats, the contiguous hint, direct maps of RAM banks, boot_params.
export { aarch64_4k, aarch64_16k, aarch64_64k } from './paging/formats/aarch64.js';
export { x86_pae, x86_32 } from './paging/formats/x86-legacy.js';
export { checkContiguous, type ContiguousCheck, type ContiguousCheckOptions, type ContiguousViolation, type ContiguousRule } from './paging/contiguous.js';
export { setupDirectMap, freeRanges, type DirectMapOptions, type DirectMapReport, type MemRange, type ReservedRange, type Span, type AliasedRange, type AliasKind } from './xen/direct-map.js';
export { BootAllocator } from './xen/boot-allocator.js';
export { parseBootParams, readBootParams, buildBootParams, e820ToBanks, subarchName, e820TypeName, BOOT_PARAMS_BYTES, type BootParams, type BootParamsFields, type E820Entry } from './xen/boot-params.js';
export { EarlyMapper, EarlyPageFault, readBootParamsEarly, LINUX_PAGE_OFFSET, type EarlyMapperOptions } from './xen/early-mapper.js';
// Frames, domains and page lists (issue 3; README "Frames, domains and page lists").
export type { FrameKernels } from './backends/backend.js';
export { FrameTable, type FrameColumns, type CensusResult } from './frames/frame-table.js';
export { FRAME_TYPES, NO_FRAME, typeCode, typeName, decodeTypeInfo, describeTypeInfo, encodeTypeInfo, type FrameType, type TableType, type FrameInfo } from './frames/frame-info.js';
export { PageList, type ChaseResult } from './frames/page-list.js';
export { getType, putType, pin, unpin, pageLock, pageUnlock } from './frames/type-system.js';
export { allocate, allocateFrames, freeFrame, patternFrame, type AllocateOptions, type AllocationOrder, type FramePattern } from './frames/allocation.js';
export { audit, type AuditReport, type AuditOptions, type Violation } from './frames/audit.js';
export { RULES as TYPE_RULES, refusalFacts, type RefusalFacts } from './frames/refusal.js';
export { Domain, Domains, type DomainOptions, type DomainRecord } from './frames/domains.js';
export { parsePreempt, formatPreempt, type PreemptPolicy } from './xen/preemption.js';
export { m2pFixup, fixupCall, setVcpuContext, restoreVcpuContext, l4Status, STRATEGIES, type FixupStrategy, type FixupOptions, type FixupCall, type FixupReport, type SetContextOptions, type SetContextResult, type RunOptions } from './xen/m2p-fixup.js';
export { buildGuest, guestEngineOptions, planGuest, GUEST_ORDERS, USER_VA, KERNEL_VA, type Guest, type GuestOptions, type GuestOrder, type GuestProcess } from './xen/guest-builder.js';
export { runLargeGuest, resetRoMpt, type LargeGuestOptions, type LargeGuestResult } from './xen/large-guest.js';
export { buildDom0, dom0EngineOptions, checkTablePage, formatDom0Build, dom0BuildJson, INJECTION_KINDS, type Dom0BuildOptions, type Dom0BuildReport, type Dom0Injection, type Dom0Violation, type Dom0Rule, type Dom0WalkCheck, type TablePage } from './xen/dom0-build.js';
// Issue 7: comparing the backends, parallel scans.
export { compareBackends, scenarioNames, type CompareReport, type CompareOptions } from './compare/compare.js';
export { registerScenario, type CompareScenario, type ScenarioOptions, type ScenarioResults } from './compare/scenarios.js';
export { BackendMismatchError } from './compare/mismatch.js';
export { createScanPool, ScanPool, type ScanPoolOptions, type ParallelBatchOptions } from './parallel/pool.js';
