// memwalk for browsers: the engine over a dump read from a File, the address-space
// helpers and QEMU's listing formats. The bundle (scripts/browser-build.mjs) builds
// this entry with the kernels inlined; a page calls loadKernels() once, then opens
// dumps in a Web Worker. See docs/browser.md.
export { loadKernels, KERNEL_FILES } from './kernels.js';
export { fileSource, type FileByteSource } from './file-source.js';
export { openDumpBytes, type Dump, type OpenDumpOptions } from '../engine/open-dump.js';
export { createEngine, Engine, type PagingOptions } from '../engine/engine.js';
export { bufferSource, type ByteSource } from '../images/elf.js';
export { x86_64, x86_64_la57 } from '../paging/formats/x86.js';
export { x86_pae, x86_32 } from '../paging/formats/x86-legacy.js';
export { aarch64_4k, aarch64_16k, aarch64_64k } from '../paging/formats/aarch64.js';
export { readVirtual, readPhysical, reverseLookup, discoverRoots, virtualSpans } from '../address/index.js';
export { infoTlbLines, infoMemLines, formatGva2gpa } from '../images/qemu-format.js';
export { walkSteps, type WalkStep } from './walk-steps.js';
export type * from '../paging/types.js';
export type { QemuVcpu, PagingMode } from '../memory/vcpu.js';
export type { PhysRange, SourceDescription } from '../memory/source.js';
export * from '../errors.js';
