// Runs workloads on every backend over one engine's memory: warm-up, measured
// runs with the output checksummed after each, the in-process backends' runs taken
// in turns, cross-backend equality, and the native C program over the same image.
// The timer is pluggable: the bench suite uses tinybench, `memwalk demo` a plain loop.
import type { Engine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { BackendMismatchError } from '../compare/mismatch.js';
import { stats, warmUp, timeRuns, type WarmUpOptions, type WarmUpReport } from './measure.js';
import { runNative, saveImage, type NativeStatus, type NativeRun } from './native.js';
import type { TaskRecord } from './report.js';
import { backendsOf, type BackendKind, type Workload } from './workload.js';

/**
 * Measure `runs` calls of `call`; `after` runs untimed after each call. Returns ms samples.
 * The runner asks for one call at a time (its backends take turns) after its own untimed
 * full-size run, so a timer needs no warm-up run of its own.
 */
export type Timer = (label: string, call: () => number, runs: number, after: () => void) => Promise<number[]>;

export const simpleTimer: Timer = async (_label, call, runs, after) => timeRuns(call, runs, undefined, after);

export interface RunOptions {
  /** Measured runs per task and backend (the timer may take more). */
  readonly runs: number;
  /** Fewer runs for slow tasks: at most this many ms of measuring per task and backend (default 4000). */
  readonly budgetMs?: number;
  readonly timer?: Timer;
  /** Runs shorter than this many ms get an untimed run of their backend right before each timed one (default SHORT_MS, 20). */
  readonly warmRunBelowMs?: number;
  /** Warm-up settings (tests use a short one; timing is not their point). */
  readonly warm?: WarmUpOptions;
  /** Backends to run (default all the workload allows). */
  readonly backends?: readonly BackendKind[];
  /** The native baseline; without `imagePath` its tasks get no RAM image (frame-column tasks need none). */
  readonly native?: { status: NativeStatus; imagePath?: string; repeats: number; root: bigint };
  readonly onProgress?: (done: number, total: number, label: string) => void;
  readonly log?: (line: string) => void;
}

export interface RunResult {
  readonly tasks: TaskRecord[];
  readonly warmups: { name: string; backend: BackendKind; warm: WarmUpReport }[];
  readonly nativeWalker?: string;
  readonly nativeError?: string;
  /** Checksums that differed between backends (empty when all agree). */
  readonly mismatches: string[];
}

/**
 * When backends take turns, one whose run takes less than this gets an untimed run of
 * its own right before each timed one. Timed straight after the other backend's run, a
 * short run finds the caches, branch predictors and V8's state left by that run: the
 * relocation (13 µs a run when its runs follow one another) measured 31 µs right after
 * each TS run, the listing's bare walk 1.4 ms instead of 0.7. The untimed run puts back
 * what runs of one backend, one after the other, find; over 20 ms that difference is
 * noise, and a second run would cost more than it buys.
 */
const SHORT_MS = 20;

/** Run every workload on every backend; outputs are compared before any time is recorded. */
export async function runWorkloads(engine: Engine, workloads: readonly Workload[], options: RunOptions): Promise<RunResult> {
  const timer = options.timer ?? simpleTimer;
  const allowed = options.backends ?? ['wasm', 'reference', 'native'];
  const views = new Map<BackendName, Engine>();
  const view = (b: BackendName) => {
    let v = views.get(b);
    if (!v) views.set(b, (v = engine.backend.name === b ? engine : engine.withBackend(b)));
    return v;
  };
  const tasks: TaskRecord[] = [];
  const warmups: RunResult['warmups'] = [];
  const mismatches: string[] = [];
  const plan = workloads.map((w) => ({ w, backends: backendsOf(w).filter((b) => allowed.includes(b)) }));
  const total = plan.reduce((n, p) => n + p.backends.length, 0);
  let done = 0;

  // The native program first: one process over the saved image, every task.
  let native: NativeRun | undefined;
  let nativeError: string | undefined;
  const nativeTasks = plan.filter((p) => p.backends.includes('native') && p.w.native).map((p) => ({ name: p.w.name, task: p.w.native! }));
  if (options.native?.status.available && nativeTasks.length) {
    options.onProgress?.(done, total, 'native C');
    try {
      const image = options.native.imagePath ?? '/dev/null';
      if (options.native.imagePath) await saveImage(engine, image);
      native = await runNative(options.native.status, image, options.native.root, nativeTasks, options.native.repeats);
    } catch (err) {
      nativeError = (err as Error).message.split('\n')[0];
      options.log?.(`native baseline failed: ${nativeError}`);
    }
  }

  for (const { w, backends } of plan) {
    const sums = new Map<BackendKind, string>();
    // The in-process backends are measured in turns (wasm run, reference run, wasm run, ...): measured one
    // after the other, WASM's runs and TS's compare two moments of a shared machine, whose state moves a
    // memory-bound task by up to 2x within minutes.
    const sides = backends.filter((b) => b !== 'native').map((b) => ({ b, e: view(b), label: `${w.name} [${b}]`, runs: 0, short: false, samples: [] as number[], expected: undefined as string | undefined, bad: undefined as string | undefined }));
    for (const s of sides) {
      options.onProgress?.(done, total, s.label);
      w.prepare(s.e);
      const warm = await warmUp(() => w.warm(s.e), options.warm);
      warmups.push({ name: w.name, backend: s.b, warm });
    }
    // The output after every run must be the first run's; then the state the run changed is put back.
    const check = (s: (typeof sides)[number]) => {
      const sum = w.checksum(s.e);
      if (s.expected === undefined) s.expected = sum;
      else if (sum !== s.expected && !s.bad) s.bad = `${s.label}: run outputs differ (${s.expected} then ${sum})`;
      w.reset?.(s.e);
    };
    for (const s of sides) {
      w.prepare(s.e);
      // One untimed full-size run; slow tasks (the reference on big inputs) get fewer runs, never fewer than 3.
      const probe = timeRuns(() => w.run(s.e), 1, undefined, () => w.reset?.(s.e))[0]!;
      s.runs = Math.max(3, Math.min(options.runs, Math.floor((options.budgetMs ?? 4000) / Math.max(probe, 0.001))));
      s.short = sides.length > 1 && probe < (options.warmRunBelowMs ?? SHORT_MS);
      check(s);
    }
    collectGarbage();
    // One timer call a run (the timer may sort its samples, so one call cannot hold both backends' runs);
    // a backend with fewer runs (its budget) drops out of the turns when it has them.
    const most = Math.max(0, ...sides.map((s) => s.runs));
    for (let i = 0; i < most; i++) {
      for (const s of sides) {
        if (i >= s.runs) continue;
        if (s.short) timeRuns(() => w.run(s.e), 1, undefined, () => check(s));
        s.samples.push(...(await timer(s.label, () => w.run(s.e), 1, () => check(s))));
      }
    }
    for (const b of backends) {
      if (b === 'native') {
        const r = native?.results.get(w.name);
        if (r) {
          sums.set(b, r.checksum);
          tasks.push(record(w, b, r.samples, r.checksum));
        }
        done++;
        continue;
      }
      const s = sides.find((x) => x.b === b)!;
      done++;
      if (s.bad) {
        mismatches.push(s.bad);
        continue;
      }
      const full = w.verify ? w.verify(s.e) : s.expected!;
      sums.set(b, full);
      tasks.push(record(w, b, s.samples, full));
    }
    // Every backend must have produced the same output.
    const distinct = new Set(sums.values());
    if (distinct.size > 1) {
      const detail = [...sums].map(([b, s]) => `${b} ${s}`).join(', ');
      mismatches.push(`${w.name}: outputs differ between backends (${detail})`);
      for (let i = tasks.length - 1; i >= 0; i--) if (tasks[i]!.name === w.name) tasks.splice(i, 1);
    }
  }
  options.onProgress?.(total, total, 'done');
  return { tasks, warmups, mismatches, ...(native ? { nativeWalker: native.walker } : {}), ...(nativeError ? { nativeError } : {}) };
}

function record(w: Workload, backend: BackendKind, samples: number[], checksum: string): TaskRecord {
  const s = stats(samples);
  return {
    name: w.name,
    family: w.family,
    backend,
    ...s,
    samples: samples.map((x) => Math.round(x * 1e4) / 1e4),
    runs: samples.length,
    items: w.items,
    unit: w.unit,
    itemsPerSec: w.items / (s.medianMs / 1000),
    checksum,
  };
}

/** Throw when a run found differing outputs (the CLI turns this into exit 1). */
export function assertNoMismatch(result: RunResult): void {
  if (result.mismatches.length) {
    throw new BackendMismatchError(`backends disagree: ${result.mismatches[0]}${result.mismatches.length > 1 ? ` (and ${result.mismatches.length - 1} more)` : ''}`, {
      mismatches: result.mismatches,
    });
  }
}

/**
 * A full collection before a task's measured runs, when the process was started with
 * --expose-gc (`npm run bench` is): otherwise a collection that an earlier task's
 * garbage or a new engine's WebAssembly memory (V8 counts it as external memory)
 * started can still be marking on the other core, and a memory-bound task measures
 * that too.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
