// The paging API over any backend: validation, typed errors and decoding live
// here; the kernels only see numbers and buffers.
import * as A from '../abi.js';
import { physicalLimit, writing, type EngineContext } from '../core/context.js';
import { prepareWalk, type PagingOptions } from './prepare.js';
import type { WalkParams, MapFlags } from './format.js';
import type { AccessKind, FaultKind, Mapping, Rights, TranslateResult } from './types.js';
import { allocateAll, type FrameAllocator } from './allocator.js';
import { CapacityError, InvalidInputError, MappingConflictError, OutsideImageError } from '../errors.js';
import { hex, sizeName } from '../util/numbers.js';
import { hasContiguousHint } from './contiguous.js';
import * as V from './arguments.js';
import { undo } from './undo.js';
import { recordBatches } from './mapping-records.js';

export type { AccessKind, MapFlags, FrameAllocator };

const KINDS: Record<number, FaultKind> = {
  [A.K_NOT_PRESENT]: 'not-present',
  [A.K_PROTECTION]: 'protection',
  [A.K_RESERVED]: 'reserved-bit',
  [A.K_NON_CANONICAL]: 'non-canonical',
  [A.K_OUTSIDE_IMAGE]: 'outside-image',
  [A.K_ACCESS_FLAG]: 'access-flag',
};

export function accessFlags(access: AccessKind = 'read', user = false): number {
  if (access !== 'read' && access !== 'write' && access !== 'execute') {
    throw new InvalidInputError(`access: '${access}' is not one of read, write, execute`, { input: 'access', value: access });
  }
  return (access === 'write' ? A.ACC_WRITE : 0) | (access === 'execute' ? A.ACC_FETCH : 0) | (user ? A.ACC_USER : 0);
}

/** The 16 possible rights sets, shared and frozen: a listing of millions of leaves allocates none. */
const RIGHTS: readonly Rights[] = Array.from({ length: 16 }, (_, bits) =>
  Object.freeze({
    write: (bits & A.R_WRITE) !== 0,
    user: (bits & A.R_USER) !== 0,
    execute: (bits & A.R_EXEC) !== 0,
    userExecute: (bits & A.R_UEXEC) !== 0,
  }),
);

export function rightsOf(bits: number): Rights {
  return RIGHTS[bits & 0xf]!;
}

/** Decode a status word (plus the record's address/entry fields) into a result. */
export function decodeStatus(p: WalkParams, va: bigint, st: number, addr: bigint, entryValue: bigint): TranslateResult {
  const kind = st & A.ST_KIND_MASK;
  const li = (st >>> A.ST_LEVEL_SHIFT) & 0xf;
  const level = p.levels[li]?.archLevel ?? 0;
  if (kind === A.K_OK) {
    return {
      ok: true,
      va,
      pa: addr,
      pageSize: 2 ** ((st >>> A.ST_PAGE_SHIFT) & 0xff),
      level,
      rights: rightsOf((st >>> A.ST_RIGHTS_SHIFT) & 0xf),
      entryAddress: -1n,
      entryValue,
    };
  }
  return {
    ok: false,
    va,
    fault: { kind: KINDS[kind]!, level, entryAddress: addr, entryValue, errorCode: (st >>> A.ST_ERR_SHIFT) & 0xff },
  };
}

export function translate(ctx: EngineContext, root: bigint, va: bigint, options: PagingOptions & { access?: AccessKind } = {}): TranslateResult {
  const o = V.pagingOptions(options);
  const r0 = V.u64(root, 'root'), va0 = V.u64(va, 'va');
  const p = prepareWalk(ctx, o);
  const acc = accessFlags(o.access, o.user);
  const st = ctx.backend.paging.translate(r0, va0, acc) >>> 0;
  const v = ctx.view;
  const ea = v.getBigUint64(A.RES + A.RES_ENTRY_ADDR, true);
  const ev = v.getBigUint64(A.RES + A.RES_ENTRY_VALUE, true);
  const r = decodeStatus(p, va0, st, (st & A.ST_KIND_MASK) === A.K_OK ? v.getBigUint64(A.RES + A.RES_PA, true) : ea, ev);
  return r.ok ? { ...r, entryAddress: ea } : r;
}

/**
 * How a batch is walked: `naive` walks every address from the root; `cached`
 * reuses the upper tables of the previous address (fastest on consecutive or
 * sorted addresses); `interleaved` (default) walks groups of 16 addresses level
 * by level so their table reads overlap (fastest on random addresses).
 */
export type BatchStrategy = 'naive' | 'cached' | 'interleaved';

const STRATEGY: Record<BatchStrategy, number> = { naive: A.BATCH_NAIVE, cached: A.BATCH_CACHED, interleaved: A.BATCH_INTERLEAVED };

export interface BatchOptions extends PagingOptions {
  readonly access?: AccessKind;
  readonly strategy?: BatchStrategy;
}

