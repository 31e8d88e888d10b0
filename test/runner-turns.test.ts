// The runner measures a task's in-process backends in turns (wasm run, reference run,
// wasm run, ...), one timer call a run, each run's output checked. Without timing deciding:
// the order of the runs is logged by the workload itself.
import { expect, test } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { runWorkloads, type Timer } from '../src/perf/runner.js';
import type { Workload } from '../src/perf/workload.js';

const quickWarm = { minCalls: 3, maxMs: 50 };

/** A workload whose every run appends its backend's name to `log`; `slowMs` busy-waits that long on the reference. */
function logging(log: string[], slowMs = 0): Workload {
  let last = 0;
  return {
    name: 'logged', family: 'test', items: 1, unit: 'runs',
    prepare() {},
    warm: () => 1,
    run(e: Engine) {
      log.push(e.backend.name);
      if (e.backend.name === 'reference') for (const t = performance.now(); performance.now() - t < slowMs;);
      return (last = 42);
    },
    checksum: () => String(last),
  };
}

test('wasm and reference take turns run by run, one timer call a run, after one untimed run each', async () => {
  const log: string[] = [];
  const calls: Array<[string, number]> = [];
  const timer: Timer = async (label, call, runs, after) => {
    calls.push([label, runs]);
    const out: number[] = [];
    for (let i = 0; i < runs; i++, after()) out.push((call(), 1));
    return out;
  };
  const r = await runWorkloads(createEngine({ ramBytes: '1M' }), [logging(log)], { runs: 3, backends: ['wasm', 'reference'], warm: quickWarm, timer, warmRunBelowMs: 0 });
  expect(r.mismatches).toEqual([]);
  // The two probe runs (untimed), then three turns.
  expect(log).toEqual(['wasm', 'reference', 'wasm', 'reference', 'wasm', 'reference', 'wasm', 'reference']);
  expect(calls).toEqual([['logged [wasm]', 1], ['logged [reference]', 1], ['logged [wasm]', 1], ['logged [reference]', 1], ['logged [wasm]', 1], ['logged [reference]', 1]]);
  expect(r.tasks.map((t) => [t.backend, t.runs, t.checksum])).toEqual([['wasm', 3, '42'], ['reference', 3, '42']]);
  // Runs counted short (here every run) get an untimed run of their backend before each timed one.
  log.length = 0;
  calls.length = 0;
  await runWorkloads(createEngine({ ramBytes: '1M' }), [logging(log)], { runs: 3, backends: ['wasm', 'reference'], warm: quickWarm, timer, warmRunBelowMs: Infinity });
  const turn = ['wasm', 'wasm', 'reference', 'reference'];
  expect(log).toEqual(['wasm', 'reference', ...turn, ...turn, ...turn]);
  expect(calls).toHaveLength(6);
});

test('a backend with fewer runs (its budget) drops out of the turns when it has them', async () => {
  const log: string[] = [];
  // The reference's probe takes at least 5 ms: 40 ms of budget give it at most 8 runs, never fewer than 3.
  const r = await runWorkloads(createEngine({ ramBytes: '1M' }), [logging(log, 5)], { runs: 10, budgetMs: 40, backends: ['wasm', 'reference'], warm: quickWarm, warmRunBelowMs: 0 });
  const [w, t] = [r.tasks.find((x) => x.backend === 'wasm')!.runs, r.tasks.find((x) => x.backend === 'reference')!.runs];
  expect(t).toBeGreaterThanOrEqual(3);
  expect(t).toBeLessThanOrEqual(8);
  const both = Math.min(w, t);
  const turns = Array.from({ length: both }, () => ['wasm', 'reference']).flat();
  const rest = Array.from({ length: Math.abs(w - t) }, () => (w > t ? 'wasm' : 'reference'));
  expect(log).toEqual(['wasm', 'reference', ...turns, ...rest]);
});
