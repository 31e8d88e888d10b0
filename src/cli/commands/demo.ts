import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import os from 'node:os';
import { buildWalkScenario, GiB } from '../../perf/scenario.js';
import { pagingWorkloads, bytesName, count } from '../../perf/paging-workloads.js';
import { buildGuestScenario, frameWorkloads } from '../../perf/frame-workloads.js';
import { runWorkloads } from '../../perf/runner.js';
import { ensureNative, type NativeStatus } from '../../perf/native.js';
import { commitInfo, fmtMs, fmtX, machineInfo, ratios, writeReport, type Report, type TaskRecord } from '../../perf/report.js';
import { speedTargets } from '../../perf/targets.js';
import { startProgress } from '../../util/progress.js';
import { BackendMismatchError } from '../../compare/mismatch.js';
import { escapeText } from '../../util/numbers.js';
import { integer } from '../args.js';
import { printJson } from '../output.js';
import { installedRoot, isSourceCheckout } from '../package-info.js';

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
 * 64 GiB with 4 KiB pages, and the headline operations on WASM, the TS
 * reference and (in a clone with a C compiler) a native C baseline, as one
 * table. Writes demo.json and demo.md only where --out says.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('build the default scenario (a 64 GiB PV guest with 300 processes, 64 GiB of 4 KiB-page tables) and time WASM against the TypeScript reference (and C, in a clone) on the headline operations')
    .option('--quick', 'small scenario (4 GiB), for a first look or tests')
    .option('--no-native', 'skip the C baseline')
    .option('--runs <n>', 'measured runs per operation and backend', '3')
    .option('--out <dir>', 'also write the report as demo.json and demo.md into this directory')
    .option('-j, --json', 'print the report as one JSON document')
    .action(async (opts: DemoOptions) => {
      const runs = integer(opts.runs, '--runs', 1, 100);
      const result = await runDemo({ quick: !!opts.quick, native: opts.native, runs, ...(opts.out === undefined ? {} : { out: opts.out }) });
      if (opts.json) printJson(result.report);
      else {
        const written = result.files ? [`report written to ${escapeText(shortPath(result.files.md))} and ${escapeText(shortPath(result.files.json))}`, ''] : [];
        process.stdout.write([result.summary, '', ...written, ...nextSteps()].join('\n') + '\n');
      }
      if (result.mismatches.length) throw new BackendMismatchError(`backends disagree: ${result.mismatches[0]}`, { mismatches: result.mismatches });
    });
}

const shortPath = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');

/** How the user runs memwalk from where they are: the built file in a clone, the package's bin elsewhere. */
function invocation(): string {
  if (!isSourceCheckout()) return 'npx memwalk';
  const main = join(installedRoot(), 'dist', 'src', 'cli', 'main.js');
  return `node ${escapeText(shortPath(main))}`;
}