/** Results of a batch, column-wise: no object per address. */
export class BatchResult {
  constructor(
    private readonly params: WalkParams,
    readonly vas: BigUint64Array,
    /** pa on success, else the address of the entry read last. */
    readonly addr: BigUint64Array,
    readonly status: Uint32Array,
  ) {}
  get length(): number {
    return this.status.length;
  }
  ok(i: number): boolean {
    return (this.status[i]! & A.ST_KIND_MASK) === A.K_OK;
  }
  /** Decode one result (entryValue is not kept by batches: 0). */
  get(i: number): TranslateResult {
    return decodeStatus(this.params, this.vas[i]!, this.status[i]!, this.addr[i]!, 0n);
  }
}

/** Addresses per chunk that fit the I/O buffer (8 bytes in, 16 out). */
function batchChunk(ctx: EngineContext): number {
  return Math.floor(ctx.layout.ioBytes / (8 + A.BR_BYTES));
}

export function translateBatch(ctx: EngineContext, root: bigint, vas: BigUint64Array | readonly bigint[], options: BatchOptions = {}): BatchResult {
  const o = V.pagingOptions(options);
  const r = V.u64(root, 'root');
  const input = V.addressList(vas, 'vas');
  const strategy = (options as BatchOptions).strategy;
  const mode = strategy === undefined ? A.BATCH_INTERLEAVED : V.oneOf(STRATEGY, strategy, 'options.strategy');
  const p = prepareWalk(ctx, o);
  const acc = accessFlags(o.access, o.user);
  const n = input.length;
  const addr = new BigUint64Array(n);
  const status = new Uint32Array(n);
  const chunk = batchChunk(ctx);
  const inPtr = ctx.layout.ioBase;
  const outPtr = inPtr + chunk * 8;
  const k = ctx.backend.paging;
  for (let off = 0; off < n; off += chunk) {
    const m = Math.min(chunk, n - off);
    ctx.big.set(input.subarray(off, off + m), inPtr / 8);
    k.translateBatch(r, inPtr, outPtr, m, acc, mode);
    copyRecords(ctx, outPtr, m, addr, status, off);
  }
  return new BatchResult(p, input, addr, status);
}

function copyRecords(ctx: EngineContext, outPtr: number, m: number, addr: BigUint64Array, status: Uint32Array, off: number): void {
  const big = ctx.big, u32 = ctx.u32;
  const b = outPtr / 8, w = outPtr / 4;
  for (let i = 0; i < m; i++) {
    addr[off + i] = big[b + i * 2]!;
    status[off + i] = u32[w + i * 4 + 2]!;
  }
}

export interface RangeOptions extends PagingOptions {
  readonly access?: AccessKind;
  /** Compute the per-page result from the run records of translateRuns (the same answers; entryValue is not kept either way). */
  readonly viaRuns?: boolean;
}

export interface RunsOptions extends RangeOptions {
  /** Table entries one call may read (default MAX_RUNS_ENTRIES); more is a CapacityError. */
  readonly maxEntries?: number;
}

/** Pages one translateRange answer may hold (20 bytes each: 320 MiB); longer ranges are translateRuns' to answer. */
export const MAX_RANGE_PAGES = 2 ** 24;
/** Runs one translateRuns answer may hold; tables that fragment a range further are refused with a CapacityError. */
export const MAX_RUNS = 2 ** 24;
/**
 * Table entries one translateRuns call reads by default. Distinct tables cost about
 * one entry per 4 KiB page they map with 4 KiB leaves (large leaves and empty
 * entries answer their whole span in one read), so 2^28 covers 1 TiB of 4 KiB
 * mappings, 2 GiB of leaf tables: more than a dump's tables map in practice. Only
 * tables that alias (many entries pointing at one table) read far more, up to
 * about 2^33 entries before MAX_RUNS stops them; this bound stops them 32 times
 * sooner. A caller with a larger real table set raises maxEntries.
 */
export const MAX_RUNS_ENTRIES = 2 ** 28;

const TWO_64 = 1n << 64n;

/** The first page of a range request and its page size (a range wraps past 2^64 to 0, as the address space does). */
function rangeOf(p: WalkParams, va: bigint): { start: bigint; pageSize: bigint } {
  const pageSize = BigInt(2 ** p.levels[p.levels.length - 1]!.shift);
  return { start: va & ~(pageSize - 1n), pageSize };
}

function rangeArgs(root: unknown, va: unknown, pages: unknown, options: unknown) {
  return {
    o: V.pagingOptions(options),
    r: V.u64(root, 'root'),
    va: V.u64(va, 'va'),
    pages: V.wholeNumber(pages, 'pages'),
    viaRuns: V.flag(V.options<RangeOptions>(options).viaRuns, 'options.viaRuns'),
  };
}

