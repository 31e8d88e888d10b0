// What the benchmark suite, `memwalk demo` and the parallel runner measure: a
// workload is one piece of kernel work, defined once and run on every backend
// over the same memory, with a checksum of what it produced.
import type { Engine } from '../engine/engine.js';

export type BackendKind = 'wasm' | 'reference' | 'native';

/** A task of the native C program (bench/native/memwalk-native.c): `kind:arg:arg...`. */
export interface NativeTask {
  readonly spec: string;
  /** Files the task reads, written by the harness before the run. */
  readonly files?: readonly { path: string; data: ArrayBufferView }[];
}

export interface Workload {
  /** The same name for the same work on every backend. */
  readonly name: string;
  /** Kernel family: translate, range, list, map, chase, scan, fixup, directmap, relocate, api. */
  readonly family: string;
  /** Units of work per run and their name (addresses, pages, mappings, frames). */
  readonly items: number;
  readonly unit: string;
  /** Backends this workload runs on (default wasm and reference, plus native when `native` is set). */
  readonly backends?: readonly BackendKind[];
  /** Put the inputs in place (untimed; called before warm-up and before measuring on each backend). */
  prepare(engine: Engine): void;
  /** A small run of the same kernels, for warm-up. Returns a value to consume. */
  warm(engine: Engine): number;
  /** One measured run. Returns a value to consume (so the work cannot be dropped). */
  run(engine: Engine): number;
  /** Untimed, after every measured run: restore state a run changed. */
  reset?(engine: Engine): void;
  /**
   * Checksum of the output of the last run (untimed). Cheap enough to call after
   * every measured run; `verify` does a fuller check where a run's output is
   * streamed and not kept.
   */
  checksum(engine: Engine): string;
  /** A separate, untimed run that computes the full checksum (default: `checksum`). */
  verify?(engine: Engine): string;
  readonly native?: NativeTask;
}

/** Backends a workload runs on. */
export function backendsOf(w: Workload): BackendKind[] {
  return [...(w.backends ?? (w.native ? ['wasm', 'reference', 'native'] : ['wasm', 'reference']))];
}
