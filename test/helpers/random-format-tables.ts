// Random page-table images for ANY table-driven format (x86 PAE / 32-bit, the
// AArch64 granules, x86-64...), built from the format's own LevelSpec: valid
// trees, shared tables, self-references and cycles, leaves of every size with
// random rights, entries with reserved or garbage bits, pointers outside the
// image. Entries sit at a small pool of indices and most addresses are steered
// along the written entries, so walks reach deep levels, leaves and faults alike.
// (test/helpers/random-tables.ts is the x86-64-only generator of the x86 suites.)
import fc from 'fast-check';
import type { LevelSpec, MapFlags, PagingFormat, WalkParams } from '../../src/paging/format.js';
import type { WalkOptions } from '../../src/paging/types.js';

export interface FormatImage {
  /** Root register value (with stray bits the walk must mask off). */
  root: bigint;
  /** [physical address, value] of every entry written (RAM starts zeroed); entryBytes wide. */
  writes: Array<[bigint, bigint]>;
  vas: bigint[];
}

export interface FormatGeometry {
  readonly params: WalkParams;
  /** Bytes of the largest table (one granule). */
  readonly tableBytes: number;
  /** Tables live at k * tableBytes for k = 1..tables. */
  readonly tables: number;
  readonly ramBytes: number;
  /** First frame of the spare tables at the top of RAM (free for map's new tables). */
  readonly spareFrame: number;
}

const U64 = (1n << 64n) - 1n;

/** `tables` table pages for random images, then `spare` free ones. */
export function geometry(format: PagingFormat, tables = 8, spare = 0): FormatGeometry {
  const params = format.params();
  const tableBytes = Math.max(4096, ...params.levels.map((l) => 2 ** l.bits * params.entryBytes));
  return { params, tableBytes, tables, ramBytes: (tables + 2 + spare) * tableBytes, spareFrame: ((tables + 2) * tableBytes) / 4096 };
}

/** A small deterministic PRNG (mulberry32), so one fast-check seed drives a whole image. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function indexPool(l: LevelSpec): number[] {
  const max = 2 ** l.bits - 1;
  return [...new Set([0, 1, 2, 3, max >> 1, (max >> 1) + 1, max - 1, max].filter((i) => i >= 0 && i <= max))];
}

/** Random subset of the set bits of `mask`. */
function someBits(rnd: () => number, mask: bigint): bigint {
  let out = 0n;
  for (let b = 0n; b < 64n; b++) if ((mask >> b) & 1n && rnd() < 0.5) out |= 1n << b;
  return out;
}

function rights(rnd: () => number, l: LevelSpec, leaf: boolean): bigint {
  const r = leaf ? l.leafRights : l.tableRights;
  return someBits(rnd, r.writeAllow | r.writeDeny | r.userAllow | r.userDeny | r.pxn | r.uxn);
}

/** One bit: half the time one of `mask`'s (the level's reserved bits), else any of the 64. */
function strayBit(rnd: () => number, mask: bigint): bigint {
  const set = Array.from({ length: 64 }, (_, b) => BigInt(b)).filter((b) => (mask >> b) & 1n);
  if (set.length && rnd() < 0.5) return 1n << set[Math.floor(rnd() * set.length)]!;
  return 1n << BigInt(Math.floor(rnd() * 64));
}

