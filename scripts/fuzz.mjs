#!/usr/bin/env node
// The long soak behind `npm run fuzz`: the property cases of test/fuzz-surface.test.ts
// and test/fuzz-cli.test.ts over the built package in dist/, for a budget of
// cases and a seed, with the outcomes counted by class. Exits 1 on any failure.
//
// The mix of a budget of N cases:
//   - 20% engine methods on both backends with arbitrary JS values, 20% with
//     well-typed hostile arguments over tables the calls keep rewriting (the
//     backends must agree),
//   - 40% the exported functions (arbitrary JS values),
//   - 19.5% command lines run in process (a worker thread per run, killed past its bound),
//   - 0.5% command lines run as child processes of the built binary.
// A failure is: an untyped error, the backends disagreeing, a library call past
// CASE_BOUND_MS, or a command line that breaks the CLI's contract (see
// scripts/fuzz-cli.mjs: killed, past its bound, out of its heap, exit other than
// 0 or 1, more than one stderr line or a stack frame).
//
// Usage: npm run fuzz -- [--cases N] [--seed S]    (defaults: 100000 cases, seed 1)
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  outcome, fingerprint, valueArb, ENGINE_CALLS, engineCall, engineCallArb, withAllocators, exportedFunctions, exportCall, SUBPATH_CHECKED, CASE_BOUND_MS, startWatchdog,
} from './fuzz-surface.mjs';
import { argvArb, mutationArb, mutate, cliFailure, describeCommands, cliFiles, CliRunner, runChild, BIN, MAIN_URL } from './fuzz-cli.mjs';

