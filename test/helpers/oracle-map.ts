// The oracle's mapper: map, unmap and protect over an OracleFormat, written from
// the contract (shared/spec/paging.md "Superpage mapping rule", the README's
// "map, unmap, protect" and "The contiguous hint"): a range is checked, the
// tables it needs are counted and taken from the allocator before anything is
// written, each operation happens whole or not at all, and on Arm every group
// of entries the range touches gets or loses the contiguous hint.
import type { MapFlags } from '../../src/paging/format.js';
import type { FrameAllocator } from '../../src/paging/allocator.js';
import type { WalkOptions } from '../../src/paging/types.js';
import type { OracleFormat } from './oracle-formats.js';
import { indexOf, type OracleMemory } from './oracle-walk.js';
import { updateContiguous } from './oracle-contiguous.js';

/** Why an operation was refused (each names one rule of the contract). */
export type RefusalKind =
  | 'invalid-input' // a malformed range or option
  | 'already-mapped' // a leaf would go where a valid entry is
  | 'inside-leaf' // the range needs a table where a large leaf is
  | 'splits-leaf' // the range covers part of a large leaf
  | 'pa-unrepresentable' // the leaf cannot hold its output address
  | 'bad-entry' // a table entry on the way has reserved bits
  | 'outside-image' // a table on the way lies outside the image
  | 'capacity' // the allocator ran short
  | 'tables-changed'; // the real run needed more new tables than its dry run counted (it made a table the walk goes through)

export interface Refusal {
  readonly refused: RefusalKind;
  /**
   * Found by the real pass after the dry run found nothing: only possible when the
   * range reaches a table through an entry the same operation wrote (a self-map or
   * a cycle). Nothing is written and map's tables go back to the allocator all the same.
   */
  readonly midway?: boolean;
  /** Where it was found (not for invalid-input / capacity). */
  readonly va?: bigint;
  readonly entryAddress?: bigint;
  readonly entryValue?: bigint;
}

export interface OracleMapOptions extends WalkOptions {
  readonly largestLeaf?: number;
  readonly contiguousHint?: boolean;
}

export interface MapOutcome {
  readonly leaves: number;
  readonly tableFrames: number[];
  readonly contiguousRuns: number;
}

/** Frames back to the allocator, last first: a bump allocator is then exactly as before. */
function giveBack(allocator: FrameAllocator, frames: number[], framesPerTable: number): void {
  for (let k = frames.length - 1; k >= 0; k--) allocator.free?.(frames[k]!, framesPerTable);
}

const refusal = (refused: RefusalKind, va?: bigint, entryAddress?: bigint, entryValue?: bigint): Refusal => ({ refused, va, entryAddress, entryValue });

/** The rule of every range: whole pages, no wrap, inside one canonical half. */
function rangeRefusal(f: OracleFormat, va: bigint, size: bigint, pa?: bigint): Refusal | undefined {
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  const start = BigInt.asUintN(64, va);
  if (size <= 0n || start % page !== 0n || size % page !== 0n) return refusal('invalid-input');
  if (pa !== undefined && (pa < 0n || pa % page !== 0n)) return refusal('invalid-input');
  const end = start + size - 1n;
  if (end >= 1n << 64n || !f.inRange(start) || !f.inRange(end)) return refusal('invalid-input');
  // Sign-extended formats have two halves; a range may not cross the hole between them.
  if (start >> 63n !== end >> 63n) return refusal('invalid-input');
  return undefined;
}

/** The chunks of [va, va+size) cut at level i's entry boundaries. */
function* chunks(f: OracleFormat, i: number, va: bigint, size: bigint): Generator<{ va: bigint; off: bigint; len: bigint; span: bigint }> {
  const span = 1n << BigInt(f.levels[i]!.shift);
  let off = 0n;
  while (off < size) {
    const at = va + off;
    const len = span - (at % span) < size - off ? span - (at % span) : size - off;
    yield { va: at, off, len, span };
    off += len;
  }
}

/**
 * Map [va, va+size) onto [pa, pa+size) with `flags`: at each level a leaf where the
 * level allows one no larger than `largestLeaf` and the chunk is the entry's whole
 * span with an aligned output address, else a table (the one there, or a new one).
 */
