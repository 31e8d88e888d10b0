/** The kinds of access a walk can be asked to check. */
export type AccessKind = 'read' | 'write' | 'execute';

/** Effective rights of a translation, combined over every level of the walk. */
export interface Rights {
  /** Writes allowed (R/W set at every level; Arm: no AP[2]/APTable[1] read-only anywhere). */
  readonly write: boolean;
  /** User (EL0) accesses allowed at every level. */
  readonly user: boolean;
  /** Supervisor (privileged) instruction fetch allowed: no XD/PXN anywhere. */
  readonly execute: boolean;
  /** User instruction fetch allowed: no XD/UXN anywhere. Equal to `execute` on x86. */
  readonly userExecute: boolean;
}

/** `access-flag`: a valid Arm leaf with AF = 0 (Access flag fault), unless `hardwareAccessFlag`. */
export type FaultKind = 'not-present' | 'protection' | 'reserved-bit' | 'non-canonical' | 'outside-image' | 'access-flag';

/** Why a walk failed, with every field paging.md lists. */
export interface Fault {
  readonly kind: FaultKind;
  /** The architecture's number of the level where the walk stopped (x86: 5..1, Arm: 0..3). */
  readonly level: number;
  /** Physical address of the entry read last (for `non-canonical`: 0). */
  readonly entryAddress: bigint;
  /** Value of that entry (0 when it could not be read). */
  readonly entryValue: bigint;
  /** x86 page-fault error code: P=1, W=2, U=4, RSVD=8, I=16 (0 for a #GP). */
  readonly errorCode: number;
}

export interface Translation {
  readonly ok: true;
  readonly va: bigint;
  readonly pa: bigint;
  /** Size of the leaf that maps `va`, in bytes. */
  readonly pageSize: number;
  /** The architecture's number of the leaf's level. */
  readonly level: number;
  readonly rights: Rights;
  /** Physical address and value of the leaf entry. */
  readonly entryAddress: bigint;
  readonly entryValue: bigint;
}

export interface FaultResult {
  readonly ok: false;
  readonly va: bigint;
  readonly fault: Fault;
}

export type TranslateResult = Translation | FaultResult;

/** One leaf mapping: every alias through shared or self-referencing tables is its own Mapping. */
export interface Mapping {
  /** Canonical virtual start. */
  readonly va: bigint;
  /** Physical start (leaf address bits only). */
  readonly pa: bigint;
  /** Bytes covered by the leaf. */
  readonly size: number;
  /** The architecture's number of the leaf's level. */
  readonly level: number;
  /** Raw leaf entry value, all bits. */
  readonly entry: bigint;
  readonly rights: Rights;
}

/** Options of a walk. Defaults: read access, supervisor, MAXPHYADDR 52, NXE 1, WP 1, SMEP 0, SMAP 0. */
export interface WalkOptions {
  readonly access?: AccessKind;
  readonly user?: boolean;
  /** Physical address width; address bits above it are reserved (x86). */
  readonly maxPhyAddr?: number;
  /** EFER.NXE: bit 63 is XD when set, reserved when clear (x86). */
  readonly nxe?: boolean;
  /** CR0.WP: supervisor writes honour R/W when set (x86). */
  readonly wp?: boolean;
  readonly smep?: boolean;
  readonly smap?: boolean;
  /**
   * Skip reserved-bit checks, the way QEMU's monitor walks (`info tlb`, `gva2gpa`):
   * PS where no leaf is allowed is then taken as a pointer.
   */
  readonly ignoreReserved?: boolean;
  /**
   * Arm: the hardware manages the access flag (FEAT_HAFDBS), so a leaf with AF = 0
   * does not fault (the engine still never writes AF). Default false.
   */
  readonly hardwareAccessFlag?: boolean;
}
