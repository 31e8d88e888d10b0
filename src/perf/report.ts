// Benchmark reports: the machine, the commit, one record per (task, backend),
// the WASM/TS/native ratios and the speed targets, as JSON and as a
// Markdown table. `npm run bench` and `memwalk demo` write the same shape.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BackendKind } from './workload.js';
import type { Stats } from './measure.js';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started and ended (others' work on the machine skews timings). */
  readonly loadStart: number;
  loadEnd?: number;
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: os.cpus().length,
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadStart: os.loadavg()[0]!,
  };
}

/** HEAD of the work tree, with '+dirty' when it has uncommitted changes; 'unknown' outside git. */
export function commitInfo(cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

export interface TaskRecord extends Stats {
  readonly name: string;
  readonly family: string;
  readonly backend: BackendKind;
  /** The measured times, in ms, in the order they were taken. */
  readonly samples: number[];
  readonly runs: number;
  readonly items: number;
  readonly unit: string;
  /** Items per second at the median. */
  readonly itemsPerSec: number;
  /** Checksum of the output: equal on every backend (checked before this record was written). */
  readonly checksum: string;
}

export interface RatioRow {
  readonly name: string;
  /** Speed of WASM relative to TS: TS median / WASM median (2 = WASM twice as fast). */
  readonly wasmOverTs?: number;
  /** Speed of WASM relative to native C: native median / WASM median (0.8 = WASM at 80% of C's speed). */
  readonly wasmOverNative?: number;
}

export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface Report {
  readonly kind: 'bench' | 'demo' | 'sweep';
  readonly machine: MachineInfo;
  readonly commit: string;
  readonly date: string;
  readonly scenario: Record<string, unknown>;
  readonly native: { available: boolean; reason?: string; walker?: string; compiler?: string; flags?: string };
  readonly tasks: TaskRecord[];
  readonly ratios: RatioRow[];
  readonly targets: TargetRow[];
  readonly sections?: Record<string, unknown>;
  readonly notes: string[];
}

export function ratios(tasks: readonly TaskRecord[]): RatioRow[] {
  const names = [...new Set(tasks.map((t) => t.name))];
  const by = (name: string, b: BackendKind) => tasks.find((t) => t.name === name && t.backend === b);
  return names.map((name) => {
    const w = by(name, 'wasm'), r = by(name, 'reference'), n = by(name, 'native');
    return {
      name,
      ...(w && r ? { wasmOverTs: r.medianMs / w.medianMs } : {}),
      ...(w && n ? { wasmOverNative: n.medianMs / w.medianMs } : {}),
    };
  });
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export const fmtX = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`);

function rate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(0)} K/s`;
  return `${perSec.toFixed(0)} /s`;
}

/** The comparison table: one row per task, times as "median ±spread". */
export function markdownTable(report: Report, notAvailable = 'n/a'): string {
  const tasks = report.tasks;
  const names = [...new Set(tasks.map((t) => t.name))];
  const cell = (name: string, b: BackendKind) => {
    const t = tasks.find((x) => x.name === name && x.backend === b);
    if (!t) return b === 'native' && !report.native.available ? report.native.reason ?? notAvailable : '-';
    return `${fmtMs(t.medianMs)} ±${t.spreadPct.toFixed(0)}% (${rate(t.itemsPerSec)})`;
  };
  const lines = [
    '| operation | WASM ms | TS ms | native ms | WASM/TS | WASM/native |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const name of names) {
    const r = report.ratios.find((x) => x.name === name);
    lines.push(`| ${name} | ${cell(name, 'wasm')} | ${cell(name, 'reference')} | ${cell(name, 'native')} | ${fmtX(r?.wasmOverTs)} | ${fmtX(r?.wasmOverNative)} |`);
  }
  return lines.join('\n');
}

export function markdownReport(report: Report, extra: string[] = []): string {
  const m = report.machine;
  const out = [
    `# memwalk ${report.kind} results`,
    '',
    `- date: ${report.date}`,
    `- commit: ${report.commit}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node} (V8 ${m.v8})`,
    `- load average (1 min) at start/end: ${m.loadStart.toFixed(2)} / ${(m.loadEnd ?? NaN).toFixed(2)}`,
    `- native baseline: ${report.native.available ? `${report.native.walker}; ${report.native.compiler} ${report.native.flags}` : report.native.reason}`,
    `- scenario: ${Object.entries(report.scenario).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}`,
    '',
    'Times are the median of the measured runs, ± the median absolute deviation in percent of the median, with the',
    'rate at the median. WASM/TS and WASM/native are speed ratios (the other side\'s median time / the WASM median',
    'time): above 1 WASM is faster. Every output was checksummed and found equal on all backends before its time was',
    'recorded.',
    '',
    markdownTable(report),
    '',
  ];
  if (report.targets.length) {
    out.push('## Speed targets', '', '| target | measured | met |', '| --- | --- | --- |');
    for (const t of report.targets) out.push(`| ${t.target} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  out.push(...extra);
  if (report.notes.length) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** Write `<base>.json` and `<base>.md` into `dir`; returns their paths. */
export function writeReport(report: Report, dir: string, base: string, extraMarkdown: string[] = []): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${base}.json`);
  const md = join(dir, `${base}.md`);
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(md, markdownReport(report, extraMarkdown));
  return { json, md };
}