export function translateRange(ctx: EngineContext, root: bigint, va: bigint, pages: number, options: RangeOptions = {}): BatchResult {
  const a = rangeArgs(root, va, pages, options);
  if (a.pages > MAX_RANGE_PAGES) {
    throw new CapacityError(`translateRange: ${a.pages} pages is more than the ${MAX_RANGE_PAGES} one answer holds; use translateRuns, or ask in pieces`, {
      input: 'pages', pages: a.pages, max: MAX_RANGE_PAGES,
    });
  }
  if (a.viaRuns) return translateRuns(ctx, a.r, a.va, a.pages, a.o).expand();
  const p = prepareWalk(ctx, a.o);
  const acc = accessFlags(a.o.access, a.o.user);
  const { start, pageSize } = rangeOf(p, a.va);
  pages = a.pages;
  const addr = new BigUint64Array(pages);
  const status = new Uint32Array(pages);
  const chunk = Math.floor(ctx.layout.ioBytes / A.BR_BYTES);
  const outPtr = ctx.layout.ioBase;
  for (let off = 0; off < pages; off += chunk) {
    const m = Math.min(chunk, pages - off);
    ctx.backend.paging.translateRange(a.r, BigInt.asUintN(64, start + BigInt(off) * pageSize), m, outPtr, acc);
    copyRecords(ctx, outPtr, m, addr, status, off);
  }
  const vas = new BigUint64Array(pages);
  for (let i = 0; i < pages; i++) vas[i] = BigInt.asUintN(64, start + BigInt(i) * pageSize);
  return new BatchResult(p, vas, addr, status);
}

/**
 * translateRange as runs, column-wise: run i covers `pages[i]` consecutive pages
 * from `va[i]`, every one with status `status[i]`; `addr[i]` is the first page's pa
 * (OK; the next pages follow a page apart) or its entry address (fault; see
 * addrOf). Lossless against translateRange's pa and status; runs are maximal.
 */
export class RunsResult {
  constructor(
    private readonly params: WalkParams,
    readonly va: BigUint64Array,
    readonly addr: BigUint64Array,
    /** Pages of each run (a run may be longer than 2^32 pages: the non-canonical hole is one run). */
    readonly pages: Float64Array,
    readonly status: Uint32Array,
  ) {}
  get length(): number {
    return this.status.length;
  }
  /** Pages covered by all runs. */
  get totalPages(): number {
    let n = 0;
    for (let i = 0; i < this.pages.length; i++) n += this.pages[i]!;
    return n;
  }
  /** pa (OK) or entry address (fault) of page j of run i, as translateRange gives it. */
  addrOf(i: number, j: number): bigint {
    return runAddr(this.params, this.va[i]!, this.addr[i]!, this.status[i]!, BigInt(j));
  }
  /** Decode run i (its first page; entryValue is not kept: 0). */
  get(i: number): { va: bigint; pa: bigint; pages: number; result: TranslateResult } {
    const st = this.status[i]!;
    return { va: this.va[i]!, pa: this.addr[i]!, pages: this.pages[i]!, result: decodeStatus(this.params, this.va[i]!, st, this.addr[i]!, 0n) };
  }
  get runs(): Array<{ va: bigint; pa: bigint; pages: number; result: TranslateResult }> {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }
  /** The per-page form, exactly translateRange's pa/status. */
  expand(): BatchResult {
    const n = this.totalPages;
    if (n > MAX_RANGE_PAGES) {
      throw new CapacityError(`expand: ${n} pages is more than the ${MAX_RANGE_PAGES} one per-page answer holds`, { pages: n, max: MAX_RANGE_PAGES });
    }
    const vas = new BigUint64Array(n), addr = new BigUint64Array(n), status = new Uint32Array(n);
    const psize = BigInt(2 ** this.params.levels[this.params.levels.length - 1]!.shift);
    let k = 0;
    for (let i = 0; i < this.length; i++) {
      const v0 = this.va[i]!, a0 = this.addr[i]!, st = this.status[i]!, m = this.pages[i]!;
      const ok = (st & A.ST_KIND_MASK) === A.K_OK;
      for (let j = 0; j < m; j++, k++) {
        const bj = BigInt(j);
        vas[k] = BigInt.asUintN(64, v0 + bj * psize);
        addr[k] = ok ? a0 + bj * psize : runAddr(this.params, v0, a0, st, bj);
        status[k] = st;
      }
    }
    return new BatchResult(this.params, vas, addr, status);
  }
}

/** Address of page j of a run (see src/abi.ts, RR_*). */
function runAddr(p: WalkParams, va0: bigint, a0: bigint, st: number, j: bigint): bigint {
  const last = p.levels.length - 1;
  const psize = BigInt(2 ** p.levels[last]!.shift);
  const kind = st & A.ST_KIND_MASK;
  if (kind === A.K_OK) return BigInt.asUintN(64, a0 + j * psize);
  if (kind === A.K_NON_CANONICAL) return a0;
  const s = BigInt(p.levels[(st >>> A.ST_LEVEL_SHIFT) & 0xf]!.shift);
  const inSpan = va0 & ((1n << s) - 1n);
  return BigInt.asUintN(64, a0 + ((inSpan + j * psize) >> s) * BigInt(p.entryBytes));
}

