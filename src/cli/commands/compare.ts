import type { Command } from 'commander';
import { compareBackends, scenarioNames, type CompareReport } from '../../compare/compare.js';
import { integer } from '../args.js';
import { printJson } from '../output.js';
import { fmtMs, fmtX } from '../../perf/report.js';

/**
 * `memwalk compare SCENARIO`: run a scenario on the wasm and the reference
 * backend, diff every result, print the first differences and the time of each
 * side. Exit 1 when they differ.
 */
export function register(program: Command): void {
  program
    .command('compare')
    .description(`run a scenario on both backends (wasm, reference), diff every result, time each side; exit 1 when they differ (scenarios: ${scenarioNames().join(', ')})`)
    .argument('<scenario>', `one of ${scenarioNames().join(', ')}`)
    .option('-s, --seed <n>', 'seed of the random tables and inputs', '1')
    .option('--size <n>', 'work size: addresses (walk), calls (map), GiB of guest (guest, fixup)')
    .option('--max-diffs <n>', 'differences to print', '10')
    .option('--inject-difference', 'testing aid: change one result of the reference side before the diff, so the run must fail')
    .option('-j, --json', 'print one JSON document')
    .action((name: string, opts: { seed: string; size?: string; maxDiffs: string; injectDifference?: boolean; json?: boolean }) => {
      const report = compareBackends(name, {
        seed: integer(opts.seed, '--seed', 0, 2 ** 31),
        ...(opts.size !== undefined ? { size: integer(opts.size, '--size', 1, 1 << 24) } : {}),
        maxDifferences: integer(opts.maxDiffs, '--max-diffs', 0, 1e6),
        ...(opts.injectDifference ? { tamper: injectDifference } : {}),
      });
      if (opts.json) printJson(report);
      else process.stdout.write(describe(report));
      if (!report.equal) process.exitCode = 1;
    });
}

/** Flip the lowest bit of the first number (or typed-array element) found in the results. */
export function injectDifference(results: Record<string, unknown>): void {
  const visit = (v: unknown): boolean => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as { length: number; [i: number]: number | bigint };
      if (a.length === 0) return false;
      const i = Math.floor(a.length / 2);
      a[i] = typeof a[i] === 'bigint' ? (a[i] as bigint) ^ 1n : (a[i] as number) ^ 1;
      return true;
    }
    if (Array.isArray(v)) return v.some(visit);
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'number') {
          (v as Record<string, unknown>)[k] = x + 1;
          return true;
        }
        if (visit(x)) return true;
      }
    }
    return false;
  };
  visit(results);
}

function describe(r: CompareReport): string {
  const lines = [
    `scenario:   ${r.scenario}: ${r.description}`,
    `engines:    ${r.engines === 1 ? 'one memory, both backends' : 'two engines built identically (the run changes memory)'}`,
    `compared:   ${r.compared} values in ${r.categories.join(', ')}`,
    `time:       wasm ${fmtMs(r.timing.wasmMs)} ms, reference ${fmtMs(r.timing.referenceMs)} ms (wasm ${fmtX(r.timing.speedup)} the speed of the reference)`,
  ];
  if (r.equal) lines.push('result:     identical');
  else {
    lines.push(`result:     ${r.differing} ${r.differing === 1 ? "value differs" : "values differ"}; first ${r.differences.length}:`);
    for (const d of r.differences) lines.push(`  ${d.path}: wasm ${d.wasm}, reference ${d.reference}`);
  }
  return lines.join('\n') + '\n';
}
