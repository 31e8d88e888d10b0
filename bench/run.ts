// `npm run bench`: the tinybench suite. Every kernel family on the same image
// for every backend (wasm, reference, native C), outputs checksummed and
// compared before a time is recorded; writes bench/results/latest.{json,md}.
//
//   node dist/bench/run.js [--quick] [--only family,...] [--runs N] [--no-native] [--no-pin] [--out DIR]
import { Bench } from 'tinybench';
import { join } from 'node:path';
import os from 'node:os';
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingWorkloads, bytesName, count } from '../src/perf/paging-workloads.js';
import { runWorkloads, type Timer } from '../src/perf/runner.js';
import { consume } from '../src/perf/measure.js';
import { ensureNative, packageRoot } from '../src/perf/native.js';
import { commitInfo, machineInfo, ratios, writeReport, type Report } from '../src/perf/report.js';
import { speedTargets } from '../src/perf/targets.js';
import { pagedPairs, type PagedPair } from '../src/perf/paged-pairs.js';
import { translateTurns, type TurnRow } from '../src/perf/translate-turns.js';
import { measureTurns, nativeTurns, pairTurns, type TurnsOut } from '../src/perf/turns.js';
import { startProgress } from '../src/util/progress.js';
import { ALL_CPUS, pinMainThread, pinToFastestCpu, type CpuChoice } from '../src/perf/cpu-pin.js';
import { extraRuns } from './suites.js';
import { parallelSection } from './parallel.js';
import { tierUpSection } from './tierup.js';

interface Args {
  quick: boolean;
  only?: string[];
  runs: number;
  native: boolean;
  out: string;
  parallel: boolean;
  tierup: boolean;
  pin: boolean;
}

function parseArgs(argv: string[]): Args {
  const root = packageRoot();
  const a: Args = { quick: false, runs: 10, native: true, out: join(root, 'bench', 'results'), parallel: true, tierup: true, pin: true };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--quick') a.quick = true;
    else if (x === '--only') a.only = argv[++i]!.split(',');
    else if (x === '--runs') a.runs = Number(argv[++i]);
    else if (x === '--no-native') a.native = false;
    else if (x === '--no-parallel') a.parallel = false;
    else if (x === '--no-tierup') a.tierup = false;
    else if (x === '--no-pin') a.pin = false;
    else if (x === '--out') a.out = argv[++i]!;
    else if (x === '--help' || x === '-h') {
      console.log('usage: npm run bench -- [--quick] [--only translate,range,paged,list,map,api,sort,chase,scan,fixup,directmap,relocate,qemu,...] [--runs N] [--no-native] [--no-parallel] [--no-tierup] [--no-pin] [--out DIR]');
      process.exit(0);
    } else {
      console.error(`bench: unknown argument '${x}' (see --help)`);
      process.exit(1);
    }
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) {
    console.error(`bench: --runs must be a whole number >= 1`);
    process.exit(1);
  }
  return a;
}

/**
 * tinybench as the timer: exactly `runs` timed iterations. No warm-up run of its own: the
 * runner makes one untimed full-size run per backend, then asks for one run at a time as
 * the backends take turns (a warm-up run per call would double the work).
 */
const tinybenchTimer: Timer = async (label, call, runs, after) => {
  const bench = new Bench({ iterations: runs, time: 0, warmup: false, retainSamples: true, throws: true });
  // async: false, or tinybench calls the function once more (unpaired with afterEach) to find out.
  bench.add(label, () => consume(call()), { afterEach: after, async: false });
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (!('latency' in r) || !r.latency.samples) throw new Error(`tinybench: ${label}: no samples (${r.state})`);
  return [...r.latency.samples];
};

