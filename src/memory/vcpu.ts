/**
 * The paging state of one vCPU as a dump records it (QEMU's CPU-state notes, in an
 * ELF core or a kdump sub-header): what a walk of that vCPU's address space needs.
 */
/**
 * How a vCPU translates addresses, from CR0.PG, CR4.PAE, CR4.LA57 and long mode:
 * `disabled` (PG=0), `32-bit` (PG, no PAE), `pae` (PG+PAE, legacy mode),
 * `4-level` / `5-level` (IA-32e paging without / with LA57).
 */
export type PagingMode = 'disabled' | '32-bit' | 'pae' | '4-level' | '5-level';

/** The paging-relevant state of one vCPU, from its "QEMU" note (QEMUCPUState). */
export interface QemuVcpu {
  /** Position among the QEMU notes = QEMU's cpu_index. */
  readonly index: number;
  /** pr_pid of the matching NT_PRSTATUS note (cpu_index + 1), when present. */
  readonly pid?: number;
  /** File offset of this vCPU's "QEMU" note. */
  readonly noteOffset: number;
  /** QEMUCPUState `version` and `size` fields as stored. */
  readonly stateVersion: number;
  readonly stateSize: number;
  readonly cr0: bigint;
  readonly cr2: bigint;
  /** CR3 as stored (PCID / PWT / PCD bits included). */
  readonly cr3: bigint;
  readonly cr4: bigint;
  readonly rip: bigint;
  readonly rflags: bigint;
  readonly csSelector: number;
  /** Descriptor flags of CS as QEMU keeps them (bit 21 = L, bit 22 = D/B). */
  readonly csFlags: number;
  /** CS.L: this vCPU was running 64-bit code. */
  readonly cs64: boolean;
  /**
   * IA-32e (long) mode. EFER is not in the dump: true when CS.L is set, or when
   * the file says EM_X86_64 (vCPU 0 had EFER.LMA) and this vCPU has PG and PAE on.
   */
  readonly longMode: boolean;
  readonly pagingMode: PagingMode;
  /** CR4.LA57 (bit 12). */
  readonly la57: boolean;
  /** CR4.PCIDE (bit 17). */
  readonly pcide: boolean;
  /** The PCID in CR3 bits 0..11 when PCIDE is on. */
  readonly pcid?: number;
  /**
   * Physical address of the root table for `pagingMode`: CR3 bits 51..12 for
   * 4/5-level paging (PCID, flags and bit 63 masked off), bits 31..5 for PAE,
   * bits 31..12 for 32-bit paging; null when paging is disabled.
   */
  readonly root: bigint | null;
}
