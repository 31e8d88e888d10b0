// The paging module: every page-table kernel, over whichever format the walk
// parameters describe.
export { initLayout as init } from '../shared/layout';
export { abiHash } from '../../build/gen/abi-hash';
export { translate, translateBatch, translateRange, translateRuns, setScratchSlot } from './translate';
export { enumStart, enumNext } from './enumerate';
export { formatTlb } from './qemu-tlb';
export { formatMem } from './qemu-mem';
export { formatLines } from './memwalk-lines';
export { formatJson } from './memwalk-json';
export { mapRange, unmapRange, protectRange } from './map';
export { contigUpdate, contigCheckStart, contigCheckNext } from './contig';
export { relocate } from './relocate';
