// Scenarios that `compareBackends` runs on both backends. A scenario builds an
// engine, runs its work and returns named results (translations, listings,
// metadata columns, lists, reports) that are diffed value by value. Scenarios
// whose run changes memory get two engines built identically, one per backend;
// the others run both backends over one memory.
import type { Engine } from '../engine/engine.js';
import { createEngine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { BumpAllocator } from '../paging/allocator.js';
import { x86_64 } from '../paging/formats/x86.js';
import type { MapFlags } from '../paging/format.js';
import type { BatchStrategy } from '../paging/operations.js';
import { MemwalkError } from '../errors.js';
import { Rng } from '../util/rng.js';

export type ScenarioResults = Record<string, unknown>;

export interface ScenarioOptions {
  /** Seed of the random tables and inputs (default 1). */
  readonly seed?: number;
  /** Work size: addresses for 'walk', operations for 'map', GiB of guest for 'guest'/'fixup' (defaults per scenario). */
  readonly size?: number;
}

export interface CompareScenario {
  readonly name: string;
  readonly description: string;
  /** The run changes memory: build one engine per backend. */
  readonly mutates: boolean;
  build(backend: BackendName): Engine;
  run(engine: Engine): ScenarioResults;
}

const PAGE = 4096n;
const bigRand = (r: Rng, bits: number): bigint => {
  let v = 0n;
  for (let b = 0; b < bits; b += 32) v = (v << 32n) | BigInt(r.u32());
  return BigInt.asUintN(bits, v);
};
const canon = (v: bigint): bigint => BigInt.asUintN(64, BigInt.asIntN(48, v));

/** Outcome of an engine call: its value, or its error's code and message. */
function outcome<T>(f: () => T): T | { error: string; message: string } {
  try {
    return f();
  } catch (err) {
    if (err instanceof MemwalkError) return { error: err.code, message: err.message };
    throw err;
  }
}

/**
 * Random x86-64 tables: leaves of every size with varied rights, then a few
 * entries damaged (not present, reserved bits, PS in the root) so that faults of
 * every kind occur. Returns the root and the mapped regions.
 */
function randomTables(engine: Engine, rng: Rng, regions: number): { root: bigint; spans: [bigint, bigint][] } {
  const root = 0x10000n;
  const alloc = new BumpAllocator(17, engine.layout.ramBytes / 4096);
  engine.phys.fill(root, 4096, 0);
  const spans: [bigint, bigint][] = [];
  const sizes = [[4096, 4096, 64], [2 ** 21, 2 ** 21, 8], [2 ** 30, 2 ** 30, 1]] as const;
  for (let i = 0; i < regions; i++) {
    const [leaf, align, maxCount] = sizes[rng.below(i % 7 === 6 ? 3 : 2)]!;
    const size = BigInt(leaf) * BigInt(1 + rng.below(maxCount));
    const va = canon((bigRand(rng, 48) / BigInt(align)) * BigInt(align));
    const pa = (bigRand(rng, 40) / BigInt(align)) * BigInt(align);
    const flags: MapFlags = { write: rng.below(2) === 1, user: rng.below(2) === 1, execute: rng.below(3) !== 0, global: rng.below(4) === 0 };
    const r = outcome(() => engine.map(root, va, pa, size, flags, alloc, { format: x86_64, largestLeaf: leaf }));
    if (!('error' in r)) spans.push([va, size]);
  }
  // Damage a few entries reachable from the root.
  const ram = engine.layout.ramBytes;
  const used = (ram / 4096 - alloc.remaining) * 4096;
  for (let i = 0; i < 12; i++) {
    const at = BigInt(17 * 4096 + rng.below(Math.max(1, used - 17 * 4096)) & ~7);
    const e = engine.phys.read64(at);
    if ((e & 1n) === 0n) continue;
    const how = i % 3;
    engine.phys.write64(at, how === 0 ? e & ~1n : how === 1 ? e | (1n << 51n) : e ^ 4n);
  }
  engine.phys.write64(root + 8n * 511n, engine.phys.read64(root) | 0x80n); // PS in a PML4 entry: reserved
  return { root, spans };
}

function walkScenario(options: ScenarioOptions): CompareScenario {
  const seed = options.seed ?? 1;
  const n = options.size ?? 20_000;
  // The mapped regions, from the build: the inputs do not depend on either backend's results.
  let spans: [bigint, bigint][] = [];
  return {
    name: 'walk',
    description: `random x86-64 tables (4 KiB/2 MiB/1 GiB leaves, damaged entries) and ${n} addresses: batches (naive, cached, interleaved; unsorted and sorted), ranges, single translations with every access kind, the mapping listing`,
    mutates: false,
    build(backend) {
      const engine = createEngine({ ramBytes: '16M', backend, ioBytes: 4 << 20 });
      spans = randomTables(engine, new Rng(seed), 48).spans;
      return engine;
    },
    run(engine) {
      const rng = new Rng(seed * 7919 + 1);
      const root = 0x10000n;
      const listing = engine.mappings(root, { format: x86_64, limit: 200_000 });
      const vas = new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const k = rng.below(10);
        if (k < 6 && spans.length) {
          const [va, size] = spans[rng.below(spans.length)]!;
          vas[i] = va + bigRand(rng, 40) % size;
        } else if (k < 8) vas[i] = canon(bigRand(rng, 48));
        else if (k < 9) vas[i] = bigRand(rng, 64); // mostly non-canonical
        else vas[i] = i > 0 ? vas[i - 1]! + PAGE : 0n;
      }
      const batch = (v: BigUint64Array, strategy: BatchStrategy) => {
        const r = engine.translateBatch(root, v, { format: x86_64, strategy });
        return { addr: r.addr, status: r.status };
      };
      const sortedVas = vas.slice().sort();
      const ranges = spans.slice(0, 16).map(([va]) => {
        const r = engine.translateRange(root, va - 3n * PAGE, 1500, { format: x86_64 });
        return { addr: r.addr, status: r.status };
      });
      const singles = [];
      for (let i = 0; i < Math.min(n, 600); i++) {
        const access = (['read', 'write', 'execute'] as const)[i % 3]!;
        singles.push(engine.translate(root, vas[i]!, { format: x86_64, access, user: i % 2 === 1, smep: i % 5 === 0, smap: i % 7 === 0 }));
      }
      return {
        translations: {
          naive: batch(vas, 'naive'),
          cached: batch(vas, 'cached'),
          interleaved: batch(vas, 'interleaved'),
          sortedCached: batch(sortedVas, 'cached'),
          sortedInterleaved: batch(sortedVas, 'interleaved'),
        },
        ranges,
        singles,
        listing: { count: listing.mappings.length, truncated: listing.truncated, mappings: listing.mappings },
      };
    },
  };
}

