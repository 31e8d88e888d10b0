// The seven paging formats, described again for the test oracle: written from
// shared/spec/paging.md (x86-64, AArch64 4 KiB), the Intel SDM (PAE, 32-bit
// paging with PSE-36), the Arm ARM (16 KiB and 64 KiB granules) and the choices
// the README states ("Choices the engine makes", "The contiguous hint"). Nothing
// here is read from src/paging/formats: each rule is a small function over one
// entry, so a rule reads as the manual states it, not as a mask the kernels fuse.
import type { WalkOptions } from '../../src/paging/types.js';
import type { MapFlags } from '../../src/paging/format.js';

/** Bits lo..hi inclusive (empty when hi < lo). */
export const bits = (lo: number, hi: number): bigint => (hi < lo ? 0n : ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo));
const bit = (n: number): bigint => 1n << BigInt(n);
const has = (e: bigint, b: bigint): boolean => (e & b) !== 0n;

/** The walk options as one format reads them. */
export interface Resolved {
  /** Physical address width (x86 MAXPHYADDR, Arm output address size). */
  readonly maxPhy: number;
  readonly nxe: boolean;
  readonly wp: boolean;
  readonly smep: boolean;
  readonly smap: boolean;
  readonly checkReserved: boolean;
  /** Arm: a leaf without AF faults (the hardware does not manage the flag). */
  readonly needAccessFlag: boolean;
}

export interface OracleLevel {
  readonly name: string;
  /** The architecture's number of the level (x86: 5..1, Arm: 0..3). */
  readonly level: number;
  /** Lowest VA bit of this level's index: an entry covers 2^shift bytes. */
  readonly shift: number;
  readonly indexBits: number;
  /** A leaf (page, large page, block) may sit at this level. */
  readonly leaf: boolean;
}

export type EntryKind = 'invalid' | 'table' | 'leaf';

/** What one entry takes away from the translation (rights only ever shrink down a walk). */
export interface Deny {
  readonly write: boolean;
  readonly user: boolean;
  /** Privileged (supervisor) fetch. */
  readonly exec: boolean;
  /** User fetch. */
  readonly userExec: boolean;
}

export interface OracleFormat {
  /** The engine's name of the format. */
  readonly name: string;
  readonly entryBytes: 4 | 8;
  /** Bytes of a table page map allocates (one granule). */
  readonly tableBytes: number;
  readonly levels: readonly OracleLevel[];
  /** Is `va` (64-bit, unsigned) an address this format translates? */
  inRange(va: bigint): boolean;
  /** The canonical form of a VA built from indices (sign-extended on x86-64). */
  canonical(va: bigint): bigint;
  resolve(o: WalkOptions): Resolved;
  rootTable(reg: bigint, r: Resolved): bigint;
  kind(i: number, e: bigint): EntryKind;
  tableAddress(i: number, e: bigint, r: Resolved): bigint;
  leafAddress(i: number, e: bigint, r: Resolved): bigint;
  /** The bits of a leaf at level i that hold its output address. */
  addressField(i: number, r: Resolved): bigint;
  reserved(i: number, kind: 'table' | 'leaf', e: bigint, r: Resolved): boolean;
  deny(i: number, kind: 'table' | 'leaf', e: bigint, r: Resolved): Deny;
  /** Arm: the leaf's access flag is clear and the walk requires it. */
  accessFlagFault(i: number, e: bigint, r: Resolved): boolean;
  /** Leaf bits map writes for `flags` (no address, no leaf type). */
  leafBits(flags: MapFlags): bigint;
  /** The leaf bits protect rewrites. */
  readonly rightsBits: bigint;
  /** A leaf at level i for output `pa` with `leafBits`, or undefined when it cannot hold `pa`. */
  newLeaf(i: number, pa: bigint, leafBits: bigint, r: Resolved): bigint | undefined;
  /** A table pointer at level i to a new table at `addr`. */
  newTable(i: number, addr: bigint): bigint;
  /** The contiguous hint: its bit and the group size per architecture level. */
  readonly contiguous?: { readonly bit: bigint; readonly entries: Readonly<Record<number, number>> };
}

