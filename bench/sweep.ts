// `npm run bench:sweep`: the m2p-strict fix-up strategies, the page-list chase
// and the flat frame-table scan over guest sizes 1, 4, 16, 64, 256, 512 GiB, on
// wasm, the TS reference and (chase, scan) native C; draws time against guest
// size (log-log, one line per task and backend) with vega-lite into
// bench/results/sweep.svg, and writes sweep.json / sweep.md.
//
//   node dist/bench/sweep.js [--sizes 1,4,16] [--runs N] [--order ascending|random] [--no-native] [--chart-only]
// Each size runs in a child process (`--one SIZE`), so each guest's memory is
// returned to the system before the next one is built.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { buildGuestScenario, frameWorkloads } from '../src/perf/frame-workloads.js';
import { runWorkloads } from '../src/perf/runner.js';
import { ensureNative, packageRoot } from '../src/perf/native.js';
import { commitInfo, fmtMs, machineInfo, type TaskRecord } from '../src/perf/report.js';
import { GiB } from '../src/perf/scenario.js';
import type { GuestOrder } from '../src/xen/guest-builder.js';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

interface Point {
  sizeGiB: number;
  task: string;
  backend: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** Child: one guest size; prints its points as one JSON line. */
async function one(sizeGiB: number, runs: number, order: GuestOrder, nativeOn: boolean, out: string): Promise<void> {
  const scn = buildGuestScenario({ bytes: sizeGiB * GiB, order, processes: 300 });
  const native = nativeOn ? ensureNative() : { available: false, reason: 'disabled' };
  const ws = frameWorkloads(scn, { fileDir: out, label: 'guest' });
  const r = await runWorkloads(scn.engine, ws, { runs, budgetMs: 6000, native: { status: native, repeats: runs, root: 0n } });
  const short = (t: TaskRecord) =>
    t.name
      .replace(/ \(guest.*\)$/, '')
      .replace(/ \(\d.*\)$/, '')
      .replace(/^flat frame-table scan: L4s of the guest$/, 'flat scan (census)')
      .replace(/^m2p-strict fix-up, /, 'fix-up ')
      .replace(/^chase page list$/, 'chase');
  const points: Point[] = r.tasks.map((t) => ({ sizeGiB, task: short(t), backend: t.backend, medianMs: t.medianMs, minMs: t.minMs, maxMs: t.maxMs, runs: t.runs }));
  process.stdout.write(JSON.stringify({ sizeGiB, buildMs: scn.buildMs, frames: scn.guest.frames, points, mismatches: r.mismatches }) + '\n');
}

async function chart(points: Point[], order: string): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `memwalk: hypervisor scans vs guest size (${order} page list)`,
    width: 640,
    height: 420,
    data: { values: points.map((p) => ({ ...p, series: `${p.task} [${p.backend}]` })) },
    mark: { type: 'line', point: true },
    config: { legend: { labelLimit: 320 } },
    encoding: {
      x: { field: 'sizeGiB', type: 'quantitative', scale: { type: 'log' }, title: 'guest size (GiB)', axis: { values: [1, 4, 16, 64, 256, 512] } },
      y: { field: 'medianMs', type: 'quantitative', scale: { type: 'log' }, title: 'median time (ms)' },
      color: { field: 'task', type: 'nominal', title: 'task' },
      strokeDash: { field: 'backend', type: 'nominal', title: 'backend' },
      detail: { field: 'series', type: 'nominal' },
      tooltip: [{ field: 'series' }, { field: 'sizeGiB' }, { field: 'medianMs' }],
    },
  };
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}

async function main(): Promise<void> {
  const runs = Number(arg('--runs', '3'));
  const order = arg('--order', 'ascending') as GuestOrder;
  const nativeOn = !process.argv.includes('--no-native');
  const root = packageRoot();
  const out = arg('--out', join(root, 'bench', 'results'));
  mkdirSync(out, { recursive: true });
  if (process.argv.includes('--one')) return one(Number(arg('--one', '1')), runs, order, nativeOn, out);
  if (process.argv.includes('--chart-only')) {
    // Redraw sweep.svg from sweep.json (after changing the chart, without re-measuring).
    const prev = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { points: Point[]; order: string };
    writeFileSync(join(out, 'sweep.svg'), await chart(prev.points, prev.order));
    return;
  }

  const sizes = arg('--sizes', '1,4,16,64,256,512').split(',').map(Number);
  const machine = machineInfo();
  const all: Point[] = [];
  const mismatches: string[] = [];
  const builds: Record<string, unknown> = {};
  for (const s of sizes) {
    process.stderr.write(`sweep: ${s} GiB guest ...\n`);
    const args = [self, '--one', String(s), '--runs', String(runs), '--order', order, '--out', out, ...(nativeOn ? [] : ['--no-native'])];
    const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { points: Point[]; mismatches: string[]; buildMs: number; frames: number };
    all.push(...r.points);
    mismatches.push(...r.mismatches);
    builds[`${s} GiB`] = { frames: r.frames, buildMs: Math.round(r.buildMs) };
    for (const p of r.points) process.stderr.write(`  ${p.task} [${p.backend}]: ${fmtMs(p.medianMs)} ms\n`);
  }
  machine.loadEnd = os.loadavg()[0]!;
  const svg = await chart(all, order);
  writeFileSync(join(out, 'sweep.svg'), svg);
  const report = { kind: 'sweep', machine, commit: commitInfo(root), date: new Date().toISOString(), order, runs, builds, points: all, mismatches };
  writeFileSync(join(out, 'sweep.json'), JSON.stringify(report, null, 2) + '\n');
  const tasks = [...new Set(all.map((p) => `${p.task} [${p.backend}]`))];
  const md = [
    `# memwalk sweep: hypervisor scans vs guest size`,
    '',
    `- ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${machine.loadStart.toFixed(1)} -> ${machine.loadEnd.toFixed(1)}; commit ${report.commit}`,
    `- guests: 300 processes, page list in ${order} order; median of ${runs} runs (ms); chart: sweep.svg`,
    '',
    `| task | ${sizes.map((s) => `${s} GiB`).join(' | ')} |`,
    `| --- | ${sizes.map(() => '---:').join(' | ')} |`,
    ...tasks.map((t) => `| ${t} | ${sizes.map((s) => fmtMs(all.find((p) => `${p.task} [${p.backend}]` === t && p.sizeGiB === s)?.medianMs)).join(' | ')} |`),
    '',
    ...(mismatches.length ? ['## Mismatches', '', ...mismatches.map((m) => `- ${m}`), ''] : []),
  ].join('\n');
  writeFileSync(join(out, 'sweep.md'), md);
  process.stdout.write(md);
  process.stderr.write(`wrote ${join(out, 'sweep.svg')}, sweep.json and sweep.md\n`);
  if (mismatches.length) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`sweep: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
