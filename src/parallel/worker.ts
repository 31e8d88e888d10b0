// A scan worker (run by piscina in a worker thread): kernels instantiated over
// the engine's one shared WebAssembly memory, received in workerData. Each task
// is one slice of a scan; the slices of one call never overlap, so workers
// write disjoint parts of the output buffer.
import { workerData } from 'piscina';
import { instantiate, ENGINE_SCRATCH_SLOT } from '../backends/wasm.js';
import { ReferencePaging } from '../backends/reference/paging.js';
import { ReferenceFrames } from '../backends/reference/frames.js';
import type { PagingKernels, FrameKernels, BackendContext, BackendName } from '../backends/backend.js';
import type { Layout } from '../memory/layout.js';

export interface WorkerInit {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  readonly backend: BackendName;
  /** Int32Array over a SharedArrayBuffer: the next free worker slot. */
  readonly slots: Int32Array;
}

export type ScanTask =
  | { op: 'ping' }
  | { op: 'translateBatch'; root: bigint; inPtr: number; outPtr: number; n: number; access: number; mode: number }
  | { op: 'census'; type: number; dom: number; from: number; to: number };

export interface ScanReply {
  /** The worker's slot (0-based), its thread's time in the kernel, and the kernel's return value. */
  readonly slot: number;
  readonly ms: number;
  readonly value: number;
}

const init = workerData as WorkerInit;
const ctx: BackendContext = { memory: init.memory, layout: init.layout };
const slot = Atomics.add(init.slots, 0, 1);
let paging: PagingKernels;
let frames: FrameKernels;
let cacheSafe = true;

if (init.backend === 'wasm') {
  const exp = instantiate('paging', ctx);
  paging = exp;
  // The wasm kernels' walk cache and interleaving state live in the control area:
  // this worker uses its own scratch slot, or walks naively when there is none.
  cacheSafe = exp.setScratchSlot(ENGINE_SCRATCH_SLOT + 1 + slot) === 0;
  frames = instantiate('frames', ctx);
} else {
  // The reference keeps its batch state in private arrays.
  paging = new ReferencePaging(ctx);
  frames = new ReferenceFrames(ctx);
}

export default function run(task: ScanTask): ScanReply {
  const t0 = performance.now();
  let value = 0;
  switch (task.op) {
    case 'ping':
      break;
    case 'translateBatch':
      // Every mode gives the same records; naive (no scratch) where the scratch would be shared.
      paging.translateBatch(task.root, task.inPtr, task.outPtr, task.n, task.access, cacheSafe ? task.mode : 0);
      value = task.n;
      break;
    case 'census': {
      // Only the return value: the FR counters are one shared block, racy across workers.
      value = frames.census(task.type, task.dom, task.from, task.to);
      break;
    }
  }
  return { slot, ms: performance.now() - t0, value };
}
