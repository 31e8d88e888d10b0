// One call that builds a large guest (512 GiB by default) in one engine and times
// what the benchmark compares: the fix-up strategies, the flat L4 census of the
// type column and the list chase; it also reports the process's peak RSS. Used by
// scripts/large-guest.mjs and the bench; not by the default test suite.
import { createEngine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { buildGuest, guestEngineOptions, type Guest, type GuestOrder } from './guest-builder.js';
import { m2pFixup, type FixupReport, type FixupStrategy } from './m2p-fixup.js';
import type { PreemptPolicy } from './preemption.js';
import type { Engine } from '../engine/engine.js';
import type { ProgressCallback } from '../util/progress.js';

export interface LargeGuestOptions {
  readonly memory?: string | number;
  readonly ramBytes?: string | number;
  readonly processes?: number;
  readonly order?: GuestOrder;
  readonly prefilledL4s?: number;
  readonly seed?: number;
  readonly backend?: BackendName;
  /** Strategies to run, each from the same starting slots (default all four). */
  readonly strategies?: readonly FixupStrategy[];
  readonly preempt?: PreemptPolicy;
  readonly onProgress?: ProgressCallback;
}

export interface LargeGuestResult {
  readonly memoryBytes: number;
  readonly frames: number;
  readonly engineBytes: number;
  readonly backend: BackendName;
  readonly order: GuestOrder;
  readonly buildMs: number;
  readonly runs: readonly FixupReport[];
  /** Flat census of validated L4 tables over the whole type column. */
  readonly census: { readonly ms: number; readonly count: number; readonly scanned: number };
  /** The guest's page list walked through the next column only. */
  readonly chase: { readonly ms: number; readonly steps: number; readonly checksum: number };
  readonly rssAfterBuildBytes: number;
  readonly peakRssBytes: number;
}

/** Put every L4's RO_MPT slot back to its state after the build (empty, except the prefilled ones). */
export function resetRoMpt(engine: Engine, guest: Guest): void {
  for (const f of guest.l4s) engine.backend.frames.zapRoMpt(f);
  for (const p of guest.prefilled) engine.backend.frames.fillRoMpt(guest.l4s[p]!);
}

export function runLargeGuest(options: LargeGuestOptions = {}): LargeGuestResult {
  const backend = options.backend ?? 'wasm';
  const guestOptions = {
    memory: options.memory ?? '512G',
    processes: options.processes ?? 64,
    order: options.order ?? 'ascending',
    prefilledL4s: options.prefilledL4s ?? 0,
    seed: options.seed ?? 1,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  } as const;
  const engine = createEngine(guestEngineOptions({ ...guestOptions, backend, ...(options.ramBytes === undefined ? {} : { ramBytes: options.ramBytes }) }));
  const guest = buildGuest(engine, guestOptions);
  const rssAfterBuildBytes = process.memoryUsage().rss;
  const runs: FixupReport[] = [];
  for (const strategy of options.strategies ?? (['faithful', 'counted', 'flat', 'indexed'] as const)) {
    resetRoMpt(engine, guest);
    runs.push(m2pFixup(engine, guest.domain, { strategy, ...(options.preempt ? { preempt: options.preempt } : {}) }));
  }
  let t = performance.now();
  const c = engine.frames.census('L4');
  const census = { ms: performance.now() - t, count: c.count, scanned: c.scanned };
  t = performance.now();
  const ch = engine.frames.list(guest.domain).chase();
  const chase = { ms: performance.now() - t, steps: ch.steps, checksum: ch.checksum };
  return {
    memoryBytes: guest.memoryBytes,
    frames: guest.frames,
    engineBytes: engine.layout.totalBytes,
    backend,
    order: guest.order,
    buildMs: guest.elapsedMs,
    runs,
    census,
    chase,
    rssAfterBuildBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
