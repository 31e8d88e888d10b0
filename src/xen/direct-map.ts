/**
 * The hypervisor's direct map of RAM (Arm's xenheap mappings, x86's directmap),
 * set up the way the reworked setup_xenheap_mappings does it (xen-mm.md §5):
 *
 * for each bank, in order: give its free parts to the boot allocator (reserved
 * regions never), then map the bank exactly (no-map regions left out, the
 * mapping built around them) with the largest leaves the superpage rule allows,
 * taking table pages from the boot allocator. VA = base + PA.
 *
 * A bank whose tables the allocator cannot supply makes the whole setup fail
 * with an error naming the bank and the pages missing, and nothing stays mapped.
 * `alignBanksTo: '1G'` reproduces the old code: every bank rounded out to 1 GiB
 * and mapped whole, and the report lists what that rounding aliases.
 */
import * as A from '../abi.js';
import type { Engine } from '../engine/engine.js';
import { prepareWalk } from '../paging/prepare.js';
import { accessFlags } from '../paging/operations.js';
import { u64 } from '../util/validate.js';
import type { MapFlags, PagingFormat, WalkParams } from '../paging/format.js';
import { BootAllocator } from './boot-allocator.js';
import { CapacityError, InvalidInputError } from '../errors.js';
import { hex, sizeName } from '../util/numbers.js';

const PAGE = 4096n;
const GiB = 1n << 30n;

/** A physical range: [start, start + size). */
export interface MemRange {
  readonly start: bigint;
  readonly size: bigint;
}

/** A reserved region (firmware, modules, device windows): never given to the allocator. */
export interface ReservedRange extends MemRange {
  /** Not mapped either (device-tree `no-map`): the direct map is built around it. */
  readonly noMap?: boolean;
  /** For messages and reports. */
  readonly name?: string;
}

export interface DirectMapOptions {
  readonly engine: Engine;
  /** aarch64_4k or x86_64 (any format with 4 KiB pages and 8-byte entries works). */
  readonly format: PagingFormat;
  readonly banks: readonly MemRange[];
  readonly reserved?: readonly ReservedRange[];
  /** Virtual address of physical address 0 (default 0: virtual = physical). */
  readonly base?: bigint;
  /** '1G': the pre-rework rounding of every bank out to 1 GiB. */
  readonly alignBanksTo?: '1G';
  /** An existing root table; default: one page from the boot allocator, after bank 0's pages are added. */
  readonly root?: bigint;
  /** Leaf rights (default: writable, not executable, global). */
  readonly flags?: MapFlags;
}

/** A physical range as [start, end). */
export interface Span {
  readonly start: bigint;
  readonly end: bigint;
}

export type AliasKind = 'non-ram' | 'reserved' | 'no-map';

export interface AliasedRange extends Span {
  /** non-ram: outside every bank; reserved: a reserved region outside the banks; no-map: a no-map region. */
  readonly kind: AliasKind;
}

export interface DirectMapReport {
  readonly format: string;
  readonly base: bigint;
  readonly root: bigint;
  /** Leaves written, by size name ('1G', '2M', '4K' for the 4 KiB formats). */
  readonly leaves: Record<string, number>;
  /** Groups of leaves that carry the contiguous hint (0 for formats without one). */
  readonly contiguousRuns: number;
  /** Table pages taken from the boot allocator (the root included when it was taken there). */
  readonly tablePages: number;
  /** Table pages taken from each bank (index = bank's position in `banks`). */
  readonly tablePagesByBank: number[];
  /** Frame numbers of the table pages, in the order they were taken. */
  readonly tableFrames: number[];
  /** Physical ranges the direct map covers, ascending. */
  readonly mapped: Span[];
  /** Ranges mapped although they are not usable RAM (only with alignBanksTo). */
  readonly aliased: AliasedRange[];
  /** Free pages left in the boot allocator (inside the image or not). */
  readonly freePages: number;
}

// ---- range arithmetic ---------------------------------------------------------------

const toSpan = (r: MemRange): Span => ({ start: r.start, end: r.start + r.size });

/** `a` minus every span of `cut` (cut need not be sorted). */
function subtract(a: Span[], cut: readonly Span[]): Span[] {
  let out = a;
  for (const c of cut) {
    const next: Span[] = [];
    for (const s of out) {
      if (c.end <= s.start || c.start >= s.end) {
        next.push(s);
        continue;
      }
      if (s.start < c.start) next.push({ start: s.start, end: c.start });
      if (c.end < s.end) next.push({ start: c.end, end: s.end });
    }
    out = next;
  }
  return out.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
}

