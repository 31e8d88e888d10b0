import type { WalkOptions } from './types.js';
import {
  WP, WP_LEVELS, WP_ENTRY_BYTES, WP_FLAGS, WP_VA_BITS, WP_ROOT_MASK, WP_MAX_LEAF, WP_GEN, WP_LEVEL_BASE, WP_LEVEL_STRIDE,
  LV_SHIFT, LV_INDEX_MASK, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_MASK, LV_LEAF_VALUE, LV_LEAF_ALLOWED, LV_ARCH_LEVEL,
  LV_LEAF_EXT_SHIFT, LV_TABLE_ADDR, LV_LEAF_ADDR, LV_LEAF_EXT_MASK, LV_RSVD_TABLE, LV_RSVD_LEAF,
  LV_T_W_ALLOW, LV_L_W_ALLOW, LV_TABLE_TEMPLATE, LV_LEAF_TEMPLATE,
  WF_SIGN_EXTEND, WF_CHECK_RSVD, WF_WP, WF_SMEP, WF_SMAP, WF_NXE,
} from '../abi.js';

/**
 * Bits of an entry that grant or take away a right. A right holds at a level
 * when every `*Allow` bit is set and no `*Deny` bit is; execute is lost when
 * any `pxn`/`uxn` bit is set. x86 grants (R/W, U/S), Arm takes away (AP[2], XN).
 */
export interface RightsBits {
  readonly writeAllow: bigint;
  readonly writeDeny: bigint;
  readonly userAllow: bigint;
  readonly userDeny: bigint;
  readonly pxn: bigint;
  readonly uxn: bigint;
}

export const NO_RIGHTS_BITS: RightsBits = { writeAllow: 0n, writeDeny: 0n, userAllow: 0n, userDeny: 0n, pxn: 0n, uxn: 0n };

/** One level of a table format, fully resolved for one set of walk options. */
export interface LevelSpec {
  /** Conventional name, for messages: PML4, PDPT, PD, PT, L0..L3. */
  readonly name: string;
  /** The architecture's number for this level (x86: 4..1, Arm: 0..3). */
  readonly archLevel: number;
  /** VA bit where this level's index starts; an entry covers 2^shift bytes. */
  readonly shift: number;
  /** Index width in bits (entries per table = 2^bits). */
  readonly bits: number;
  /** An entry is valid when (low 32 bits & validMask) == validValue. */
  readonly validMask: number;
  readonly validValue: number;
  /** Leaves allowed here; a valid entry is a leaf when (low bits & leafMask) == leafValue. */
  readonly leafAllowed: boolean;
  readonly leafMask: number;
  readonly leafValue: number;
  readonly tableAddr: bigint;
  readonly leafAddr: bigint;
  /** Extra leaf address bits stored elsewhere in the entry (x86 PSE-36): pa |= (e & mask) << shift. */
  readonly leafExtMask: bigint;
  readonly leafExtShift: number;
  /** Bits that must be clear in a valid table / leaf entry (checked unless ignoreReserved). */
  readonly rsvdTable: bigint;
  readonly rsvdLeaf: bigint;
  readonly tableRights: RightsBits;
  readonly leafRights: RightsBits;
  /** Bits of a table pointer written by map (besides the address). */
  readonly tableTemplate: bigint;
  /** Bits that make an entry a leaf at this level (PS, block/page type). */
  readonly leafTemplate: bigint;
}

/** A table format resolved for one set of options: what the kernels read. */
export interface WalkParams {
  readonly levels: readonly LevelSpec[];
  readonly entryBytes: 4 | 8;
  readonly vaBits: number;
  readonly signExtend: boolean;
  readonly rootMask: bigint;
  readonly checkReserved: boolean;
  readonly wp: boolean;
  readonly smep: boolean;
  readonly smap: boolean;
  readonly nxe: boolean;
}

/** What map asks for in a leaf, independent of the architecture's bit positions. */
export interface MapFlags {
  readonly write?: boolean;
  readonly user?: boolean;
  /** Executable (default true). */
  readonly execute?: boolean;
  readonly global?: boolean;
  /** Extra raw bits OR'ed into every leaf (cache attributes, software bits...). */
  readonly raw?: bigint;
}

