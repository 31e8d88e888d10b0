// The two x86 paging modes of a 32-bit CPU (Intel SDM vol. 3, 4.3 and 4.4):
// PAE paging (what a 32-bit PV guest of Xen uses) and classic 32-bit paging with
// 4 MiB PSE leaves and PSE-36 high address bits. Descriptions only: the generic
// kernels do the walk.
import { bitRange, maxPhyAddrOption, type LevelSpec, type MapFlags, type PagingFormat, type RightsBits, type WalkParams } from '../format.js';
import type { WalkOptions } from '../types.js';
import { P, RW, US, PS, XD, x86LeafBits, X86_RIGHTS_MASK } from './x86-bits.js';

/** MAXPHYADDR as the CPU reports it (32..52), capped at what the mode can address. */
const maxPhy = (options: WalkOptions, cap: number) => Math.min(maxPhyAddrOption(options, 52, 52), cap);

const NONE: RightsBits = { writeAllow: 0n, writeDeny: 0n, userAllow: 0n, userDeny: 0n, pxn: 0n, uxn: 0n };

/**
 * PAE paging: CR3 bits 31..5 point at a 4-entry PDPT (32-byte aligned); 64-bit
 * entries; PDPT (VA 31..30), PD (29..21, 2 MiB leaves with PS), PT (20..12).
 * PDPTEs carry no rights (bits 2..1 and 8..5 are reserved there); bits 62..M of
 * every entry are reserved, and bit 63 is XD with EFER.NXE, else reserved.
 */
export const x86_pae: PagingFormat = {
  name: 'x86_pae',
  arch: 'x86',
  pageSize: 4096,
  rightsMask: X86_RIGHTS_MASK,
  leafBits: x86LeafBits,
  params(options: WalkOptions = {}): WalkParams {
    const phy = maxPhy(options, 52);
    const nxe = options.nxe ?? true;
    const addr = bitRange(12, phy - 1);
    const high = bitRange(phy, 62) | (nxe ? 0n : XD);
    const rights: RightsBits = { writeAllow: RW, writeDeny: 0n, userAllow: US, userDeny: 0n, pxn: nxe ? XD : 0n, uxn: nxe ? XD : 0n };
    const common = { validMask: 1, validValue: 1, leafExtMask: 0n, leafExtShift: 0, tableAddr: addr };
    const levels: LevelSpec[] = [
      {
        ...common,
        name: 'PDPT',
        archLevel: 3,
        shift: 30,
        bits: 2,
        leafAllowed: false,
        leafMask: 0,
        leafValue: 0,
        leafAddr: 0n,
        // Bits 2..1 and 8..5 are reserved in a PDPTE, and so is bit 63 (no XD here).
        rsvdTable: bitRange(phy, 63) | bitRange(1, 2) | bitRange(5, 8),
        rsvdLeaf: 0n,
        tableRights: NONE,
        leafRights: NONE,
        tableTemplate: P,
        leafTemplate: 0n,
      },
      {
        ...common,
        name: 'PD',
        archLevel: 2,
        shift: 21,
        bits: 9,
        leafAllowed: true,
        leafMask: 0x80,
        leafValue: 0x80,
        leafAddr: bitRange(21, phy - 1),
        rsvdTable: high,
        rsvdLeaf: high | bitRange(13, 20),
        tableRights: rights,
        leafRights: rights,
        tableTemplate: P | RW | US,
        leafTemplate: PS,
      },
      {
        ...common,
        name: 'PT',
        archLevel: 1,
        shift: 12,
        bits: 9,
        leafAllowed: true,
        leafMask: 0,
        leafValue: 0,
        leafAddr: addr,
        rsvdTable: high,
        rsvdLeaf: high,
        tableRights: rights,
        leafRights: rights,
        tableTemplate: P | RW | US,
        leafTemplate: 0n,
      },
    ];
    return {
      levels,
      entryBytes: 8,
      vaBits: 32,
      signExtend: false,
      rootMask: bitRange(5, 31),
      checkReserved: !options.ignoreReserved,
      wp: options.wp ?? true,
      smep: options.smep ?? false,
      smap: options.smap ?? false,
      nxe,
    };
  },
};

/**
 * 32-bit paging (CR4.PSE = 1): CR3 bits 31..12 point at a 1024-entry PD of
 * 32-bit entries; PD (VA 31..22, 4 MiB leaves with PS), PT (21..12). A 4 MiB
 * leaf holds address bits 31..22 in bits 31..22 and, with PSE-36, address bits
 * M-1..32 in bits M-20..13 (M = min(MAXPHYADDR, 40)); bits 21..M-19 are
 * reserved. No execute-disable: every page is executable.
 */
export const x86_32: PagingFormat = {
  name: 'x86_32',
  arch: 'x86',
  pageSize: 4096,
  // No XD in 32-bit entries: execute cannot be taken away.
  rightsMask: X86_RIGHTS_MASK & ~XD,
  leafBits: (f: MapFlags) => x86LeafBits({ ...f, execute: true }),
  params(options: WalkOptions = {}): WalkParams {
    const m = maxPhy(options, 40);
    const rights: RightsBits = { writeAllow: RW, writeDeny: 0n, userAllow: US, userDeny: 0n, pxn: 0n, uxn: 0n };
    const levels: LevelSpec[] = [
      {
        name: 'PD',
        archLevel: 2,
        shift: 22,
        bits: 10,
        validMask: 1,
        validValue: 1,
        leafAllowed: true,
        leafMask: 0x80,
        leafValue: 0x80,
        tableAddr: bitRange(12, 31),
        leafAddr: bitRange(22, 31),
        // Bit 13 holds address bit 32.
        leafExtMask: bitRange(13, m - 20),
        leafExtShift: 19,
        rsvdTable: 0n,
        rsvdLeaf: bitRange(m - 19, 21),
        tableRights: rights,
        leafRights: rights,
        tableTemplate: P | RW | US,
        leafTemplate: PS,
      },
      {
        name: 'PT',
        archLevel: 1,
        shift: 12,
        bits: 10,
        validMask: 1,
        validValue: 1,
        leafAllowed: true,
        leafMask: 0,
        leafValue: 0,
        tableAddr: bitRange(12, 31),
        leafAddr: bitRange(12, 31),
        leafExtMask: 0n,
        leafExtShift: 0,
        rsvdTable: 0n,
        rsvdLeaf: 0n,
        tableRights: rights,
        leafRights: rights,
        tableTemplate: P | RW | US,
        leafTemplate: 0n,
      },
    ];
    return {
      levels,
      entryBytes: 4,
      vaBits: 32,
      signExtend: false,
      rootMask: bitRange(12, 31),
      checkReserved: !options.ignoreReserved,
      wp: options.wp ?? true,
      smep: options.smep ?? false,
      smap: options.smap ?? false,
      // No XD in 32-bit paging: a fetch fault reports I/D only with SMEP.
      nxe: false,
    };
  },
};