/** Sorted union (touching spans merge). */
function union(spans: readonly Span[]): Span[] {
  const s = [...spans].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: Span[] = [];
  for (const x of s) {
    const last = out[out.length - 1];
    if (last && x.start <= last.end) out[out.length - 1] = { start: last.start, end: x.end > last.end ? x.end : last.end };
    else out.push({ ...x });
  }
  return out;
}

function intersect(a: readonly Span[], b: Span): Span[] {
  return a.flatMap((s) => {
    const start = s.start > b.start ? s.start : b.start;
    const end = s.end < b.end ? s.end : b.end;
    return start < end ? [{ start, end }] : [];
  });
}

/**
 * The pages the boot allocator receives: every bank minus every reserved region
 * (reserved regions rounded out to whole pages), ascending.
 */
export function freeRanges(banks: readonly MemRange[], reserved: readonly MemRange[]): Span[] {
  const cut = reserved.map((r) => ({ start: r.start - (r.start % PAGE), end: ((r.start + r.size + PAGE - 1n) / PAGE) * PAGE }));
  return subtract(union(banks.map(toSpan)), cut);
}

const fmt = (s: Span) => `[${hex(s.start)}, ${hex(s.end)})`;

// ---- validation ---------------------------------------------------------------------

const tops = new WeakMap<WalkParams, bigint>();

/** One past the highest physical address a leaf of the format can map. */
function physicalTop(p: WalkParams): bigint {
  let top = tops.get(p);
  if (top === undefined) tops.set(p, (top = 1n << BigInt(Math.max(...p.levels.map((l) => l.leafAddr.toString(2).length)))));
  return top;
}

function checkInputs(o: DirectMapOptions, p: WalkParams): { banks: Span[]; reserved: Array<Span & { noMap: boolean }> } {
  if (o.banks.length === 0) throw new InvalidInputError('banks: at least one RAM bank is needed', { input: 'banks' });
  const topPa = physicalTop(p);
  const banks = o.banks.map((b, i) => {
    const s = toSpan(b);
    // The message is made only when it is needed: hex of bigints is not free.
    const refuse = (rule: string) => new InvalidInputError(`bank ${i} ${fmt(s)}: ${rule}`, { input: 'banks', bank: i });
    if (b.size <= 0n) throw refuse('the size must be positive');
    if (b.start < 0n || b.start % PAGE || b.size % PAGE) throw refuse('start and size must be multiples of 4 KiB');
    if (s.end > topPa) throw refuse(`ends above the ${sizeName(topPa)} physical address space of ${o.format.name}`);
    return s;
  });
  banks.forEach((a, i) =>
    banks.forEach((b, j) => {
      if (i < j && a.start < b.end && b.start < a.end) {
        throw new InvalidInputError(`banks: bank ${i} ${fmt(a)} overlaps bank ${j} ${fmt(b)}`, { input: 'banks', banks: [i, j] });
      }
    }),
  );
  const reserved = (o.reserved ?? []).map((r, i) => {
    if (r.size <= 0n || r.start < 0n) {
      throw new InvalidInputError(`reserved region ${i} [${hex(r.start)}, +${hex(r.size)}): the size must be positive`, { input: 'reserved', region: i });
    }
    // A page that is partly reserved is reserved whole.
    const start = r.start - (r.start % PAGE);
    const end = ((r.start + r.size + PAGE - 1n) / PAGE) * PAGE;
    return { start, end, noMap: r.noMap === true };
  });
  return { banks, reserved };
}

/** Is [va, va+size) inside one half of the format's VA space? */
function vaFits(p: WalkParams, va: bigint, size: bigint): boolean {
  const bits = BigInt(p.vaBits);
  const last = va + size - 1n;
  if (last >= 1n << 64n) return false;
  const half = (v: bigint) => (p.signExtend ? (v >> (bits - 1n) === 0n ? 0 : v >> (bits - 1n) === (1n << (65n - bits)) - 1n ? 1 : -1) : v >> bits === 0n ? 0 : -1);
  const h = half(va);
  return h >= 0 && half(last) === h;
}

// ---- table counting -----------------------------------------------------------------

/**
 * Table pages that mapping `pieces` (in order) would create, given the tables
 * that exist now: the superpage rule decides where the mapping descends, and a
 * walk of the existing tables tells whether the table there is already present.
 * (The kernel's own dry run counts one map call at a time; pieces of a bank
 * share tables, so the bank's count is taken here over all of them at once.)
 */
