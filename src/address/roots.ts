// Address-space discovery from the page tables alone: every top-level table in
// physical memory whose kernel half matches a known root's (an OS copies its kernel
// half into each process's top table), with page-table isolation's user/kernel
// copies paired, and how much each maps. No symbols, no OS structures.
import * as A from '../abi.js';
import type { Engine, PagingOptions } from '../engine/engine.js';
import { InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { latin1 } from '../util/bytes-text.js';
import { physicalSpans, type Span } from './spans.js';
import { kernelHalfKey, upperHalf } from './reverse.js';

export interface AddressSpace {
  /** The top table a walk starts from: the kernel copy of a PTI pair. */
  readonly root: bigint;
  /** The PTI user copy paired with `root` (the frame after it), when there is one. */
  readonly userRoot?: bigint;
  /** The known root(s) this one is (a vCPU's CR3, a root given), else empty. */
  readonly known: readonly bigint[];
  /** Kernel-half entries that differ from the reference root's (0: an exact copy). */
  readonly differing: number;
  /** Bytes mapped in the lower (user) and upper (kernel) canonical halves. */
  readonly userBytes: bigint;
  readonly kernelBytes: bigint;
  /** Leaf mappings in each half. */
  readonly userMappings: number;
  readonly kernelMappings: number;
}

export interface DiscoverOptions extends PagingOptions {
  /**
   * Kernel-half entries a table may differ in and still count (default 2: Linux gives a process with an LDT one entry of its own);
   * never more than a minority of the reference's present entries.
   */
  readonly misses?: number;
  /** Called with frames scanned and the total, now and then. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Discovery {
  readonly spaces: AddressSpace[];
  /** Frames scanned. */
  readonly frames: number;
  /** The reference roots' kernel-half tables, by known root. */
  readonly references: ReadonlyMap<bigint, bigint>;
}

const PTI_BIT = 0x1000n;
const NX = 1n << 63n;
/** A PTI user copy maps little of the kernel half: the entry code, the CPU entry area. */
const PTI_USER_KERNEL_ENTRIES = 16;

interface Geometry {
  readonly entries: number;
  readonly half: number;
  readonly rootMask: bigint;
  readonly addrMask: bigint;
  readonly limit: bigint;
}

function geometry(engine: Engine, options: PagingOptions): Geometry {
  const p = engine.prepare(options);
  const top = p.levels[0]!;
  if (!p.signExtend || p.entryBytes !== 8 || top.bits !== 9 || p.levels.length < 4) {
    throw new InvalidInputError('roots: address-space discovery needs x86-64 4- or 5-level paging (a top table with a kernel half)', { input: 'format' });
  }
  const limit = engine.source ? engine.source.end : BigInt(engine.phys.size);
  return { entries: 512, half: 256, rootMask: p.rootMask, addrMask: top.tableAddr, limit };
}

function readTable(engine: Engine, table: bigint): BigUint64Array | undefined {
  try {
    const b = engine.phys.read(table, 4096);
    return new BigUint64Array(b.buffer, b.byteOffset, 512);
  } catch {
    return undefined;
  }
}

/** An entry of a top table: empty, or present with an address the machine has and no page-size bit. */
function plausible(e: bigint, g: Geometry): boolean {
  if (e === 0n) return true;
  if ((e & 1n) === 0n || (e & 0x80n) !== 0n) return false;
  const a = e & g.addrMask;
  return a !== 0n && a < g.limit && (e & ~(g.addrMask | NX | 0xfffn)) === 0n;
}

function sameUserHalf(a: BigUint64Array, b: BigUint64Array, g: Geometry): boolean {
  // The kernel copy of a PTI pair has NX set on its user entries (Linux): compare without it.
  for (let i = 0; i < g.half; i++) if ((a[i]! & ~NX) !== (b[i]! & ~NX)) return false;
  return true;
}

/** The table of `root`'s PTI partner kernel copy, when `root` is the user copy of a pair. */
function kernelCopyOf(engine: Engine, table: bigint, g: Geometry): bigint | undefined {
  if ((table & PTI_BIT) === 0n) return undefined;
  const user = readTable(engine, table), kernel = readTable(engine, table - PTI_BIT);
  if (!user || !kernel || !sameUserHalf(user, kernel, g)) return undefined;
  const present = (t: BigUint64Array) => t.subarray(g.half).filter((e) => (e & 1n) !== 0n).length;
  return present(kernel) > present(user) ? table - PTI_BIT : undefined;
}

/** Is `table` the PTI user copy of the kernel copy `kernel`? */
function isUserCopy(engine: Engine, kernel: BigUint64Array, table: bigint, g: Geometry, candidates: Set<bigint>): boolean {
  if (candidates.has(table)) return false;
  const user = readTable(engine, table);
  if (!user || !sameUserHalf(user, kernel, g)) return false;
  let present = 0;
  for (let i = 0; i < g.entries; i++) {
    if (!plausible(user[i]!, g)) return false;
    if (i >= g.half && (user[i]! & 1n) !== 0n) present++;
  }
  return present > 0 && present <= PTI_USER_KERNEL_ENTRIES;
}

/**
 * Find every top-level table in physical memory that shares the kernel half of one
 * of the `known` roots (at most `misses` entries differing), pair PTI copies, and
 * count what each maps. The known roots are always in the answer.
 */
export function discoverRoots(engine: Engine, known: readonly bigint[], options: DiscoverOptions = {}): Discovery {
  const { misses = 2, onProgress, ...walk } = options;
  if (!Number.isSafeInteger(misses) || misses < 0 || misses > 255) throw new InvalidInputError(`misses: ${misses} must be a whole number from 0 to 255`, { input: 'misses' });
  if (known.length === 0) throw new InvalidInputError('roots: give at least one known root (a vCPU\'s CR3)', { input: 'roots' });
  const g = geometry(engine, walk);
  const references = new Map<bigint, bigint>();
  const refHalves = new Map<string, BigUint64Array>();
  for (const root of known) {
    const table = root & g.rootMask;
    const ref = kernelCopyOf(engine, table, g) ?? table;
    const t = readTable(engine, ref);
    if (!t) throw new InvalidInputError(`roots: the root table of ${hex(root)} at ${hex(ref)} is not in physical memory`, { input: 'root' });
    const half = t.slice(g.half);
    if (half.every((e) => e === 0n)) throw new InvalidInputError(`roots: the root table at ${hex(ref)} maps nothing in the kernel half; it cannot identify other address spaces`, { input: 'root' });
    references.set(root, ref);
    refHalves.set(latin1(new Uint8Array(half.buffer)), half);
  }

  // Frames whose kernel half matches a reference.
  const spans = physicalSpans(engine).map(frameAligned).filter((s) => s.length > 0);
  const total = spans.reduce((a, s) => a + s.length / 4096, 0);
  const differing = new Map<bigint, number>();
  for (const half of refHalves.values()) {
    // Most of the reference's present entries must match, or any empty frame would.
    const present = half.filter((e) => e !== 0n).length;
    const allowed = Math.min(misses, Math.floor((present - 1) / 2));
    for (const table of matchingFrames(engine, spans, half, allowed, total, onProgress)) {
      const t = readTable(engine, table);
      if (!t || !t.every((e) => plausible(e, g))) continue;
      let d = 0;
      for (let i = 0; i < g.half; i++) if (t[g.half + i] !== half[i]) d++;
      differing.set(table, Math.min(d, differing.get(table) ?? d));
    }
  }
  const knownTables = new Map<bigint, bigint[]>();
  for (const [root, ref] of references) {
    const list = knownTables.get(ref) ?? [];
    list.push(root);
    knownTables.set(ref, list);
    if (!differing.has(ref)) differing.set(ref, 0);
  }

  // Pairs: a kernel copy at an even frame and its user copy in the next one.
  const candidates = new Set(differing.keys());
  const spaces: AddressSpace[] = [];
  const upper = upperHalf(engine, walk)!;
  const kernelCounted = new Map<string, { bytes: bigint; mappings: number }>();
  for (const table of [...candidates].sort((a, b) => (a < b ? -1 : 1))) {
    const t = readTable(engine, table)!;
    const userRoot = (table & PTI_BIT) === 0n && isUserCopy(engine, t, table + PTI_BIT, g, candidates) ? table + PTI_BIT : undefined;
    const knownHere = [...(knownTables.get(table) ?? []), ...(userRoot !== undefined ? knownTables.get(userRoot) ?? [] : [])];
    const c = count(engine, table, upper, kernelCounted, walk);
    spaces.push({ root: table, userRoot, known: knownHere, differing: differing.get(table)!, ...c });
  }
  return { spaces, frames: total, references };
}

function frameAligned(s: Span): Span {
  const start = (s.pa + 4095n) & ~4095n;
  const end = (s.pa + BigInt(s.length)) & ~4095n;
  return { logical: start, pa: start, length: end > start ? Number(end - start) : 0 };
}

/** Frames whose upper half matches `half` (the kernel does the scan). */
function matchingFrames(engine: Engine, spans: Span[], half: BigUint64Array, misses: number, total: number, onProgress?: (done: number, total: number) => void): bigint[] {
  const io = engine.layout.ioBase;
  const refAt = io;
  const spansAt = io + A.SEARCH_MAX_PATTERN;
  const cap = 4096;
  const outAt = spansAt + cap * A.SP_BYTES;
  const maxHits = Math.floor((io + engine.layout.ioBytes - outAt) / A.HIT_BYTES);
  const view = engine.view;
  const found: bigint[] = [];
  // Batches of at most 64 MiB, so progress can be told.
  const pieces: Span[] = [];
  for (const s of spans) for (let o = 0; o < s.length; o += 1 << 26) pieces.push({ logical: s.pa + BigInt(o), pa: s.pa + BigInt(o), length: Math.min(1 << 26, s.length - o) });
  let done = 0;
  for (let b = 0; b < pieces.length; b += cap) {
    const count = Math.min(cap, pieces.length - b);
    let from = 0, fromOffset = 0n;
    for (;;) {
      new BigUint64Array(engine.memory.buffer, refAt, 256).set(half);
      for (let i = 0; i < count; i++) {
        const s = pieces[b + i]!, r = spansAt + i * A.SP_BYTES;
        view.setBigUint64(r + A.SP_LOGICAL, s.pa, true);
        view.setBigUint64(r + A.SP_PA, s.pa, true);
        view.setBigUint64(r + A.SP_LENGTH, BigInt(s.length), true);
      }
      const n = engine.backend.search.matchFrames(spansAt, count, 2048, refAt, 256, misses, from, fromOffset, outAt, maxHits) >>> 0;
      for (let i = 0; i < n; i++) {
        const r = outAt + i * A.HIT_BYTES;
        const si = view.getUint32(r + A.HIT_SPAN, true), off = view.getUint32(r + A.HIT_OFFSET, true);
        found.push(pieces[b + si]!.pa + BigInt(off));
        if (i === n - 1) {
          from = si;
          fromOffset = BigInt(off) + 4096n;
        }
      }
      if (n < maxHits) break;
    }
    for (let i = 0; i < count; i++) done += pieces[b + i]!.length / 4096;
    onProgress?.(done, total);
  }
  return found;
}

/** Bytes and leaves mapped in each half; a kernel half already counted (same entries) is not walked again. */
function count(engine: Engine, table: bigint, upper: bigint, counted: Map<string, { bytes: bigint; mappings: number }>, walk: PagingOptions) {
  const key = kernelHalfKey(engine, table, walk)!;
  const known = counted.get(key);
  let userBytes = 0n, userMappings = 0, kernelBytes = 0n, kernelMappings = 0;
  for (const m of engine.mappingsIter(table, walk)) {
    if (m.va >= upper) {
      if (known) break;
      kernelBytes += BigInt(m.size);
      kernelMappings++;
    } else {
      userBytes += BigInt(m.size);
      userMappings++;
    }
  }
  if (known) return { userBytes, userMappings, kernelBytes: known.bytes, kernelMappings: known.mappings };
  counted.set(key, { bytes: kernelBytes, mappings: kernelMappings });
  return { userBytes, userMappings, kernelBytes, kernelMappings };
}