/**
 * The addresses no walk reaches, [lo, hi): between the canonical halves of a
 * sign-extended format, above the address space of one that is not. Undefined
 * when every 64-bit address is valid.
 */
function holeOf(p: WalkParams): { lo: bigint; hi: bigint } | undefined {
  if (p.vaBits >= 64) return undefined;
  if (p.signExtend) return { lo: 1n << BigInt(p.vaBits - 1), hi: TWO_64 - (1n << BigInt(p.vaBits - 1)) };
  return { lo: 1n << BigInt(p.vaBits), hi: TWO_64 };
}

/** translateRange's walk, written as runs (see RunsResult). */
export function translateRuns(ctx: EngineContext, root: bigint, va: bigint, pages: number, options: RunsOptions = {}): RunsResult {
  const a = rangeArgs(root, va, pages, options);
  const given = V.options<RunsOptions>(options).maxEntries;
  const maxEntries = given === undefined ? MAX_RUNS_ENTRIES : V.wholeNumber(given, 'options.maxEntries');
  let left = maxEntries;
  const p = prepareWalk(ctx, a.o);
  const acc = accessFlags(a.o.access, a.o.user);
  const { start, pageSize } = rangeOf(p, a.va);
  pages = a.pages;
  // A range goes round the 64-bit space at most once: more pages would walk the same tables again.
  const inSpace = Number(TWO_64 / pageSize);
  if (pages > inSpace) {
    throw new InvalidInputError(`pages: ${pages} is more than the ${inSpace} pages of ${pageSize / 1024n} KiB in the 64-bit address space; a range covers it once at most`, {
      input: 'pages', pages, max: inSpace,
    });
  }
  const cap = Math.floor(ctx.layout.ioBytes / A.RR_BYTES);
  const outPtr = ctx.layout.ioBase;
  const r = a.r;
  const hole = holeOf(p);
  const vaC: bigint[] = [], addrC: bigint[] = [], pagesC: number[] = [], stC: number[] = [];
  const big = ctx.big, u32 = ctx.u32;
  const push = (rv: bigint, ra: bigint, rp: number, rs: number, first: boolean) => {
    const t = stC.length - 1;
    // Runs from two calls meet where a call ended: merge them when they continue.
    if (first && t >= 0 && stC[t] === rs && runAddr(p, vaC[t]!, addrC[t]!, rs, BigInt(pagesC[t]!)) === ra && runAddr(p, vaC[t]!, addrC[t]!, rs, BigInt(pagesC[t]! + rp - 1)) === runAddr(p, rv, ra, rs, BigInt(rp - 1))) {
      pagesC[t] = pagesC[t]! + rp;
      return;
    }
    if (stC.length === MAX_RUNS) {
      throw new CapacityError(`translateRuns: the answer needs more than ${MAX_RUNS} runs; ask for fewer pages`, { max: MAX_RUNS });
    }
    vaC.push(rv);
    addrC.push(ra);
    pagesC.push(rp);
    stC.push(rs);
  };
  let off = 0;
  while (off < pages) {
    const cur = BigInt.asUintN(64, start + BigInt(off) * pageSize);
    let m = Math.min(pages - off, 0x7fffffff);
    if (hole && cur >= hole.lo && cur < hole.hi) {
      // The hole is one fault from end to end: walk its first page, and the run covers the rest.
      const take = Math.min(pages - off, Number((hole.hi - cur) / pageSize));
      // A non-canonical page reads no entry.
      ctx.backend.paging.translateRuns(r, cur, 1, outPtr, 1, acc, 0);
      push(big[outPtr / 8]!, big[outPtr / 8 + 1]!, take, u32[outPtr / 4 + 5]!, true);
      off += take;
      continue;
    }
    if (hole && cur < hole.lo) m = Math.min(m, Number((hole.lo - cur) / pageSize));
    const budget = Math.min(left, 0xffffffff);
    const n = ctx.backend.paging.translateRuns(r, BigInt.asUintN(64, cur), m, outPtr, cap, acc, budget) >>> 0;
    const covered = Number(ctx.view.getBigUint64(A.RES + A.RES_PAGES_COVERED, true));
    // Stopped short with room for more runs: the entries ran out. A call given only
    // 2^32-1 of them goes on with the rest.
    const dry = covered < m && n < cap && budget === left;
    left -= Number(ctx.view.getBigUint64(A.RES + A.RES_ENTRIES_READ, true));
    if (dry) {
      const at = BigInt.asUintN(64, cur + BigInt(covered) * pageSize);
      throw new CapacityError(
        `translateRuns: more than ${maxEntries} table entries read by 0x${at.toString(16)}; the tables alias heavily; ask for a smaller range or raise maxEntries`,
        { input: 'options.maxEntries', max: maxEntries, va: at },
      );
    }
    for (let i = 0; i < n; i++) {
      const b = (outPtr + i * A.RR_BYTES) / 8, w = (outPtr + i * A.RR_BYTES) / 4;
      push(big[b]!, big[b + 1]!, u32[w + 4]!, u32[w + 5]!, i === 0);
    }
    if (covered === 0) throw new Error('memwalk: translateRuns made no progress'); // cannot happen with cap >= 1
    off += covered;
  }
  return new RunsResult(p, BigUint64Array.from(vaC), BigUint64Array.from(addrC), Float64Array.from(pagesC), Uint32Array.from(stC));
}

