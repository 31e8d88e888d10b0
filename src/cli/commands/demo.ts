import type { Command } from 'commander';
import { join } from 'node:path';
import os from 'node:os';
import { buildWalkScenario, GiB } from '../../perf/scenario.js';
import { pagingWorkloads, bytesName, count } from '../../perf/paging-workloads.js';
import { buildGuestScenario, frameWorkloads } from '../../perf/frame-workloads.js';
import { runWorkloads } from '../../perf/runner.js';
import { ensureNative, packageRoot, type NativeStatus } from '../../perf/native.js';
import { commitInfo, machineInfo, markdownTable, ratios, writeReport, type Report, type TaskRecord } from '../../perf/report.js';
import { issue2Targets } from '../../perf/targets.js';
import { startProgress } from '../../util/progress.js';
import { BackendMismatchError } from '../../compare/mismatch.js';
import { printJson } from '../output.js';

interface DemoOptions {
  quick?: boolean;
  native: boolean;
  json?: boolean;
  out?: string;
  runs: string;
}

/**
 * `memwalk demo` (what `npm start` runs): the default scenario, a 64 GiB PV
 * guest with a few hundred processes' page tables plus x86-64 tables mapping
 * 64 GiB with 4 KiB pages, and the headline operations on wasm, the TS
 * reference and the native C baseline, as one table. Writes the report to
 * bench/results/demo.{json,md} (or --out).
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('build the default scenario (a 64 GiB PV guest with 300 processes, 64 GiB of 4 KiB-page tables) and compare WASM, TS and native C on the headline operations')
    .option('--quick', 'small scenario (4 GiB), for a first look or tests')
    .option('--no-native', 'skip the native C baseline')
    .option('--runs <n>', 'measured runs per operation and backend', '3')
    .option('--out <dir>', 'where to write demo.json and demo.md (default: bench/results in the package)')
    .option('--json', 'print the report as one JSON document')
    .action(async (opts: DemoOptions) => {
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
        const { InvalidInputError } = await import('../../errors.js');
        throw new InvalidInputError(`--runs: '${opts.runs}' must be a whole number from 1 to 100`, { input: '--runs' });
      }
      const report = await runDemo({ quick: !!opts.quick, native: opts.native, runs, out: opts.out ?? join(packageRoot(), 'bench', 'results') });
      if (opts.json) printJson(report.report);
      else {
        process.stdout.write(`${report.summary}\n\nreport written to ${report.files.json} and ${report.files.md}\n`);
      }
      if (report.mismatches.length) throw new BackendMismatchError(`backends disagree: ${report.mismatches[0]}`, { mismatches: report.mismatches });
    });
}

export interface DemoResult {
  readonly report: Report;
  readonly summary: string;
  readonly files: { json: string; md: string };
  readonly mismatches: string[];
}

export async function runDemo(o: { quick: boolean; native: boolean; runs: number; out: string }): Promise<DemoResult> {
  const machine = machineInfo();
  const t0 = performance.now();
  const bytes = o.quick ? 4 * GiB : 64 * GiB;
  const n = o.quick ? 2 ** 16 : 2 ** 20;
  const bar = startProgress('demo', 100);
  let base = 0;
  const stage = (from: number, to: number) => (d: number, total: number) => bar.update(from + ((to - from) * d) / Math.max(1, total));

  const native: NativeStatus = o.native ? ensureNative() : { available: false, reason: 'disabled (--no-native)' };
  const guest = buildGuestScenario({ bytes, order: 'ascending', processes: 300, onProgress: stage(0, 10) });
  bar.update((base = 10));
  const walk = buildWalkScenario({ bytes });
  bar.update((base = 15));

  const tasks: TaskRecord[] = [];
  const mismatches: string[] = [];
  let walker: string | undefined;
  // The headline subset (npm run bench has every variant): random naive (the plain-loop
  // baseline) and interleaved (the default), consecutive in every mode, the range kernel.
  const pw = pagingWorkloads(walk, { n, fileDir: o.out, families: ['translate', 'range', 'map'] }).filter(
    (w) => !/sorted|random \(cached\)/.test(w.name),
  );
  const r1 = await runWorkloads(walk.engine, pw, {
    runs: o.runs,
    budgetMs: 2000,
    native: { status: native, imagePath: join(o.out, 'walk-image.bin'), repeats: o.runs, root: walk.root },
    onProgress: (d, t) => bar.update(base + (45 * d) / t),
  });
  tasks.push(...r1.tasks);
  mismatches.push(...r1.mismatches);
  walker = r1.nativeWalker;
  base = 60;
  const fw = frameWorkloads(guest, { fileDir: o.out, strategies: ['faithful', 'flat', 'indexed'] });
  const r2 = await runWorkloads(guest.engine, fw, {
    runs: o.runs,
    budgetMs: 2000,
    native: { status: native, repeats: o.runs, root: 0n },
    onProgress: (d, t) => bar.update(base + (40 * d) / t),
  });
  tasks.push(...r2.tasks);
  mismatches.push(...r2.mismatches);
  bar.stop();
  machine.loadEnd = os.loadavg()[0]!;

  const report: Report = {
    kind: 'demo',
    machine,
    commit: commitInfo(packageRoot()),
    date: new Date().toISOString(),
    scenario: {
      guest: `${bytesName(bytes)} 64-bit PV guest, 300 processes, page list in frame order, ${guest.guest.frames} frames, ${guest.guest.tableFrames} table frames (built in ${Math.round(guest.buildMs)} ms)`,
      tables: `x86-64 4-level, ${bytesName(bytes)} mapped with 4 KiB pages`,
      addresses: count(n),
      elapsedMs: 0,
    },
    native: { available: native.available, ...(native.reason ? { reason: native.reason } : {}), ...(walker ? { walker } : {}), ...(native.compiler ? { compiler: native.compiler, flags: native.flags } : {}) },
    tasks,
    ratios: ratios(tasks),
    targets: o.quick ? [] : issue2Targets(tasks, n),
    notes: [
      `${o.runs} measured runs per operation and backend after warm-up (see the README, "Benchmarks"); npm run bench runs the full suite.`,
      ...mismatches.map((m) => `MISMATCH: ${m}`),
    ],
  };
  (report.scenario as Record<string, unknown>).elapsedMs = Math.round(performance.now() - t0);
  const files = writeReport(report, o.out, 'demo');
  const summary = [
    `memwalk demo: ${report.scenario.guest}; ${report.scenario.tables}; ${machine.cpu}, Node ${machine.node}`,
    `native: ${native.available ? walker ?? 'C' : native.reason}`,
    '',
    markdownTable(report),
    ...(report.targets.length ? ['', 'issue 2 targets: ' + report.targets.map((t) => `${t.target}: ${t.met === null ? 'n/a' : t.met ? 'met' : 'missed'}`).join('; ')] : []),
    '',
    `done in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  ].join('\n');
  return { report, summary, files, mismatches };
}