const argv = process.argv.slice(2);
// `--cases N` or `--cases=N`.
const opt = (name, dflt) => {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return dflt;
  const text = argv[i] === name ? argv[i + 1] : argv[i].slice(name.length + 1);
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`fuzz: ${name} takes a whole number, not ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return v;
};
const cases = opt('--cases', 100000);
const seed = opt('--seed', 1);

const root = await import('../dist/src/index.js');
const subpaths = {
  'memwalk/images': await import('../dist/src/images/index.js'),
  'memwalk/frames': await import('../dist/src/frames/index.js'),
  'memwalk/xen': await import('../dist/src/xen/index.js'),
  'memwalk/compare': await import('../dist/src/compare/index.js'),
};
const { buildProgram } = await import('../dist/src/cli/main.js');
const { commands } = await import('../dist/src/cli/commands/index.js');
const { baseImages } = await import('../dist/test/helpers/fuzz-images.js');
const { createEngine, MemwalkError, BumpAllocator } = root;
const fns = [...exportedFunctions({ memwalk: root }), ...exportedFunctions(subpaths).filter(([, n]) => SUBPATH_CHECKED.has(n))];

const childCases = Math.round(cases * 0.005);
const cliCases = Math.round(cases * 0.2) - childCases;
const engineCases = Math.floor((cases - cliCases - childCases) / 2);
const exportCases = cases - cliCases - childCases - engineCases;
const typedCases = Math.floor(engineCases / 2);

const counts = new Map();
const count = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);
const failures = [];
const value = valueArb(fc);
const args = fc.array(value, { maxLength: 5 });
const watchdog = await startWatchdog(CASE_BOUND_MS * 4);
/** The property itself threw (a bug of the harness or a value it could not print): a failure too. */
const broke = (part) => (e) => failures.push(`${part}: the property threw: ${String(e?.message ?? e).split('\n')[0]}`);
const slow = (o, what) => {
  if (o.ms > CASE_BOUND_MS) failures.push(`${what}: ${Math.round(o.ms)} ms, past the bound of ${CASE_BOUND_MS} ms`);
};

function pair() {
  const mk = (backend) => {
    const e = createEngine({ ramBytes: '2M', backend, ioBytes: 1 << 16 });
    e.phys.write64(0x1000, 0x2003n);
    e.phys.write64(0x2000, 0x83n);
    return e;
  };
  return [mk('wasm'), mk('reference')];
}

const started = Date.now();
let index = 0;
const [w, r] = pair();
await fc.assert(
  fc.asyncProperty(fc.constantFrom(...ENGINE_CALLS), args, fc.boolean(), async (name, a, withAllocator) => {
    watchdog.begin(`engine.${name}, seed ${seed}, path ${index++}`);
    const argsFor = () => (withAllocator && name === 'map' ? [...a.slice(0, 5), new BumpAllocator(16, 64)] : a);
    const ow = await outcome(engineCall(w, name, argsFor()), MemwalkError);
    const or = await outcome(engineCall(r, name, argsFor()), MemwalkError);
    watchdog.end();
    count(`engine ${ow.kind === 'memwalk' ? `refused (${ow.code})` : ow.kind}`);
    slow(ow, `engine.${name} (wasm)`);
    slow(or, `engine.${name} (reference)`);
    if (ow.kind === 'untyped' || or.kind === 'untyped') {
      failures.push(`engine.${name}: untyped ${(ow.kind === 'untyped' ? ow : or).error}`);
    } else if (or.kind !== ow.kind || (ow.kind === 'result' ? fingerprint(or.value) !== fingerprint(ow.value) : or.message !== ow.message)) {
      failures.push(`engine.${name}: the backends disagree`);
    }
  }),
  { numRuns: engineCases - typedCases, seed },
).catch(broke('engine'));
index = 0;
const [tw, tr] = pair();
await fc.assert(
  fc.asyncProperty(engineCallArb(fc), async ([name, a]) => {
    watchdog.begin(`engine.${name} (typed), seed ${seed + 4}, path ${index++}`);
    const ow = await outcome(engineCall(tw, name, withAllocators(a, () => new BumpAllocator(16, 64))), MemwalkError);
    const or = await outcome(engineCall(tr, name, withAllocators(a, () => new BumpAllocator(16, 64))), MemwalkError);
    watchdog.end();
    count(`engine typed ${ow.kind === 'memwalk' ? `refused (${ow.code})` : ow.kind}`);
    slow(ow, `engine.${name} typed (wasm)`);
    slow(or, `engine.${name} typed (reference)`);
    if (ow.kind === 'untyped' || or.kind === 'untyped') {
      failures.push(`engine.${name} typed: untyped ${(ow.kind === 'untyped' ? ow : or).error}`);
    } else if (or.kind !== ow.kind || (ow.kind === 'result' ? fingerprint(or.value) !== fingerprint(ow.value) : or.message !== ow.message)) {
      failures.push(`engine.${name} typed ${fingerprint(a).slice(0, 200)}: the backends disagree`);
    }
  }),
  { numRuns: typedCases, seed: seed + 4 },
).catch(broke('engine typed'));
index = 0;
await fc.assert(
  fc.asyncProperty(fc.constantFrom(...fns), args, async ([entry, name, fn], a) => {
    watchdog.begin(`${entry} ${name}, seed ${seed + 1}, path ${index++}`);
    const o = await outcome(exportCall(fn, a), MemwalkError);
    watchdog.end();
    count(`export ${o.kind === 'memwalk' ? `refused (${o.code})` : o.kind}`);
    slow(o, `${entry} ${name}`);
    if (o.kind === 'untyped') failures.push(`${entry} ${name}: untyped ${o.error?.constructor?.name}: ${o.error?.message}`);
  }),
  { numRuns: exportCases, seed: seed + 1 },
).catch(broke('exports'));
await watchdog.stop();

// The command line, over mutated images in a directory of its own (also the
// working directory, so a relative path a case writes to lands there).
const bases = baseImages();
const dir = mkdtempSync(join(tmpdir(), 'memwalk-fuzz-'));
const home = process.cwd();
process.chdir(dir);
const files = await cliFiles(dir, bases);
const cmds = describeCommands(buildProgram(commands));
const cliCase = (run, label, s, n) =>
  fc.assert(
    fc.asyncProperty(mutationArb(fc, Object.keys(bases)), argvArb(fc, cmds, files), async (m, line) => {
      writeFileSync(files.image, mutate(bases, m));
      const res = await run(line);
      count(`${label} ${res.code === 0 ? 'exit 0' : res.code === 1 ? 'exit 1 (refused)' : 'failed'}`);
      const f = cliFailure(res, line);
      if (f) failures.push(`${label} ${JSON.stringify(line)} on ${m.format} with ${m.edits.length} edits: ${f}`);
    }),
    { numRuns: n, seed: s },
  ).catch(broke(label));
const runner = new CliRunner({ mainUrl: MAIN_URL, timeoutMs: 10_000, heapMb: 512 });
await cliCase((line) => runner.run(line), 'cli', seed + 2, cliCases);
await runner.close();
// Arguments with a NUL cannot reach a process; those cases run in process instead.
const inProcess = new CliRunner({ mainUrl: MAIN_URL, timeoutMs: 10_000, heapMb: 512 });
await cliCase((line) => (line.some((a) => a.includes('\0')) ? inProcess.run(line) : runChild(BIN, line, { timeoutMs: 20_000, heapMb: 512, cwd: dir })), 'cli child', seed + 3, childCases);
await inProcess.close();
process.chdir(home);
rmSync(dir, { recursive: true, force: true });

const total = [...counts.values()].reduce((s, n) => s + n, 0);
console.log(`fuzz: ${total} cases, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const [k, n] of [...counts].sort()) console.log(`  ${k.padEnd(34)} ${n}`);
const distinct = [...new Set(failures)];
console.log(`failures: ${failures.length} (${distinct.length} distinct)`);
for (const f of distinct.slice(0, 20)) console.log(`  ${f}`);
process.exit(failures.length ? 1 : 0);