export interface MappingsOptions extends PagingOptions {
  /** Stop after this many mappings (default 1,000,000); `truncated` says it did. */
  readonly limit?: number;
}

export interface MappingsIterOptions extends PagingOptions {
  /** Stop after this many mappings (default: none); the enumerator itself stops there. */
  readonly limit?: number;
}

export interface MappingList {
  readonly mappings: Mapping[];
  /** True when the listing stopped at the limit with more mappings left. */
  readonly truncated: boolean;
}

/**
 * Every leaf mapping in ascending canonical VA order, streamed through a fixed
 * buffer: memory stays bounded whatever the tables hold. The enumerator's state
 * belongs to the iterator (see recordBatches), so iterators, batches and other
 * calls may interleave freely.
 */
export function mappingsIter(ctx: EngineContext, root: bigint, options: MappingsIterOptions = {}): Generator<Mapping> {
  // Checked here, not on the first next(): a bad argument fails the call that passed it.
  const o = V.pagingOptions(options);
  const r = V.u64(root, 'root');
  const lim = V.options<MappingsIterOptions>(options).limit;
  const left = lim === undefined ? Infinity : V.wholeNumber(lim, 'options.limit');
  prepareWalk(ctx, o);
  return enumerate(ctx, r, o, left);
}

function* enumerate(ctx: EngineContext, r: bigint, o: PagingOptions, left: number): Generator<Mapping> {
  const batch: Mapping[] = [];
  for (const { at, count, params: p } of recordBatches(ctx, r, o, left)) {
    // Decode a whole batch before yielding: the caller may run other kernels in between.
    batch.length = 0;
    const big = ctx.big, u32 = ctx.u32;
    for (let i = 0; i < count; i++) {
      const b = (at + i * A.MR_BYTES) / 8;
      const st = u32[b * 2 + 6]!;
      batch.push({
        va: big[b]!,
        pa: big[b + 1]!,
        entry: big[b + 2]!,
        size: 2 ** ((st >>> A.ST_PAGE_SHIFT) & 0xff),
        level: p.levels[(st >>> A.ST_LEVEL_SHIFT) & 0xf]!.archLevel,
        rights: rightsOf((st >>> A.ST_RIGHTS_SHIFT) & 0xf),
      });
    }
    yield* batch;
  }
}

export function mappings(ctx: EngineContext, root: bigint, options: MappingsOptions = {}): MappingList {
  const lim = V.options<MappingsOptions>(options).limit;
  const limit = lim === undefined ? 1_000_000 : V.wholeNumber(lim, 'options.limit');
  const list: Mapping[] = [];
  // One more than the limit tells whether the listing was cut.
  for (const m of mappingsIter(ctx, root, { ...V.pagingOptions(options), limit: limit + 1 })) {
    if (list.length === limit) return { mappings: list, truncated: true };
    list.push(m);
  }
  return { mappings: list, truncated: false };
}

// ---- map / unmap / protect -------------------------------------------------------------

export interface MapOptions extends PagingOptions {
  /** Largest leaf map may use, in bytes (default: the largest the format has). */
  readonly largestLeaf?: number;
  /**
   * Formats with a contiguous hint (Arm): set it on every qualifying group the
   * range touches (default true). False only clears hints the mapping broke.
   */
  readonly contiguousHint?: boolean;
}

export interface MapReport {
  /** Leaf entries written. */
  readonly leaves: number;
  /** Table pages taken from the allocator (frame numbers). */
  readonly tableFrames: number[];
  /** Contiguous groups touching the range that carry the hint afterwards (0 for formats without one). */
  readonly contiguousRuns: number;
}

function checkRange(p: WalkParams, what: string, va: bigint, size: bigint, pa?: bigint): void {
  const page = BigInt(2 ** p.levels[p.levels.length - 1]!.shift);
  const fail = (rule: string) => {
    throw new InvalidInputError(`${what}: ${rule}`, { va, size, pa });
  };
  if (size <= 0n) fail(`size ${hex(size)} must be positive`);
  if (BigInt.asUintN(64, va) % page || size % page) fail(`va ${hex(va)} and size ${hex(size)} must be multiples of the ${sizeName(page)} page`);
  if (pa !== undefined && (pa < 0n || pa % page)) fail(`pa ${hex(pa)} must be a multiple of the ${sizeName(page)} page`);
  const start = BigInt.asUintN(64, va);
  const end = start + size - 1n;
  if (end >= 1n << 64n) fail(`[${hex(start)}, +${hex(size)}) wraps past the top of the address space`);
  // Both ends must be valid addresses in the same half (a range cannot cross the hole).
  const bits = BigInt(p.vaBits);
  const half = (v: bigint) => (p.signExtend ? (v >> (bits - 1n) === 0n ? 0 : v >> (bits - 1n) === (1n << (65n - bits)) - 1n ? 1 : -1) : v >> bits === 0n ? 0 : -1);
  const hs = half(start), he = half(end);
  if (hs < 0 || he !== hs) fail(`[${hex(start)}, ${hex(end + 1n)}) is not inside one canonical half of the ${p.vaBits}-bit address space`);
}

