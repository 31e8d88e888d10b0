// Child process of bench/tierup.ts: times one kernel cold (first full-size call,
// no warm-up), then after the suite's warm-up, under whatever V8 flags the
// parent chose; writes phase markers to fd 1 so that a parent running it with
// --trace-wasm-compilation-times can see which functions were compiled by
// which tier in which phase.
import { writeSync } from 'node:fs';
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingWorkloads } from '../src/perf/paging-workloads.js';
import { median, timeRuns, warmUp } from '../src/perf/measure.js';

const mark = (s: string) => writeSync(1, `@@ ${s}\n`);

async function main() {
  const scn = buildWalkScenario({ bytes: 16 * GiB, spareBytes: 16 * 2 ** 20 });
  const n = 2 ** 18;
  const families = (process.argv[2] ?? 'translate,range').split(',');
  const ws = pagingWorkloads(scn, { n, families }).filter((w) => !w.name.includes('sorted'));
  const out: Record<string, { coldMs: number; warmCalls: number; medianMs: number; cpuMs: number }> = {};
  for (const w of ws) {
    const e = scn.engine;
    w.prepare(e);
    mark(`cold ${w.name}`);
    const cold = timeRuns(() => w.run(e), 1)[0]!;
    mark(`warm ${w.name}`);
    const warm = await warmUp(() => w.warm(e));
    w.prepare(e);
    mark(`measure ${w.name}`);
    // CPU time beside wall time: children run minutes apart, and on a shared machine
    // wall time moves with the load while the process's own CPU time moves much less.
    const cpu: number[] = [];
    const samples = timeRuns(() => {
      const c0 = process.cpuUsage();
      const v = w.run(e);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      return v;
    }, 7, undefined, () => w.reset?.(e));
    mark(`end ${w.name}`);
    out[w.name] = { coldMs: cold, warmCalls: warm.calls, medianMs: median(samples), cpuMs: median(cpu) };
  }
  writeSync(1, `RESULT ${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
