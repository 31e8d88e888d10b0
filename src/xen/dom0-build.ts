/**
 * Building the initial PV domain's page tables (xen-mm.md section 4, seed 001).
 *
 * From Xen 4.17's layout (dom0-layout.ts) this allocates dom0 in the engine,
 * writes its initial page tables into the page-table area of the layout with the
 * engine's own map kernel (4 KiB leaves only, like Xen's builder), gives every
 * table page its page-table type, checks the two properties the seed's
 * assertions state for every page of the area, and then marks the area read-only
 * the way mark_pv_pt_pages_rdonly does. A walk of the finished tables is part of
 * the report, so a caller sees at once whether they reproduce the layout.
 *
 * Table pages are handed out in the order Xen's builder takes them from the
 * area: the root first, then for each 2 MiB block of [v_start, v_end) its L1,
 * followed by a new L2 when the block starts a new 1 GiB region and a new L3
 * when it starts a new 512 GiB region (compat guests: the L3 is the root, and
 * the PAE L2s the range does not touch follow at the end, so there are always
 * four). The map kernel consumes its pool top-down, so the pool is permuted to
 * land every table on the page Xen would have used; the result is checked by
 * reading the tree back.
 */
import * as A from '../abi.js';
import type { Engine, EngineOptions } from '../engine/engine.js';
import { CapacityError, InvalidInputError, TypeViolationError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { computeLayout, MAX_MEMORY } from '../memory/layout.js';
import { allocate } from '../frames/allocation.js';
import { encodeTypeInfo, typeCode, typeName, type FrameType, type TableType } from '../frames/frame-info.js';
import { getType } from '../frames/type-system.js';
import { checkDomainId } from '../frames/domains.js';
import { x86_64 } from '../paging/formats/x86.js';
import * as X86 from '../paging/formats/x86-bits.js';
import { x86_pae } from '../paging/formats/x86-legacy.js';
import type { FrameAllocator } from '../paging/allocator.js';
import type { PagingFormat } from '../paging/format.js';
import { dom0Layout, layoutJson, type Dom0Layout, type Dom0LayoutInputs } from './dom0-layout.js';

const PAGE = 4096n;
const TWO64 = 1n << 64n;
const U64 = TWO64 - 1n;

/** The hypervisor's own part of the 64-bit address space (L4 slots 256..271). */
export const HYPERVISOR_VIRT_START = 0xffff800000000000n;
export const HYPERVISOR_VIRT_END = 0xffff880000000000n;
/** Where the hypervisor's area starts for a compat guest (Xen's default; a host may raise it). */
export const HYPERVISOR_COMPAT_VIRT_START = 0xf5800000n;

export type TableLevel = TableType;

/** What to break in the area before the checks run (to see them report it). */
export interface Dom0Injection {
  /** Page of the page-table area (0 = the root). */
  readonly page: number;
  /**
   * `type`: give the page another type (default 'writable'); `count`: a stray type
   * reference (type count 1); a flag name: set that flag of type_info.
   */
  readonly kind: 'type' | 'count' | 'validated' | 'pinned' | 'partial' | 'locked';
  readonly type?: FrameType;
}

export const INJECTION_KINDS: readonly Dom0Injection['kind'][] = ['type', 'count', 'validated', 'pinned', 'partial', 'locked'];

export interface Dom0BuildOptions {
  /** Domain id (default 0). The domain must not exist yet. */
  readonly domain?: number;
  /**
   * Also do what mark_pv_pt_pages_rdonly does after the marking: pin the
   * top-level table (L4, or the compat L3): one more general and type reference
   * and the pinned flag. Default false: the marking of xen-mm.md section 4 only.
   */
  readonly pinRoot?: boolean;
  /**
   * Stop before marking when a check fails, as a debug build's ASSERT would
   * (throws a TypeViolationError naming every violation). Default false: report
   * the violations and mark anyway, as a release build does.
   */
  readonly strict?: boolean;
  /** Break page-table pages before the checks (tests, demonstrations). */
  readonly inject?: readonly Dom0Injection[];
  /** Called after the tables are typed and before the checks: a last chance to change metadata. */
  readonly beforeCheck?: (tables: readonly TablePage[]) => void;
}

/** One page of the page-table area. */
export interface TablePage {
  /** Position in the area (0 = its first page). */
  readonly index: number;
  readonly frame: number;
  /** Where the page appears in the guest's address space. */
  readonly va: bigint;
  /** The level the builder used it for; undefined for a page the tables did not need. */
  readonly level: TableLevel | undefined;
}

/**
 * Which assertion a page failed: `not-page-table-type` (its type is not L1..L4),
 * `flags-set` (validated, pinned, partial or locked is set), `type-count` (its type
 * count is not 0).
 */
export type Dom0Rule = 'not-page-table-type' | 'flags-set' | 'type-count';

export interface Dom0Violation {
  readonly rule: Dom0Rule;
  readonly index: number;
  readonly frame: number;
  readonly va: bigint;
  /** The page's whole type_info word when it was checked. */
  readonly typeInfo: number;
  /** The offending bits of type_info (the type field, the flags, or the count). */
  readonly bits: number;
  /** What those bits mean: a type name, flag names, or "type count N". */
  readonly found: string;
  readonly message: string;
}

export interface Dom0WalkCheck {
  /** Pages of [v_start, v_end) walked. */
  readonly pages: number;
  /** Pages that translate to the physical address the layout gives them. */
  readonly mapped: number;
  /** The first few pages that translate elsewhere or not at all. */
  readonly mismatches: readonly { va: bigint; expected: bigint; found: bigint | string }[];
  readonly mismatchCount: number;
  /** Page-table pages whose write access faults with a protection fault. */
  readonly readOnlyTables: number;
  /** Other pages of the range that a write reaches (should be all of them). */
  readonly writableData: number;
  /** Pages whose write access gave another answer than expected. */
  readonly writeMismatches: number;
  readonly ok: boolean;
}

export interface Dom0BuildReport {
  readonly layout: Dom0Layout;
  readonly domain: number;
  readonly compat: boolean;
  /** The format to walk the tables with (x86_64, or x86_pae for a compat guest). */
  readonly format: PagingFormat;
  /** The top-level table: L4 (64-bit) or the PAE L3 (compat); `address` is the CR3 value. */
  readonly root: { readonly frame: number; readonly level: TableLevel; readonly address: bigint };
  readonly allocation: {
    readonly first: number;
    readonly frames: number;
    readonly order: number;
    /** The initrd module's frames, given to the domain as they are. */
    readonly initrd: { readonly first: number; readonly frames: number } | null;
    readonly totPages: number;
  };
  readonly mapping: {
    readonly vStart: bigint;
    /** v_end; 2^64 when the range ends at the top of the address space. */
    readonly vEnd: bigint;
    readonly pages: number;
    /** Pages of the range that map the initrd module in place (mapped initrd only). */
    readonly initrd: { readonly firstPage: number; readonly pages: number } | null;
  };
  /** Every page of the area, in area order. */
  readonly tables: readonly TablePage[];
  readonly byLevel: Readonly<Record<TableLevel, readonly number[]>>;
  /** The thread's question: is the layout's n exactly what the builder needs? */
  readonly pageTableCount: { readonly layout: number; readonly needed: number; readonly exact: boolean; readonly surplus: number };
  readonly violations: readonly Dom0Violation[];
  readonly marked: {
    readonly pages: number;
    /** L1 entries that lost R/W. */
    readonly l1EntriesCleared: number;
    readonly countInfo: number;
    readonly rootPinned: boolean;
  };
  readonly walk: Dom0WalkCheck;
}

// ---- geometry ------------------------------------------------------------------------

interface Geometry {
  compat: boolean;
  vStart: bigint;
  size: bigint;
  pages: number;
  allocFirst: number;
  allocFrames: number;
  initrd: { first: number; frames: number } | null;
  /** Mapped initrd pages inside the range: [firstPage, firstPage + pages). */
  mappedInitrd: { firstPage: number; pages: number } | null;
  ptIndex: number;
  ptFirst: number;
  ptPages: number;
}

const pfnUp = (x: bigint): bigint => (x + PAGE - 1n) / PAGE;

function geometry(l: Dom0Layout): Geometry {
  const vStart = l.total.start;
  if (vStart % PAGE !== 0n) {
    throw new InvalidInputError(`virt-base: ${hex(vStart)} is not page aligned; the initial tables map whole pages from it`, { input: 'virt-base' });
  }
  const vEnd = l.total.end === 0n ? TWO64 : l.total.end;
  if (vEnd <= vStart) {
    throw new InvalidInputError(
      `virt-base: the initial mapping [${hex(vStart)}, ${hex(l.total.end)}) wraps past the top of the address space; no page tables can describe it`,
      { input: 'virt-base' },
    );
  }
  if (l.compat) {
    if (vEnd > HYPERVISOR_COMPAT_VIRT_START) {
      throw new InvalidInputError(
        `virt-base: the compat mapping ends at ${hex(vEnd)}, above the hypervisor's area at ${hex(HYPERVISOR_COMPAT_VIRT_START)} (Xen: "DOM0 image overlaps with Xen private area")`,
        { input: 'virt-base' },
      );
    }
  } else {
    if (vStart < HYPERVISOR_VIRT_END && vEnd > HYPERVISOR_VIRT_START) {
      throw new InvalidInputError(
        `virt-base: the mapping [${hex(vStart)}, ${hex(vEnd)}) overlaps the hypervisor's area [${hex(HYPERVISOR_VIRT_START)}, ${hex(HYPERVISOR_VIRT_END)}) (Xen: "DOM0 image overlaps with Xen private area")`,
        { input: 'virt-base' },
      );
    }
    const lowTop = 1n << 47n;
    if (!(vEnd <= lowTop || vStart >= HYPERVISOR_VIRT_START)) {
      throw new InvalidInputError(
        `virt-base: the mapping [${hex(vStart)}, ${hex(vEnd)}) is not inside one canonical half of the 48-bit address space`,
        { input: 'virt-base' },
      );
    }
  }
  const size = vEnd - vStart;
  const pages = Number(size / PAGE);
  const initrdLen = l.initrdModule?.length ?? 0n;
  const initrdFrames = Number(pfnUp(initrdLen));
  const initrd = l.initrdModule && initrdFrames > 0 ? { first: Number(l.initrdModule.phys.start / PAGE), frames: initrdFrames } : null;
  // Xen maps the initrd in place only when it has a virtual start (see dom0Layout's count).
  const mappedInitrd = initrd && l.initrd.start !== 0n ? { firstPage: Number((l.initrd.start - vStart) / PAGE), pages: initrdFrames } : null;
  const ptIndex = Number((l.pageTables.start - vStart) / PAGE);
  const g: Geometry = {
    compat: l.compat,
    vStart,
    size,
    pages,
    allocFirst: Number(l.alloc.start / PAGE),
    allocFrames: Number(l.allocPages),
    initrd,
    mappedInitrd,
    ptIndex,
    ptFirst: 0,
    ptPages: Number(l.pageTables.pages),
  };
  g.ptFirst = Number(physOf(g, ptIndex) / PAGE);
  return g;
}

/** Physical address of page `p` of the range: the allocation in order, the initrd's own pages in place. */
function physOf(g: Geometry, p: number): bigint {
  const m = g.mappedInitrd;
  if (m && p >= m.firstPage && p < m.firstPage + m.pages) return BigInt(g.initrd!.first + (p - m.firstPage)) * PAGE;
  const skip = m && p >= m.firstPage + m.pages ? m.pages : 0;
  return BigInt(g.allocFirst + p - skip) * PAGE;
}

/**
 * Engine options big enough to build `layout` (or the layout of `inputs`): a RAM
 * image reaching the end of the page-table area (only table pages need
 * contents) and metadata for every frame of the allocation and the initrd.
 */
export function dom0EngineOptions(layoutOrInputs: Dom0Layout | Dom0LayoutInputs, extra: Pick<EngineOptions, 'backend' | 'ioBytes'> = {}): EngineOptions {
  const l = 'pageTables' in layoutOrInputs ? layoutOrInputs : dom0Layout(layoutOrInputs);
  const g = geometry(l);
  const ram = Math.ceil(((g.ptFirst + g.ptPages) * 4096) / 65536) * 65536;
  const frames = Math.max(ram / 4096, g.allocFirst + g.allocFrames, g.initrd ? g.initrd.first + g.initrd.frames : 0);
  const opts: EngineOptions = { ramBytes: ram, frames, ...extra };
  try {
    if (computeLayout(ram, frames, extra.ioBytes).totalBytes > MAX_MEMORY) throw new Error('too big');
  } catch {
    throw new CapacityError(
      `alloc-base: a RAM image up to the page tables at ${hex(BigInt(g.ptFirst) * PAGE)} and ${frames} frames of metadata do not fit one engine (4 GiB); choose a lower --alloc-base/--initrd-addr`,
      { input: 'alloc-base', ramBytes: ram, frames },
    );
  }
  return opts;
}

// ---- the order of the table pages ------------------------------------------------------

interface TableKey {
  level: 1 | 2 | 3;
  /** va >> 21 (L1), >> 30 (L2), >> 39 (L3). */
  block: bigint;
}
const keyOf = (k: TableKey) => `${k.level}:${k.block}`;

/**
 * The tables below the root that mapping [vStart, vStart + size) with 4 KiB
 * leaves needs: in the order Xen's builder takes them from the area, and in the
 * order the map kernel asks its pool for them (depth first, top-down).
 */
function tableOrders(g: Geometry): { xen: TableKey[]; kernel: TableKey[]; fillers: number[] } {
  const xen: TableKey[] = [];
  const kernel: TableKey[] = [];
  const first = g.vStart >> 21n;
  const last = (g.vStart + g.size - 1n) >> 21n;
  for (let b = first; b <= last; b++) {
    const isFirst = b === first;
    const newL2 = isFirst || (b & 511n) === 0n;
    const newL3 = !g.compat && (isFirst || (b & ((1n << 18n) - 1n)) === 0n);
    const l1: TableKey = { level: 1, block: b };
    const l2: TableKey = { level: 2, block: b >> 9n };
    const l3: TableKey = { level: 3, block: b >> 18n };
    xen.push(l1);
    if (newL2) xen.push(l2);
    if (newL3) xen.push(l3);
    if (newL3) kernel.push(l3);
    if (newL2) kernel.push(l2);
    kernel.push(l1);
  }
  // A compat guest always gets four L2s: the PDPT slots the range leaves empty get one each.
  const fillers: number[] = [];
  if (g.compat) {
    const used = new Set(xen.filter((k) => k.level === 2).map((k) => Number(k.block)));
    for (let s = 0; s < 4; s++) if (!used.has(s)) fillers.push(s);
  }
  return { xen, kernel, fillers };
}

/** Hands out a fixed list of frames in order (the map kernel's table pool). */
class ListAllocator implements FrameAllocator {
  private next = 0;
  constructor(private readonly list: readonly number[]) {}
  allocate(frames = 1): number | undefined {
    if (frames !== 1 || this.next >= this.list.length) return undefined;
    return this.list[this.next++];
  }
  free(): void {
    // map gives frames back only when it fails; the build stops then anyway.
  }
}

const LEVEL_NAMES: Record<number, TableLevel> = { 1: 'L1', 2: 'L2', 3: 'L3', 4: 'L4' };
const FLAG_BITS: readonly [string, number][] = [
  ['validated', A.PGT_VALIDATED],
  ['pinned', A.PGT_PINNED],
  ['partial', A.PGT_PARTIAL],
  ['locked', A.PGT_LOCKED],
];
const ALL_FLAGS = A.PGT_VALIDATED | A.PGT_PINNED | A.PGT_PARTIAL | A.PGT_LOCKED;
const TYPE_MASK = 0xe0000000;

// ---- the checks ------------------------------------------------------------------------

/**
 * The two properties of the seed's assertions for one page of the area:
 * (a) its type is a page-table type, L1 up to the root (L4);
 * (b) nothing else is set in its type metadata: no flag, and a type count of 0.
 * The undo field (the engine's copy of type and validated at count 0) is
 * bookkeeping, not a flag, and is not judged.
 */
export function checkTablePage(typeInfo: number, page: { index: number; frame: number; va: bigint }): Dom0Violation[] {
  const ti = typeInfo >>> 0;
  const out: Dom0Violation[] = [];
  const where = `page-table page ${page.index} (frame ${hex(page.frame)}, va ${hex(page.va)})`;
  const type = ti >>> A.PGT_TYPE_SHIFT;
  const add = (rule: Dom0Rule, bits: number, found: string, why: string) =>
    out.push({ rule, index: page.index, frame: page.frame, va: page.va, typeInfo: ti, bits: bits >>> 0, found, message: `${where}: ${why} [${rule}]` });
  if (type < A.PGT_L1 || type > A.PGT_L4) {
    add('not-page-table-type', ti & TYPE_MASK, typeName(type), `type ${typeName(type)} (bits ${hex((ti & TYPE_MASK) >>> 0)}) is not a page-table type L1..L4`);
  }
  const flags = ti & ALL_FLAGS;
  if (flags) {
    const names = FLAG_BITS.filter(([, b]) => flags & b).map(([n]) => n);
    add('flags-set', flags, names.join(' '), `flag${names.length > 1 ? 's' : ''} ${names.join(', ')} set (bits ${hex(flags >>> 0)}); none may be set before marking`);
  }
  const count = ti & A.PGT_COUNT_MASK;
  if (count) add('type-count', count, `type count ${count}`, `type count ${count} (bits ${hex(count)}); it must still be 0 before marking`);
  return out;
}

// ---- the build -------------------------------------------------------------------------

function checkEngine(engine: Engine, g: Geometry, l: Dom0Layout): void {
  const frames = engine.layout.frames;
  const image = Math.min(frames, Math.floor(engine.layout.ramBytes / 4096));
  const need = (what: string, input: string, first: number, count: number) => {
    if (first + count > frames) {
      throw new CapacityError(
        `${input}: ${what} [${hex(first)}, ${hex(first + count)}) lies beyond the engine's frame table (${frames} frames); create the engine with dom0EngineOptions(...)`,
        { input, first, count, frames },
      );
    }
  };
  need(`the order-${l.order} allocation, frames`, 'alloc-base', g.allocFirst, g.allocFrames);
  if (g.initrd) {
    need('the initrd module, frames', 'initrd-addr', g.initrd.first, g.initrd.frames);
    const a0 = g.allocFirst, a1 = a0 + g.allocFrames, i0 = g.initrd.first, i1 = i0 + g.initrd.frames;
    if (i0 < a1 && a0 < i1) {
      throw new InvalidInputError(
        `initrd-addr: the initrd's frames [${hex(i0)}, ${hex(i1)}) overlap dom0's allocation [${hex(a0)}, ${hex(a1)})`,
        { input: 'initrd-addr' },
      );
    }
  }
  if (g.ptFirst + g.ptPages > image) {
    throw new CapacityError(
      `alloc-base: the page-table area's frames [${hex(g.ptFirst)}, ${hex(g.ptFirst + g.ptPages)}) are beyond the RAM image (${image} frames); table pages need contents — create the engine with dom0EngineOptions(...)`,
      { input: 'alloc-base', first: g.ptFirst, count: g.ptPages, image },
    );
  }
  if (g.compat && BigInt(g.ptFirst) * PAGE >= 1n << 32n) {
    throw new InvalidInputError(
      `alloc-base: the compat L3 at ${hex(BigInt(g.ptFirst) * PAGE)} lies above 4 GiB, out of reach of a PAE CR3 (memwalk walks compat tables as x86_pae)`,
      { input: 'alloc-base' },
    );
  }
}

/**
 * Build dom0 in `engine` from the layout of `inputs`: allocate it, write and type
 * its initial page tables, check and mark the page-table area, walk the result.
 */
export function buildDom0(engine: Engine, inputs: Dom0LayoutInputs, options: Dom0BuildOptions = {}): Dom0BuildReport {
  const layout = dom0Layout(inputs);
  const g = geometry(layout);
  const dom = options.domain ?? 0;
  checkDomainId(dom);
  if (engine.domains.has(dom)) throw new InvalidInputError(`domain: ${dom} already exists [domain-exists]`, { input: 'domain', value: dom });
  const n = g.ptPages;
  for (const inj of options.inject ?? []) {
    if (!Number.isInteger(inj.page) || inj.page < 0 || inj.page >= n) {
      throw new InvalidInputError(`inject: page ${inj.page} is not a page of the ${n}-page page-table area`, { input: 'inject', value: inj.page });
    }
    if (!INJECTION_KINDS.includes(inj.kind)) {
      throw new InvalidInputError(`inject: '${inj.kind}' is not one of ${INJECTION_KINDS.join(', ')}`, { input: 'inject', value: inj.kind });
    }
    if (inj.type !== undefined) typeCode(inj.type, 'inject type');
  }

  checkEngine(engine, g, layout);

  const order = tableOrders(g);
  const needed = 1 + order.xen.length + order.fillers.length;
  if (needed > n) {
    // Never happens for a layout that does not wrap (the trial loop stops at required = n).
    throw new CapacityError(`page-table area: the tables need ${needed} pages but the layout reserves ${n}`, { needed, layout: n });
  }

  // 1. The domain and its memory.
  engine.domains.create(dom, { pv64: !g.compat });
  allocate(engine, dom, { first: g.allocFirst, count: g.allocFrames });
  if (g.initrd) allocate(engine, dom, { first: g.initrd.first, count: g.initrd.frames });

  // 2. The tables: root at the first page of the area, the rest where Xen puts them.
  const format = g.compat ? x86_pae : x86_64;
  const rootFrame = g.ptFirst;
  const root = BigInt(rootFrame) * PAGE;
  engine.phys.fill(root, 4096, 0);
  const areaIndex = new Map<string, number>();
  order.xen.forEach((k, i) => areaIndex.set(keyOf(k), 1 + i));
  const pool = new ListAllocator(order.kernel.map((k) => g.ptFirst + areaIndex.get(keyOf(k))!));
  const leaf = { write: true, user: !g.compat, execute: true, raw: X86.A };
  const mapOpts = { format, largestLeaf: 4096 };
  const piece = (fromPage: number, toPage: number, pa: bigint) => {
    if (toPage > fromPage) engine.map(root, g.vStart + BigInt(fromPage) * PAGE, pa, BigInt(toPage - fromPage) * PAGE, leaf, pool, mapOpts);
  };
  const m = g.mappedInitrd;
  if (m) {
    piece(0, m.firstPage, physOf(g, 0));
    piece(m.firstPage, m.firstPage + m.pages, physOf(g, m.firstPage));
    piece(m.firstPage + m.pages, g.pages, physOf(g, m.firstPage + m.pages));
  } else {
    piece(0, g.pages, physOf(g, 0));
  }
  // The compat L2s the range did not need, one per empty PDPT slot.
  let next = 1 + order.xen.length;
  const fillerFrames: number[] = [];
  for (const slot of order.fillers) {
    const f = g.ptFirst + next++;
    engine.phys.fill(BigInt(f) * PAGE, 4096, 0);
    engine.phys.write64(root + BigInt(slot) * 8n, BigInt(f) * PAGE | X86.P);
    fillerFrames.push(f);
  }
  const levels = readTree(engine, g, root);
  // Xen's order, checked against what the tree says.
  const expected = new Map<number, number>([[rootFrame, g.compat ? 3 : 4]]);
  order.xen.forEach((k, i) => expected.set(g.ptFirst + 1 + i, k.level));
  fillerFrames.forEach((f) => expected.set(f, 2));
  for (const [f, lv] of expected) {
    if (levels.get(f) !== lv) throw new Error(`dom0 build: internal error: frame ${hex(f)} holds ${levels.get(f) ?? 'nothing'} instead of an L${lv}`);
  }
  if (levels.size !== expected.size) throw new Error(`dom0 build: internal error: the tree has ${levels.size} tables, expected ${expected.size}`);

  // 3. Types: each table page gets its level's type (count 0, nothing else), as
  //    Xen assigns it when it takes the page; then every other mapped page gets
  //    the writable type reference (and general reference) the builder takes.
  const cols = engine.frames.columns();
  for (const [f, lv] of levels) cols.typeInfo[f] = encodeTypeInfo({ type: LEVEL_NAMES[lv]! });
  for (let p = 0; p < g.pages; p++) {
    const f = Number(physOf(g, p) / PAGE);
    if (cols.typeInfo[f] !== 0) continue;
    getType(engine, f, 'writable');
    cols.countInfo[f] = (cols.countInfo[f]! + 1) >>> 0;
  }

  // 4. The area as the marking loop sees it: each page through the L1 entry that maps it.
  const area = engine.translateRange(root, layout.pageTables.start, n, { format });
  const tables: TablePage[] = [];
  for (let i = 0; i < n; i++) {
    const r = area.get(i);
    if (!r.ok) throw new Error(`dom0 build: internal error: page-table page ${i} (va ${hex(r.va)}) is not mapped (${r.fault.kind})`);
    const frame = Number(r.pa / PAGE);
    const lv = levels.get(frame);
    tables.push({ index: i, frame, va: r.va, level: lv === undefined ? undefined : LEVEL_NAMES[lv] });
  }
  for (const inj of options.inject ?? []) injectInto(cols, tables[inj.page]!.frame, inj);
  options.beforeCheck?.(tables);

  // 5. The seed's two properties, for every page of the area.
  const violations: Dom0Violation[] = [];
  for (const t of tables) violations.push(...checkTablePage(cols.typeInfo[t.frame]!, t));
  if (options.strict && violations.length) {
    throw new TypeViolationError(
      `dom0 build: ${violations.length} page-table page check(s) failed before marking: ${violations.map((v) => v.message).join('; ')}`,
      { violations },
    );
  }

  // 6. Mark: R/W off in the L1 entries, "allocated + 3", validated with one type reference.
  const cleared = engine.protect(root, layout.pageTables.start, BigInt(n) * PAGE, { write: false, user: !g.compat, execute: true }, { format });
  const rootType = g.compat ? A.PGT_L3 : A.PGT_L4;
  let rootPinned = false;
  for (const t of tables) {
    const f = t.frame;
    cols.countInfo[f] = (A.PGC_ALLOCATED | 3) >>> 0;
    cols.typeInfo[f] = (cols.typeInfo[f]! | A.PGT_VALIDATED | 1) >>> 0;
    if (options.pinRoot && cols.typeInfo[f]! >>> A.PGT_TYPE_SHIFT === rootType) {
      cols.countInfo[f] = (cols.countInfo[f]! + 1) >>> 0;
      cols.typeInfo[f] = ((cols.typeInfo[f]! + 1) | A.PGT_PINNED) >>> 0;
      rootPinned = true;
    }
  }

  const walk = walkBack(engine, g, root, format, layout.pageTables.start, n);
  const byLevel: Record<TableLevel, number[]> = { L1: [], L2: [], L3: [], L4: [] };
  for (const t of tables) if (t.level) byLevel[t.level].push(t.frame);
  return {
    layout,
    domain: dom,
    compat: g.compat,
    format,
    root: { frame: rootFrame, level: g.compat ? 'L3' : 'L4', address: root },
    allocation: { first: g.allocFirst, frames: g.allocFrames, order: layout.order, initrd: g.initrd, totPages: engine.domains.get(dom).totPages },
    mapping: { vStart: g.vStart, vEnd: g.vStart + g.size, pages: g.pages, initrd: g.mappedInitrd },
    tables,
    byLevel,
    pageTableCount: { layout: n, needed, exact: needed === n, surplus: n - needed },
    violations,
    marked: { pages: n, l1EntriesCleared: cleared, countInfo: (A.PGC_ALLOCATED | 3) >>> 0, rootPinned },
    walk,
  };
}

function injectInto(cols: { typeInfo: Uint32Array }, f: number, inj: Dom0Injection): void {
  const ti = cols.typeInfo[f]!;
  switch (inj.kind) {
    case 'type':
      cols.typeInfo[f] = encodeTypeInfo({ type: inj.type ?? 'writable' });
      return;
    case 'count':
      cols.typeInfo[f] = (ti + 1) >>> 0;
      return;
    default: {
      const bit = FLAG_BITS.find(([name]) => name === inj.kind)![1];
      let x = (ti | bit) >>> 0;
      // While the count is 0 the engine's undo field mirrors type and validated.
      if ((x & A.PGT_COUNT_MASK) === 0) x = ((x & ~A.PGT_UNDO_MASK) | (((x >>> 28) & 0xf) << A.PGT_UNDO_SHIFT)) >>> 0;
      cols.typeInfo[f] = x;
    }
  }
}

/**
 * The tables reachable from the root, frame -> level (4..1; the compat root is
 * 3). Gives non-leaf entries the accessed and dirty bits Xen's builder writes
 * (a PAE PDPTE has room for neither and keeps P only).
 */
function readTree(engine: Engine, g: Geometry, root: bigint): Map<number, number> {
  const levels = new Map<number, number>();
  const phys = engine.phys;
  const visit = (table: bigint, level: number, entries: number) => {
    levels.set(Number(table / PAGE), level);
    if (level === 1) return;
    for (let i = 0; i < entries; i++) {
      const ea = table + BigInt(i) * 8n;
      const e = phys.read64(ea);
      if (!(e & X86.P)) continue;
      // The map kernel writes P RW US; Xen's *_PROT add A and D.
      if (!(g.compat && level === 3)) phys.write64(ea, e | X86.A | X86.D);
      visit(e & X86.ADDR_4K, level - 1, 512);
    }
  };
  visit(root, g.compat ? 3 : 4, g.compat ? 4 : 512);
  return levels;
}

/** Walk every page of the range (read, then write) and compare with the layout. */
function walkBack(engine: Engine, g: Geometry, root: bigint, format: PagingFormat, vpt: bigint, n: number): Dom0WalkCheck {
  const reads = engine.translateRange(root, g.vStart, g.pages, { format, access: 'read' });
  const writes = engine.translateRange(root, g.vStart, g.pages, { format, access: 'write' });
  const ptFrom = Number((vpt - g.vStart) / PAGE);
  const mismatches: { va: bigint; expected: bigint; found: bigint | string }[] = [];
  let mapped = 0, mismatchCount = 0, readOnlyTables = 0, writableData = 0, writeMismatches = 0;
  for (let p = 0; p < g.pages; p++) {
    const expected = physOf(g, p);
    const r = reads.get(p);
    if (r.ok && r.pa === expected) mapped++;
    else {
      mismatchCount++;
      if (mismatches.length < 8) mismatches.push({ va: r.va, expected, found: r.ok ? r.pa : r.fault.kind });
    }
    const isTable = p >= ptFrom && p < ptFrom + n;
    const w = writes.get(p);
    if (isTable && !w.ok && w.fault.kind === 'protection') readOnlyTables++;
    else if (!isTable && w.ok) writableData++;
    else writeMismatches++;
  }
  return {
    pages: g.pages,
    mapped,
    mismatches,
    mismatchCount,
    readOnlyTables,
    writableData,
    writeMismatches,
    ok: mismatchCount === 0 && writeMismatches === 0,
  };
}

// ---- output --------------------------------------------------------------------------------

const levelCounts = (r: Dom0BuildReport) => (['L4', 'L3', 'L2', 'L1'] as const).map((lv) => `${lv} ${r.byLevel[lv].length}`).join(', ');

/**
 * The report as lines of text. Without `check`: the allocation, the mapping, the
 * tables and the walk. With `check`: also the page-table count, every page of
 * the area with the result of its checks, the violations and the marking.
 */
export function formatDom0Build(r: Dom0BuildReport, options: { check?: boolean } = {}): string[] {
  const lines: string[] = [];
  const a = r.allocation;
  const kind = r.compat ? '32-bit PAE (compat) PV' : '64-bit PV';
  lines.push(`Domain ${r.domain} (${kind}): ${a.totPages} pages: order-${a.order} block of frames [${hex(a.first)}, ${hex(a.first + a.frames)})` +
    (a.initrd ? ` + initrd frames [${hex(a.initrd.first)}, ${hex(a.initrd.first + a.initrd.frames)})` : ''));
  const mp = r.mapping;
  lines.push(`Mapped [${hex(mp.vStart)}, ${hex(mp.vEnd)}): ${mp.pages} pages with 4 KiB leaves` +
    (mp.initrd ? `, pages ${mp.initrd.firstPage}..${mp.initrd.firstPage + mp.initrd.pages - 1} on the initrd in place` : ''));
  lines.push(`Page tables: ${r.tables.length} pages at ${hex(r.layout.pageTables.start)} (frames [${hex(r.tables[0]!.frame)}, ${hex(r.tables[0]!.frame + r.tables.length)})): ${levelCounts(r)}; root ${r.root.level} at frame ${hex(r.root.frame)} (cr3 ${hex(r.root.address)}), walk as ${r.format.name}`);
  if (options.check) {
    const c = r.pageTableCount;
    lines.push(`Page-table count: the layout reserves ${c.layout}, the tables need ${c.needed}: ${c.exact ? 'exact' : `upper bound (${c.surplus} page${c.surplus === 1 ? '' : 's'} unused)`}`);
    lines.push('Checks before marking (type L1..L4; no flags; type count 0):');
    const byPage = new Map<number, Dom0Violation[]>();
    for (const v of r.violations) byPage.set(v.index, [...(byPage.get(v.index) ?? []), v]);
    for (const t of r.tables) {
      const vs = byPage.get(t.index);
      const verdict = vs ? 'FAILED ' + vs.map((v) => `${v.rule} (${v.found}, bits ${hex(v.bits)})`).join(', ') : 'ok';
      lines.push(`  page ${String(t.index).padStart(3)}  frame ${hex(t.frame)}  va ${hex(t.va)}  ${t.level ?? 'unused'}  ${verdict}`);
    }
    lines.push(`Violations: ${r.violations.length || 'none'}`);
    for (const v of r.violations) lines.push(`  ${v.message}`);
    const mk = r.marked;
    lines.push(`Marked read-only: ${mk.pages} pages (${mk.l1EntriesCleared} L1 entries lost R/W; count_info allocated + 3; type validated, type count 1` +
      (mk.rootPinned ? `; root ${r.root.level} pinned: allocated + 4, type count 2` : '') + ')');
  } else if (r.violations.length) {
    lines.push(`Violations: ${r.violations.length} page-table page check(s) failed before marking (see --check)`);
  }
  const w = r.walk;
  lines.push(`Walk: ${w.mapped} of ${w.pages} pages map where the layout puts them` +
    `; ${w.readOnlyTables} of ${r.tables.length} page-table pages refuse writes (protection), ${w.writableData} other pages are writable` +
    (w.ok ? '' : `; MISMATCHES: ${w.mismatchCount} translations, ${w.writeMismatches} write checks` +
      (w.mismatches.length ? ` (first: ${w.mismatches.map((x) => `${hex(x.va)} -> ${typeof x.found === 'string' ? x.found : hex(x.found)}, expected ${hex(x.expected)}`).join('; ')})` : '')));
  return lines;
}

/** The machine-readable report: addresses as "0x..." strings, frames and counts as numbers. */
export function dom0BuildJson(r: Dom0BuildReport): Record<string, unknown> {
  return {
    layout: layoutJson(r.layout),
    domain: r.domain,
    compat: r.compat,
    format: r.format.name,
    root: { frame: r.root.frame, level: r.root.level, cr3: hex(r.root.address) },
    allocation: r.allocation,
    mapping: { vStart: hex(r.mapping.vStart), vEnd: hex(r.mapping.vEnd), pages: r.mapping.pages, initrd: r.mapping.initrd },
    tables: r.tables.map((t) => ({ index: t.index, frame: t.frame, va: hex(t.va), level: t.level ?? null })),
    byLevel: r.byLevel,
    pageTableCount: r.pageTableCount,
    violations: r.violations.map((v) => ({ rule: v.rule, index: v.index, frame: v.frame, va: hex(v.va), typeInfo: hex(v.typeInfo), bits: hex(v.bits), found: v.found, message: v.message })),
    marked: { ...r.marked, countInfo: hex(r.marked.countInfo) },
    walk: {
      ...r.walk,
      mismatches: r.walk.mismatches.map((x) => ({ va: hex(x.va), expected: hex(x.expected), found: typeof x.found === 'string' ? x.found : hex(x.found) })),
    },
    ok: r.violations.length === 0 && r.walk.ok,
  };
}