function conflictError(ctx: EngineContext, p: WalkParams, op: string, code: number): MappingConflictError {
  const v = ctx.view;
  const va = v.getBigUint64(A.RES + A.RES_VA, true);
  const ea = v.getBigUint64(A.RES + A.RES_ENTRY_ADDR, true);
  const ev = v.getBigUint64(A.RES + A.RES_ENTRY_VALUE, true);
  const details = { va, entryAddress: ea, entryValue: ev, code };
  const at = `entry ${hex(ea)} = ${hex(ev)}`;
  switch (code) {
    case A.MAP_ALREADY_MAPPED:
      return new MappingConflictError(`${op}: ${hex(va)} is already mapped (${at})`, details);
    case A.MAP_INSIDE_LEAF:
      return new MappingConflictError(`${op}: ${hex(va)} lies inside an existing large leaf (${at}); it would have to be split`, details);
    case A.MAP_OUTSIDE_IMAGE:
      throw new OutsideImageError(`${op}: the page table entry at ${hex(ea)} for ${hex(va)} is outside the RAM image`, details);
    case A.MAP_SPLITS_LEAF:
      return new MappingConflictError(`${op}: the range covers only part of the large leaf that maps ${hex(va)} (${at})`, details);
    case A.MAP_PA_UNREPRESENTABLE:
      return new MappingConflictError(`${op}: a leaf for ${hex(va)} cannot hold its physical address (above what this format's leaves of that size reach)`, details);
    case A.MAP_POOL_EMPTY:
      // Only a table the run made itself can change what its second pass reads.
      return new MappingConflictError(`${op}: the run needed more new tables than its dry run counted at ${hex(va)}: a table frame it was given is one the walk goes through (is the allocator handing out live table frames?); nothing was changed`, details);
    case A.MAP_BAD_ENTRY:
      return new MappingConflictError(`${op}: the table entry for ${hex(va)} has reserved bits set (${at})`, details);
    default:
      return new MappingConflictError(`${op}: internal error ${code} at ${hex(va)}`, details);
  }
}

/** A real run whose undo notes outgrew the I/O buffer: undone, and refused. */
function journalFull(op: string, bytes: number): CapacityError {
  return new CapacityError(
    `${op}: what the run overwrites needs more than the ${bytes} bytes of I/O buffer left for its undo journal; nothing was changed; ${op} in smaller pieces or use a larger ioBytes`,
    { journalBytes: bytes },
  );
}

function maxLeafIndex(ctx: EngineContext, walk: PagingOptions, largestLeaf: unknown): number {
  if (largestLeaf === undefined) return 0;
  const largest = V.wholeNumber(largestLeaf, 'options.largestLeaf', 1);
  // The walk options alone: the same parameters as the call's, so they are written once.
  const p = prepareWalk(ctx, walk);
  const i = p.levels.findIndex((l) => l.leafAllowed && 2 ** l.shift <= largest);
  if (i < 0 || 2 ** p.levels[i]!.shift !== largest) {
    const sizes = p.levels.filter((l) => l.leafAllowed).map((l) => sizeName(2 ** l.shift));
    throw new InvalidInputError(`options.largestLeaf: ${largest} is not a leaf size of this format (${sizes.join(', ')})`, { input: 'options.largestLeaf' });
  }
  return i;
}

/** Leaf flags, checked: booleans, and raw bits as a bigint in [0, 2^64). */
function mapFlags(v: unknown, what = 'flags'): MapFlags {
  const f = V.options<MapFlags>(v, what);
  const out: { -readonly [K in keyof MapFlags]: MapFlags[K] } = {};
  for (const k of ['write', 'user', 'execute', 'global'] as const) if (f[k] !== undefined) out[k] = V.flag(f[k], `${what}.${k}`);
  if (f.raw !== undefined) out.raw = V.u64(f.raw, `${what}.raw`);
  return out;
}

/** Table pages per dry run of one piece when a large map is counted piece by piece. */
const PIECE_TABLES = 4096;

/**
 * The table pages map will take, from dry runs; conflicts are thrown as found.
 * A range whose tables could exceed what the allocator (when it says what it has
 * left) or the I/O buffer can supply is counted piece by piece, and refused at
 * the first piece that shows the shortfall, never after counting the whole range.
 */
