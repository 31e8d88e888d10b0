// Timing helpers shared by the benchmark suite and `memwalk demo`: warm-up that
// gets V8's optimising tiers in place before anything is measured, and robust
// statistics (median and spread) of a set of samples.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Stats {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Median absolute deviation, in ms. */
  readonly madMs: number;
  /** madMs / medianMs, in percent. */
  readonly spreadPct: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stats(samples: readonly number[]): Stats {
  const med = median(samples);
  const mad = median(samples.map((x) => Math.abs(x - med)));
  return {
    medianMs: med,
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    madMs: mad,
    spreadPct: med > 0 ? (100 * mad) / med : 0,
  };
}

/** Where results of measured calls go, so no call can be removed as dead code. */
export const sink = { value: 0 };
export function consume(v: number): void {
  sink.value = (sink.value + (v | 0)) | 0;
}

export interface WarmUpOptions {
  /** Calls at least (default 60). */
  readonly minCalls?: number;
  /** Stop after this long even if not stable (default 3000 ms). */
  readonly maxMs?: number;
}

export interface WarmUpReport {
  readonly calls: number;
  /** Time of the first call, the median of the last five, in ms. */
  readonly firstMs: number;
  readonly settledMs: number;
  readonly ms: number;
}

/**
 * Warm a kernel up with many short calls until its timing is stable: V8 compiles
 * WebAssembly with Liftoff first and tiers a function up to TurboFan only after
 * it has used up a budget of executed code, in the background, and switches to
 * the new code on the *next call* (there is no on-stack replacement in wasm). A
 * single long measured call made without warm-up may run entirely in Liftoff
 * code. So: call the same kernel on a small input many times, yield to let
 * background compilation finish, and stop when the last calls are as fast as
 * the best seen. The JS reference (which has OSR) is warmed the same way.
 */
export async function warmUp(call: () => number, options: WarmUpOptions = {}): Promise<WarmUpReport> {
  const minCalls = options.minCalls ?? 60;
  const maxMs = options.maxMs ?? 3000;
  const start = performance.now();
  const times: number[] = [];
  let calls = 0;
  for (;;) {
    const t0 = performance.now();
    consume(call());
    times.push(performance.now() - t0);
    calls++;
    if (calls % 20 === 0) await sleep(2); // background TurboFan jobs finish and are installed
    if (calls >= minCalls) {
      const recent = times.slice(-5);
      const best = Math.min(...times);
      if (median(recent) <= best * 1.15 + 0.01) break;
    }
    if (performance.now() - start > maxMs && calls >= 10) break;
  }
  // A tier-up job requested by the last calls may still be compiling in the
  // background: give it time to be installed, and run the kernel again on it.
  if (minCalls >= 20) {
    await sleep(10);
    for (let i = 0; i < 20; i++, calls++) times.push(timed(call));
    await sleep(10);
  }
  return { calls, firstMs: times[0]!, settledMs: median(times.slice(-5)), ms: performance.now() - start };
}

function timed(call: () => number): number {
  const t0 = performance.now();
  consume(call());
  return performance.now() - t0;
}

/** Time `runs` calls (after `before`, untimed), returning the samples in ms. */
export function timeRuns(call: () => number, runs: number, before?: () => void, after?: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    const t0 = performance.now();
    consume(call());
    out.push(performance.now() - t0);
    after?.();
  }
  return out;
}