function random64(rnd: () => number): bigint {
  return (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
}

/**
 * One entry for a table used at level `i`. `homes[l]` lists the tables whose
 * home is level l: pointers mostly go one level down, sometimes anywhere
 * (shared tables, self-maps, cycles).
 */
function entry(rnd: () => number, g: FormatGeometry, i: number, homes: number[][]): bigint {
  const p = g.params;
  const l = p.levels[i]!;
  const valid = BigInt(l.validValue);
  const last = i + 1 >= p.levels.length;
  const x = rnd();
  let v: bigint;
  if (x < 0.08) v = 0n;
  else if (x < (last ? 0.08 : l.leafAllowed ? 0.5 : 0.8)) {
    const below = homes[i + 1] ?? [];
    const k = below.length && rnd() < 0.8 ? below[Math.floor(rnd() * below.length)]! : 1 + Math.floor(rnd() * g.tables);
    v = (BigInt(k * g.tableBytes) & l.tableAddr) | l.tableTemplate | valid | rights(rnd, l, false);
    if (rnd() < 0.15) v |= strayBit(rnd, l.rsvdTable);
  } else if (x < 0.84 && l.leafAllowed) {
    // A leaf with an aligned output address, sometimes far away, sometimes with one stray bit.
    const span = 1n << BigInt(l.shift);
    const frame = rnd() < 0.7 ? BigInt(Math.floor(rnd() * 64)) : BigInt(Math.floor(rnd() * 2 ** 20));
    let a = (frame * span) & l.leafAddr;
    if (l.leafExtMask && rnd() < 0.5) a |= someBits(rnd, l.leafExtMask);
    v = a | l.leafTemplate | valid | rights(rnd, l, true);
    if (l.leafRequire && rnd() < 0.85) v |= l.leafRequire;
    if (l.contigBit && rnd() < 0.3) v |= l.contigBit;
    if (rnd() < 0.12) v |= strayBit(rnd, l.rsvdLeaf);
  } else if (x < 0.9) {
    // A pointer outside the image.
    const far = BigInt(g.ramBytes) + BigInt(Math.floor(rnd() * 2 ** 28)) * 4096n;
    v = (far & l.tableAddr) | l.tableTemplate | valid;
  } else if (x < 0.95) {
    v = random64(rnd) & ~BigInt(l.validMask);
  } else {
    v = random64(rnd) | valid;
  }
  return p.entryBytes === 4 ? v & 0xffffffffn : v & U64;
}

/** Sign- or zero-extend a VA built from indices, as the format wants it. */
export function canonicalVa(p: WalkParams, va: bigint): bigint {
  const bits = BigInt(p.vaBits);
  va &= (1n << bits) - 1n;
  return p.signExtend ? BigInt.asUintN(64, BigInt.asIntN(Number(bits), va)) : va;
}

/** An address that follows the written entries level by level (picks choose among the slots written). */
function guidedVa(g: FormatGeometry, rootAddr: bigint, value: Map<bigint, bigint>, slots: Map<bigint, number[]>, picks: number[], off: number): bigint {
  const p = g.params;
  let table = rootAddr;
  let va = 0n;
  p.levels.forEach((l, i) => {
    const here = slots.get(table) ?? [];
    const pick = picks[i]!;
    const idx = here.length && pick % 8 !== 0 ? here[pick % here.length]! : pick % 2 ** l.bits;
    va |= BigInt(idx) << BigInt(l.shift);
    table = (value.get(table + BigInt(idx * p.entryBytes)) ?? 0n) & l.tableAddr;
  });
  const page = 2 ** p.levels[p.levels.length - 1]!.shift;
  return canonicalVa(p, va | BigInt(off % page));
}

/**
 * A random image for `format`: the root table is table 1 (for PAE, a 32-byte
 * PDPT somewhere inside it), entries at pooled or random indices of random
 * tables, and addresses that mostly follow them.
 */
export function formatImageArb(format: PagingFormat, g = geometry(format)): fc.Arbitrary<FormatImage> {
  const p = g.params;
  const rootBytes = 2 ** p.levels[0]!.bits * p.entryBytes;
  return fc
    .record({
      seed: fc.integer(),
      entries: fc.integer({ min: 1, max: 60 }),
      rootSlot: fc.integer({ min: 0, max: Math.max(0, Math.floor(g.tableBytes / Math.max(rootBytes, 64)) - 1) }),
      noise: fc.bigInt({ min: 0n, max: U64 }),
      guided: fc.array(fc.tuple(fc.array(fc.nat(), { minLength: p.levels.length, maxLength: p.levels.length }), fc.nat()), { minLength: 1, maxLength: 16 }),
      random: fc.array(fc.oneof(fc.bigInt({ min: 0n, max: U64 }), fc.bigInt({ min: 0n, max: (1n << BigInt(p.vaBits)) - 1n })), { maxLength: 4 }),
    })
    .map(({ seed, entries, rootSlot, noise, guided, random }) => {
      const rnd = prng(seed);
      const rootAddr = BigInt(g.tableBytes) + BigInt(rootSlot * Math.max(rootBytes, 64));
      const root = rootAddr | (noise & ~p.rootMask & ((1n << 64n) - 1n));
      const writes = new Map<bigint, bigint>();
      // Every table but the root's frame has a home level (the root table is level 0);
      // entries are written for that level, though other paths may reach the table too.
      const home = [0, 0];
      const homes: number[][] = p.levels.map(() => []);
      for (let k = 2; k <= g.tables; k++) {
        home[k] = 1 + Math.floor(rnd() * (p.levels.length - 1));
        homes[home[k]!]!.push(k);
      }
      const put = (table: bigint, level: number, idx: number) => {
        writes.set(table + BigInt(idx * p.entryBytes), entry(rnd, g, level, homes));
      };
      const pool0 = indexPool(p.levels[0]!);
      for (let k = 0; k < 6; k++) put(rootAddr, 0, pool0[Math.floor(rnd() * pool0.length)]!);
      for (let k = 0; k < entries; k++) {
        const t = 2 + Math.floor(rnd() * (g.tables - 1));
        const level = home[t]!;
        const l = p.levels[level]!;
        const pool = indexPool(l);
        const idx = rnd() < 0.8 ? pool[Math.floor(rnd() * pool.length)]! : Math.floor(rnd() * 2 ** l.bits);
        put(BigInt(t * g.tableBytes), level, idx);
      }
      const list = [...writes.entries()];
      const slots = new Map<bigint, number[]>();
      for (const [pa] of list) {
        // Group by table frame (and by the root table for a sub-page root).
        const table = pa >= rootAddr && pa < rootAddr + BigInt(rootBytes) ? rootAddr : pa - (pa % BigInt(g.tableBytes));
        slots.set(table, [...(slots.get(table) ?? []), Number((pa - table) / BigInt(p.entryBytes))]);
      }
      const vas = [...guided.map(([picks, off]) => guidedVa(g, rootAddr, writes, slots, picks, off)), ...random];
      return { root, writes: list, vas };
    });
}

/** Random walk options that matter for `format`. */
export function walkOptionsArbFor(format: PagingFormat): fc.Arbitrary<WalkOptions> {
  const common = {
    access: fc.constantFrom('read' as const, 'write' as const, 'execute' as const),
    user: fc.boolean(),
    ignoreReserved: fc.boolean(),
    smap: fc.boolean(),
  };
  if (format.arch === 'arm') {
    return fc.record({ ...common, maxPhyAddr: fc.constantFrom(36, 40, 44, 48), hardwareAccessFlag: fc.boolean() });
  }
  return fc.record({ ...common, wp: fc.boolean(), nxe: fc.boolean(), smep: fc.boolean(), maxPhyAddr: fc.constantFrom(32, 36, 40, 46, 52) });
}

/** One map, unmap or protect request on a random image. */
export interface EditRequest {
  readonly op: 'map' | 'unmap' | 'protect';
  readonly va: bigint;
  readonly size: bigint;
  /** Output address (map only). */
  readonly pa: bigint;
  readonly flags: MapFlags;
  readonly largestLeaf?: number;
  readonly contiguousHint?: boolean;
}

/** The random choices behind one request; `editRequest` turns them into addresses. */
export interface EditShape {
  op: 'map' | 'unmap' | 'protect';
  anchor: number;
  level: number;
  group: boolean;
  startPages: number;
  spans: number;
  tailPages: number;
  paMode: 'same' | 'page' | 'high';
  paFrame: number;
  flags: MapFlags;
  largest: number | undefined;
  hint: boolean | undefined;
  damage: 'none' | 'misaligned' | 'empty' | 'crosses-top' | 'bad-largest';
}

const rawBitsArb = (format: PagingFormat) =>
  fc.constantFrom<bigint | undefined>(
    undefined,
    undefined,
    ...(format.arch === 'arm' ? [0b100n << 2n, (1n << 55n) | (1n << 58n)] : [0x18n, 0xe00n]),
  );

export function editShapesArb(format: PagingFormat): fc.Arbitrary<EditShape[]> {
  const shape = fc.record({
    op: fc.constantFrom('map' as const, 'map' as const, 'map' as const, 'unmap' as const, 'protect' as const),
    anchor: fc.nat(),
    level: fc.nat(),
    group: fc.boolean(),
    startPages: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) }),
    spans: fc.integer({ min: 0, max: 2 }),
    tailPages: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    paMode: fc.constantFrom('same' as const, 'same' as const, 'page' as const, 'high' as const, 'high' as const),
    paFrame: fc.nat({ max: 63 }),
    flags: fc.record({
      write: fc.boolean(),
      user: fc.boolean(),
      execute: fc.option(fc.boolean(), { nil: undefined }),
      global: fc.option(fc.boolean(), { nil: undefined }),
      raw: rawBitsArb(format),
    }),
    largest: fc.option(fc.nat(), { nil: undefined, freq: 3 }),
    hint: fc.option(fc.boolean(), { nil: undefined }),
    damage: fc.oneof(
      { weight: 20, arbitrary: fc.constant('none' as const) },
      { weight: 1, arbitrary: fc.constantFrom('misaligned' as const, 'empty' as const, 'crosses-top' as const, 'bad-largest' as const) },
    ),
  });
  // A map first, so that the unmaps and protects after it often find something.
  const first = shape.map((s) => ({ ...s, op: 'map' as const, damage: 'none' as const }));
  return fc.tuple(first, fc.array(shape, { minLength: 1, maxLength: 5 })).map(([a, rest]) => [a, ...rest]);
}