function tablesNeeded(ctx: EngineContext, p: WalkParams, leafIndex: number, dryRun: (va: bigint, pa: bigint, size: bigint) => number,
  va: bigint, pa: bigint, size: bigint, allocator: FrameAllocator, framesPerTable: number): number {
  const ioCap = Math.floor(ctx.layout.ioBytes / 8);
  const remaining = (allocator as { remaining?: unknown }).remaining;
  const allocCap = typeof remaining === 'number' && remaining >= 0 ? Math.floor(remaining / framesPerTable) : Infinity;
  const cap = Math.min(ioCap, allocCap);
  // The largest leaf the range can use: a leaf size va and pa agree on, no larger than asked.
  const levels = p.levels;
  let leaf = levels.length - 1;
  for (let i = leafIndex; i < levels.length; i++) {
    const s = 1n << BigInt(levels[i]!.shift);
    if (levels[i]!.leafAllowed && (va - pa) % s === 0n) { leaf = i; break; }
  }
  // Tables of levels 1..leaf that can hold a piece of the range, and two per level at each edge where smaller leaves go.
  const spanAt = (i: number) => 1n << BigInt(levels[i]!.shift + levels[i]!.bits);
  let upper = 0;
  for (let i = 1; i < levels.length; i++) upper += i <= leaf ? Number(size / spanAt(i)) + 2 : 4;
  const exact = () => {
    const rc = dryRun(va, pa, size);
    if (rc !== A.MAP_OK) throw conflictError(ctx, p, 'map', rc);
    return Number(ctx.view.getBigUint64(A.RES + A.RES_TABLES_NEEDED, true));
  };
  const refuse = (atLeast: number): never => {
    throw new CapacityError(
      allocCap < ioCap
        ? `map: the range needs at least ${atLeast} table pages and the allocator has ${remaining} frames left; nothing was mapped`
        : `map: the range needs at least ${atLeast} table pages, more than the ${ioCap} one call can take (its I/O buffer); map in smaller pieces`,
      { needed: atLeast, available: cap },
    );
  };
  const piece = spanAt(leaf) * BigInt(PIECE_TABLES);
  if (upper <= cap || size <= piece) return exact();
  let sum = 0, pieces = 0;
  for (let at = va; at < va + size; ) {
    const end = (at / piece + 1n) * piece;
    const n = (end < va + size ? end : va + size) - at;
    const rc = dryRun(at, pa + (at - va), n);
    if (rc !== A.MAP_OK) throw conflictError(ctx, p, 'map', rc);
    sum += Number(ctx.view.getBigUint64(A.RES + A.RES_TABLES_NEEDED, true));
    pieces++;
    // Tables above a piece may be counted once per piece: what is certainly needed is less by that much.
    const atLeast = sum - (pieces - 1) * leaf;
    if (atLeast > cap) refuse(atLeast);
    at += n;
  }
  return exact();
}

/**
 * Map [va, va+size) onto [pa, pa+size) with the largest leaves the superpage rule
 * allows. Conflicts are found by a dry run before anything is written or allocated.
 */
