// The native C baseline: compiled from bench/native/*.c with the system's `cc -O2`
// at bench time (into bench/native/bin/, ignored by git), run over the engine's
// RAM image saved to a file. No compiler, no sources: the native column says so
// and nothing fails.
import { spawnSync, execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Engine } from '../engine/engine.js';
import type { NativeTask } from './workload.js';

const run = promisify(execFile);

/** The package root: the nearest folder above this file with memwalk's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src')) && existsSync(join(dir, 'assembly'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export interface NativeStatus {
  readonly available: boolean;
  /** Why not: 'no cc', 'no native sources', 'cc failed: ...'. */
  readonly reason?: string;
  readonly binary?: string;
  readonly compiler?: string;
  readonly flags?: string;
}

const FLAGS = ['-O2'];

/** Compile the native program if needed (sources newer than the binary). */
export function ensureNative(root = packageRoot()): NativeStatus {
  const src = join(root, 'bench', 'native');
  const sources = existsSync(src) ? readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f)) : [];
  if (sources.length === 0) return { available: false, reason: 'no native sources' };
  const cc = process.env.MEMWALK_CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { available: false, reason: 'no cc' };
  const compiler = probe.stdout.split('\n')[0]!.trim();
  const binDir = join(src, 'bin');
  const binary = join(binDir, 'memwalk-native');
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(binary) || statSync(binary).mtimeMs < newest) {
    mkdirSync(binDir, { recursive: true });
    const r = spawnSync(cc, [...FLAGS, '-o', binary, ...sources], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      return { available: false, reason: `cc failed: ${(r.stderr || String(r.error)).split('\n')[0]}` };
    }
  }
  return { available: true, binary, compiler, flags: FLAGS.join(' ') };
}

export interface NativeResult {
  readonly samples: number[];
  readonly checksum: string;
  readonly count: number;
}

export interface NativeRun {
  readonly walker: string;
  readonly results: Map<string, NativeResult>;
}

/**
 * Save the engine's RAM image to `imagePath` (for `runNative`). The file is the
 * whole image: the native program's "outside the image" bound is its size.
 */
export async function saveImage(engine: Engine, imagePath: string): Promise<void> {
  mkdirSync(dirname(imagePath), { recursive: true });
  await engine.phys.save(imagePath);
}

/**
 * Run native tasks over a saved image. `tasks` maps a workload name to its
 * native task; input files are written first. Each task runs `repeats` times
 * after one untimed warm-up run.
 */
export async function runNative(
  status: NativeStatus,
  imagePath: string,
  root: bigint,
  tasks: readonly { name: string; task: NativeTask }[],
  repeats: number,
): Promise<NativeRun> {
  if (!status.available || !status.binary) throw new Error(`native baseline unavailable: ${status.reason}`);
  for (const { task } of tasks) {
    for (const f of task.files ?? []) {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(f.path, new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength));
    }
  }
  const args = [imagePath, root.toString(16), String(repeats), ...tasks.map((t, i) => `t${i}=${t.task.spec}`)];
  const { stdout } = await run(status.binary, args, { maxBuffer: 1 << 24 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const head = lines.shift() as { walker: string };
  const results = new Map<string, NativeResult>();
  for (const l of lines) {
    const i = Number(String(l.name).slice(1));
    results.set(tasks[i]!.name, { samples: l.ms as number[], checksum: String(l.checksum), count: Number(l.count) });
  }
  return { walker: head.walker, results };
}
