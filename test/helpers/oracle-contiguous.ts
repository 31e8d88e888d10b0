// The oracle's contiguous hint (Arm bit 52), from the README's rules: a group of
// N adjacent entries, N-aligned in one table, may carry the hint when all N are
// valid leaves of their level whose outputs are one run, entry after entry,
// starting on a multiple of N leaves, with identical attributes (every bit but
// the output address and the hint). What map, unmap and protect do to the hint,
// and the check that lists every group whose hint breaks a rule.
import type { WalkOptions } from '../../src/paging/types.js';
import type { ContiguousRule } from '../../src/paging/contiguous.js';
import type { OracleFormat, Resolved } from './oracle-formats.js';
import { indexOf, type OracleMemory } from './oracle-walk.js';

interface Group {
  /** Address and value of each entry (undefined: outside the image). */
  readonly entries: ReadonlyArray<{ readonly ea: bigint; readonly e: bigint | undefined }>;
  /** Entries that are valid leaves carrying the hint. */
  readonly hinted: number;
  /** The rules the group breaks, hint or no hint ('hint-not-on-all' aside). */
  readonly broken: ReadonlySet<ContiguousRule>;
}

/** The group of `f.contiguous.entries[level]` entries from index `first` of the table at level i. */
function group(mem: OracleMemory, f: OracleFormat, i: number, table: bigint, first: bigint, r: Resolved): Group {
  const l = f.levels[i]!;
  const n = BigInt(f.contiguous!.entries[l.level]!);
  const span = 1n << BigInt(l.shift);
  const hint = f.contiguous!.bit;
  const entries = [];
  for (let k = 0n; k < n; k++) {
    const ea = table + (first + k) * BigInt(f.entryBytes);
    entries.push({ ea, e: mem.read(ea, f.entryBytes) });
  }
  const isLeaf = (e: bigint | undefined): e is bigint => e !== undefined && f.kind(i, e) === 'leaf';
  const attrs = (e: bigint) => e & ~(f.addressField(i, r) | hint);
  const broken = new Set<ContiguousRule>();
  if (!entries.every((x) => isLeaf(x.e))) broken.add('not-a-leaf');
  // The run the first leaf implies: its output less its place in the group.
  const leaves = entries.flatMap((x, k) => (isLeaf(x.e) ? [{ k: BigInt(k), e: x.e }] : []));
  if (leaves.length) {
    const start = (x: { k: bigint; e: bigint }) => f.leafAddress(i, x.e, r) - x.k * span;
    const base = start(leaves[0]!);
    if (base % (n * span) !== 0n) broken.add('output-misaligned');
    if (leaves.some((x) => start(x) !== base)) broken.add('output-not-consecutive');
    if (leaves.some((x) => attrs(x.e) !== attrs(leaves[0]!.e))) broken.add('attributes-differ');
  }
  return { entries, hinted: leaves.filter((x) => (x.e & hint) !== 0n).length, broken };
}

/** Entries per group at level i (0: no hint there). */
const groupSize = (f: OracleFormat, i: number): bigint => BigInt(f.contiguous?.entries[f.levels[i]!.level] ?? 0);

/**
 * The hint over [va, va+size) after map (`set`), unmap or protect: in every table the
 * range reaches, a group that touches it and qualifies is hinted when `set` (or when
 * it is wholly hinted already); any other group loses the hint from every leaf.
 * Returns the groups touching the range that carry the hint afterwards.
 */
export function updateContiguous(mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, size: bigint, set: boolean, r: Resolved): number {
  const hint = f.contiguous!.bit;
  const eb = BigInt(f.entryBytes);
  let hinted = 0;
  const visit = (i: number, table: bigint, lo: bigint, hi: bigint) => {
    const l = f.levels[i]!;
    const first = indexOf(f, i, lo), last = indexOf(f, i, hi);
    const n = groupSize(f, i);
    if (n > 1n) {
      for (let g = first - (first % n); g <= last; g += n) {
        const x = group(mem, f, i, table, g, r);
        const leaf = (e: bigint | undefined): e is bigint => e !== undefined && f.kind(i, e) === 'leaf';
        if (x.broken.size === 0 && (set || x.hinted === Number(n))) {
          for (const y of x.entries) mem.write(y.ea, f.entryBytes, y.e! | hint);
          hinted++;
        } else if (x.hinted > 0) {
          for (const y of x.entries) if (leaf(y.e)) mem.write(y.ea, f.entryBytes, y.e & ~hint);
        }
      }
    }
    if (i + 1 >= f.levels.length) return;
    const span = 1n << BigInt(l.shift);
    for (let idx = first; idx <= last; idx++) {
      const e = mem.read(table + idx * eb, f.entryBytes);
      if (e === undefined) return;
      if (f.kind(i, e) !== 'table' || (r.checkReserved && f.reserved(i, 'table', e, r))) continue;
      // The part of [lo, hi] this entry covers.
      const start = (lo & ~(((1n << BigInt(l.indexBits)) << BigInt(l.shift)) - 1n)) | (idx << BigInt(l.shift));
      const end = start + span - 1n;
      visit(i + 1, f.tableAddress(i, e, r), start > lo ? start : lo, end < hi ? end : hi);
    }
  };
  visit(0, f.rootTable(BigInt.asUintN(64, root), r), va, va + size - 1n);
  return hinted;
}

export interface OracleViolation {
  readonly table: bigint;
  readonly index: number;
  readonly entries: number;
  readonly level: number;
  readonly va: bigint;
  readonly hinted: number;
  readonly rules: ContiguousRule[];
}

const RULE_ORDER: readonly ContiguousRule[] = ['not-a-leaf', 'hint-not-on-all', 'output-not-consecutive', 'output-misaligned', 'attributes-differ'];

/**
 * Every group reachable from the root whose hint is set on some leaf while a rule is
 * broken (its hint on only some of them counts), in the order a depth-first walk
 * meets them (a group at its first entry), each (table, index, level) once with the
 * VA of the first path that reached it.
 */
export function oracleContiguousCheck(mem: OracleMemory, f: OracleFormat, root: bigint, o: WalkOptions = {}): OracleViolation[] {
  if (!f.contiguous) return [];
  const r = f.resolve(o);
  const eb = BigInt(f.entryBytes);
  const found = new Map<string, OracleViolation>();
  const visit = (i: number, table: bigint, vaBase: bigint) => {
    const l = f.levels[i]!;
    const n = groupSize(f, i);
    for (let idx = 0n; idx < 1n << BigInt(l.indexBits); idx++) {
      const va = vaBase | (idx << BigInt(l.shift));
      if (n > 1n && idx % n === 0n) {
        const x = group(mem, f, i, table, idx, r);
        const rules = new Set(x.broken);
        if (x.hinted > 0 && x.hinted < Number(n)) rules.add('hint-not-on-all');
        const key = `${table}:${idx}:${l.level}`;
        if (x.hinted > 0 && rules.size > 0 && !found.has(key)) {
          found.set(key, { table, index: Number(idx), entries: Number(n), level: l.level, va: f.canonical(va), hinted: x.hinted, rules: RULE_ORDER.filter((k) => rules.has(k)) });
        }
      }
      const e = mem.read(table + idx * eb, f.entryBytes);
      if (e === undefined) return;
      if (f.kind(i, e) !== 'table' || (r.checkReserved && f.reserved(i, 'table', e, r)) || i + 1 >= f.levels.length) continue;
      visit(i + 1, f.tableAddress(i, e, r), va);
    }
  };
  visit(0, f.rootTable(BigInt.asUintN(64, root), r), 0n);
  return [...found.values()];
}
