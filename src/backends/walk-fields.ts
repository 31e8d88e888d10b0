// The walk-parameter block as one list of fields: where each lives, how wide it
// is, and its name. writeWalkParams (src/paging/format.ts) writes every field of
// these lists and the reference kernels (src/backends/reference/params.ts) read
// every one, each through a table keyed by the names, so a field added here is a
// type error on both sides until both handle it. The AssemblyScript kernels read
// the same offsets by their abi names.
import * as A from '../abi.js';

export interface WalkField<N extends string = string> {
  readonly name: N;
  /** Byte offset: from WP for a walk field, from the level's record for a level field. */
  readonly at: number;
  /** Bytes: a u32 or a u64. */
  readonly width: 4 | 8;
}

/** The six masks of an RM_* rights record, by name. */
const rights = <P extends string>(prefix: P, base: number) =>
  [
    { name: `${prefix}WriteAllow`, at: base + A.RM_W_ALLOW, width: 8 },
    { name: `${prefix}WriteDeny`, at: base + A.RM_W_DENY, width: 8 },
    { name: `${prefix}UserAllow`, at: base + A.RM_U_ALLOW, width: 8 },
    { name: `${prefix}UserDeny`, at: base + A.RM_U_DENY, width: 8 },
    { name: `${prefix}Pxn`, at: base + A.RM_PXN, width: 8 },
    { name: `${prefix}Uxn`, at: base + A.RM_UXN, width: 8 },
  ] as const;

/** The fields of the block itself (WP_GEN aside: it is bumped after a rewrite, not part of one). */
export const WALK_FIELDS = [
  { name: 'levels', at: A.WP_LEVELS, width: 4 },
  { name: 'entryBytes', at: A.WP_ENTRY_BYTES, width: 4 },
  { name: 'flags', at: A.WP_FLAGS, width: 4 },
  { name: 'vaBits', at: A.WP_VA_BITS, width: 4 },
  { name: 'rootMask', at: A.WP_ROOT_MASK, width: 8 },
  { name: 'maxLeaf', at: A.WP_MAX_LEAF, width: 4 },
  ...rights('tables', A.WP_T_RIGHTS),
] as const;

/** The fields of each level's record (WP_LEVEL_BASE + i * WP_LEVEL_STRIDE). */
export const LEVEL_FIELDS = [
  { name: 'shift', at: A.LV_SHIFT, width: 4 },
  { name: 'indexMask', at: A.LV_INDEX_MASK, width: 4 },
  { name: 'validMask', at: A.LV_VALID_MASK, width: 4 },
  { name: 'validValue', at: A.LV_VALID_VALUE, width: 4 },
  { name: 'leafMask', at: A.LV_LEAF_MASK, width: 4 },
  { name: 'leafValue', at: A.LV_LEAF_VALUE, width: 4 },
  { name: 'leafAllowed', at: A.LV_LEAF_ALLOWED, width: 4 },
  { name: 'archLevel', at: A.LV_ARCH_LEVEL, width: 4 },
  { name: 'leafExtShift', at: A.LV_LEAF_EXT_SHIFT, width: 4 },
  { name: 'tableAddr', at: A.LV_TABLE_ADDR, width: 8 },
  { name: 'leafAddr', at: A.LV_LEAF_ADDR, width: 8 },
  { name: 'leafExtMask', at: A.LV_LEAF_EXT_MASK, width: 8 },
  { name: 'rsvdTable', at: A.LV_RSVD_TABLE, width: 8 },
  { name: 'rsvdLeaf', at: A.LV_RSVD_LEAF, width: 8 },
  ...rights('table', A.LV_T_RIGHTS),
  ...rights('leaf', A.LV_L_RIGHTS),
  { name: 'tableTemplate', at: A.LV_TABLE_TEMPLATE, width: 8 },
  { name: 'leafTemplate', at: A.LV_LEAF_TEMPLATE, width: 8 },
  { name: 'leafRequire', at: A.LV_LEAF_REQUIRE, width: 8 },
  { name: 'contigBit', at: A.LV_CONTIG_BIT, width: 8 },
  { name: 'contigEntries', at: A.LV_CONTIG_ENTRIES, width: 4 },
  { name: 'fastMask', at: A.LV_FAST_MASK, width: 8 },
  { name: 'fastValue', at: A.LV_FAST_VALUE, width: 8 },
  { name: 'andKeep', at: A.LV_AND_KEEP, width: 8 },
  { name: 'orKeep', at: A.LV_OR_KEEP, width: 8 },
  { name: 'leafFastMask', at: A.LV_LFAST_MASK, width: 8 },
  { name: 'leafFastValue', at: A.LV_LFAST_VALUE, width: 8 },
  { name: 'leafAndKeep', at: A.LV_LAND_KEEP, width: 8 },
  { name: 'leafOrKeep', at: A.LV_LOR_KEEP, width: 8 },
  { name: 'leafStatus', at: A.LV_LEAF_STATUS, width: 4 },
] as const;

export type WalkFieldName = (typeof WALK_FIELDS)[number]['name'];
export type LevelFieldName = (typeof LEVEL_FIELDS)[number]['name'];

/** A value for every field of a list (u32 fields as numbers, u64 as bigints). */
export type FieldValues<N extends string> = { readonly [K in N]: number | bigint };

/** Write `values` into the record at byte `base` of `view`, field by field. */
export function writeFields<N extends string>(view: DataView, base: number, fields: readonly WalkField<N>[], values: FieldValues<N>): void {
  for (const f of fields) {
    const v = values[f.name];
    if (f.width === 8) view.setBigUint64(base + f.at, BigInt.asUintN(64, BigInt(v)), true);
    else view.setUint32(base + f.at, Number(v) >>> 0, true);
  }
}
