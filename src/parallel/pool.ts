// Parallel scans: batch translation (and flat frame-table scans) split across
// worker threads that share the engine's one WebAssembly memory, through a
// piscina pool. The workers run the same kernels (wasm instances over the same
// Memory, or the TS reference over the same SharedArrayBuffer) on disjoint
// slices of the input and output buffers, so the results are exactly those of
// one thread.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import * as A from '../abi.js';
import type { Engine, PagingOptions } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { MAX_SCAN_WORKERS } from '../backends/wasm.js';
import { BatchResult, accessFlags, type AccessKind, type BatchStrategy } from '../paging/operations.js';
import { InvalidInputError } from '../errors.js';
import { engineContext } from '../core/context.js';
import { withScratchLease } from '../core/scratch-lease.js';
import * as V from '../paging/arguments.js';
import type { ScanReply, ScanTask, WorkerInit } from './worker.js';

/** Where the compiled worker is: next to this file when built, else dist/ (tests run the TS sources). */
function workerFile(): string {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return fileURLToPath(here);
  const built = new URL('../../dist/src/parallel/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return fileURLToPath(built);
  throw new Error('memwalk: dist/src/parallel/worker.js not found: run `npm run build` first');
}

const STRATEGY: Readonly<Record<BatchStrategy, number>> = Object.freeze({ naive: A.BATCH_NAIVE, cached: A.BATCH_CACHED, interleaved: A.BATCH_INTERLEAVED });
const BACKENDS: Readonly<Record<string, BackendName>> = Object.freeze({ wasm: 'wasm', reference: 'reference' });

const MAX_WORKERS = MAX_SCAN_WORKERS;

export interface ScanPoolOptions {
  /** Worker threads (default 2). */
  readonly workers?: number;
  /** Kernels the workers run (default: the engine's backend). */
  readonly backend?: BackendName;
}

export interface ParallelBatchOptions extends PagingOptions {
  readonly access?: AccessKind;
  /** How each slice is walked (default 'interleaved', as engine.translateBatch). */
  readonly strategy?: BatchStrategy;
  /** Slices to split the work into (default: one per worker). */
  readonly parts?: number;
}

/**
 * A pool of scan workers over one engine's memory. Each worker's wasm kernels
 * keep their batch-walk state in their own scratch slot of the control area.
 */
export class ScanPool {
  readonly workers: number;
  readonly backend: BackendName;
  private constructor(
    private readonly engine: Engine,
    private readonly pool: Piscina<ScanTask, ScanReply>,
    workers: number,
    backend: BackendName,
    /** Bytes of the I/O buffer batches may use. */
    readonly ioBytes: number,
  ) {
    this.workers = workers;
    this.backend = backend;
  }

  static async create(engine: Engine, options: ScanPoolOptions = {}): Promise<ScanPool> {
    engineContext(engine, 'engine');
    const o = V.options<ScanPoolOptions>(options);
    const workers = o.workers === undefined ? 2 : V.wholeNumber(o.workers, 'workers', 1, MAX_WORKERS);
    if (!(engine.memory.buffer instanceof SharedArrayBuffer)) {
      throw new InvalidInputError('workers need an engine over shared memory: create it with createEngine({ ..., shared: true })', { input: 'shared' });
    }
    const backend = o.backend === undefined ? engine.backend.name : V.oneOf(BACKENDS, o.backend, 'backend');
    const ioBytes = engine.layout.ioBytes;
    const init: WorkerInit = {
      memory: engine.memory,
      layout: engine.layout,
      backend,
      slots: new Int32Array(new SharedArrayBuffer(4)),
    };
    const pool = new Piscina<ScanTask, ScanReply>({
      filename: workerFile(),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      workerData: init,
      // One task per worker at a time: a slice is already a long job.
      concurrentTasksPerWorker: 1,
    });
    const p = new ScanPool(engine, pool, workers, backend, ioBytes);
    // Start every thread now (module load, wasm instantiation), not in the first measured call.
    await Promise.all(Array.from({ length: workers }, () => pool.run({ op: 'ping' })));
    return p;
  }

  /** Addresses one call can take (8 bytes in, 16 out each). */
  get batchCapacity(): number {
    return Math.floor(this.ioBytes / (8 + A.BR_BYTES));
  }

  /**
   * The kernel-level call: translate `n` u64 addresses at `inPtr` into records
   * at `outPtr`, in `parts` contiguous slices run concurrently. Walk parameters
   * must be in place (engine.prepare). Returns the workers' replies. Holds the
   * engine's scratch while the workers run (see src/core/scratch-lease.ts).
   */
  translateBatchRaw(root: bigint, inPtr: number, outPtr: number, n: number, access = 0, mode: number = A.BATCH_INTERLEAVED, parts = this.workers): Promise<ScanReply[]> {
    return withScratchLease(this.engine.memory, 'a parallel translateBatch', (hold) => hold(this.slices(root, inPtr, outPtr, n, access, mode, parts)));
  }

  private slices(root: bigint, inPtr: number, outPtr: number, n: number, access: number, mode: number, parts: number): Promise<ScanReply[]> {
    const slices = Math.max(1, Math.min(parts, n));
    const per = Math.ceil(n / slices);
    const jobs: Promise<ScanReply>[] = [];
    for (let off = 0; off < n; off += per) {
      const m = Math.min(per, n - off);
      jobs.push(this.pool.run({ op: 'translateBatch', root, inPtr: inPtr + off * 8, outPtr: outPtr + off * A.BR_BYTES, n: m, access, mode }));
    }
    return Promise.all(jobs);
  }

  /**
   * Like engine.translateBatch, with the walks spread over the workers. Calls on
   * one engine (from this pool or another) take turns; a synchronous call on the
   * engine while the workers run is refused with an EngineBusyError.
   */
  async translateBatch(root: bigint, vas: BigUint64Array | readonly bigint[], options: ParallelBatchOptions = {}): Promise<BatchResult> {
    const r = V.u64(root, 'root');
    const input = V.addressList(vas, 'vas');
    const walk = V.pagingOptions(options);
    const o = V.options<ParallelBatchOptions>(options);
    const mode = o.strategy === undefined ? A.BATCH_INTERLEAVED : V.oneOf(STRATEGY, o.strategy, 'options.strategy');
    const parts = o.parts === undefined ? this.workers : V.wholeNumber(o.parts, 'options.parts', 1);
    const acc = accessFlags(walk.access, walk.user);
    const e = this.engine;
    return withScratchLease(e.memory, 'a parallel translateBatch', async (hold) => {
      // In its turn: the walk parameters and the input are written now, and no other call changes them until the workers are done.
      const p = e.prepare(walk);
      const n = input.length;
      const addr = new BigUint64Array(n);
      const a32 = new Uint32Array(addr.buffer);
      const status = new Uint32Array(n);
      const chunk = this.batchCapacity;
      const inPtr = e.layout.ioBase;
      const outPtr = inPtr + chunk * 8;
      const u32 = e.u32;
      for (let off = 0; off < n; off += chunk) {
        const m = Math.min(chunk, n - off);
        e.big.set(input.subarray(off, off + m), inPtr / 8);
        await hold(this.slices(r, inPtr, outPtr, m, acc, mode, parts));
        const w = outPtr / 4;
        for (let i = 0; i < m; i++) {
          a32[(off + i) * 2] = u32[w + i * 4]!;
          a32[(off + i) * 2 + 1] = u32[w + i * 4 + 1]!;
          status[off + i] = u32[w + i * 4 + 2]!;
        }
      }
      return new BatchResult(p, input, addr, status);
    });
  }

  /**
   * Flat frame-table scan: frames of [from, to) with `type` owned by `dom`
   * (FRAME_NULL: any), counted in `parts` slices. Needs the frame kernels.
   */
  async census(type: number, dom: number, from: number, to: number, parts = this.workers): Promise<number> {
    V.u32(type, 'type');
    V.u32(dom, 'dom');
    V.wholeNumber(from, 'from', 0, this.engine.layout.frames);
    V.wholeNumber(to, 'to', from, this.engine.layout.frames);
    V.wholeNumber(parts, 'parts', 1);
    return withScratchLease(this.engine.memory, 'a parallel census', async (hold) => {
      const slices = Math.max(1, Math.min(parts, to - from));
      const per = Math.ceil((to - from) / slices);
      const jobs: Promise<ScanReply>[] = [];
      for (let f = from; f < to; f += per) jobs.push(this.pool.run({ op: 'census', type, dom, from: f, to: Math.min(to, f + per) }));
      return (await hold(Promise.all(jobs))).reduce((s, r) => s + r.value, 0);
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Create a scan pool (see ScanPool). */
export function createScanPool(engine: Engine, options?: ScanPoolOptions): Promise<ScanPool> {
  return ScanPool.create(engine, options);
}
