// The contiguous hint of Arm descriptors (bit 52) at the TS level: which formats
// have it, and the check that lists every group whose hint breaks the rules.
// The kernels are contigUpdate / contigCheckStart / contigCheckNext.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { prepareWalk, type PagingOptions } from './prepare.js';
import type { WalkParams } from './format.js';
import { engineContext } from '../core/context.js';
import * as V from './arguments.js';

/** Does any level of this format carry a contiguous hint? */
export function hasContiguousHint(p: WalkParams): boolean {
  return p.levels.some((l) => (l.contigEntries ?? 0) > 1 && (l.contigBit ?? 0n) !== 0n);
}

/** The rules of a contiguous group, as the check names them. */
export type ContiguousRule =
  /** An entry of the group is not a valid leaf of its level. */
  | 'not-a-leaf'
  /** Some entries carry the hint and others do not. */
  | 'hint-not-on-all'
  /** The outputs are not one run, entry after entry. */
  | 'output-not-consecutive'
  /** The run's output does not start on a multiple of the group's size. */
  | 'output-misaligned'
  /** The entries' attributes (every bit but the output address and the hint) differ. */
  | 'attributes-differ';

const RULES: ReadonlyArray<[number, ContiguousRule]> = [
  [A.CG_NOT_LEAF, 'not-a-leaf'],
  [A.CG_NOT_ALL, 'hint-not-on-all'],
  [A.CG_NOT_CONSECUTIVE, 'output-not-consecutive'],
  [A.CG_MISALIGNED, 'output-misaligned'],
  [A.CG_ATTRS_DIFFER, 'attributes-differ'],
];

export function contiguousRules(bits: number): ContiguousRule[] {
  return RULES.filter(([b]) => bits & b).map(([, r]) => r);
}

/** A group whose hint is set on some entry although a rule is broken. */
export interface ContiguousViolation {
  /** Physical address of the table that holds the group. */
  readonly table: bigint;
  /** Index of the group's first entry in that table. */
  readonly index: number;
  /** Entries in the group. */
  readonly entries: number;
  /** The architecture's number of the level. */
  readonly level: number;
  /** A virtual address the group maps (the first path that reached the table). */
  readonly va: bigint;
  /** Entries of the group that are valid leaves carrying the hint. */
  readonly hinted: number;
  readonly rules: ContiguousRule[];
}

export interface ContiguousCheckOptions extends PagingOptions {
  /** Stop after visiting this many entries (default 50,000,000): cycles in the tables can make the tree enormous. */
  readonly maxEntries?: number;
}

export interface ContiguousCheck {
  readonly violations: ContiguousViolation[];
  /** True when the check stopped at maxEntries before visiting every table. */
  readonly truncated: boolean;
}

/**
 * Every group reachable from `root` whose contiguous hint is set on some entry
 * while a rule is broken, each table reported once however many paths reach it.
 */
export function checkContiguous(ctx: EngineContext, root: bigint, options: ContiguousCheckOptions = {}): ContiguousCheck {
  engineContext(ctx, 'engine');
  const r = V.u64(root, 'root');
  const paging = V.pagingOptions(options);
  const given = V.options<ContiguousCheckOptions>(options).maxEntries;
  const maxEntries = given === undefined ? 50_000_000 : V.wholeNumber(given, 'options.maxEntries', 1);
  const p = prepareWalk(ctx, paging);
  if (!hasContiguousHint(p)) return { violations: [], truncated: false };
  const k = ctx.backend.paging;
  const out = ctx.layout.ioBase;
  const max = Math.min(4096, Math.floor(ctx.layout.ioBytes / A.CR_BYTES));
  const seen = new Set<string>();
  const violations: ContiguousViolation[] = [];
  k.contigCheckStart(r);
  let visited = 0;
  for (;;) {
    prepareWalk(ctx, paging);
    const steps = Math.min(1 << 20, maxEntries - visited);
    const n = k.contigCheckNext(out, max, steps);
    const big = ctx.big, u32 = ctx.u32;
    for (let i = 0; i < n; i++) {
      const b = (out + i * A.CR_BYTES) / 8;
      const w = b * 2;
      const table = big[b]!;
      const index = u32[w + 4]!;
      const li = u32[w + 5]!;
      const key = `${table}:${index}:${li}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const l = p.levels[li]!;
      violations.push({
        table,
        index,
        entries: l.contigEntries ?? 0,
        level: l.archLevel,
        va: big[b + 1]!,
        hinted: u32[w + 7]!,
        rules: contiguousRules(u32[w + 6]!),
      });
    }
    const depth = ctx.view.getInt32(A.CK + A.DFS_DEPTH, true);
    if (depth < 0) return { violations, truncated: false };
    visited += Number(ctx.view.getBigUint64(A.RES + A.RES_ENTRIES_VISITED, true));
    if (visited >= maxEntries) return { violations, truncated: true };
  }
}