/**
 * A paging format: the table-driven description every walker, mapper and lister
 * uses. Adding an architecture means describing its levels, not writing a walker.
 */
export interface PagingFormat {
  readonly name: string;
  readonly arch: 'x86' | 'arm';
  /** Size of the smallest page (the last level's span). */
  readonly pageSize: number;
  /** Resolve the description for a set of walk options. */
  params(options?: WalkOptions): WalkParams;
  /** Bits of a leaf for `flags` (without the address and the per-level leaf template). */
  leafBits(flags: MapFlags): bigint;
  /** Leaf bits that `protect` rewrites (the rights bits of this format). */
  readonly rightsMask: bigint;
}

/** Write resolved walk parameters into the control block, for both backends. */
export function writeWalkParams(view: DataView, p: WalkParams, maxLeafIndex = 0): void {
  const gen = view.getUint32(WP + WP_GEN, true);
  view.setUint32(WP + WP_LEVELS, p.levels.length, true);
  view.setUint32(WP + WP_ENTRY_BYTES, p.entryBytes, true);
  view.setUint32(
    WP + WP_FLAGS,
    (p.signExtend ? WF_SIGN_EXTEND : 0) | (p.checkReserved ? WF_CHECK_RSVD : 0) | (p.wp ? WF_WP : 0) |
      (p.smep ? WF_SMEP : 0) | (p.smap ? WF_SMAP : 0) | (p.nxe ? WF_NXE : 0),
    true,
  );
  view.setUint32(WP + WP_VA_BITS, p.vaBits, true);
  view.setBigUint64(WP + WP_ROOT_MASK, p.rootMask, true);
  view.setUint32(WP + WP_MAX_LEAF, maxLeafIndex, true);
  p.levels.forEach((l, i) => {
    const b = WP + WP_LEVEL_BASE + i * WP_LEVEL_STRIDE;
    const u32 = (off: number, v: number) => view.setUint32(b + off, v >>> 0, true);
    const u64 = (off: number, v: bigint) => view.setBigUint64(b + off, BigInt.asUintN(64, v), true);
    u32(LV_SHIFT, l.shift);
    u32(LV_INDEX_MASK, 2 ** l.bits - 1);
    u32(LV_VALID_MASK, l.validMask);
    u32(LV_VALID_VALUE, l.validValue);
    u32(LV_LEAF_MASK, l.leafMask);
    u32(LV_LEAF_VALUE, l.leafValue);
    u32(LV_LEAF_ALLOWED, l.leafAllowed ? 1 : 0);
    u32(LV_ARCH_LEVEL, l.archLevel);
    u32(LV_LEAF_EXT_SHIFT, l.leafExtShift);
    u64(LV_TABLE_ADDR, l.tableAddr);
    u64(LV_LEAF_ADDR, l.leafAddr);
    u64(LV_LEAF_EXT_MASK, l.leafExtMask);
    u64(LV_RSVD_TABLE, l.rsvdTable);
    u64(LV_RSVD_LEAF, l.rsvdLeaf);
    for (const [base, r] of [[LV_T_W_ALLOW, l.tableRights], [LV_L_W_ALLOW, l.leafRights]] as const) {
      u64(base, r.writeAllow);
      u64(base + 8, r.writeDeny);
      u64(base + 16, r.userAllow);
      u64(base + 24, r.userDeny);
      u64(base + 32, r.pxn);
      u64(base + 40, r.uxn);
    }
    u64(LV_TABLE_TEMPLATE, l.tableTemplate);
    u64(LV_LEAF_TEMPLATE, l.leafTemplate);
  });
  view.setUint32(WP + WP_GEN, (gen + 1) >>> 0, true);
}

/** Bits lo..hi inclusive as a mask. */
export function bitRange(lo: number, hi: number): bigint {
  if (hi < lo) return 0n;
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}

export const bit = (n: number): bigint => 1n << BigInt(n);