const NO_DENY: Deny = { write: false, user: false, exec: false, userExec: false };

function maxPhy(o: WalkOptions, fallback: number, cap: number): number {
  return Math.min(o.maxPhyAddr ?? fallback, cap);
}

// ---- x86 ---------------------------------------------------------------------------
// Entry bits (SDM vol. 3, 4.x): P 0, R/W 1, U/S 2, PS 7 (PAT in a PT entry), G 8, XD 63.
const P = bit(0), RW = bit(1), US = bit(2), PS = bit(7), G = bit(8), XD = bit(63);

function x86Resolve(o: WalkOptions, phyFallback: number, phyCap: number, nxe: boolean): Resolved {
  return {
    maxPhy: maxPhy(o, phyFallback, phyCap),
    nxe,
    wp: o.wp ?? true,
    smep: o.smep ?? false,
    smap: o.smap ?? false,
    checkReserved: !o.ignoreReserved,
    needAccessFlag: false,
  };
}

/** R/W and U/S grant, XD (only with NXE) takes execution away, for user and supervisor alike. */
function x86Deny(e: bigint, nxe: boolean): Deny {
  const noExec = nxe && has(e, XD);
  return { write: !has(e, RW), user: !has(e, US), exec: noExec, userExec: noExec };
}

function x86LeafBits(f: MapFlags, withXd: boolean): bigint {
  return P | (f.write ? RW : 0n) | (f.user ? US : 0n) | (f.global ? G : 0n) | (withXd && f.execute === false ? XD : 0n) | (f.raw ?? 0n);
}

/** x86-64 with 4 (PML4 root, 48-bit VA) or 5 (PML5 root, 57-bit VA) levels. */
function x86_64Description(name: string, depth: 4 | 5): OracleFormat {
  const all: OracleLevel[] = [
    { name: 'PML5', level: 5, shift: 48, indexBits: 9, leaf: false },
    { name: 'PML4', level: 4, shift: 39, indexBits: 9, leaf: false },
    { name: 'PDPT', level: 3, shift: 30, indexBits: 9, leaf: true }, // 1 GiB pages
    { name: 'PD', level: 2, shift: 21, indexBits: 9, leaf: true }, // 2 MiB pages
    { name: 'PT', level: 1, shift: 12, indexBits: 9, leaf: true },
  ];
  const levels = all.slice(5 - depth);
  const vaBits = depth === 5 ? 57 : 48;
  const canonical = (va: bigint) => BigInt.asUintN(64, BigInt.asIntN(vaBits, va));
  return {
    name,
    entryBytes: 8,
    tableBytes: 4096,
    levels,
    // Bits 63..vaBits-1 all equal.
    inRange: (va) => canonical(va) === va,
    canonical,
    resolve: (o) => x86Resolve(o, 52, 52, o.nxe ?? true),
    // CR3 bits 51..12 (below MAXPHYADDR); PCID, PWT/PCD and bit 63 are not address.
    rootTable: (reg, r) => reg & bits(12, r.maxPhy - 1),
    kind(i, e) {
      if (!has(e, P)) return 'invalid';
      const l = levels[i]!.level;
      if (l === 1) return 'leaf';
      return l <= 3 && has(e, PS) ? 'leaf' : 'table';
    },
    tableAddress: (_i, e, r) => e & bits(12, r.maxPhy - 1),
    leafAddress: (i, e, r) => e & bits(levels[i]!.shift, r.maxPhy - 1),
    addressField: (i, r) => bits(levels[i]!.shift, r.maxPhy - 1),
    reserved(i, kind, e, r) {
      const l = levels[i]!;
      let rsvd = bits(r.maxPhy, 51) | (r.nxe ? 0n : XD);
      if (kind === 'table' && l.level >= 4) rsvd |= PS; // PS is reserved in PML4/PML5 entries
      if (kind === 'leaf' && l.level > 1) rsvd |= bits(13, l.shift - 1); // below a large page's address, above PAT
      return has(e, rsvd);
    },
    deny: (_i, _k, e, r) => x86Deny(e, r.nxe),
    accessFlagFault: () => false,
    leafBits: (f) => x86LeafBits(f, true),
    rightsBits: RW | US | XD | G,
    newLeaf(i, pa, leafBits, r) {
      if (pa >= 1n << BigInt(r.maxPhy)) return undefined;
      return leafBits | (levels[i]!.level > 1 ? PS : 0n) | pa;
    },
    newTable: (_i, addr) => addr | P | RW | US,
  };
}

