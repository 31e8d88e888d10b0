// Arbitrary JS values thrown at the package's public functions and at two
// engines (one per backend) fed the same calls. Shared by the property tests
// (test/fuzz-surface.test.ts, over the TS sources) and the soak (scripts/fuzz.mjs,
// over dist/). A case passes when the call returns (or resolves) or fails with a
// MemwalkError, and both backends give the same outcome.

/** Milliseconds one library call (with its iterator's first steps) may take. */
export const CASE_BOUND_MS = 5_000;

/** What a call did: 'result', 'memwalk' (a typed refusal), or 'untyped' with the error; and how long it took. */
export async function outcome(call, MemwalkError) {
  const t0 = performance.now();
  const o = await settle(call, MemwalkError);
  o.ms = performance.now() - t0;
  return o;
}

async function settle(call, MemwalkError) {
  try {
    let r = call();
    if (r && typeof r.then === 'function') r = await r;
    if (r && typeof r.next === 'function' && typeof r[Symbol.iterator] === 'function') {
      // Iterators: a few steps (a listing of hostile tables is long by design).
      const out = [];
      for (let i = 0; i < 64; i++) {
        const s = r.next();
        if (s.done) break;
        out.push(s.value);
      }
      r = out;
    }
    return { kind: 'result', value: r };
  } catch (e) {
    if (e instanceof MemwalkError) return { kind: 'memwalk', code: e.code, message: e.message };
    return { kind: 'untyped', error: e };
  }
}

/** A stable text of a result, bigints included; functions and cycles cut. */
export function fingerprint(v) {
  const seen = new WeakSet();
  const walk = (x, depth) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'function' || typeof x === 'symbol') return typeof x;
    if (x === null || typeof x !== 'object') return x;
    if (seen.has(x) || depth > 6) return '...';
    seen.add(x);
    if (ArrayBuffer.isView(x)) return Array.from(x.length > 256 ? x.subarray(0, 256) : x, (y) => walk(y, depth + 1));
    if (Array.isArray(x)) return x.slice(0, 256).map((y) => walk(y, depth + 1));
    const o = {};
    for (const k of Object.keys(x)) if (k !== 'params' && k !== 'engine') o[k] = walk(x[k], depth + 1);
    return o;
  };
  return JSON.stringify(walk(v, 0));
}

