// Times whole processes from a small parent. Every spawn forks the parent first, and
// a fork copies the parent's page tables: from the bench's own process, which holds
// gigabytes of engines by the time it reaches the start-up rows, `node -e 0` took
// about 25 ms longer (measured with 3 GiB touched) than from a fresh one. The bench
// runs this file as a child and gives it the rows on stdin; it prints the samples.
//
// Rows run interleaved (one run of each row, then the next round), so a drift of the
// machine's load hits every row alike; the first round is not kept.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ProcessRow {
  readonly cmd: string;
  readonly argv: readonly string[];
  /** Measure the child's peak RSS (through /usr/bin/time). */
  readonly rss?: boolean;
  /** Keep the child's stdout (else it goes to /dev/null). */
  readonly keep?: boolean;
}

export interface ProcessSample {
  readonly ms: number;
  /** Peak RSS of the child in KiB, when measured. */
  readonly rssKiB?: number;
  readonly out: string;
}

/** One run of a command as a whole process. */
export function timeProcess(row: ProcessRow): ProcessSample {
  const useTime = row.rss === true && existsSync('/usr/bin/time');
  const stdio: ['ignore', 'pipe' | 'ignore', 'pipe'] = ['ignore', row.keep === false ? 'ignore' : 'pipe', 'pipe'];
  const t0 = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', row.cmd, ...row.argv], { encoding: 'utf8', stdio, maxBuffer: 64 * 2 ** 20 })
    : spawnSync(row.cmd, row.argv, { encoding: 'utf8', stdio, maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.error || r.status !== 0) {
    throw new Error(`startup bench: ${row.cmd} ${row.argv.join(' ')}: ${r.error?.message ?? r.stderr.split('\n').find((l) => l.trim()) ?? `exit ${r.status}`}`);
  }
  const m = useTime ? /maxrss=(\d+)/.exec(r.stderr) : null;
  return { ms, out: r.stdout ?? '', ...(m ? { rssKiB: Number(m[1]) } : {}) };
}

/** `runs` kept samples of every row, from a fresh child process running this file. */
export function timeProcesses(rows: readonly ProcessRow[], runs: number): ProcessSample[][] {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(runs)], {
    input: JSON.stringify(rows), encoding: 'utf8', maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(r.stderr.split('\n').find((l) => l.startsWith('startup bench:')) ?? `startup bench: the timer process failed (${r.stderr.trim().split('\n')[0]})`);
  return JSON.parse(r.stdout) as ProcessSample[][];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = JSON.parse(readFileSync(0, 'utf8')) as ProcessRow[];
  const runs = Number(process.argv[2]);
  const samples = rows.map(() => [] as ProcessSample[]);
  for (let k = -1; k < runs; k++) {
    rows.forEach((row, i) => {
      const s = timeProcess(row);
      if (k >= 0) samples[i]!.push(s);
    });
  }
  process.stdout.write(JSON.stringify(samples));
}