/**
 * PAE paging (SDM 4.4): CR3 bits 31..5 point at a 4-entry PDPT; PDPTEs hold no
 * rights (bits 2..1, 8..5 and 63..M reserved); PD entries may be 2 MiB pages;
 * bits 62..M of PD and PT entries are reserved, bit 63 is XD with NXE.
 */
const x86Pae: OracleFormat = (() => {
  const levels: OracleLevel[] = [
    { name: 'PDPT', level: 3, shift: 30, indexBits: 2, leaf: false },
    { name: 'PD', level: 2, shift: 21, indexBits: 9, leaf: true },
    { name: 'PT', level: 1, shift: 12, indexBits: 9, leaf: true },
  ];
  return {
    name: 'x86_pae',
    entryBytes: 8,
    tableBytes: 4096,
    levels,
    inRange: (va) => va < 1n << 32n,
    canonical: (va) => va,
    resolve: (o) => x86Resolve(o, 52, 52, o.nxe ?? true),
    rootTable: (reg) => reg & bits(5, 31),
    kind(i, e) {
      if (!has(e, P)) return 'invalid';
      const l = levels[i]!.level;
      if (l === 3) return 'table';
      return l === 1 || has(e, PS) ? 'leaf' : 'table';
    },
    tableAddress: (_i, e, r) => e & bits(12, r.maxPhy - 1),
    leafAddress: (i, e, r) => e & bits(levels[i]!.shift, r.maxPhy - 1),
    addressField: (i, r) => bits(levels[i]!.shift, r.maxPhy - 1),
    reserved(i, kind, e, r) {
      const l = levels[i]!;
      if (l.level === 3) return has(e, bits(r.maxPhy, 63) | bits(1, 2) | bits(5, 8));
      let rsvd = bits(r.maxPhy, 62) | (r.nxe ? 0n : XD);
      if (kind === 'leaf' && l.level === 2) rsvd |= bits(13, 20);
      return has(e, rsvd);
    },
    deny: (i, _k, e, r) => (levels[i]!.level === 3 ? NO_DENY : x86Deny(e, r.nxe)),
    accessFlagFault: () => false,
    leafBits: (f) => x86LeafBits(f, true),
    rightsBits: RW | US | XD | G,
    newLeaf(i, pa, leafBits, r) {
      if (pa >= 1n << BigInt(r.maxPhy)) return undefined;
      return leafBits | (levels[i]!.level === 2 ? PS : 0n) | pa;
    },
    newTable: (i, addr) => (levels[i]!.level === 3 ? addr | P : addr | P | RW | US),
  };
})();

/**
 * 32-bit paging with PSE and PSE-36 (SDM 4.3): 32-bit entries, CR3 bits 31..12;
 * a 4 MiB page holds PA bits 31..22 in bits 31..22 and PA bits M-1..32 in bits
 * M-20..13 (M = min(MAXPHYADDR, 40)), bits 21..M-19 reserved. No XD at all.
 */