export function oracleMap(
  mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, pa: bigint, size: bigint, flags: MapFlags, allocator: FrameAllocator, o: OracleMapOptions = {},
): MapOutcome | Refusal {
  const r = f.resolve(o);
  const leafSizes = f.levels.filter((l) => l.leaf).map((l) => 2 ** l.shift);
  if (o.largestLeaf !== undefined && !leafSizes.includes(o.largestLeaf)) return refusal('invalid-input');
  const largest = BigInt(o.largestLeaf ?? Math.max(...leafSizes));
  const bad = rangeRefusal(f, va, size, pa);
  if (bad) return bad;
  va = BigInt.asUintN(64, va);
  const bitsOfLeaf = f.leafBits(flags);
  const eb = BigInt(f.entryBytes);

  // One pass over the tree, for the dry run (`newTable` undefined: count the tables
  // needed; a table yet to be made is empty) and for the real one.
  let leaves = 0, tablesNeeded = 0;
  const place = (i: number, table: bigint | undefined, cva: bigint, cpa: bigint, len: bigint, newTable?: () => bigint | undefined): Refusal | undefined => {
    const l = f.levels[i]!;
    for (const c of chunks(f, i, cva, len)) {
      const at = cpa + c.off;
      const asLeaf = l.leaf && c.span <= largest && c.len === c.span && at % c.span === 0n;
      let e = 0n, ea: bigint | undefined;
      if (table !== undefined) {
        ea = table + indexOf(f, i, c.va) * eb;
        const read = mem.read(ea, f.entryBytes);
        if (read === undefined) return refusal('outside-image', c.va, ea, 0n);
        e = read;
      }
      const kind = f.kind(i, e);
      if (asLeaf) {
        if (kind !== 'invalid') return refusal('already-mapped', c.va, ea, e);
        const leaf = f.newLeaf(i, at, bitsOfLeaf, r);
        if (leaf === undefined) return refusal('pa-unrepresentable', c.va);
        if (newTable) mem.write(ea!, f.entryBytes, leaf);
        leaves++;
        continue;
      }
      if (kind === 'leaf') return refusal('inside-leaf', c.va, ea, e);
      let next: bigint | undefined;
      if (kind === 'table') {
        if (r.checkReserved && f.reserved(i, 'table', e, r)) return refusal('bad-entry', c.va, ea, e);
        next = f.tableAddress(i, e, r);
      } else {
        tablesNeeded++;
        if (newTable) {
          next = newTable();
          if (next === undefined) return refusal('tables-changed', c.va);
          mem.zero(next, f.tableBytes);
          mem.write(ea!, f.entryBytes, f.newTable(i, next));
        }
      }
      const why = place(i + 1, next, c.va, at, c.len, newTable);
      if (why) return why;
    }
    return undefined;
  };

  const rootTable = f.rootTable(BigInt.asUintN(64, root), r);
  const dry = place(0, rootTable, va, pa, size);
  if (dry) return dry;
  const framesPerTable = f.tableBytes / 4096;
  const frames: number[] = [];
  for (let k = 0; k < tablesNeeded; k++) {
    const got = allocator.allocate(framesPerTable);
    if (got === undefined) {
      giveBack(allocator, frames, framesPerTable);
      return refusal('capacity');
    }
    frames.push(got);
  }
  if (frames.some((g) => (g + framesPerTable) * 4096 > mem.size)) {
    giveBack(allocator, frames, framesPerTable);
    return refusal('outside-image');
  }
  let used = 0;
  leaves = 0;
  // Only tables that alias each other (an allocator handing out a live table frame,
  // for one) can make the real pass need more tables than the dry one counted.
  const take = () => (used === frames.length ? undefined : BigInt(frames[used++]!) * 4096n);
  const real = mem.attempt(() => place(0, rootTable, va, pa, size, take));
  if (real) {
    giveBack(allocator, frames, framesPerTable);
    return { ...real, midway: true };
  }
  const contiguousRuns = f.contiguous ? updateContiguous(mem, f, root, va, size, o.contiguousHint !== false, r) : 0;
  return { leaves, tableFrames: frames, contiguousRuns };
}

/** Clear (unmap) or give the rights of `flags` (protect) to every leaf in [va, va+size); the number of leaves. */
function edit(mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, size: bigint, flags: MapFlags | undefined, o: WalkOptions): number | Refusal {
  const bad = rangeRefusal(f, va, size);
  if (bad) return bad;
  const r = f.resolve(o);
  va = BigInt.asUintN(64, va);
  const eb = BigInt(f.entryBytes);
  const set = flags ? f.leafBits(flags) & f.rightsBits : 0n;
  let count = 0;
  // One pass, dry (read only) or real; as for map, only aliasing tables can make them differ.
  const visit = (i: number, table: bigint, cva: bigint, len: bigint, real: boolean): Refusal | undefined => {
    for (const c of chunks(f, i, cva, len)) {
      const ea = table + indexOf(f, i, c.va) * eb;
      const e = mem.read(ea, f.entryBytes);
      // Nothing can be mapped through a table outside the image.
      if (e === undefined) continue;
      const kind = f.kind(i, e);
      if (kind === 'invalid') continue;
      if (kind === 'leaf') {
        // Never split a large leaf silently.
        if (c.len !== c.span) return refusal('splits-leaf', c.va, ea, e);
        if (real) mem.write(ea, f.entryBytes, flags ? (e & ~f.rightsBits) | set : 0n);
        count++;
        continue;
      }
      if (r.checkReserved && f.reserved(i, 'table', e, r)) return refusal('bad-entry', c.va, ea, e);
      if (i + 1 < f.levels.length) {
        const why = visit(i + 1, f.tableAddress(i, e, r), c.va, c.len, real);
        if (why) return why;
      }
    }
    return undefined;
  };
  const rootTable = f.rootTable(BigInt.asUintN(64, root), r);
  const dry = visit(0, rootTable, va, size, false);
  if (dry) return dry;
  count = 0;
  const why = mem.attempt(() => visit(0, rootTable, va, size, true));
  if (why) return { ...why, midway: true };
  // Groups the edit broke lose their hint.
  if (f.contiguous) updateContiguous(mem, f, root, va, size, false, r);
  return count;
}

export function oracleUnmap(mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, size: bigint, o: WalkOptions = {}): number | Refusal {
  return edit(mem, f, root, va, size, undefined, o);
}

export function oracleProtect(mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, size: bigint, flags: MapFlags, o: WalkOptions = {}): number | Refusal {
  return edit(mem, f, root, va, size, flags, o);
}

export const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'refused' in x;