function tablesFor(engine: Engine, format: PagingFormat, p: WalkParams, root: bigint | undefined, pieces: ReadonlyArray<{ va: bigint; pa: bigint; size: bigint }>): number {
  /** Table key (level index and region) -> is it missing now? */
  const missing = new Map<string, boolean>();
  // The walk kernel itself, with map's own walk options (another set would rewrite
  // the walk block, which costs more than the walk): a status word, no result object.
  prepareWalk(engine, { format });
  const k = engine.backend.paging;
  const read = accessFlags('read', false);
  const present = (li: number, va: bigint): boolean => {
    if (root === undefined) return false;
    // A leaf in the way is map's conflict to report, Arm leaves without the Access
    // flag included; a walk that stopped at level index `at` read a table there, so
    // every table down to `at` exists.
    const st = k.translate(root, va, read) >>> 0;
    const kind = st & A.ST_KIND_MASK;
    if (kind === A.K_OK || kind === A.K_ACCESS_FLAG) return true;
    return ((st >>> A.ST_LEVEL_SHIFT) & 0xf) >= li;
  };
  const visit = (li: number, va: bigint, pa: bigint, size: bigint, absent: boolean): void => {
    const l = p.levels[li]!;
    const span = 1n << BigInt(l.shift);
    let off = 0n;
    while (off < size) {
      const cva = va + off, cpa = pa + off;
      const room = span - (cva % span);
      const chunk = room < size - off ? room : size - off;
      // A run of whole aligned spans is a run of leaves: no table below any of them.
      if (l.leafAllowed && chunk === span && cpa % span === 0n) {
        off += ((size - off) / span) * span;
        continue;
      }
      // The superpage rule: a leaf here only when va, pa and length all fit it.
      if (!(l.leafAllowed && chunk === span && cpa % span === 0n)) {
        const key = `${li + 1}:${cva >> BigInt(l.shift)}`;
        let gone = missing.get(key);
        if (gone === undefined) {
          gone = absent || !present(li + 1, cva);
          missing.set(key, gone);
        }
        // A missing last-level table has no tables below it: no need to visit its entries.
        if (!(gone && li + 2 >= p.levels.length)) visit(li + 1, cva, cpa, chunk, gone);
      }
      off += chunk;
    }
  };
  for (const piece of pieces) visit(0, piece.va, piece.pa, piece.size, root === undefined);
  let count = 0;
  for (const gone of missing.values()) if (gone) count++;
  return count;
}

// ---- rollback -------------------------------------------------------------------------

/** Clear every entry in [lo, hi] that points at one of `ours`, descending into the tables that are not ours. */
function detach(engine: Engine, p: WalkParams, table: bigint, li: number, lo: bigint, hi: bigint, ours: Set<bigint>): void {
  const l = p.levels[li]!;
  const sh = BigInt(l.shift);
  const mask = (1n << BigInt(l.bits)) - 1n;
  const first = (lo >> sh) & mask, last = (hi >> sh) & mask;
  const base = lo & ~((1n << sh) - 1n) & ~(mask << sh);
  for (let idx = first; idx <= last; idx++) {
    const ea = table + idx * BigInt(p.entryBytes);
    const e = engine.phys.read64(ea);
    if ((Number(e & 0xffffffffn) & l.validMask) !== l.validValue) continue;
    if (l.leafAllowed && (Number(e & 0xffffffffn) & l.leafMask) === l.leafValue) continue;
    const t = e & l.tableAddr;
    if (ours.has(t)) {
      engine.phys.write64(ea, 0n);
      continue;
    }
    if (li + 1 >= p.levels.length || t + BigInt(2 ** p.levels[li + 1]!.bits * p.entryBytes) > BigInt(engine.phys.size)) continue;
    const s = base | (idx << sh);
    const end = s + (1n << sh) - 1n;
    detach(engine, p, t, li + 1, s > lo ? s : lo, end < hi ? end : hi, ours);
  }
}

// ---- setup ----------------------------------------------------------------------------

