// Which CPU the bench runs on. On a virtual machine the CPUs need not be alike: on
// the 2-vCPU machines this project is measured on, one vCPU at times ran
// latency-bound walks 1.3x to 2.5x slower than the other, for seconds to minutes (the
// host's doing), and a ratio between this process and a C process the scheduler
// happened to put on the other vCPU measured that, not the code. So the bench pins
// its main thread to one CPU, the one a short probe finds faster, and every process
// it starts (the C program, the start-up rows) inherits the pin; V8's helper threads
// (compilation, collection) keep every CPU, off the measured one when they can. The
// probe is a command that prints its ms first: the bench's times a walk
// (bench/cpu-probe.ts); the default, a plain loop, is for when there is no engine.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface CpuChoice {
  /** The CPU the main thread is pinned to, or undefined when pinning was not possible. */
  readonly cpu?: number;
  /** The probe's time on each CPU, ms (the worse of two runs: a CPU slow at times scores slow). */
  readonly probeMs: readonly number[];
  /** Why the process is not pinned. */
  readonly reason?: string;
}

// A walk-like load: a random permutation of 16 MiB made by swaps, then dependent
// reads through it with the arithmetic of an entry check between them (about 0.2 s).
// Prints its ms. It does too little between its loads to see every slow state.
const PROBE = `
const t0 = performance.now();
const n = 1 << 22, next = new Int32Array(n);
let s = 12345;
for (let i = 0; i < n; i++) next[i] = i;
for (let i = n - 1; i > 0; i--) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; const j = s % i; const t = next[i]; next[i] = next[j]; next[j] = t; }
let p = 0, acc = 0;
for (let k = 0; k < 1000000; k++) { p = next[p]; acc = (acc + ((p & 0x81) === 1 ? p >>> 3 : p)) | 0; }
console.log((performance.now() - t0).toFixed(2), acc);
`;

/** Set the CPUs ("0", "0-1") of this process's main thread; false when taskset is missing or refused. */
export function pinMainThread(cpus: string): boolean {
  const r = spawnSync('taskset', ['-p', '-c', cpus, String(process.pid)], { encoding: 'utf8' });
  return r.status === 0;
}

/** Every CPU of the machine, as taskset names them. */
export const ALL_CPUS = `0-${Math.max(0, os.cpus().length - 1)}`;

/** Probe every CPU (twice, in turns) with `probe` (a command and its arguments) and pin the main thread to the one whose worse run was fastest. */
export function pinToFastestCpu(probe: readonly string[] = [process.execPath, '-e', PROBE]): CpuChoice {
  const cpus = os.cpus().length;
  if (process.platform !== 'linux') return { probeMs: [], reason: 'pinning needs Linux (taskset)' };
  if (cpus < 2) return { probeMs: [], reason: 'one CPU' };
  const worst = Array.from({ length: cpus }, () => 0);
  for (let round = 0; round < 2; round++) {
    for (let c = 0; c < cpus; c++) {
      const r = spawnSync('taskset', ['-c', String(c), ...probe], { encoding: 'utf8' });
      if (r.status !== 0) return { probeMs: [], reason: `the probe failed on CPU ${c} (${(r.stderr || String(r.error)).split('\n')[0]})` };
      const ms = Number(r.stdout.trim().split(/\s+/)[0]);
      if (!(ms > 0)) return { probeMs: [], reason: `the probe printed no time (${r.stdout.trim().slice(0, 40)})` };
      worst[c] = Math.max(worst[c]!, ms);
    }
  }
  const cpu = worst.indexOf(Math.min(...worst));
  if (!pinMainThread(String(cpu))) return { probeMs: worst, reason: 'taskset could not set this process\'s CPU' };
  return { cpu, probeMs: worst };
}
