// memwalk/perf: measuring backends against one another: workloads over built
// scenarios, warm-up and timing, output checksums, the native C baseline, reports.
export { Checksum, checksumOf } from './checksum.js';
export { median, stats, warmUp, timeRuns, type Stats, type WarmUpOptions, type WarmUpReport } from './measure.js';
export { backendsOf, type Workload, type NativeTask, type BackendKind } from './workload.js';
export {
  buildWalkScenario, randomAddresses, consecutivePages, sortedCopy, tableFramesFor, DIRECT_MAP_VA,
  type WalkScenario, type WalkScenarioOptions,
} from './scenario.js';
export { Rng } from '../util/rng.js';
export { pagingInputs, pagingWorkloads, type PagingInputs, type PagingWorkloadOptions } from './paging-workloads.js';
export { buildGuestScenario, frameWorkloads, type GuestScenario, type GuestScenarioOptions, type FrameWorkloadOptions } from './frame-workloads.js';
export { runWorkloads, simpleTimer, assertNoMismatch, type Timer, type RunOptions, type RunResult } from './runner.js';
export { ensureNative, runNative, saveImage, type NativeStatus, type NativeResult, type NativeRun } from './native.js';
export {
  machineInfo, ratios, markdownTable, markdownReport, writeReport,
  type MachineInfo, type TaskRecord, type RatioRow, type TargetRow, type Report,
} from './report.js';
