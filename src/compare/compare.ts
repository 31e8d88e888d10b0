// compareBackends: run one scenario on the wasm and the reference backend, diff
// every result, and time both sides.
import type { Engine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { InvalidInputError } from '../errors.js';
import { diffResults, type Difference } from './diff.js';
import { SCENARIOS, type CompareScenario, type ScenarioOptions, type ScenarioResults } from './scenarios.js';
import './xen-scenarios.js';

export interface CompareOptions extends ScenarioOptions {
  /** Differences to report in detail (default 10). */
  readonly maxDifferences?: number;
  /**
   * For testing the comparison itself: change the reference side's results
   * before the diff (e.g. flip one value); compare must then report a difference.
   */
  readonly tamper?: (results: ScenarioResults, engine: Engine) => void;
}

export interface CompareReport {
  readonly scenario: string;
  readonly description: string;
  readonly equal: boolean;
  /** Values compared, and how many differed (the first few are in `differences`). */
  readonly compared: number;
  readonly differing: number;
  readonly differences: Difference[];
  /** The result categories diffed. */
  readonly categories: string[];
  /** Time of each side's run (building excluded), and the speed of wasm relative to the reference. */
  readonly timing: { readonly wasmMs: number; readonly referenceMs: number; readonly speedup: number };
  /** One engine for both backends, or one each (scenarios that change memory). */
  readonly engines: 1 | 2;
}

export function scenarioNames(): string[] {
  return [...SCENARIOS.keys()];
}

/** Resolve a scenario by name (or pass one through). */
export function resolveScenario(scenario: string | CompareScenario, options: ScenarioOptions = {}): CompareScenario {
  if (typeof scenario !== 'string') return scenario;
  const factory = SCENARIOS.get(scenario);
  if (!factory) {
    throw new InvalidInputError(`scenario: '${scenario}' is not one of ${scenarioNames().join(', ')}`, { input: 'scenario', value: scenario });
  }
  return factory(options);
}

/**
 * Run `scenario` on both backends and diff every result. Scenarios that modify
 * memory run on two engines built identically; the others on one memory, the
 * reference through Engine.withBackend.
 */
export function compareBackends(scenario: string | CompareScenario, options: CompareOptions = {}): CompareReport {
  const s = resolveScenario(scenario, options);
  const engines = new Map<BackendName, Engine>();
  if (s.mutates) {
    engines.set('wasm', s.build('wasm'));
    engines.set('reference', s.build('reference'));
  } else {
    const e = s.build('wasm');
    engines.set('wasm', e);
    engines.set('reference', e.withBackend('reference'));
  }
  const results = new Map<BackendName, ScenarioResults>();
  const ms = new Map<BackendName, number>();
  for (const b of ['wasm', 'reference'] as const) {
    const e = engines.get(b)!;
    const t0 = performance.now();
    results.set(b, s.run(e));
    ms.set(b, performance.now() - t0);
  }
  options.tamper?.(results.get('reference')!, engines.get('reference')!);
  const d = diffResults(results.get('wasm'), results.get('reference'), options.maxDifferences ?? 10);
  const wasmMs = ms.get('wasm')!, referenceMs = ms.get('reference')!;
  return {
    scenario: s.name,
    description: s.description,
    equal: d.differing === 0,
    compared: d.compared,
    differing: d.differing,
    differences: d.differences,
    categories: Object.keys(results.get('wasm')!),
    timing: { wasmMs, referenceMs, speedup: referenceMs / wasmMs },
    engines: s.mutates ? 2 : 1,
  };
}
