// The search module: scans of physical memory laid out as spans (see src/abi.ts,
// SP_*): a byte pattern anywhere, and frames that hold given table entries.
export { initLayout as init } from '../shared/layout';
export { abiHash } from '../../build/gen/abi-hash';
export { searchPattern } from './pattern';
export { matchFrames } from './frames';