const x86_32: OracleFormat = (() => {
  const levels: OracleLevel[] = [
    { name: 'PD', level: 2, shift: 22, indexBits: 10, leaf: true },
    { name: 'PT', level: 1, shift: 12, indexBits: 10, leaf: true },
  ];
  const m = (r: Resolved) => r.maxPhy;
  return {
    name: 'x86_32',
    entryBytes: 4,
    tableBytes: 4096,
    levels,
    inRange: (va) => va < 1n << 32n,
    canonical: (va) => va,
    resolve: (o) => x86Resolve(o, 52, 40, false),
    rootTable: (reg) => reg & bits(12, 31),
    kind(i, e) {
      if (!has(e, P)) return 'invalid';
      return levels[i]!.level === 1 || has(e, PS) ? 'leaf' : 'table';
    },
    tableAddress: (_i, e) => e & bits(12, 31),
    leafAddress(i, e, r) {
      if (levels[i]!.level === 1) return e & bits(12, 31);
      const high = (e & bits(13, m(r) - 20)) >> 13n;
      return (e & bits(22, 31)) | (high << 32n);
    },
    addressField: (i, r) => (levels[i]!.level === 1 ? bits(12, 31) : bits(22, 31) | bits(13, m(r) - 20)),
    reserved: (i, kind, e, r) => kind === 'leaf' && levels[i]!.level === 2 && has(e, bits(m(r) - 19, 21)),
    deny: (_i, _k, e) => x86Deny(e, false),
    accessFlagFault: () => false,
    leafBits: (f) => x86LeafBits(f, false),
    rightsBits: RW | US | G,
    newLeaf(i, pa, leafBits, r) {
      if (levels[i]!.level === 1) return pa < 1n << 32n ? (leafBits | pa) & bits(0, 31) : undefined;
      if (pa >= 1n << BigInt(m(r))) return undefined;
      return (leafBits | PS | (pa & bits(22, 31)) | ((pa >> 32n) << 13n)) & bits(0, 31);
    },
    newTable: (_i, addr) => addr | P | RW | US,
  };
})();

// ---- AArch64 stage 1 ----------------------------------------------------------------
// Descriptor bits (Arm ARM D8.3, shared/spec/paging.md): bit 0 valid, bit 1 table /
// page (1) or block (0); AP[1] 6 grants EL0, AP[2] 7 read-only, SH 9..8, AF 10,
// nG 11, Contiguous 52, PXN 53, UXN 54; PXNTable 59, XNTable 60, APTable[0] 61 (no
// EL0 below), APTable[1] 62 (no write below). 48-bit VA, zero-extended (one root).
const AP1 = bit(6), AP2 = bit(7), SH_INNER = bits(8, 9), AF = bit(10), NG = bit(11);
const CONTIG = bit(52), PXN = bit(53), UXN = bit(54);
const PXN_TABLE = bit(59), XN_TABLE = bit(60), AP_TABLE0 = bit(61), AP_TABLE1 = bit(62);