/** ms with three significant digits (a relocation takes ~0.01 ms, a listing ~2 ms). */
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = packageRoot();
  const machine = machineInfo();
  const log = (s: string) => process.stderr.write(s + '\n');
  log(`memwalk bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${machine.loadStart.toFixed(2)}`);
  if (machine.loadStart > machine.cores * 0.5) log(`note: the machine is busy (load ${machine.loadStart.toFixed(2)}): timings will be noisy`);
  // One CPU for this process and every C process it starts, so both sides of a ratio share it (see cpu-pin.ts).
  const probe = [process.execPath, join(root, 'dist', 'bench', 'cpu-probe.js')];
  const cpu: CpuChoice = args.pin ? pinToFastestCpu(probe) : { probeMs: [], reason: 'not pinned (--no-pin)' };
  log(cpu.cpu === undefined ? `cpu: ${cpu.reason}` : `cpu: pinned to CPU ${cpu.cpu} (probe ${cpu.probeMs.map((m, i) => `CPU ${i} ${m.toFixed(0)} ms`).join(', ')})`);

  const bytes = args.quick ? 16 * GiB : 64 * GiB;
  const n = args.quick ? 2 ** 18 : 2 ** 20;
  const t0 = performance.now();
  const scn = buildWalkScenario({ bytes });
  const buildMs = performance.now() - t0;
  log(`built x86-64 tables mapping ${bytesName(bytes)} with 4 KiB pages (${scn.tableFrames} table frames) in ${buildMs.toFixed(0)} ms`);

  const native = args.native ? ensureNative(root) : { available: false, reason: 'disabled (--no-native)' };
  if (!native.available) log(`native baseline: ${native.reason}`);
  const fileDir = join(args.out);
  const workloads = pagingWorkloads(scn, { n, fileDir, ...(args.only ? { families: args.only } : {}) });

  const bar = startProgress('bench', workloads.length * 3);
  const result = await runWorkloads(scn.engine, workloads, {
    runs: args.runs,
    timer: tinybenchTimer,
    native: { status: native, imagePath: join(args.out, 'walk-image.bin'), repeats: args.runs, root: scn.root },
    onProgress: (d) => bar.update(d),
    log,
  });
  bar.stop();
  // map+unmap against C in turns (its target is judged on these), over the image the runner saved.
  const turned: TurnsOut = { turns: [], mismatches: result.mismatches };
  const map = workloads.find((w) => w.family === 'map');
  if (map && native.available) {
    log(`${map.name}: WASM and C in turns`);
    await measureTurns(turned, () => nativeTurns(map, scn.engine, { status: native, imagePath: join(args.out, 'walk-image.bin'), root: scn.root }), log);
  }
  // translateRange against the per-address batch it replaces, in turns too.
  const range = workloads.find((w) => w.name === `translateRange ${count(n)} pages`);
  const perPage = workloads.find((w) => w.name === `translate ${count(n)} consecutive pages (naive)`);
  if (range && perPage) {
    log(`${range.name} and the naive batch in turns`);
    await measureTurns(turned, () => pairTurns(range, perPage, scn.engine), log);
  }
  // Workloads over other engines (frames, xen) carry their own engine: see suites.ts.
  const scenario: Record<string, unknown> = {
    tables: `x86-64 4-level, ${bytesName(bytes)} mapped with 4 KiB pages at 0x${scn.va.toString(16)}`,
    addresses: count(n),
    ramImage: bytesName(scn.engine.layout.ramBytes),
    buildMs: Math.round(buildMs),
    cpu: cpu.cpu === undefined ? cpu.reason : `CPU ${cpu.cpu} of ${cpu.probeMs.length}, the faster in a probe (${cpu.probeMs.map((m) => `${m.toFixed(0)} ms`).join(' vs ')}); every C process on it too`,
  };
  for (const extra of extraRuns) {
    const r = await extra(args, native, tinybenchTimer, log);
    result.tasks.push(...r.tasks);
    result.mismatches.push(...r.mismatches);
    turned.turns.push(...(r.turns ?? []));
    Object.assign(scenario, r.scenario);
  }

  const sections: Record<string, unknown> = {};
  const extraMd: string[] = [];
  if (args.parallel && (!args.only || args.only.includes('parallel'))) {
    if (cpu.cpu !== undefined) pinMainThread(ALL_CPUS); // the workers need every CPU
    const p = await parallelSection(scn, n, log);
    if (cpu.cpu !== undefined) pinMainThread(String(cpu.cpu));
    sections.parallel = p.json;
    extraMd.push(...p.markdown);
    result.mismatches.push(...p.mismatches);
  }
  if (turned.turns.length) {
    sections.turns = turned.turns;
    extraMd.push(
      '## Whole operations and listings, in turns',
      '',
      'Each round times the first column\'s work, then the second\'s: WASM in this process, then a new C process for the same task (its median of the same number of runs), or the bare walk, then a listing made from it. A round\'s time is the median of its runs (several for tasks of a few µs); one untimed round, then the median of seven: ms a run, and the median of the rounds\' ratios. The whole-operation targets and the listings\' "<= 3x the bare walk" are judged on these.',
      '',
      '| row | first | second | first ms | second ms | second/first | rounds\' range | runs a round |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
      ...turned.turns.map((t) => `| ${t.row} | ${t.a === t.row ? 'this task' : t.a} | ${t.b === t.row ? 'this task' : t.b} | ${fmtMs(t.aMs)} | ${fmtMs(t.bMs)} | ${t.ratio.toFixed(2)}x | ${Math.min(...t.ratios).toFixed(2)}-${Math.max(...t.ratios).toFixed(2)}x | ${t.aRuns === t.bRuns ? t.aRuns : `${t.aRuns}, ${t.bRuns}`} |`),
      '',
    );
  }
  let turns: TurnRow[] = [];
  if ((!args.only || args.only.includes('translate')) && native.available) {
    log('translate: WASM and C in turns');
    turns = await translateTurns(scn, n, native, join(args.out, 'walk-image.bin'), args.out);
    sections.translateTurns = turns;
    extraMd.push(
      '## Translate batches against C, in turns',
      '',
      'Each round times every WASM batch once, then starts the C program once for the same batches (its median of three runs); one untimed round, then the median of seven: wall ms, and the median of the rounds\' C/WASM ratios. The "WASM >= 0.8x native in every mode" targets are judged on these.',
      '',
      '| batch | WASM ms | C ms | WASM/C |',
      '| --- | ---: | ---: | ---: |',
      ...turns.map((t) => `| ${t.row} | ${t.wasmMs.toFixed(1)} | ${t.nativeMs.toFixed(1)} | ${t.ratio.toFixed(2)}x |`),
      '',
    );
  }
  let pairs: PagedPair[] = [];
  if (!args.only || args.only.includes('paged')) {
    log('paged: resident and over-a-source batches in turns');
    pairs = await pagedPairs(scn, n);
    sections.pagedPairs = pairs;
    extraMd.push(
      '## Over a source against resident, in turns',
      '',
      'The WASM batches of the paged family and their resident twins, run alternately (source, resident, source, ...), one untimed round then the median of nine: wall ms, and the median of the rounds\' resident/source ratios (the speed of the source-backed engine relative to the resident one). The "over a source" target is judged on these.',
      '',
      '| batch | resident ms | over a source ms | source/resident |',
      '| --- | ---: | ---: | ---: |',
      ...pairs.map((p) => `| ${p.row} | ${p.residentMs.toFixed(1)} | ${p.sourceMs.toFixed(1)} | ${p.ratio.toFixed(2)}x |`),
      '',
    );
  }
  if (args.tierup && (!args.only || args.only.includes('tierup'))) {
    const t = await tierUpSection(log);
    sections.tierUp = t.json;
    extraMd.push(...t.markdown);
  }
  machine.loadEnd = os.loadavg()[0]!;

  const notes: string[] = [
    `Kernel-level tasks call the backend's kernels on inputs already in the I/O buffer (what the native program does); "api" tasks go through the engine's public calls (BigInt arrays in and out).`,
    `Warm-up: each kernel is called on a small input until its timing is stable (at least 60 calls, yielding so V8's background TurboFan jobs are installed), then one untimed full-size run, then ${args.runs} measured runs (fewer, at least 3, for tasks over a 4 s budget), the WASM and TS backends taking turns run by run. See the README, "Benchmarks".`,
    'The native program times itself (clock_gettime around each run, after one untimed run) and prints a checksum of its output, which must equal the engine\'s.',
  ];
  if (machine.loadStart > machine.cores * 0.5 || (machine.loadEnd ?? 0) > machine.cores * 0.5) {
    notes.push(`The machine was shared during the run (load average ${machine.loadStart.toFixed(1)} at start, ${machine.loadEnd!.toFixed(1)} at end, ${machine.cores} cores): absolute times are pessimistic; ratios measured close together are more robust.`);
  }
  if (result.nativeError) notes.push(`native baseline failed: ${result.nativeError}`);
  for (const m of result.mismatches) notes.push(`MISMATCH: ${m}`);

  const report: Report = {
    kind: 'bench',
    machine,
    commit: commitInfo(root),
    date: new Date().toISOString(),
    scenario,
    native: { available: native.available, ...(native.reason ? { reason: native.reason } : {}), ...(result.nativeWalker ? { walker: result.nativeWalker } : {}), ...('compiler' in native && native.compiler ? { compiler: native.compiler, flags: native.flags } : {}) },
    tasks: result.tasks,
    ratios: ratios(result.tasks),
    targets: speedTargets(result.tasks, n, pairs, turns, turned.turns),
    sections,
    notes,
  };
  const { json, md } = writeReport(report, args.out, 'latest', extraMd);
  log(`wrote ${json} and ${md}`);
  process.stdout.write((await import('node:fs')).readFileSync(md, 'utf8'));
  if (result.mismatches.length) {
    log(`bench: ${result.mismatches.length} mismatch(es) between backends; see the notes`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
