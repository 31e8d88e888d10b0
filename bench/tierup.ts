// How the suite makes sure WASM is measured in optimised code, checked rather
// than assumed: the probe (bench/tierup-probe.ts) runs in child processes
//  - with default flags: cold first call vs after the suite's warm-up;
//  - with --no-liftoff (every function compiled by TurboFan up front: the
//    optimised reference) and --liftoff-only (never TurboFan; on Node 20 the
//    older --liftoff --no-wasm-tier-up does not stop dynamic tier-up: a child run
//    with it compiled the batch kernel with TurboFan during its first call);
//  - with --trace-wasm-compilation-times: which functions V8 compiled with which
//    tier in which phase; no compilation may happen while measuring.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fmtMs } from '../src/perf/report.js';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('./tierup-probe.js', import.meta.url));

interface ProbeResult {
  [task: string]: { coldMs: number; warmCalls: number; medianMs: number; cpuMs?: number };
}

async function runProbe(flags: string[]): Promise<{ result: ProbeResult; stdout: string }> {
  const { stdout } = await run(process.execPath, [...flags, probe], { maxBuffer: 1 << 26 });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`tier-up probe printed no result (flags ${flags.join(' ')})`);
  return { result: JSON.parse(line.slice(7)) as ProbeResult, stdout };
}

export interface TraceCheck {
  readonly task: string;
  /** Functions compiled by Liftoff before measuring, and of those, compiled by TurboFan before measuring. */
  readonly liftoff: number;
  readonly tieredUp: number;
  /** Compilations (any tier) that happened while measuring: must be 0. */
  readonly duringMeasure: number;
}

/** Parse a --trace-wasm-compilation-times log with the probe's @@ phase markers. */
export function checkTrace(stdout: string): TraceCheck[] {
  const checks: TraceCheck[] = [];
  let task = '', phase = '';
  let lift = new Set<string>(), turbo = new Set<string>(), during = 0;
  const finish = () => {
    if (task) checks.push({ task, liftoff: lift.size, tieredUp: [...lift].filter((f) => turbo.has(f)).length, duringMeasure: during });
  };
  for (const line of stdout.split('\n')) {
    const m = /^@@ (cold|warm|measure|end) (.+)$/.exec(line);
    if (m) {
      if (m[1] === 'cold') {
        finish();
        task = m[2]!;
        lift = new Set();
        turbo = new Set();
        during = 0;
      }
      phase = m[1]!;
      continue;
    }
    const c = /^Compiled function \S+#(\d+) using (Liftoff|TurboFan)/.exec(line);
    if (!c) continue;
    if (phase === 'measure') during++;
    else if (c[2] === 'Liftoff') lift.add(c[1]!);
    else turbo.add(c[1]!);
  }
  finish();
  return checks;
}

const both = (r: ProbeResult[string] | undefined) => (r ? `${fmtMs(r.medianMs)} / ${fmtMs(r.cpuMs)}` : '-');

export async function tierUpSection(log: (s: string) => void): Promise<{ json: unknown; markdown: string[] }> {
  log('tier-up check: probing cold / warmed / --no-liftoff / Liftoff-only in child processes');
  try {
    const def = await runProbe([]);
    const turbo = await runProbe(['--no-liftoff']);
    const lift = await runProbe(['--liftoff-only']);
    const traced = await runProbe(['--trace-wasm-compilation-times']);
    const checks = checkTrace(traced.stdout);
    const md = [
      '## Tier-up check (WASM, 16 GiB tables, 256K addresses, child processes)',
      '',
      'Cold = the first full-size call in a fresh process, without warm-up. Warmed = median of 7 runs after the suite\'s warm-up.',
      'Each cell after the cold one: wall ms / CPU ms of the child (the children run one after another, so wall time carries the load of the moment).',
      '`--no-liftoff` compiles everything with TurboFan up front (the optimised reference); Liftoff-only never tiers up.',
      'Trace: functions V8 compiled with Liftoff during cold/warm-up, how many of them had been recompiled by TurboFan',
      'before measuring, and compilations during the measured runs (must be 0).',
      '',
      '| task | cold ms | warmed ms | --no-liftoff ms | Liftoff-only ms | tiered up before measuring | compiles while measuring |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const [task, r] of Object.entries(def.result)) {
      const c = checks.find((x) => x.task === task);
      md.push(
        `| ${task} | ${fmtMs(r.coldMs)} | ${both(r)} | ${both(turbo.result[task])} | ${both(lift.result[task])} | ` +
          `${c ? `${c.tieredUp}/${c.liftoff}` : '-'} | ${c ? c.duringMeasure : '-'} |`,
      );
    }
    md.push('');
    // The criterion: nothing was compiled while measuring (a function still being tiered up would be). A
    // function V8 left in Liftoff was called too rarely to earn tier-up (once per batch, e.g. the non-canonical path).
    const ok = checks.every((c) => c.duringMeasure === 0);
    const lagging = checks.filter((c) => c.tieredUp < c.liftoff).map((c) => c.task);
    md.push(
      ok
        ? 'No compilation happened while measuring: the measured runs ran the code V8 had settled on.' +
            (lagging.length ? ` Functions left in Liftoff (${lagging.join('; ')}) were called too rarely to earn tier-up (at most once per batch).` : ' Every function that ran had been recompiled by TurboFan.')
        : '**V8 compiled code while measuring: the warm-up was too short (see the table).**',
      '',
    );
    return { json: { default: def.result, noLiftoff: turbo.result, liftoffOnly: lift.result, trace: checks, allOptimisedBeforeMeasuring: ok }, markdown: md };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]!;
    log(`tier-up check failed: ${msg}`);
    return { json: { error: msg }, markdown: ['## Tier-up check', '', `failed: ${msg}`, ''] };
  }
}
