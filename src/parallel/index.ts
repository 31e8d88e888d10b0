// memwalk/parallel: batch walks and frame-table scans split over worker threads
// sharing one engine's memory.
export { createScanPool, ScanPool, type ScanPoolOptions, type ParallelBatchOptions } from './pool.js';
