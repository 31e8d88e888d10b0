// The translate batches against the C baseline, run in turns: each round times every
// WASM batch once, then starts the C program once for the same batches. Measured as
// separate tasks (WASM in this process, C in one process of its own) the C side's
// random walks took 82 ms in one full bench run and 174 ms in the next on this kind of
// machine: a process's luck with its memory, not the code. A C process per round, and
// the median of the rounds' ratios, take that luck out of the same-algorithm rows.
import { join } from 'node:path';
import { x86_64 } from '../paging/formats/x86.js';
import { BATCH_CACHED, BATCH_INTERLEAVED, BATCH_NAIVE } from '../abi.js';
import { checksumOf } from './checksum.js';
import { median } from './measure.js';
import { runNative, type NativeStatus } from './native.js';
import { pagingInputs } from './paging-workloads.js';
import type { WalkScenario } from './scenario.js';

export interface TurnRow {
  /** `random (naive)`, `consecutive pages (cached)`, ... as the translate rows name them. */
  readonly row: string;
  readonly wasmMs: number;
  readonly nativeMs: number;
  /** The median of the rounds' C time / WASM time (above 1: WASM is faster). */
  readonly ratio: number;
  readonly rounds: number;
}

const MODES = [['naive', BATCH_NAIVE], ['cached', BATCH_CACHED], ['interleaved', BATCH_INTERLEAVED]] as const;

/**
 * `rounds` rounds (after one untimed) of every batch mode on random addresses and
 * consecutive pages: WASM in this process, C from `imagePath` (the engine's saved
 * image) in a new process each round, its median of three runs. Input files go to `dir`.
 */
export async function translateTurns(scn: WalkScenario, n: number, native: NativeStatus, imagePath: string, dir: string, rounds = 7): Promise<TurnRow[]> {
  const e = scn.engine;
  e.prepare({ format: x86_64 });
  const inputs = pagingInputs(scn, n);
  const rows = (['random', 'consecutive pages'] as const).flatMap((label) =>
    MODES.map(([m, mode]) => ({ row: `${label} (${m})`, vas: label === 'random' ? inputs.random : inputs.consecutive, file: join(dir, `turns-${label === 'random' ? 'random' : 'consecutive'}.bin`), mode })),
  );
  const tasks = rows.map((r) => ({ name: r.row, task: { spec: `batch:${r.file}:${r.mode}`, files: [{ path: r.file, data: r.vas }] } }));
  const w = rows.map(() => [] as number[]), c = rows.map(() => [] as number[]), x = rows.map(() => [] as number[]);
  const io = e.layout.ioBase, out = io + n * 8;
  for (let k = -1; k < rounds; k++) {
    const sums = rows.map((r, i) => {
      e.big.set(r.vas, io / 8);
      const t0 = performance.now();
      e.backend.paging.translateBatch(scn.root, io, out, n, 0, r.mode);
      const ms = performance.now() - t0;
      if (k >= 0) w[i]!.push(ms);
      return checksumOf(e.u32, out, n * 16);
    });
    const nr = await runNative(native, imagePath, scn.root, tasks, 3);
    rows.forEach((r, i) => {
      const res = nr.results.get(r.row)!;
      if (res.checksum !== sums[i]) throw new Error(`translate turns: ${r.row}: C's records (${res.checksum}) differ from WASM's (${sums[i]})`);
      if (k < 0) return;
      const cm = median(res.samples);
      c[i]!.push(cm);
      x[i]!.push(cm / w[i]![w[i]!.length - 1]!);
    });
    await new Promise((done) => setImmediate(done));
  }
  return rows.map((r, i) => ({ row: r.row, wasmMs: median(w[i]!), nativeMs: median(c[i]!), ratio: median(x[i]!), rounds }));
}
