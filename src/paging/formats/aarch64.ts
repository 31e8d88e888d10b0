// AArch64 stage-1 translation (VMSAv8-64, EL1&0 permission model), 48-bit VA
// and PA, one root (TTBR0, or TTBR0_EL2 for a hypervisor like Xen), for the
// three translation granules. Only descriptions: the generic kernels do the walk.
// See shared/spec/paging.md and the README section "More paging formats".
import { bit, bitRange, maxPhyAddrOption, type LevelSpec, type MapFlags, type PagingFormat, type RightsBits, type WalkParams } from '../format.js';
import type { WalkOptions } from '../types.js';


// Descriptor bits (Arm ARM D8.3).
const VALID = 1n, TYPE = 2n; // bit 1: table/page (1) or block (0)
const AP1 = bit(6); // EL0 access
const AP2 = bit(7); // read-only
const SH_INNER = 3n << 8n;
const AF = bit(10);
const NG = bit(11);
const CONTIG = bit(52);
const PXN = bit(53);
const UXN = bit(54);
const PXN_TABLE = bit(59);
const XN_TABLE = bit(60);
const AP_TABLE0 = bit(61); // no EL0 access below
const AP_TABLE1 = bit(62); // no write below

const VA_BITS = 48;

/** Table attributes restrict everything below them. */
const TABLE_RIGHTS: RightsBits = { writeAllow: 0n, writeDeny: AP_TABLE1, userAllow: 0n, userDeny: AP_TABLE0, pxn: PXN_TABLE, uxn: XN_TABLE };
/** Leaf attributes: AP[2] takes write away, AP[1] grants EL0, PXN/UXN take execute away. */
const LEAF_RIGHTS: RightsBits = { writeAllow: 0n, writeDeny: AP2, userAllow: AP1, userDeny: 0n, pxn: PXN, uxn: UXN };

interface Granule {
  readonly name: string;
  /** log2 of the granule (page) size: 12, 14, 16. */
  readonly pageShift: number;
  /** Architecture levels (0..3) that may hold a block without 52-bit addressing. */
  readonly blockLevels: readonly number[];
  /** Entries of one contiguous group, per architecture level (0: no hint). */
  readonly contig: Readonly<Record<number, number>>;
}

/** Output address bits: 32..48 (the Arm formats model 48-bit output addresses). */
const paSize = (options: WalkOptions) => maxPhyAddrOption(options, 48, 48, ' (the Arm formats model 48-bit output addresses)');

function aarch64Format(g: Granule): PagingFormat {
  const ps = g.pageShift;
  const bits = ps - 3; // 8-byte descriptors fill one granule
  const nLevels = Math.ceil((VA_BITS - ps) / bits);
  const firstLevel = 4 - nLevels;
  return {
    name: g.name,
    arch: 'arm',
    pageSize: 2 ** ps,
    rightsMask: AP1 | AP2 | PXN | UXN | NG,
    leafBits(f: MapFlags): bigint {
      return (
        AF | SH_INNER | (f.write ? 0n : AP2) | (f.user ? AP1 : 0n) | (f.execute === false ? PXN | UXN : 0n) |
        (f.global === false ? NG : 0n) | (f.raw ?? 0n)
      );
    },
    params(options: WalkOptions = {}): WalkParams {
      const pa = paSize(options);
      // Output-address bits above the PA size give an Address size fault; bits
      // 51..48 are RES0 in tables and 49..48 in leaves (50 GP, 51 DBM). With a
      // 64 KiB granule, bits 15..12 would be OA[51:48] (FEAT_LPA): reserved here.
      const tooHigh = bitRange(pa, 47);
      const lpa = ps === 16 ? bitRange(12, 15) : 0n;
      const levels: LevelSpec[] = [];
      for (let k = 0; k < nLevels; k++) {
        const archLevel = firstLevel + k;
        const shift = ps + bits * (nLevels - 1 - k);
        const last = archLevel === 3;
        const block = g.blockLevels.includes(archLevel);
        const indexBits = Math.min(bits, VA_BITS - shift);
        levels.push({
          name: `L${archLevel}`,
          archLevel,
          shift,
          bits: indexBits,
          // A level without blocks takes only `11` (table, or page at level 3).
          validMask: block ? 1 : 3,
          validValue: block ? 1 : 3,
          leafAllowed: last || block,
          leafMask: last ? 0 : 3,
          leafValue: last ? 0 : 1,
          tableAddr: bitRange(ps, pa - 1),
          leafAddr: bitRange(shift, pa - 1),
          leafExtMask: 0n,
          leafExtShift: 0,
          rsvdTable: tooHigh | bitRange(48, 51) | lpa,
          // A block's address bits below its size are RES0: the engine treats them as reserved.
          rsvdLeaf: tooHigh | bitRange(48, 49) | lpa | bitRange(ps, shift - 1),
          tableRights: TABLE_RIGHTS,
          leafRights: LEAF_RIGHTS,
          tableTemplate: VALID | TYPE,
          leafTemplate: last ? VALID | TYPE : VALID,
          leafRequire: options.hardwareAccessFlag ? 0n : AF,
          contigBit: CONTIG,
          contigEntries: g.contig[archLevel] ?? 0,
        });
      }
      const rootBytesLog2 = levels[0]!.bits + 3;
      return {
        levels,
        entryBytes: 8,
        vaBits: VA_BITS,
        // One root: the VA is zero-extended (TTBR0 range); bits 63..48 set are out of range.
        signExtend: false,
        // TTBR BADDR: the root table is aligned to its size, at least 64 bytes.
        rootMask: bitRange(Math.max(6, rootBytesLog2), pa - 1),
        checkReserved: !options.ignoreReserved,
        // AP[2] binds privileged writes too; PAN is the Arm analogue of SMAP.
        wp: true,
        smep: false,
        smap: options.smap ?? false,
        nxe: true,
      };
    },
  };
}

/** AArch64, 4 KiB granule: levels 0..3, 1 GiB / 2 MiB blocks, 4 KiB pages; groups of 16. */
export const aarch64_4k: PagingFormat = aarch64Format({
  name: 'aarch64_4k',
  pageShift: 12,
  blockLevels: [1, 2],
  contig: { 1: 16, 2: 16, 3: 16 },
});

/**
 * AArch64, 16 KiB granule: level 0 (bit 47, 2 entries), levels 1..3 with 11
 * index bits each; 32 MiB blocks at level 2 (level-1 blocks need 52-bit
 * addressing), 16 KiB pages; groups of 32 at level 2 and 128 at level 3.
 */
export const aarch64_16k: PagingFormat = aarch64Format({
  name: 'aarch64_16k',
  pageShift: 14,
  blockLevels: [2],
  contig: { 2: 32, 3: 128 },
});

/**
 * AArch64, 64 KiB granule: levels 1 (bits 47..42, 64 entries), 2 and 3 with 13
 * index bits; 512 MiB blocks at level 2 (level-1 blocks need 52-bit
 * addressing), 64 KiB pages; groups of 32 at levels 2 and 3.
 */
export const aarch64_64k: PagingFormat = aarch64Format({
  name: 'aarch64_64k',
  pageShift: 16,
  blockLevels: [2],
  contig: { 2: 32, 3: 32 },
});
