// Reverse lookup: which virtual addresses map a physical address. One pass over
// each root's leaf mappings answers every address asked at once (a binary search
// of the sorted addresses per leaf). Roots whose top table has the same kernel half
// map the same kernel addresses, so that half is walked once for all of them.
import type { Engine, PagingOptions } from '../engine/engine.js';
import type { Rights } from '../paging/types.js';
import { CapacityError, InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { latin1 } from '../util/bytes-text.js';
import { partitionPoint } from '../util/partition-point.js';

export interface ReverseHit {
  readonly va: bigint;
  /** Leaf size in bytes and the architecture's level of the leaf. */
  readonly size: number;
  readonly level: number;
  readonly rights: Rights;
  /** Start of the leaf (virtual) and the frame it maps. */
  readonly leafVa: bigint;
  readonly leafPa: bigint;
  /** The roots under which `va` maps the address (several when they share the table). */
  readonly roots: readonly bigint[];
}

export interface ReverseResult {
  readonly pa: bigint;
  /** In ascending virtual order. */
  readonly hits: readonly ReverseHit[];
}

export interface ReverseOptions extends PagingOptions {
  /** Stop listing a physical address's aliases after this many (default 10,000); `truncated` names them. */
  readonly limit?: number;
  /**
   * Refuse, with a CapacityError, an answer of more than this many virtual addresses
   * in all (default 1,000,000): a few frames mapped thousands of times each, asked
   * about together, would otherwise fill the heap before the answer is complete.
   */
  readonly maxHits?: number;
}

/** Start of the upper canonical half, where a format has one (x86-64), else undefined. */
export function upperHalf(engine: Engine, options: PagingOptions): bigint | undefined {
  const p = engine.prepare(options);
  return p.signExtend ? BigInt.asUintN(64, -(1n << BigInt(p.vaBits - 1))) : undefined;
}

/**
 * A key equal for two roots exactly when their top tables hold the same entries
 * for the upper half (so their upper halves map the same), or undefined.
 */
export function kernelHalfKey(engine: Engine, root: bigint, options: PagingOptions): string | undefined {
  const p = engine.prepare(options);
  if (!p.signExtend) return undefined;
  const top = p.levels[0]!;
  const entries = 2 ** top.bits;
  const table = root & p.rootMask;
  try {
    const half = engine.phys.read(table + BigInt((entries / 2) * p.entryBytes), (entries / 2) * p.entryBytes);
    return latin1(half);
  } catch {
    return undefined;
  }
}

/**
 * Every virtual address that maps each of `pas` under each of `roots`, with the
 * leaf's size and rights. Results are in the order of `pas`.
 */
export function reverseLookup(engine: Engine, roots: readonly bigint[], pas: readonly bigint[], options: ReverseOptions = {}): { results: ReverseResult[]; truncated: bigint[] } {
  const { limit = 10_000, maxHits = 1_000_000, ...walk } = options;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidInputError(`limit: ${limit} must be a whole number >= 0 (0: no limit)`, { input: 'limit' });
  if (!Number.isSafeInteger(maxHits) || maxHits < 1) throw new InvalidInputError(`maxHits: ${maxHits} must be a whole number >= 1`, { input: 'maxHits' });
  let total = 0;
  for (const pa of pas) if (pa < 0n || pa >= 1n << 64n) throw new InvalidInputError(`pa: ${hex(pa)} is not a 64-bit physical address`, { input: 'pa' });
  const sorted = [...new Set(pas)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Per physical address: hits keyed by va, so a va found under several roots is one hit.
  // Roots are held as sets that grow (a kernel half's roots gain every later root sharing it).
  const found = new Map<bigint, Map<bigint, { hit: Omit<ReverseHit, 'roots'>; rootSets: bigint[][] }>>();
  const over = new Set<bigint>();
  const upper = upperHalf(engine, walk);
  const walkedKernel = new Map<string, { roots: bigint[] }>();
  for (const root of [...new Set(roots)]) {
    const key = kernelHalfKey(engine, root, walk);
    const shared = key === undefined ? undefined : walkedKernel.get(key);
    if (shared) shared.roots.push(root);
    const kernelRoots = shared ? shared.roots : [root];
    if (key !== undefined && !shared) walkedKernel.set(key, { roots: kernelRoots });
    for (const m of engine.mappingsIter(root, walk)) {
      const inUpper = upper !== undefined && m.va >= upper;
      // The kernel half was already walked under a root with the same one: its hits name every such root.
      if (inUpper && shared) break;
      const size = BigInt(m.size);
      for (let i = lowerBound(sorted, m.pa); i < sorted.length && sorted[i]! < m.pa + size; i++) {
        const pa = sorted[i]!;
        let byVa = found.get(pa);
        if (!byVa) found.set(pa, (byVa = new Map()));
        const va = BigInt.asUintN(64, m.va + (pa - m.pa));
        const have = byVa.get(va);
        if (have) {
          if (!have.rootSets.some((set) => set.includes(root))) have.rootSets.push(inUpper ? kernelRoots : [root]);
          continue;
        }
        if (limit && byVa.size >= limit) {
          over.add(pa);
          continue;
        }
        if (++total > maxHits) {
          throw new CapacityError(`reverse: more than ${maxHits} virtual addresses in all for the ${sorted.length} physical addresses asked; ask about fewer at a time or lower the per-address limit (${limit || 'none'})`, { maxHits, limit });
        }
        byVa.set(va, { hit: { va, size: m.size, level: m.level, rights: m.rights, leafVa: m.va, leafPa: m.pa }, rootSets: [inUpper ? kernelRoots : [root]] });
      }
    }
  }
  const results = pas.map((pa) => {
    const byVa = found.get(pa);
    const hits = byVa ? [...byVa.values()].map(({ hit, rootSets }) => ({ ...hit, roots: [...new Set(rootSets.flat())] })).sort((a, b) => (a.va < b.va ? -1 : a.va > b.va ? 1 : 0)) : [];
    return { pa, hits };
  });
  return { results, truncated: [...over] };
}

function lowerBound(sorted: readonly bigint[], v: bigint): number {
  return partitionPoint(sorted.length, (i) => sorted[i]! < v);
}