/**
 * A request around one of the image's addresses or where an earlier request went
 * (`earlier`: the caller's choice, e.g. the maps that succeeded): a run of leaves
 * of one size, group-aligned or not, with an output address congruent to the VA
 * (large leaves), page-aligned only (small ones), or above what some leaves can
 * hold; now and then a malformed one.
 */
export function editRequest(format: PagingFormat, img: FormatImage, s: EditShape, earlier: readonly EditRequest[] = []): EditRequest {
  const p = format.params();
  const leafLevels = p.levels.filter((l) => l.leafAllowed);
  const page = 1n << BigInt(p.levels[p.levels.length - 1]!.shift);
  const l = leafLevels[s.level % leafLevels.length]!;
  const span = 1n << BigInt(l.shift);
  const n = s.group ? BigInt(l.contigEntries || 16) : 1n;
  // Unmap and protect mostly go where an earlier request went: its whole range, a
  // few pages inside it (which may split its leaves), or a little more than it.
  if (earlier.length > 0 && s.anchor % 5 < (s.op === 'map' ? 1 : 4)) {
    const r = earlier[s.anchor % earlier.length]!;
    const inside = BigInt(s.startPages) * page < r.size ? BigInt(s.startPages) * page : 0n;
    const [va, size] = [[r.va, r.size], [r.va + inside, page * BigInt(1 + s.tailPages)], [r.va, r.size + BigInt(s.tailPages) * page]][s.spans % 3]!;
    return { ...r, op: s.op, va: BigInt.asUintN(64, va!), size: size!, flags: s.flags, contiguousHint: s.hint };
  }
  // One of the image's addresses (mapped or in the way), or anywhere (mostly free).
  const anywhere = BigInt.asUintN(64, BigInt(s.anchor) * 0x9e3779b97f4a7c15n);
  const anchor = canonicalVa(p, s.anchor % 3 === 0 ? anywhere : img.vas[s.anchor % img.vas.length]!);
  const block = span * n;
  let va = anchor - (anchor % block) + (s.group ? 0n : BigInt(s.startPages) * page);
  let size = (s.group ? n * BigInt(1 + (s.spans % 2)) : BigInt(s.spans)) * span + BigInt(s.tailPages) * page;
  if (size === 0n) size = page;
  let pa: bigint;
  // Congruent to the VA; for a group, every other time one leaf off its alignment.
  if (s.paMode === 'same') pa = BigInt(s.paFrame) * block + (va % block) + (s.group && s.paFrame % 2 ? span : 0n);
  // Past 4 GiB, past 2^M for PSE-36, past the smaller maxPhyAddr choices, near the top.
  else if (s.paMode === 'high') pa = (1n << BigInt([32, 33, 36, 39, 40, 44, 47, 51][s.paFrame % 8]!)) + (va % span);
  else pa = BigInt(s.paFrame) * page;
  let largestLeaf = s.largest === undefined ? undefined : 2 ** leafLevels[s.largest % leafLevels.length]!.shift;
  // Small leaves only (misaligned output, or a low largestLeaf): keep their count small.
  const unit = s.paMode === 'page' ? page : largestLeaf !== undefined && BigInt(largestLeaf) < span ? BigInt(largestLeaf) : span;
  if (size / unit > 1024n) size = BigInt(1 + s.tailPages) * page;
  if (s.damage === 'misaligned') va += page / 2n;
  if (s.damage === 'empty') size = 0n;
  if (s.damage === 'bad-largest') largestLeaf = Number(page) * 3;
  if (s.damage === 'crosses-top') {
    va = canonicalVa(p, (1n << BigInt(p.vaBits - (p.signExtend ? 1 : 0))) - page);
    size = 2n * page;
  }
  return { op: s.op, va: BigInt.asUintN(64, va), size, pa, flags: s.flags, largestLeaf, contiguousHint: s.hint };
}

/** Random options of map, unmap and protect that matter for `format`. */
export function editOptionsArbFor(format: PagingFormat): fc.Arbitrary<WalkOptions> {
  if (format.arch === 'arm') {
    return fc.record({ maxPhyAddr: fc.constantFrom(40, 44, 48, 48), ignoreReserved: fc.boolean(), hardwareAccessFlag: fc.boolean() });
  }
  return fc.record({ maxPhyAddr: fc.constantFrom(32, 36, 40, 46, 52, 52), ignoreReserved: fc.boolean(), nxe: fc.boolean() });
}