function mapScenario(options: ScenarioOptions): CompareScenario {
  const seed = options.seed ?? 1;
  const ops = options.size ?? 300;
  return {
    name: 'map',
    description: `${ops} random map/unmap/protect calls (conflicts included) on two identically built engines; every outcome, the final listing and the whole RAM image`,
    mutates: true,
    build(backend) {
      const engine = createEngine({ ramBytes: '16M', backend, ioBytes: 4 << 20 });
      engine.phys.fill(0x10000n, 4096, 0);
      return engine;
    },
    run(engine) {
      const rng = new Rng(seed * 31 + 5);
      const root = 0x10000n;
      const alloc = new BumpAllocator(17, engine.layout.ramBytes / 4096);
      const outcomes: unknown[] = [];
      const base = 0xffff_c900_0000_0000n;
      for (let i = 0; i < ops; i++) {
        const leaf = [4096, 2 ** 21][rng.below(5) === 0 ? 1 : 0]!;
        const va = base + BigInt(rng.below(4096)) * BigInt(leaf);
        const size = BigInt(leaf) * BigInt(1 + rng.below(16));
        const k = rng.below(10);
        if (k < 5) {
          outcomes.push(outcome(() => engine.map(root, va, BigInt(rng.below(1 << 20)) * BigInt(leaf), size, { write: k % 2 === 0, user: k < 3 }, alloc, { format: x86_64, largestLeaf: leaf })));
        } else if (k < 8) {
          outcomes.push(outcome(() => engine.unmap(root, va, size, { format: x86_64 })));
        } else {
          outcomes.push(outcome(() => engine.protect(root, va, size, { write: k === 8, execute: false }, { format: x86_64 })));
        }
      }
      return {
        outcomes,
        listing: engine.mappings(root, { format: x86_64 }).mappings,
        image: new Uint32Array(engine.memory.buffer, engine.layout.ramBase, engine.layout.ramBytes / 4),
      };
    },
  };
}

export type ScenarioFactory = (options: ScenarioOptions) => CompareScenario;

/** The built-in scenarios by name; more register themselves (see registerScenario). */
export const SCENARIOS: Map<string, ScenarioFactory> = new Map([
  ['walk', walkScenario],
  ['map', mapScenario],
]);

export function registerScenario(name: string, factory: ScenarioFactory): void {
  SCENARIOS.set(name, factory);
}