export function map(
  ctx: EngineContext, root: bigint, va: bigint, pa: bigint, size: bigint, flags: MapFlags, allocator: FrameAllocator, options: MapOptions = {},
): MapReport {
  const o: MapOptions = { ...V.pagingOptions(options) };
  const mo = V.options<MapOptions>(options);
  const r = V.u64(root, 'root'), v = V.u64(va, 'va'), pa0 = V.u64(pa, 'pa'), sz = V.u64(size, 'size');
  const fl = mapFlags(flags);
  const alloc = V.frameAllocator(allocator);
  const hint = V.flag(mo.contiguousHint, 'options.contiguousHint');
  if (pa0 + sz > TWO_64) throw new InvalidInputError(`map: pa ${hex(pa0)} + size ${hex(sz)} runs past 2^64`, { input: 'pa' });
  const leafIndex = maxLeafIndex(ctx, o, mo.largestLeaf);
  const p = prepareWalk(ctx, o, leafIndex);
  checkRange(p, 'map', v, sz, pa0);
  const bits = o.format!.leafBits(fl);
  const k = ctx.backend.paging;
  const tableBytes = (i: number) => 2 ** p.levels[i]!.bits * p.entryBytes;
  const framesPerTable = Math.max(1, Math.ceil(tableBytes(p.levels.length - 1) / 4096));
  const dryRun = (at: bigint, to: bigint, n: bigint) => writing(ctx, () => k.mapRange(r, at, to, n, bits, 0, 0, 1, 0, 0));
  const tables = tablesNeeded(ctx, p, leafIndex, dryRun, v, pa0, sz, alloc, framesPerTable);
  if (tables * 8 > ctx.layout.ioBytes) {
    throw new CapacityError(`map: ${tables} table pages are more than the ${Math.floor(ctx.layout.ioBytes / 8)} one call can take (its I/O buffer); map in smaller pieces`, { needed: tables });
  }
  const frames = allocateAll(alloc, tables, framesPerTable, 'map');
  const giveBack = () => {
    // Last first: a bump allocator is then exactly as it was.
    for (let i = frames.length - 1; i >= 0; i--) alloc.free?.(frames[i]!, framesPerTable);
  };
  const poolPtr = ctx.layout.ioBase;
  const limit = physicalLimit(ctx), u32 = ctx.u32;
  for (let i = 0, w = poolPtr / 4; i < frames.length; i++, w += 2) {
    const f = frames[i]!;
    if (!Number.isSafeInteger(f) || f < 0 || (f + framesPerTable) * 4096 > limit) {
      giveBack();
      throw new OutsideImageError(`map: the allocator gave frame ${typeof f === 'number' ? hex(f) : V.describe(f)}, outside physical memory; nothing was mapped`, { frame: f });
    }
    // The frame's address as two u32 halves: no BigInt per table.
    u32[w] = (f % 2 ** 20) * 4096;
    u32[w + 1] = Math.floor(f / 2 ** 20);
  }
  // The rest of the I/O buffer holds the real run's undo journal.
  const journal = poolPtr + tables * 8;
  const journalBytes = ctx.layout.ioBase + ctx.layout.ioBytes - journal;
  writing(ctx, () => {
    const rc = k.mapRange(r, v, pa0, sz, bits, poolPtr, tables, 0, journal, journalBytes);
    if (rc === A.MAP_OK) return;
    undo(ctx, journal, Number(ctx.view.getBigUint64(A.RES + A.RES_JOURNAL_BYTES, true)), p.entryBytes);
    giveBack();
    throw rc === A.MAP_JOURNAL_FULL ? journalFull('map', journalBytes) : conflictError(ctx, p, 'map', rc);
  }, tables * framesPerTable);
  const leaves = Number(ctx.view.getBigUint64(A.RES + A.RES_LEAVES, true));
  const contiguousRuns = hasContiguousHint(p) ? writing(ctx, () => k.contigUpdate(r, v, sz, hint === false ? 0 : 1)) : 0;
  return { leaves, tableFrames: frames, contiguousRuns };
}

/** Clear every leaf in [va, va+size); returns the number of leaves cleared. */
export function unmap(ctx: EngineContext, root: bigint, va: bigint, size: bigint, options: PagingOptions = {}): number {
  const o = V.pagingOptions(options);
  const r = V.u64(root, 'root'), v = V.u64(va, 'va'), sz = V.u64(size, 'size');
  const p = prepareWalk(ctx, o);
  checkRange(p, 'unmap', v, sz);
  const k = ctx.backend.paging;
  return writing(ctx, () => {
    const dry = k.unmapRange(r, v, sz, 1);
    if (dry !== A.MAP_OK) throw conflictError(ctx, p, 'unmap', dry);
    // Cannot be refused after the dry run passed (see assembly/paging/map.ts): no journal.
    const rc = k.unmapRange(r, v, sz, 0);
    if (rc !== A.MAP_OK) throw conflictError(ctx, p, 'unmap', rc);
    const n = Number(ctx.view.getBigUint64(A.RES + A.RES_LEAVES, true));
    // Groups the unmap broke lose their contiguous hint.
    if (hasContiguousHint(p)) k.contigUpdate(r, v, sz, 0);
    return n;
  });
}

/** Give every leaf in [va, va+size) the rights of `flags`; returns leaves changed. */
export function protect(ctx: EngineContext, root: bigint, va: bigint, size: bigint, flags: MapFlags, options: PagingOptions = {}): number {
  const o = V.pagingOptions(options);
  const r = V.u64(root, 'root'), v = V.u64(va, 'va'), sz = V.u64(size, 'size');
  const fl = mapFlags(flags);
  const p = prepareWalk(ctx, o);
  checkRange(p, 'protect', v, sz);
  const format = o.format!;
  const mask = format.rightsMask;
  const set = format.leafBits(fl) & mask;
  const k = ctx.backend.paging;
  return writing(ctx, () => {
    const dry = k.protectRange(r, v, sz, set, mask, 1, 0, 0);
    if (dry !== A.MAP_OK) throw conflictError(ctx, p, 'protect', dry);
    const journal = ctx.layout.ioBase, journalBytes = ctx.layout.ioBytes;
    const rc = k.protectRange(r, v, sz, set, mask, 0, journal, journalBytes);
    if (rc !== A.MAP_OK) {
      undo(ctx, journal, Number(ctx.view.getBigUint64(A.RES + A.RES_JOURNAL_BYTES, true)), p.entryBytes, mask);
      throw rc === A.MAP_JOURNAL_FULL ? journalFull('protect', journalBytes) : conflictError(ctx, p, 'protect', rc);
    }
    const n = Number(ctx.view.getBigUint64(A.RES + A.RES_LEAVES, true));
    // Groups whose attributes no longer agree lose their contiguous hint.
    if (hasContiguousHint(p)) k.contigUpdate(r, v, sz, 0);
    return n;
  });
}
