// memwalk/compare: run one scenario on both backends and diff every result.
export { compareBackends, scenarioNames, type CompareReport, type CompareOptions } from './compare.js';
export { registerScenario, type CompareScenario, type ScenarioOptions, type ScenarioResults, type ScenarioFactory } from './scenarios.js';
export { diffResults, type Difference, type DiffResult } from './diff.js';
export { BackendMismatchError } from './mismatch.js';
