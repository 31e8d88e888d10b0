// What a benchmark suite is given and gives back: the one shape shared by the
// suites (suites.ts, xen-suites.ts) and the runner that lists them.
import type { NativeStatus } from '../src/perf/native.js';
import type { Timer } from '../src/perf/runner.js';
import type { TaskRecord } from '../src/perf/report.js';
import type { TurnRatio } from '../src/perf/turns.js';

export interface SuiteArgs {
  readonly quick: boolean;
  readonly only?: string[];
  readonly runs: number;
  readonly out: string;
}

export interface SuiteResult {
  tasks: TaskRecord[];
  mismatches: string[];
  scenario: Record<string, unknown>;
  /** Rows measured in turns (src/perf/turns.ts), judged by speedTargets. */
  turns?: TurnRatio[];
}

export type ExtraRun = (args: SuiteArgs, native: NativeStatus, timer: Timer, log: (s: string) => void) => Promise<SuiteResult>;
