// Parallel scans in the bench: batch translation (and the flat frame-table
// scan) split across 1 and 2 worker threads over the engine's shared memory,
// for both backends, each result checked equal to the single-threaded one.
import * as A from '../src/abi.js';
import { buildWalkScenario, type WalkScenario } from '../src/perf/scenario.js';
import { pagingInputs, count, bytesName } from '../src/perf/paging-workloads.js';
import { checksumOf } from '../src/perf/checksum.js';
import { median, stats } from '../src/perf/measure.js';
import { fmtMs, fmtX } from '../src/perf/report.js';
import { createScanPool } from '../src/parallel/pool.js';
import { buildGuestScenario, L4_KEY } from '../src/perf/frame-workloads.js';
import type { BackendName } from '../src/backends/backend.js';

interface Row {
  task: string;
  backend: BackendName;
  singleMs: number;
  w1Ms: number;
  w2Ms: number;
  speedup: number;
  equal: boolean;
}

async function timeAsync(f: () => Promise<unknown>, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out;
}

export async function parallelSection(base: WalkScenario, n: number, log: (s: string) => void, runs = 7): Promise<{ json: unknown; markdown: string[]; mismatches: string[] }> {
  log('parallel scans: 1 vs 2 worker threads over shared memory');
  const scn = buildWalkScenario({ bytes: base.bytes, shared: true });
  const e = scn.engine;
  const inputs = pagingInputs(scn, n);
  const io = e.layout.ioBase;
  const outPtr = io + n * 8;
  e.prepare({});
  const rows: Row[] = [];
  const jobs = [
    { task: `translate ${count(n)} random (naive)`, vas: inputs.random, cached: A.BATCH_NAIVE },
    { task: `translate ${count(n)} random (interleaved)`, vas: inputs.random, cached: A.BATCH_INTERLEAVED },
    { task: `translate ${count(n)} consecutive pages (cached)`, vas: inputs.consecutive, cached: A.BATCH_CACHED },
  ];
  for (const backend of ['wasm', 'reference'] as const) {
    const view = backend === 'wasm' ? e : e.withBackend('reference');
    const pools = [await createScanPool(e, { workers: 1, backend }), await createScanPool(e, { workers: 2, backend })];
    try {
      for (const job of jobs) {
        e.big.set(job.vas, io / 8);
        const k = view.backend.paging;
        for (let i = 0; i < 60; i++) k.translateBatch(scn.root, io, outPtr, 4096, 0, job.cached);
        const single = stats(timeAsync2(() => k.translateBatch(scn.root, io, outPtr, n, 0, job.cached), runs)).medianMs;
        const want = checksumOf(e.u32, outPtr, n * A.BR_BYTES);
        const ms: number[] = [];
        let equal = true;
        for (const pool of pools) {
          // Warm every worker's kernels with small slices, then measure the full batch.
          for (let i = 0; i < 60; i++) await pool.translateBatchRaw(scn.root, io, outPtr, 8192, 0, job.cached);
          e.u32.fill(0, outPtr / 4, (outPtr + n * A.BR_BYTES) / 4);
          const samples = await timeAsync(() => pool.translateBatchRaw(scn.root, io, outPtr, n, 0, job.cached), runs);
          equal &&= checksumOf(e.u32, outPtr, n * A.BR_BYTES) === want;
          ms.push(median(samples));
        }
        rows.push({ task: job.task, backend, singleMs: single, w1Ms: ms[0]!, w2Ms: ms[1]!, speedup: ms[0]! / ms[1]!, equal });
      }
    } finally {
      for (const p of pools) await p.close();
    }
  }
  // The flat frame-table scan over a guest's frame table.
  const g = buildGuestScenario({ bytes: base.bytes, order: 'ascending', shared: true });
  const frames = g.engine.layout.frames;
  for (const backend of ['wasm', 'reference'] as const) {
    const view = backend === 'wasm' ? g.engine : g.engine.withBackend('reference');
    const pools = [await createScanPool(g.engine, { workers: 1, backend }), await createScanPool(g.engine, { workers: 2, backend })];
    try {
      const k = view.backend.frames;
      for (let i = 0; i < 60; i++) k.census(L4_KEY, g.guest.domain, 0, 65536);
      const want = k.census(L4_KEY, g.guest.domain, 0, frames);
      const single = stats(timeAsync2(() => k.census(L4_KEY, g.guest.domain, 0, frames), runs)).medianMs;
      const ms: number[] = [];
      let equal = true;
      for (const pool of pools) {
        for (let i = 0; i < 60; i++) await pool.census(L4_KEY, g.guest.domain, 0, 131072);
        let got = 0;
        const samples = await timeAsync(async () => (got = await pool.census(L4_KEY, g.guest.domain, 0, frames)), runs);
        equal &&= got === want;
        ms.push(median(samples));
      }
      rows.push({ task: `flat frame-table scan (${bytesName(frames * 4096)} of frames)`, backend, singleMs: single, w1Ms: ms[0]!, w2Ms: ms[1]!, speedup: ms[0]! / ms[1]!, equal });
    } finally {
      for (const p of pools) await p.close();
    }
  }
  const md = [
    '## Parallel scans (worker_threads over the shared WebAssembly memory, piscina)',
    '',
    'Engines over shared memory (createEngine({ shared: true })). "1 thread" is the kernel called on the main thread;',
    '"1 worker"/"2 workers" split the batch into that many slices run by pool threads. Speed-up = 1 worker / 2 workers.',
    'Every parallel result was checked equal to the single-threaded one. Each wasm worker instance gets its own',
    'scratch for the walk cache and the interleaving state (setScratch); a build without it walks naively in workers.',
    '',
    '| task | backend | 1 thread ms | 1 worker ms | 2 workers ms | speed-up 1->2 | equal |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.task} | ${r.backend} | ${fmtMs(r.singleMs)} | ${fmtMs(r.w1Ms)} | ${fmtMs(r.w2Ms)} | ${fmtX(r.speedup)} | ${r.equal ? 'yes' : '**no**'} |`),
    '',
  ];
  const mismatches = rows.filter((r) => !r.equal).map((r) => `parallel ${r.task} [${r.backend}]: worker results differ from the single-threaded ones`);
  return { json: { rows }, markdown: md, mismatches };
}

function timeAsync2(f: () => unknown, runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    out.push(performance.now() - t0);
  }
  return out;
}
