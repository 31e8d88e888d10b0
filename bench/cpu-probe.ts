// What the bench times on each CPU to choose the one it runs on (src/perf/cpu-pin.ts):
// random addresses through 64 GiB of x86-64 tables with the cached batch, the walk that
// lost most on a vCPU in its slow state (2x, where the naive walk lost 1.3x and a plain
// dependent-read loop almost nothing). Prints the best of eight batches' ms, after four
// that let V8 tier the kernel up.
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingInputs } from '../src/perf/paging-workloads.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { BATCH_CACHED } from '../src/abi.js';

const n = 1 << 18;
const scn = buildWalkScenario({ bytes: 64 * GiB });
const e = scn.engine;
e.prepare({ format: x86_64 });
e.big.set(pagingInputs(scn, n).random, e.layout.ioBase / 8);
let best = Infinity;
for (let i = 0; i < 12; i++) {
  const t0 = performance.now();
  e.backend.paging.translateBatch(scn.root, e.layout.ioBase, e.layout.ioBase + n * 8, n, 0, BATCH_CACHED);
  if (i >= 4) best = Math.min(best, performance.now() - t0);
  await new Promise((done) => setImmediate(done)); // finished TurboFan code is installed between calls
}
console.log(best.toFixed(2));
