#!/usr/bin/env node
// The long soak behind `npm run fuzz`: the property cases of test/fuzz-surface.test.ts
// (arbitrary JS values at the engine's methods on both backends, and at the
// package's exported functions), over the built package in dist/, for a budget of
// cases and a seed, with the outcomes counted by class. Exits 1 on any failure: an
// untyped error, or the two backends disagreeing.
//
// Usage: npm run fuzz -- [--cases N] [--seed S]    (defaults: 100000 cases, seed 1)
import fc from 'fast-check';
import { outcome, fingerprint, valueArb, ENGINE_CALLS, engineCall, exportedFunctions, exportCall } from './fuzz-surface.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`fuzz: ${name} takes a whole number, not ${JSON.stringify(argv[i + 1])}`);
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
const { createEngine, MemwalkError, BumpAllocator } = root;
// The same selection as the default suite: the top level, and the functions of the
// other entry points that take files or bytes from the user.
const checked = new Set(['readKernelFile', 'openImage', 'parseBootParams', 'e820ToBanks']);
const notYet = new Set(['computeLayout', 'Engine', 'BumpAllocator', 'PhysicalMemory', 'openDumpBytes', 'checkContiguous', 'memorySource']);
const fns = [...exportedFunctions({ memwalk: root }), ...exportedFunctions(subpaths).filter(([, n]) => checked.has(n))].filter(([, n]) => !notYet.has(n));

const counts = new Map();
const count = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);
const failures = [];
const value = valueArb(fc);
const args = fc.array(value, { maxLength: 5 });

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
const half = Math.ceil(cases / 2);
const [w, r] = pair();
await fc.assert(
  fc.asyncProperty(fc.constantFrom(...ENGINE_CALLS), args, fc.boolean(), async (name, a, withAllocator) => {
    const argsFor = () => (withAllocator && name === 'map' ? [...a.slice(0, 5), new BumpAllocator(16, 64)] : a);
    const ow = await outcome(engineCall(w, name, argsFor()), MemwalkError);
    const or = await outcome(engineCall(r, name, argsFor()), MemwalkError);
    count(`engine ${ow.kind === 'memwalk' ? `refused (${ow.code})` : ow.kind}`);
    if (ow.kind === 'untyped' || or.kind === 'untyped') {
      failures.push(`engine.${name}: untyped ${(ow.kind === 'untyped' ? ow : or).error}`);
    } else if (or.kind !== ow.kind || (ow.kind === 'result' ? fingerprint(or.value) !== fingerprint(ow.value) : or.message !== ow.message)) {
      failures.push(`engine.${name}: the backends disagree`);
    }
  }),
  { numRuns: half, seed, endOnFailure: false },
).catch(() => {});
await fc.assert(
  fc.asyncProperty(fc.constantFrom(...fns), args, async ([entry, name, fn], a) => {
    const o = await outcome(exportCall(fn, a), MemwalkError);
    count(`export ${o.kind === 'memwalk' ? `refused (${o.code})` : o.kind}`);
    if (o.kind === 'untyped') failures.push(`${entry} ${name}: untyped ${o.error?.constructor?.name}: ${o.error?.message}`);
  }),
  { numRuns: cases - half, seed: seed + 1 },
).catch(() => {});

const total = [...counts.values()].reduce((s, n) => s + n, 0);
console.log(`fuzz: ${total} cases, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const [k, n] of [...counts].sort()) console.log(`  ${k.padEnd(34)} ${n}`);
const distinct = [...new Set(failures)];
console.log(`failures: ${failures.length} (${distinct.length} distinct)`);
for (const f of distinct.slice(0, 20)) console.log(`  ${f}`);
process.exit(failures.length ? 1 : 0);
