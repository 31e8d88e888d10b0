// Two measurements taken in turns: each round times one side, then the other, and a
// row is judged on the median of the rounds' ratios. On a shared 2-core VM the machine's
// state moves memory-bound timings by up to 2x from one minute to the next, so two sides
// measured as separate tasks (WASM in this process now, C in a process of its own later)
// compare two moments; taken round by round, they compare the same one.
import type { Engine } from '../engine/engine.js';
import { BackendMismatchError } from '../compare/mismatch.js';
import { consume, median, warmUp, type WarmUpOptions } from './measure.js';
import { runNative, type NativeStatus } from './native.js';
import type { Workload } from './workload.js';

/** One side of a comparison. */
export interface Side {
  readonly label: string;
  /** Runs a round times (default 1). */
  readonly runs?: number;
  /** Time one round of the side's work (ms a run); throw when its output is not the expected one. */
  round(): Promise<number> | number;
}

export interface TurnRatio {
  /** The row judged: the workload's task name. */
  readonly row: string;
  /** What was measured first and second in each round ('wasm' and 'native', or two task names). */
  readonly a: string;
  readonly b: string;
  /** Medians of the rounds' times, ms a run. */
  readonly aMs: number;
  readonly bMs: number;
  /** The median of the rounds' b / a: C / WASM against C (above 1: WASM faster), formatter / bare walk. */
  readonly ratio: number;
  /** Every round's b / a, in order (the spread behind the median). */
  readonly ratios: number[];
  readonly rounds: number;
  /** Runs each side timed a round (its median is the round's time). */
  readonly aRuns: number;
  readonly bRuns: number;
}

/** `rounds` rounds of a then b, after one untimed round (files written, caches and code settled). */
export async function inTurns(row: string, a: Side, b: Side, rounds = 7): Promise<TurnRatio> {
  const as: number[] = [], bs: number[] = [], xs: number[] = [];
  for (let k = -1; k < rounds; k++) {
    const ta = await a.round();
    const tb = await b.round();
    if (k >= 0) as.push(ta), bs.push(tb), xs.push(tb / ta);
    await new Promise((done) => setImmediate(done)); // finished TurboFan jobs are installed between rounds
  }
  return { row, a: a.label, b: b.label, aMs: median(as), bMs: median(bs), ratio: median(xs), ratios: xs.map((x) => Math.round(x * 1e3) / 1e3), rounds, aRuns: a.runs ?? 1, bRuns: b.runs ?? 1 };
}

/**
 * Runs of a short task a round: enough that they add up to about `roundMs`, at most 100.
 * A relocation run takes ~10 µs on WASM and ~6 µs in C: one timing of it is moved by a
 * single interrupt, and at a few µs the clock's own tick (~0.2 µs here) is a few percent
 * of it. The median of the round's runs (about 40 of them against C), on both sides,
 * keeps either from deciding.
 */
export function runsPerRound(probeMs: number, roundMs: number): number {
  return Math.max(1, Math.min(100, Math.ceil(roundMs / Math.max(probeMs, 1e-3))));
}

export interface WorkloadSide extends Side {
  /** The checksum of one run's output (each round's runs must give it). */
  readonly expected: string;
  /** The full checksum (`verify`, else `checksum`): what the native program prints. */
  readonly full: string;
  /** One run's time before the rounds: what `runs` is chosen from. */
  readonly probeMs: number;
  readonly runs: number;
}

/**
 * A workload on one in-process engine as the runner measures it: prepared, warmed up
 * (`warmUp`), prepared again, one probe run; each round then times `runs` runs, each
 * followed by the checksum (which must equal the probe's) and the reset, untimed, and
 * gives their median (after one untimed run).
 */
export async function workloadSide(w: Workload, e: Engine, label: string, options: TurnOptions = {}, roundMs = PAIR_ROUND_MS, prepareEachRound = false): Promise<WorkloadSide> {
  w.prepare(e);
  await warmUp(() => w.warm(e), options.warm);
  w.prepare(e);
  const t0 = performance.now();
  consume(w.run(e));
  const probeMs = performance.now() - t0;
  const expected = w.checksum(e);
  w.reset?.(e);
  const full = w.verify ? w.verify(e) : expected;
  w.prepare(e);
  const side: WorkloadSide = {
    label,
    expected,
    full,
    probeMs,
    runs: runsPerRound(probeMs, options.roundMs ?? roundMs),
    round() {
      // Two workloads on one engine may share its I/O buffer: each round puts its inputs back.
      if (prepareEachRound) w.prepare(e);
      // One untimed run first, as the C program makes in its process: the round's timed
      // runs then find this side's caches and code as runs one after another do.
      const t: number[] = [];
      for (let i = -1; i < side.runs; i++) {
        const s = performance.now();
        consume(w.run(e));
        if (i >= 0) t.push(performance.now() - s);
        const sum = w.checksum(e);
        w.reset?.(e);
        if (sum !== expected) throw new BackendMismatchError(`${w.name}: ${label} run output changed between rounds (${expected} then ${sum})`, { row: w.name });
      }
      return median(t);
    },
  };
  return side;
}