/** What a user would run next, on a dump of their own. */
function nextSteps(): string[] {
  const m = invocation();
  const rows = [
    [`${m} info -f /tmp/guest.elf`, '# segments, vCPUs, CR3, paging mode'],
    [`${m} translate -f /tmp/guest.elf 0xffffffff81000000`, "# one virtual address through vCPU 0's tables"],
    [`${m} mappings -f /tmp/guest.elf | less`, '# every mapping, in address order'],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return ['Next, on a memory dump of your own (in the QEMU monitor: dump-guest-memory /tmp/guest.elf):', ...rows.map(([c, w]) => `  ${c!.padEnd(width)}  ${w}`)];
}

export interface DemoResult {
  readonly report: Report;
  readonly summary: string;
  readonly files: { json: string; md: string } | undefined;
  readonly mismatches: string[];
}

/** Why the C column is empty, in the words a user needs; undefined when it is not worth a line. */
function nativeNote(native: NativeStatus): string | undefined {
  if (native.available || !native.reason) return undefined;
  if (native.reason === 'no cc') return 'C baseline: not run (no C compiler `cc` found; set MEMWALK_CC to use another)';
  if (native.reason.startsWith('cc failed')) return `C baseline: not run (${native.reason})`;
  return undefined;
}

export async function runDemo(o: { quick: boolean; native: boolean; runs: number; out?: string }): Promise<DemoResult> {
  const machine = machineInfo();
  const t0 = performance.now();
  const bytes = o.quick ? 4 * GiB : 64 * GiB;
  const n = o.quick ? 2 ** 16 : 2 ** 20;
  // The native program reads its inputs from files: they go to a scratch directory, removed at the end.
  const scratch = mkdtempSync(join(os.tmpdir(), 'memwalk-demo-'));
  try {
    const bar = startProgress('demo', 100);
    let base = 0;
    const stage = (from: number, to: number) => (d: number, total: number) => bar.update(from + ((to - from) * d) / Math.max(1, total));

    // The C sources ship only with a clone, not with the installed package.
    const native: NativeStatus = !o.native
      ? { available: false, reason: 'disabled (--no-native)' }
      : isSourceCheckout()
        ? ensureNative(installedRoot())
        : { available: false, reason: 'not in the installed package' };
    const guest = buildGuestScenario({ bytes, order: 'ascending', processes: 300, onProgress: stage(0, 10) });
    bar.update((base = 10));
    const walk = buildWalkScenario({ bytes });
    bar.update((base = 15));

    const tasks: TaskRecord[] = [];
    const mismatches: string[] = [];
    // The headline subset (npm run bench has every variant): random naive (the plain-loop
    // baseline) and interleaved (the default), consecutive in every mode, the range kernel.
    const pw = pagingWorkloads(walk, { n, fileDir: scratch, families: ['translate', 'range', 'map'] }).filter((w) => !/sorted|random \(cached\)/.test(w.name));
    const r1 = await runWorkloads(walk.engine, pw, {
      runs: o.runs,
      budgetMs: 2000,
      native: { status: native, imagePath: join(scratch, 'walk-image.bin'), repeats: o.runs, root: walk.root },
      onProgress: (d, t) => bar.update(base + (45 * d) / t),
    });
    tasks.push(...r1.tasks);
    mismatches.push(...r1.mismatches);
    const walker = r1.nativeWalker;
    base = 60;
    const fw = frameWorkloads(guest, { fileDir: scratch, strategies: ['faithful', 'flat', 'indexed'] });
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
      commit: isSourceCheckout() ? commitInfo(installedRoot()) : 'installed package',
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
      targets: o.quick ? [] : speedTargets(tasks, n),
      notes: [
        `${o.runs} measured runs per operation and backend after warm-up; npm run bench runs the full suite.`,
        ...mismatches.map((m) => `MISMATCH: ${m}`),
      ],
    };
    (report.scenario as Record<string, unknown>).elapsedMs = Math.round(performance.now() - t0);
    const files = o.out === undefined ? undefined : writeReport(report, resolve(o.out), 'demo');
    const note = nativeNote(native);
    const summary = [
      `memwalk demo: ${report.scenario.guest}; ${report.scenario.tables}`,
      `machine: ${machine.cpu}, Node ${machine.node}`,
      ...(note ? [note] : []),
      '',
      ...timeTable(tasks, native.available),
      '',
      'Times are medians in milliseconds; "WASM vs TS" is how many times faster WASM ran than the TypeScript reference.',
      ...(mismatches.length ? [`MISMATCH: ${mismatches[0]}`] : []),
      `done in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    ].join('\n');
    return { report, summary, files, mismatches };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The demo's table: one row per operation, median times and speed ratios, aligned for a terminal. */
function timeTable(tasks: readonly TaskRecord[], withNative: boolean): string[] {
  const names = [...new Set(tasks.map((t) => t.name))];
  const ms = (name: string, b: string) => tasks.find((t) => t.name === name && t.backend === b)?.medianMs;
  const rows = [['operation', 'WASM ms', 'TS ms', ...(withNative ? ['C ms'] : []), 'WASM vs TS', ...(withNative ? ['WASM vs C'] : [])]];
  for (const name of names) {
    const w = ms(name, 'wasm'), r = ms(name, 'reference'), c = ms(name, 'native');
    const x = (other: number | undefined) => (w !== undefined && other !== undefined ? fmtX(other / w) : '-');
    rows.push([name, fmtMs(w), fmtMs(r), ...(withNative ? [fmtMs(c)] : []), x(r), ...(withNative ? [x(c)] : [])]);
  }
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(width[i]!) : cell.padStart(width[i]!))).join('  ').trimEnd());
}
