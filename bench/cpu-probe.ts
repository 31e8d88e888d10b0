// What the bench times on each CPU to choose the one it runs on (src/perf/cpu-pin.ts):
// random addresses through 64 GiB of x86-64 tables with the cached batch, the walk that
// lost most on a vCPU in its slow state (2x to 2.5x, where the naive walk lost 1.3x to
// 1.6x and a plain dependent-read loop almost nothing). That state comes and goes within
// seconds, so the probe times batches for 1.5 s (after four that let V8 tier the kernel
// up) and prints their 75th percentile: a CPU slow for part of it scores slow.
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingInputs } from '../src/perf/paging-workloads.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { BATCH_CACHED } from '../src/abi.js';

const n = 1 << 18;
const scn = buildWalkScenario({ bytes: 64 * GiB });
const e = scn.engine;
e.prepare({ format: x86_64 });
e.big.set(pagingInputs(scn, n).random, e.layout.ioBase / 8);
const ms: number[] = [];
const t0 = performance.now();
for (let i = 0; i < 4 + 8 || performance.now() - t0 < 1500; i++) {
  const t = performance.now();
  e.backend.paging.translateBatch(scn.root, e.layout.ioBase, e.layout.ioBase + n * 8, n, 0, BATCH_CACHED);
  if (i >= 4) ms.push(performance.now() - t);
  await new Promise((done) => setImmediate(done)); // finished TurboFan code is installed between calls
}
ms.sort((a, b) => a - b);
console.log(ms[Math.floor(ms.length * 0.75)]!.toFixed(2));