export interface NativeTarget {
  readonly status: NativeStatus;
  /** The engine's saved RAM image; none for tasks that read only their files. */
  readonly imagePath?: string;
  readonly root: bigint;
}

/**
 * The C program's side: a new process a round running the workload's native task
 * `runs` times (after its own untimed run), the median of them. Its checksum must be
 * `expected` every round. The task's input files are written in the first round only.
 */
export function nativeSide(w: Workload, native: NativeTarget, expected: string, runs: number): Side {
  if (!w.native) throw new Error(`${w.name}: no native task`);
  let files = true;
  return {
    label: 'native',
    runs,
    async round() {
      const task = files ? w.native! : { spec: w.native!.spec };
      files = false;
      const r = (await runNative(native.status, native.imagePath ?? '/dev/null', native.root, [{ name: w.name, task }], runs)).results.get(w.name);
      if (!r) throw new BackendMismatchError(`${w.name}: the native program gave no result`, { row: w.name });
      if (r.checksum !== expected) throw new BackendMismatchError(`${w.name}: C's output (${r.checksum}) differs from WASM's (${expected})`, { row: w.name });
      return median(r.samples);
    },
  };
}

export interface TurnOptions {
  /** Measured rounds (default 7, after one untimed). */
  readonly rounds?: number;
  /** Warm-up settings (tests use a short one). */
  readonly warm?: WarmUpOptions;
  /** The runs a round add up to about this many ms (see runsPerRound). */
  readonly roundMs?: number;
}

/**
 * Against C a round's runs add up to about 0.5 ms: the C side may pay far more than its
 * runs between them (the fix-up puts back 192 MiB of columns before each run, so 46 runs
 * a round made eight rounds take 26 s).
 */
const NATIVE_ROUND_MS = 0.5;
/** In one process the runs are all a round costs: 10 ms (a listing of ~2 ms gets 5 runs, its bare walk 12). */
const PAIR_ROUND_MS = 10;

/** A workload on WASM (`e`) against the C program, in turns: the row's ratio is the median of the rounds' C/WASM. */
export async function nativeTurns(w: Workload, e: Engine, native: NativeTarget, options: TurnOptions = {}): Promise<TurnRatio> {
  const wasm = await workloadSide(w, e, e.backend.name, options, NATIVE_ROUND_MS);
  return inTurns(w.name, wasm, nativeSide(w, native, wasm.full, wasm.runs), options.rounds);
}

/** Two workloads on the same engine in turns (`b`'s time over `a`'s): a listing against the bare walk it is made from. */
export async function pairTurns(a: Workload, b: Workload, e: Engine, options: TurnOptions = {}): Promise<TurnRatio> {
  const sa = await workloadSide(a, e, a.name, options, PAIR_ROUND_MS, true);
  const sb = await workloadSide(b, e, b.name, options, PAIR_ROUND_MS, true);
  return inTurns(b.name, sa, sb, options.rounds);
}

/** Where a suite gathers its rows in turns, and the mismatches it reports instead of stopping. */
export interface TurnsOut {
  readonly turns: TurnRatio[];
  readonly mismatches: string[];
}

/** Measure one row in turns into `out`: a disagreement between the sides becomes a mismatch line (the run exits 1), not the end of the run. */
export async function measureTurns(out: TurnsOut, measure: () => Promise<TurnRatio>, log?: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  try {
    const t = await measure();
    out.turns.push(t);
    log?.(`in turns: ${t.row}: ${t.ratio.toFixed(2)}x (rounds ${Math.min(...t.ratios).toFixed(2)}-${Math.max(...t.ratios).toFixed(2)}x), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    if (!(err instanceof BackendMismatchError)) throw err;
    out.mismatches.push(`in turns: ${err.message}`);
  }
}
