import type { WalkOptions } from './types.js';
import { InvalidInputError } from '../errors.js';
import { WALK_FIELDS, LEVEL_FIELDS, writeFields } from '../backends/walk-fields.js';
import {
  WP, WP_GEN, WP_LEVEL_BASE, WP_LEVEL_STRIDE,
  WF_SIGN_EXTEND, WF_CHECK_RSVD, WF_WP, WF_SMEP, WF_SMAP, WF_NXE, ST_LEVEL_SHIFT, ST_PAGE_SHIFT,
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
  /**
   * Bits that must all be set in a valid leaf, else the walk reports `access-flag`
   * (Arm's AF, when the hardware does not manage it). Default: none.
   */
  readonly leafRequire?: bigint;
  /** The contiguous-hint bit of a leaf here (Arm bit 52). Default: none. */
  readonly contigBit?: bigint;
  /** Entries in one contiguous group at this level (16 with a 4 KiB granule); 0 or absent: no hint. */
  readonly contigEntries?: number;
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

const ALL = (1n << 64n) - 1n;
const sameRights = (a: RightsBits, b: RightsBits) =>
  a.writeAllow === b.writeAllow && a.writeDeny === b.writeDeny && a.userAllow === b.userAllow &&
  a.userDeny === b.userDeny && a.pxn === b.pxn && a.uxn === b.uxn;
const neutral = (r: RightsBits) => sameRights(r, NO_RIGHTS_BITS);

/**
 * The walk's fast-path test for level `l`: (entry & mask) == value exactly when
 * the entry is a valid table pointer with no reserved bit set. Returns a value
 * outside the mask (never taken) when the format's tests cannot be fused.
 */
export function fastTableTest(l: LevelSpec, checkReserved: boolean): [bigint, bigint] {
  const never: [bigint, bigint] = [0n, 1n];
  const lm = BigInt(l.leafMask), lv = BigInt(l.leafValue);
  if (l.leafAllowed && (lm === 0n || (lm & (lm - 1n)) !== 0n || (lv !== 0n && lv !== lm))) return never;
  const leafBit = l.leafAllowed ? lm : 0n;
  const rsvd = checkReserved ? l.rsvdTable : 0n;
  const vm = BigInt(l.validMask);
  if ((vm & leafBit) !== 0n || (vm & rsvd) !== 0n || (leafBit & rsvd) !== 0n) return never;
  return [vm | leafBit | rsvd, BigInt(l.validValue) | (leafBit ^ (l.leafAllowed ? lv : 0n))];
}

/**
 * The fast-path test for a leaf at level `l`: (entry & mask) == value exactly when
 * the entry is a valid leaf with no reserved bit, every required bit set, whose
 * rights sit on the shared table bits (so they fold into the same accumulators)
 * and whose address needs no extra bits. Never taken otherwise.
 */
export function fastLeafTest(l: LevelSpec, checkReserved: boolean, table: RightsBits): [bigint, bigint] {
  const never: [bigint, bigint] = [0n, 1n];
  if (!l.leafAllowed || l.leafExtMask !== 0n || !sameRights(l.leafRights, table)) return never;
  const lm = BigInt(l.leafMask), vm = BigInt(l.validMask);
  const rsvd = checkReserved ? l.rsvdLeaf : 0n;
  const req = l.leafRequire ?? 0n;
  const parts = [vm, lm, rsvd, req];
  for (let a = 0; a < parts.length; a++) for (let b = a + 1; b < parts.length; b++) if ((parts[a]! & parts[b]!) !== 0n) return never;
  return [vm | lm | rsvd | req, BigInt(l.validValue) | BigInt(l.leafValue) | req];
}

/** The table rights every participating level shares (the walk resolves them once). */
export function commonTableRights(levels: readonly LevelSpec[]): RightsBits {
  const used = levels.slice(0, -1).map((l) => l.tableRights).filter((r) => !neutral(r));
  const first = used[0] ?? NO_RIGHTS_BITS;
  if (!used.every((r) => sameRights(r, first))) throw new Error('paging format: table levels must share their rights bits (or have none)');
  return first;
}

/** Write resolved walk parameters into the control block, for both backends. */
export function writeWalkParams(view: DataView, p: WalkParams, maxLeafIndex = 0): void {
  const gen = view.getUint32(WP + WP_GEN, true);
  const tr = commonTableRights(p.levels);
  writeFields(view, WP, WALK_FIELDS, {
    levels: p.levels.length,
    entryBytes: p.entryBytes,
    flags:
      (p.signExtend ? WF_SIGN_EXTEND : 0) | (p.checkReserved ? WF_CHECK_RSVD : 0) | (p.wp ? WF_WP : 0) |
      (p.smep ? WF_SMEP : 0) | (p.smap ? WF_SMAP : 0) | (p.nxe ? WF_NXE : 0),
    vaBits: p.vaBits,
    rootMask: p.rootMask,
    maxLeaf: maxLeafIndex,
    ...rightsValues('tables', tr),
  });
  p.levels.forEach((l, i) => {
    const [fm, fv] = fastTableTest(l, p.checkReserved);
    const [lfm, lfv] = fastLeafTest(l, p.checkReserved, tr);
    writeFields(view, WP + WP_LEVEL_BASE + i * WP_LEVEL_STRIDE, LEVEL_FIELDS, {
      shift: l.shift,
      indexMask: 2 ** l.bits - 1,
      validMask: l.validMask,
      validValue: l.validValue,
      leafMask: l.leafMask,
      leafValue: l.leafValue,
      leafAllowed: l.leafAllowed ? 1 : 0,
      archLevel: l.archLevel,
      leafExtShift: l.leafExtShift,
      tableAddr: l.tableAddr,
      leafAddr: l.leafAddr,
      leafExtMask: l.leafExtMask,
      rsvdTable: l.rsvdTable,
      rsvdLeaf: l.rsvdLeaf,
      ...rightsValues('table', l.tableRights),
      ...rightsValues('leaf', l.leafRights),
      tableTemplate: l.tableTemplate,
      leafTemplate: l.leafTemplate,
      leafRequire: l.leafRequire ?? 0n,
      contigBit: l.contigEntries ? l.contigBit ?? 0n : 0n,
      contigEntries: l.contigBit ? l.contigEntries ?? 0 : 0,
      fastMask: fm,
      fastValue: fv,
      andKeep: ALL & ~(l.tableRights.writeAllow | l.tableRights.userAllow),
      orKeep: l.tableRights.writeDeny | l.tableRights.userDeny | l.tableRights.pxn | l.tableRights.uxn,
      leafFastMask: lfm,
      leafFastValue: lfv,
      leafAndKeep: ALL & ~(l.leafRights.writeAllow | l.leafRights.userAllow),
      leafOrKeep: l.leafRights.writeDeny | l.leafRights.userDeny | l.leafRights.pxn | l.leafRights.uxn,
      leafStatus: (i << ST_LEVEL_SHIFT) | (l.shift << ST_PAGE_SHIFT),
    });
  });
  view.setUint32(WP + WP_GEN, (gen + 1) >>> 0, true);
}

/** The six masks of a rights record as field values named `prefix`WriteAllow ... `prefix`Uxn. */
function rightsValues<P extends string>(prefix: P, r: RightsBits) {
  return {
    [`${prefix}WriteAllow`]: r.writeAllow,
    [`${prefix}WriteDeny`]: r.writeDeny,
    [`${prefix}UserAllow`]: r.userAllow,
    [`${prefix}UserDeny`]: r.userDeny,
    [`${prefix}Pxn`]: r.pxn,
    [`${prefix}Uxn`]: r.uxn,
  } as Record<`${P}${'WriteAllow' | 'WriteDeny' | 'UserAllow' | 'UserDeny' | 'Pxn' | 'Uxn'}`, bigint>;
}

/**
 * The walk option maxPhyAddr, checked against what a format can express:
 * a whole number from 32 to `max` (default `fallback`).
 */
export function maxPhyAddrOption(options: WalkOptions, fallback: number, max: number, why = ''): number {
  const m = options.maxPhyAddr ?? fallback;
  if (!Number.isInteger(m) || m < 32 || m > max) {
    throw new InvalidInputError(`maxPhyAddr: ${m} must be a whole number from 32 to ${max}${why}`, { input: 'maxPhyAddr', value: m });
  }
  return m;
}

/** Bits lo..hi inclusive as a mask. */
export function bitRange(lo: number, hi: number): bigint {
  if (hi < lo) return 0n;
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}

export const bit = (n: number): bigint => 1n << BigInt(n);
