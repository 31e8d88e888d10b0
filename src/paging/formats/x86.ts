import { bitRange, maxPhyAddrOption, type LevelSpec, type PagingFormat, type RightsBits, type WalkParams } from '../format.js';
import type { WalkOptions } from '../types.js';
import { P, RW, US, PS, XD, x86LeafBits, X86_RIGHTS_MASK } from './x86-bits.js';

/** The 4-level (IA-32e) or 5-level (LA57) x86-64 format. */
function x86_64Format(name: string, depth: 4 | 5): PagingFormat {
  const names = depth === 5 ? ['PML5', 'PML4', 'PDPT', 'PD', 'PT'] : ['PML4', 'PDPT', 'PD', 'PT'];
  return {
    name,
    arch: 'x86',
    pageSize: 4096,
    rightsMask: X86_RIGHTS_MASK,
    leafBits: x86LeafBits,
    params(options: WalkOptions = {}): WalkParams {
      const phy = maxPhyAddrOption(options, 52, 52);
      const nxe = options.nxe ?? true;
      const addr = bitRange(12, phy - 1);
      // Address bits above MAXPHYADDR, and XD when NXE is off, are reserved everywhere.
      const high = bitRange(phy, 51) | (nxe ? 0n : XD);
      const rights: RightsBits = { writeAllow: RW, writeDeny: 0n, userAllow: US, userDeny: 0n, pxn: nxe ? XD : 0n, uxn: nxe ? XD : 0n };
      const levels: LevelSpec[] = names.map((n, i) => {
        const archLevel = depth - i;
        const shift = 12 + 9 * (archLevel - 1);
        const leafAllowed = archLevel <= 3; // 1 GiB, 2 MiB, 4 KiB leaves
        const isPT = archLevel === 1;
        return {
          name: n,
          archLevel,
          shift,
          bits: 9,
          validMask: 1,
          validValue: 1,
          leafAllowed,
          leafMask: isPT ? 0 : 0x80,
          leafValue: isPT ? 0 : 0x80,
          tableAddr: addr,
          leafAddr: bitRange(shift, phy - 1),
          leafExtMask: 0n,
          leafExtShift: 0,
          // PS is reserved in PML4/PML5 entries.
          rsvdTable: high | (leafAllowed ? 0n : PS),
          // A large leaf's address starts above bit 12 (PAT); bits 13..shift-1 are reserved.
          rsvdLeaf: high | (isPT ? 0n : bitRange(13, shift - 1)),
          tableRights: rights,
          leafRights: rights,
          tableTemplate: P | RW | US,
          leafTemplate: isPT ? 0n : PS,
        };
      });
      return {
        levels,
        entryBytes: 8,
        vaBits: depth === 5 ? 57 : 48,
        signExtend: true,
        rootMask: addr,
        checkReserved: !options.ignoreReserved,
        wp: options.wp ?? true,
        smep: options.smep ?? false,
        smap: options.smap ?? false,
        nxe,
      };
    },
  };
}

/** x86-64 4-level paging (IA-32e): 48-bit VA, PML4 at the root. */
export const x86_64: PagingFormat = x86_64Format('x86_64', 4);
/** x86-64 5-level paging (CR4.LA57): 57-bit VA, PML5 at the root. */
export const x86_64_la57: PagingFormat = x86_64Format('x86_64_la57', 5);