/** Values a caller might pass by mistake or on purpose, with the edges that used to break. */
export function valueArb(fc) {
  const edgeBig = fc.constantFrom(0n, 1n, 0x1000n, 0x2000n, (1n << 47n) - 4096n, 1n << 47n, (1n << 64n) - 4096n, 1n << 64n, -1n, 2n ** 200n);
  const edgeNum = fc.constantFrom(0, 1, 4096, 0x1000, -1, NaN, Infinity, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 0.5);
  const names = fc.constantFrom('x86_64', 'x86_pae', 'aarch64_64k', 'constructor', '__proto__', 'naive', 'wasm', 'reference', '1M', '', ' ', '/', '.', 'toString');
  const small = fc.oneof(edgeBig, edgeNum, names, fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.integer(), fc.boolean(), fc.constant(undefined), fc.constant(null));
  const opts = fc.dictionary(
    fc.constantFrom('format', 'access', 'user', 'limit', 'strategy', 'ramBytes', 'backend', 'at', 'start', 'length', 'largestLeaf', 'maxPhyAddr', 'nxe', 'raw', 'write', 'viaRuns', 'frames', 'ioBytes', 'maxEntries'),
    small,
    { maxKeys: 3 },
  );
  return fc.oneof(
    { weight: 4, arbitrary: small },
    { weight: 2, arbitrary: opts },
    { weight: 1, arbitrary: fc.array(small, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.anything({ withBigInt: true, maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  );
}

/** Engine methods, called on an engine (and on its phys) by name. */
export const ENGINE_CALLS = [
  'translate', 'translateBatch', 'translateRange', 'translateRuns', 'mappings', 'mappingsIter', 'map', 'unmap', 'protect',
  'phys.read', 'phys.write', 'phys.read32', 'phys.write32', 'phys.read64', 'phys.write64', 'phys.fill',
];

/** Call `name` on `engine` with `args` (a fresh allocator stands in for an allocator argument of the right shape). */
export function engineCall(engine, name, args) {
  const [obj, fn] = name.startsWith('phys.') ? [engine.phys, name.slice(5)] : [engine, name];
  return () => obj[fn](...args);
}

/**
 * The exported functions of the entry points: [entry, name, fn]. Left out, with
 * the reason: the benchmark entry point (it writes reports and runs long by
 * design) and worker pools (threads; test/reliability-parallel.test.ts).
 */
export function exportedFunctions(entries) {
  const out = [];
  for (const [entry, mod] of Object.entries(entries)) {
    for (const [name, v] of Object.entries(mod)) {
      if (typeof v !== 'function') continue;
      if (/Error$/.test(name)) continue; // error classes: constructing one is no call into the library
      if (name === 'createScanPool' || name === 'ScanPool') continue;
      out.push([entry, name, v]);
    }
  }
  return out;
}

/** The functions of the other entry points held to the contract: those that take files or bytes from the user. */
export const SUBPATH_CHECKED = new Set(['readKernelFile', 'openImage', 'parseBootParams', 'e820ToBanks']);

/** Call an exported function (a class is constructed). */
export function exportCall(fn, args) {
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
  return () => (isClass ? new fn(...args) : fn(...args));
}

/**
 * A thread that kills the process when a case runs past `boundMs`, after printing
 * what `begin` last said. `begin(what)` before each case, `end()` after it.
 */
export async function startWatchdog(boundMs) {
  const { Worker } = await import('node:worker_threads');
  const state = new SharedArrayBuffer(12);
  const text = new SharedArrayBuffer(1024);
  const words = new Int32Array(state);
  const bytes = new Uint8Array(text);
  const worker = new Worker(new URL('./fuzz-watchdog.mjs', import.meta.url), { workerData: { state, text, boundMs } });
  worker.unref();
  const encoder = new TextEncoder();
  return {
    begin(what) {
      bytes.fill(0);
      encoder.encodeInto(what.slice(0, 1000), bytes.subarray(0, 1023));
      Atomics.add(words, 0, 1);
      Atomics.store(words, 1, 1);
    },
    end() {
      Atomics.store(words, 1, 0);
    },
    stop: () => worker.terminate(),
  };
}

/** Stands in for a frame allocator in generated arguments: each engine gets a fresh one. */
export const ALLOCATOR = Symbol('allocator');

/** `args` with each ALLOCATOR replaced by `make()`. */
export function withAllocators(args, make) {
  return args.map((a) => (a === ALLOCATOR ? make() : a));
}

/**
 * Engine calls with arguments of the right types and hostile values: roots and
 * addresses anywhere in [0, 2^64), every format and walk option, ranges up to
 * 2^52 pages, small maps; and 64-bit writes anywhere in the RAM image, so the
 * tables the calls walk become arbitrary as a run goes on. [method, args].
 */
export function engineCallArb(fc) {
  const u64 = fc.oneof(
    fc.constantFrom(0n, 0x1000n, 0x2000n, 0x1ff000n, (1n << 47n) - 4096n, 1n << 47n, 0xffff800000000000n, (1n << 64n) - 4096n, (1n << 64n) - 1n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.bigInt({ min: 0n, max: 1n << 22n }),
  );
  const root = fc.oneof(fc.constantFrom(0x1000n, 0x2000n, 0x1fe000n, 0x1fffe0n, 0x200000n, 0n), u64);
  const walk = fc.record(
    {
      format: fc.constantFrom('x86_64', 'x86_64_la57', 'x86_pae', 'x86_32', 'aarch64_4k', 'aarch64_16k', 'aarch64_64k'),
      access: fc.constantFrom('read', 'write', 'execute'),
      user: fc.boolean(),
      nxe: fc.boolean(),
      wp: fc.boolean(),
      smep: fc.boolean(),
      smap: fc.boolean(),
      ignoreReserved: fc.boolean(),
      maxPhyAddr: fc.constantFrom(32, 36, 40, 46, 48, 52, 31, 53, 64),
    },
    { requiredKeys: [] },
  );
  const pages = fc.oneof(fc.nat(64), fc.nat(5000), fc.constantFrom(2 ** 24, 2 ** 24 + 1, 2 ** 32, 2 ** 40, 2 ** 52));
  const size = fc.oneof(fc.integer({ min: 1, max: 64 }).map((n) => BigInt(n) * 0x10000n), fc.constantFrom(0n, 1n, 4096n, 1n << 21n, 1n << 30n, 1n << 46n));
  const flags = fc.record({ write: fc.boolean(), user: fc.boolean(), execute: fc.boolean(), global: fc.boolean() }, { requiredKeys: [] });
  const pa = fc.oneof(fc.nat((2 << 20) - 8), fc.constantFrom(0x1000, 0x2000, 0x1ff8));
  // map, unmap and protect need page-aligned addresses to get past their checks: mostly 64 KiB-aligned ones.
  const aligned = fc.oneof({ weight: 4, arbitrary: u64.map((v) => v & ~0xffffn) }, { weight: 1, arbitrary: u64 });
  const target = fc.oneof({ weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 1n << 22n }).map((v) => v & ~0xffffn) }, { weight: 1, arbitrary: u64 });
  const call = (name, ...args) => fc.tuple(fc.constant(name), fc.tuple(...args));
  return fc.oneof(
    call('translate', root, u64, walk),
    call('translateBatch', root, fc.array(u64, { maxLength: 32 }), fc.tuple(walk, fc.constantFrom('naive', 'cached', 'interleaved')).map(([w, strategy]) => ({ ...w, strategy }))),
    call('translateRange', root, u64, fc.nat(4096), walk),
    call('translateRuns', root, u64, pages, walk),
    call('mappings', root, fc.tuple(walk, fc.nat(200)).map(([w, limit]) => ({ ...w, limit }))),
    call('mappingsIter', root, walk),
    call('map', root, aligned, target, size, flags, fc.constant(ALLOCATOR), fc.record({ format: walk.map((w) => w.format ?? 'x86_64'), largestLeaf: fc.constantFrom(4096, 2 ** 21, 2 ** 30) }, { requiredKeys: [] })),
    call('unmap', root, aligned, size, walk),
    call('protect', root, aligned, size, flags, walk),
    { arbitrary: call('phys.write64', pa, u64), weight: 3 },
  );
}