function armDescription(name: string, granuleShift: number, levels: OracleLevel[], groups: Record<number, number>): OracleFormat {
  const rootBytes = 2 ** levels[0]!.indexBits * 8;
  // With a 64 KiB granule, bits 15..12 would be OA[51:48] (FEAT_LPA): reserved here.
  const lpa = granuleShift === 16 ? bits(12, 15) : 0n;
  return {
    name,
    entryBytes: 8,
    tableBytes: 2 ** granuleShift,
    levels,
    inRange: (va) => va < 1n << 48n,
    canonical: (va) => va,
    resolve: (o) => ({
      maxPhy: maxPhy(o, 48, 48),
      nxe: true,
      wp: true, // AP[2] binds privileged writes too
      smep: false,
      smap: o.smap ?? false, // PAN
      checkReserved: !o.ignoreReserved,
      needAccessFlag: !o.hardwareAccessFlag,
    }),
    // TTBR BADDR: the root table aligned to its size, at least 64 bytes.
    rootTable: (reg, r) => reg & bits(Math.max(6, Math.log2(rootBytes)), r.maxPhy - 1),
    kind(i, e) {
      if (!has(e, bit(0))) return 'invalid';
      const l = levels[i]!;
      const type = has(e, bit(1));
      if (l.level === 3) return type ? 'leaf' : 'invalid'; // 11 page, 01 reserved (invalid)
      if (type) return 'table';
      return l.leaf ? 'leaf' : 'invalid'; // a block where none may sit is a translation fault
    },
    tableAddress: (_i, e, r) => e & bits(granuleShift, r.maxPhy - 1),
    leafAddress: (i, e, r) => e & bits(levels[i]!.shift, r.maxPhy - 1),
    addressField: (i, r) => bits(levels[i]!.shift, r.maxPhy - 1),
    reserved(i, kind, e, r) {
      // Output address bits at or above the PA size: Address size fault.
      const tooHigh = bits(r.maxPhy, 47);
      if (kind === 'table') return has(e, tooHigh | bits(48, 51) | lpa);
      // The engine's choice: a block's address bits below its size are reserved.
      return has(e, tooHigh | bits(48, 49) | lpa | bits(granuleShift, levels[i]!.shift - 1));
    },
    deny(_i, kind, e) {
      if (kind === 'table') return { write: has(e, AP_TABLE1), user: has(e, AP_TABLE0), exec: has(e, PXN_TABLE), userExec: has(e, XN_TABLE) };
      return { write: has(e, AP2), user: !has(e, AP1), exec: has(e, PXN), userExec: has(e, UXN) };
    },
    accessFlagFault: (_i, e, r) => r.needAccessFlag && !has(e, AF),
    leafBits: (f) =>
      AF | SH_INNER | (f.write ? 0n : AP2) | (f.user ? AP1 : 0n) | (f.execute === false ? PXN | UXN : 0n) | (f.global === false ? NG : 0n) | (f.raw ?? 0n),
    rightsBits: AP1 | AP2 | PXN | UXN | NG,
    newLeaf(i, pa, leafBits, r) {
      if (pa >= 1n << BigInt(r.maxPhy)) return undefined;
      return leafBits | (levels[i]!.level === 3 ? 3n : 1n) | pa;
    },
    newTable: (_i, addr) => addr | 3n,
    contiguous: { bit: CONTIG, entries: groups },
  };
}

const lv = (level: number, shift: number, indexBits: number, leaf: boolean): OracleLevel => ({ name: `L${level}`, level, shift, indexBits, leaf });

/** 4 KiB granule: L0 47..39, L1 38..30 (1 GiB blocks), L2 29..21 (2 MiB blocks), L3 20..12. */
const aarch64_4k = armDescription('aarch64_4k', 12, [lv(0, 39, 9, false), lv(1, 30, 9, true), lv(2, 21, 9, true), lv(3, 12, 9, true)], { 1: 16, 2: 16, 3: 16 });
/** 16 KiB granule: L0 bit 47, L1 46..36, L2 35..25 (32 MiB blocks), L3 24..14. */
const aarch64_16k = armDescription('aarch64_16k', 14, [lv(0, 47, 1, false), lv(1, 36, 11, false), lv(2, 25, 11, true), lv(3, 14, 11, true)], { 2: 32, 3: 128 });
/** 64 KiB granule: L1 47..42, L2 41..29 (512 MiB blocks), L3 28..16. */
const aarch64_64k = armDescription('aarch64_64k', 16, [lv(1, 42, 6, false), lv(2, 29, 13, true), lv(3, 16, 13, true)], { 2: 32, 3: 32 });

export const ORACLE_FORMATS: Readonly<Record<string, OracleFormat>> = {
  x86_64: x86_64Description('x86_64', 4),
  x86_64_la57: x86_64Description('x86_64_la57', 5),
  x86_pae: x86Pae,
  x86_32,
  aarch64_4k,
  aarch64_16k,
  aarch64_64k,
};

/** The oracle's description of the format the engine calls `name`. */
export function oracleFormat(name: string): OracleFormat {
  const d = ORACLE_FORMATS[name];
  if (!d) throw new Error(`oracle: no description of the format ${name}`);
  return d;
}