/** Map every RAM bank into the direct map; see the file comment. */
export function setupDirectMap(o: DirectMapOptions): DirectMapReport {
  const { engine, format } = o;
  if (o.alignBanksTo !== undefined && o.alignBanksTo !== '1G') {
    throw new InvalidInputError(`alignBanksTo: '${String(o.alignBanksTo)}' is not supported (only '1G', the pre-rework rounding)`, { input: 'alignBanksTo' });
  }
  const p = engine.prepare({ format });
  if (p.entryBytes !== 8) throw new InvalidInputError(`format: ${format.name} has 4-byte entries; the direct map needs a 64-bit format`, { input: 'format' });
  const base = o.base ?? 0n;
  const { banks, reserved } = checkInputs(o, p);
  const aligned = o.alignBanksTo === '1G';
  const noMap = reserved.filter((r) => r.noMap);

  // What each bank maps: the bank minus no-map regions, or (aligned) the bank rounded out to 1 GiB.
  const rounded = banks.map((b) => ({ start: b.start - (b.start % GiB), end: ((b.end + GiB - 1n) / GiB) * GiB }));
  const plan: Span[][] = [];
  let covered: Span[] = [];
  banks.forEach((b, i) => {
    const want = aligned ? subtract([rounded[i]!], covered) : subtract([b], noMap);
    covered = union([...covered, ...want]);
    plan.push(want);
  });
  for (const s of covered) {
    if (!vaFits(p, base + s.start, s.end - s.start)) {
      throw new InvalidInputError(
        `base: ${hex(base)} + ${fmt(s)} = [${hex(base + s.start)}, ${hex(base + s.end)}) is not inside one half of the ${p.vaBits}-bit virtual address space of ${format.name}`,
        { input: 'base' },
      );
    }
  }

  const frameBytes = 4096;
  const framesPerTable = Math.max(1, Math.ceil((2 ** p.levels[p.levels.length - 1]!.bits * p.entryBytes) / frameBytes));
  const alloc = new BootAllocator(Math.floor(engine.phys.size / frameBytes));
  const flags: MapFlags = o.flags ?? { write: true, execute: false, global: true };
  let root = o.root === undefined ? undefined : u64(o.root, 'root');
  const rootTaken = root === undefined;
  const tableFrames: number[] = [];
  const done: Span[] = [];

  const rollback = () => {
    for (const s of done) engine.unmap(root!, base + s.start, s.end - s.start, { format });
    if (root === undefined) return;
    const ours = new Set(tableFrames.map((f) => BigInt(f) * 4096n));
    if (rootTaken) {
      engine.phys.fill(root, 2 ** p.levels[0]!.bits * p.entryBytes);
      return;
    }
    if (!done.length) return;
    const all = union(done);
    detach(engine, p, root & p.rootMask, 0, base + all[0]!.start, base + all[all.length - 1]!.end - 1n, ours);
  };

  try {
    banks.forEach((b, i) => {
      // 1. The bank's free pages go to the boot allocator first: never its reserved regions.
      for (const f of subtract([b], reserved)) alloc.addRange(Number(f.start / PAGE), Number(f.end / PAGE), i);
      // 2. Then the bank is mapped, its tables taken from the allocator.
      const pieces = plan[i]!.map((s) => ({ va: base + s.start, pa: s.start, size: s.end - s.start }));
      const needed = (rootTaken && root === undefined ? 1 : 0) + tablesFor(engine, format, p, root, pieces);
      const available = Math.floor(alloc.freeInImage / framesPerTable);
      if (needed > available) {
        throw new CapacityError(
          `direct map: bank ${i} ${fmt(b)} needs ${needed} table page${needed === 1 ? '' : 's'} but the boot allocator has ${available} ` +
            `inside the RAM image [0x0, ${hex(engine.phys.size)}): ${needed - available} page${needed - available === 1 ? '' : 's'} missing; nothing was mapped`,
          { bank: i, needed, available, missing: needed - available },
        );
      }
      const before = tableFrames.length;
      if (root === undefined) {
        const f = alloc.allocate(framesPerTable)!;
        tableFrames.push(f);
        root = BigInt(f) * 4096n;
        engine.phys.fill(root, 2 ** p.levels[0]!.bits * p.entryBytes);
      }
      for (const piece of pieces) {
        const r = engine.map(root, piece.va, piece.pa, piece.size, flags, alloc, { format });
        tableFrames.push(...r.tableFrames);
        done.push({ start: piece.pa, end: piece.pa + piece.size });
      }
      // The bank's count and the map calls' dry runs must agree, table for table.
      if (tableFrames.length - before !== needed) {
        throw new Error(`direct map: internal error: bank ${i} was counted at ${needed} tables but took ${tableFrames.length - before}`);
      }
    });
  } catch (err) {
    rollback();
    throw err;
  }

  // The report: leaves by size and hinted groups, from a listing of what was mapped.
  const mapped = union(done);
  const { byLevel, hinted } = countLeaves(engine, format, root!, mapped.map((s) => ({ start: base + s.start, end: base + s.end })));
  const leaves: Record<string, number> = {};
  let runs = 0;
  p.levels.forEach((l, i) => {
    if (l.leafAllowed) leaves[sizeName(2 ** l.shift)] = byLevel[i]!;
    if (l.contigBit && l.contigEntries) runs += Math.floor(hinted[i]! / l.contigEntries);
  });
  const byBank = banks.map(() => 0);
  for (const f of tableFrames) byBank[alloc.taken.get(f) ?? 0]! += 1 / framesPerTable;

  return {
    format: format.name,
    base,
    root: root!,
    leaves,
    contiguousRuns: runs,
    tablePages: tableFrames.length,
    tablePagesByBank: byBank,
    tableFrames,
    mapped,
    aliased: aligned ? aliasesOf(mapped, banks, reserved) : [],
    freePages: alloc.freeFrames,
  };
}

