// memwalk/xen: models of what Xen (and Linux early boot) does with memory.
// dom0: its layout, its size, its kernel, its initial page tables.
export {
  dom0Layout, formatArrangement, layoutJson, orderFromBytes, XenPanicError, PRINT_SHAPES,
  type Dom0LayoutInputs, type Dom0Layout, type Range, type PrintShape,
} from './dom0-layout.js';
export {
  parseDom0Mem, computeNrPages, defaultDom0Mem, memSizePages,
  type MemSize, type Dom0MemSpec, type Dom0MemKernel, type NrPagesResult,
} from './dom0-mem.js';
export {
  readKernelFile, readKernelImage, unwrapKernel, detectCompression, XEN_ELFNOTE,
  type KernelImage, type XenNote,
} from './kernel-image.js';
export {
  pageTableCount, pageTableCountByLoop, requiredPageTables, placePageTables,
  type PageTableSearch, type PageTableArea,
} from './page-table-count.js';
export {
  buildDom0, dom0EngineOptions, checkTablePage, formatDom0Build, dom0BuildJson, INJECTION_KINDS,
  type Dom0BuildOptions, type Dom0BuildReport, type Dom0Injection, type Dom0Violation, type Dom0Rule,
  type Dom0WalkCheck, type TablePage, type TableLevel,
} from './dom0-build.js';
// The hypervisor's own tables and their relocation.
export { buildHypervisorTables, XEN_VIRT_START, DIRECTMAP_VIRT_START, LINEAR_PT_SLOT, type HypervisorTables } from './hypervisor-tables.js';
export { relocateHypervisorTables, type RelocateOptions, type RelocationReport } from './relocate.js';
// Boot: the direct map of RAM banks, the boot allocator, boot_params, the early mapper.
export {
  setupDirectMap, freeRanges,
  type DirectMapOptions, type DirectMapReport, type MemRange, type ReservedRange, type Span, type AliasedRange, type AliasKind,
} from './direct-map.js';
export { BootAllocator } from './boot-allocator.js';
export {
  parseBootParams, readBootParams, buildBootParams, e820ToBanks, subarchName, e820TypeName, BOOT_PARAMS_BYTES,
  type BootParams, type BootParamsFields, type E820Entry,
} from './boot-params.js';
export { EarlyMapper, EarlyPageFault, readBootParamsEarly, LINUX_PAGE_OFFSET, type EarlyMapperOptions } from './early-mapper.js';
// PV guests and the m2p-strict fix-up over their page lists.
export {
  buildGuest, guestEngineOptions, planGuest, GUEST_ORDERS, USER_VA, KERNEL_VA,
  type Guest, type GuestOptions, type GuestOrder, type GuestProcess,
} from './guest-builder.js';
export {
  m2pFixup, fixupCall, setVcpuContext, restoreVcpuContext, l4Status, STRATEGIES,
  type FixupStrategy, type FixupOptions, type FixupCall, type FixupReport, type SetContextOptions, type SetContextResult, type RunOptions,
} from './m2p-fixup.js';
export { parsePreempt, formatPreempt, type PreemptPolicy } from './preemption.js';
export { runLargeGuest, resetRoMpt, type LargeGuestOptions, type LargeGuestResult } from './large-guest.js';
