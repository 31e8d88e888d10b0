// Build a large PV guest in one engine (512 GiB by default), run the m2p-strict
// fix-up strategies, the flat L4 census and the list chase, and print one JSON
// document with the timings and the peak RSS. Needs `npm run build` first.
//   node scripts/large-guest.mjs [--memory 512G] [--order ascending|random|interleaved]
//        [--backend wasm|reference] [--processes 64] [--prefilled 0] [--strategies faithful,indexed]
import { runLargeGuest } from '../dist/src/xen/large-guest.js';
import { parsePreempt } from '../dist/src/xen/preemption.js';
import { startProgress } from '../dist/src/util/progress.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
let bar;
const result = runLargeGuest({
  memory: opt('memory', '512G'),
  ramBytes: opt('ram'),
  order: opt('order', 'ascending'),
  backend: opt('backend', 'wasm'),
  processes: Number(opt('processes', '64')),
  prefilledL4s: Number(opt('prefilled', '0')),
  strategies: opt('strategies', 'faithful,counted,flat,indexed').split(','),
  preempt: parsePreempt(opt('preempt', 'never')),
  onProgress: (done, total) => {
    bar ??= startProgress('building guest', total, 'frames');
    bar.update(done);
    if (done >= total) bar.stop();
  },
});
const mb = (b) => Math.round(b / 2 ** 20);
console.log(
  JSON.stringify(
    {
      ...result,
      runs: result.runs.map((r) => ({ strategy: r.strategy, framesVisited: r.framesVisited, l4Total: r.l4Total, l4Filled: r.l4Filled, allFilled: r.allFilled, continuations: r.continuations, elapsedMs: Math.round(r.elapsedMs * 10) / 10 })),
      engineMiB: mb(result.engineBytes),
      rssAfterBuildMiB: mb(result.rssAfterBuildBytes),
      peakRssMiB: mb(result.peakRssBytes),
    },
    null,
    2,
  ),
);