/**
 * Leaves (by level index) of the tables under `root` whose VA lies in `spans`
 * (ascending), and how many of them carry their level's contiguous hint. The
 * enumeration kernel's records are read where it writes them: a direct map has
 * thousands of leaves, and a mapping object each (the public listing) cost more
 * than the mapping itself.
 */
function countLeaves(engine: Engine, format: PagingFormat, root: bigint, spans: readonly Span[]): { byLevel: number[]; hinted: number[] } {
  const p = prepareWalk(engine, { format });
  const byLevel = p.levels.map(() => 0), hinted = p.levels.map(() => 0);
  // The hint bit as (word, bit) of the entry's two 32-bit halves.
  const hint = p.levels.map((l) => (l.contigBit ? { word: l.contigBit >= 1n << 32n ? 1 : 0, bits: Number((l.contigBit >> (l.contigBit >= 1n << 32n ? 32n : 0n)) & 0xffffffffn) } : undefined));
  const k = engine.backend.paging;
  const out = engine.layout.ioBase;
  const max = Math.min(4096, Math.floor(engine.layout.ioBytes / A.MR_BYTES));
  const u32 = engine.u32;
  // VAs as (high, low) 32-bit halves: no BigInt per leaf.
  const halves = (v: bigint) => [Number(v >> 32n), Number(v & 0xffffffffn)] as const;
  const bounds = spans.map((x) => ({ start: halves(x.start), end: x.end >= 1n << 64n ? [2 ** 32, 0] as const : halves(x.end) }));
  const below = (hi: number, lo: number, b: readonly [number, number]) => hi < b[0] || (hi === b[0] && lo < b[1]);
  let s = 0;
  k.enumStart(root);
  while (s < bounds.length) {
    const n = k.enumNext(out, max);
    if (n === 0) break;
    for (let i = 0; i < n && s < bounds.length; i++) {
      const w = (out + i * A.MR_BYTES) / 4;
      const hi = u32[w + 1]!, lo = u32[w]!;
      while (s < bounds.length && !below(hi, lo, bounds[s]!.end)) s++;
      if (s === bounds.length || below(hi, lo, bounds[s]!.start)) continue;
      const li = (u32[w + 6]! >>> A.ST_LEVEL_SHIFT) & 0xf;
      byLevel[li]!++;
      const h = hint[li];
      if (h && (u32[w + 4 + h.word]! & h.bits) !== 0) hinted[li]!++;
    }
  }
  return { byLevel, hinted };
}

/** Parts of `mapped` that are not usable RAM: outside the banks (naming reserved regions there), or no-map. */
function aliasesOf(mapped: Span[], banks: Span[], reserved: Array<Span & { noMap: boolean }>): AliasedRange[] {
  const out: AliasedRange[] = [];
  const ram = union(banks);
  for (const s of subtract(mapped, ram)) {
    const res = union(reserved.flatMap((r) => intersect([r], s)));
    for (const r of res) out.push({ ...r, kind: 'reserved' });
    for (const r of subtract([s], res)) out.push({ ...r, kind: 'non-ram' });
  }
  for (const r of union(reserved.filter((x) => x.noMap))) {
    for (const bank of ram) for (const x of intersect(intersect(mapped, r), bank)) out.push({ ...x, kind: 'no-map' });
  }
  return out.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
}
