/**
 * The ELF core that QEMU's `dump-guest-memory` writes for an x86 guest
 * (see shared/spec/qemu-elf-core.md): PT_LOAD segments that place guest-physical
 * RAM blocks in the file, and per-vCPU notes from which the paging state (CR0,
 * CR3, CR4) of every vCPU is read.
 *
 * Parsing reads only headers and notes; the RAM itself is copied later by the
 * image loader (loader.ts), segment by segment.
 */
import type { MalformedFileError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { EM_386, EM_X86_64, ET_CORE, ElfFile, PT_LOAD, PT_NOTE, le } from './elf.js';
import type { ElfNote } from './elf.js';

/** One run of guest-physical memory stored contiguously in the image file. */
export interface PhysSegment {
  /** Guest-physical start address. */
  readonly pa: bigint;
  /** Where the bytes of `pa` start in the file. */
  readonly fileOffset: bigint;
  /** Number of bytes present in the file. */
  readonly size: bigint;
}

export type { PagingMode, QemuVcpu } from '../memory/vcpu.js';
import type { PagingMode, QemuVcpu } from '../memory/vcpu.js';

export interface QemuCore {
  readonly file: string;
  readonly fileSize: bigint;
  readonly elfClass: 32 | 64;
  /** e_machine: 62 (x86-64, vCPU 0 in long mode) or 3 (i386). */
  readonly machine: number;
  /** True when the program header count came from section header 0 (PN_XNUM). */
  readonly pnXnum: boolean;
  /** PT_LOAD segments in ascending guest-physical order. */
  readonly segments: readonly PhysSegment[];
  /** One entry per "QEMU" note, in cpu_index order. */
  readonly vcpus: readonly QemuVcpu[];
  /** End (exclusive) of the highest segment: the RAM image size the dump needs. */
  readonly highestAddress: bigint;
}

/** QEMUCPUState field offsets (desc-relative), per qemu-elf-core.md §4. */
export const QEMU_CPU_STATE = {
  version: 0,
  size: 4,
  rip: 8 + 16 * 8,
  rflags: 8 + 17 * 8,
  cs: 152,
  cr0: 392,
  cr2: 408,
  cr3: 416,
  cr4: 424,
  /** Bytes a state must have to contain CR4. */
  minSize: 432,
} as const;

export const NT_PRSTATUS = 1;

const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;
const CR4_PCIDE = 1n << 17n;
const CS_L = 1 << 21;

/**
 * Paging mode and root table from the control registers. `longMode` is the
 * caller's knowledge of EFER.LMA (see QemuVcpu.longMode).
 */
export function pagingState(cr0: bigint, cr3: bigint, cr4: bigint, longMode: boolean): {
  pagingMode: PagingMode;
  root: bigint | null;
  pcid?: number;
} {
  const pcid = (cr4 & CR4_PCIDE) !== 0n ? Number(cr3 & 0xfffn) : undefined;
  if ((cr0 & CR0_PG) === 0n) return { pagingMode: 'disabled', root: null };
  if ((cr4 & CR4_PAE) === 0n) return { pagingMode: '32-bit', root: cr3 & 0xfffff000n };
  if (!longMode) return { pagingMode: 'pae', root: cr3 & 0xffffffe0n };
  return {
    pagingMode: (cr4 & CR4_LA57) !== 0n ? '5-level' : '4-level',
    root: cr3 & 0x000ffffffffff000n,
    ...(pcid === undefined ? {} : { pcid }),
  };
}

/** Parse a QEMU x86 ELF core whose header has been read. The caller closes `elf`. */
export function parseQemuCore(elf: ElfFile): QemuCore {
  const h = elf.header;
  const ehdr = `ELF${h.elfClass === 2 ? 64 : 32} header`;
  if (h.type !== ET_CORE) {
    throw elf.fail(ehdr, 16, `e_type is ${h.type}, not 4 (ET_CORE): not a QEMU dump-guest-memory core`);
  }
  if (h.machine !== EM_X86_64 && h.machine !== EM_386) {
    throw elf.fail(ehdr, 18, `e_machine is ${h.machine}: only x86 guests (62 = x86-64, 3 = i386) are supported`);
  }
  const fileSize = BigInt(elf.size);
  const phs = elf.programHeaders();

  // PT_LOAD segments: guest-physical block -> file range.
  const loads = phs.filter((ph) => ph.type === PT_LOAD);
  const order: { s: PhysSegment; index: number; headerOffset: number }[] = [];
  for (const ph of loads) {
    const what = `program header ${ph.index} (PT_LOAD, guest-physical ${hex(ph.paddr)})`;
    if (ph.offset > fileSize || ph.filesz > fileSize - ph.offset) {
      throw elf.fail(
        what,
        ph.headerOffset,
        `its ${hex(ph.filesz)} bytes at file offset ${hex(ph.offset)} run past the end of the file (size ${hex(fileSize)})`,
      );
    }
    if (ph.paddr + ph.filesz > 1n << 64n) {
      throw elf.fail(what, ph.headerOffset, `p_paddr + p_filesz (${hex(ph.paddr)} + ${hex(ph.filesz)}) overflows 64 bits`);
    }
    if (ph.filesz === 0n) continue;
    order.push({ s: { pa: ph.paddr, fileOffset: ph.offset, size: ph.filesz }, index: ph.index, headerOffset: ph.headerOffset });
  }
  order.sort((a, b) => (a.s.pa < b.s.pa ? -1 : a.s.pa > b.s.pa ? 1 : 0));
  for (let i = 1; i < order.length; i++) {
    const prev = order[i - 1]!;
    const cur = order[i]!;
    if (cur.s.pa < prev.s.pa + prev.s.size) {
      throw elf.fail(
        `program header ${cur.index} (PT_LOAD)`,
        cur.headerOffset,
        `guest-physical range ${hex(cur.s.pa)}..${hex(cur.s.pa + cur.s.size)} overlaps program header ${prev.index} (${hex(prev.s.pa)}..${hex(prev.s.pa + prev.s.size)})`,
      );
    }
  }
  const sorted = order.map((o) => o.s);
  const highestAddress = sorted.reduce((m, s) => (s.pa + s.size > m ? s.pa + s.size : m), 0n);

  const notes: ElfNote[] = [];
  for (const ph of phs) if (ph.type === PT_NOTE) notes.push(...elf.notes(ph));
  const vcpus = vcpusFromNotes(notes, h.machine, (structure, offset, problem) => elf.fail(structure, offset, problem));

  return {
    file: elf.name,
    fileSize,
    elfClass: h.elfClass === 2 ? 64 : 32,
    machine: h.machine,
    pnXnum: h.rawPhnum === 0xffff,
    segments: sorted,
    vcpus,
    highestAddress,
  };
}

/** How a notes reader reports a malformed note: file, structure, offset and problem in one line. */
export type NoteFail = (structure: string, offset: number, problem: string) => MalformedFileError;

/**
 * The vCPUs described by QEMU's notes, wherever they are stored (an ELF core's
 * PT_NOTE, a kdump sub-header): all NT_PRSTATUS first, then all "QEMU" notes; the
 * k-th of each is vCPU k. `machine` is the ELF e_machine the notes belong to
 * (62 x86-64 or 3 i386). Notes that are neither are ignored.
 */
export function vcpusFromNotes(notes: Iterable<ElfNote>, machine: number, fail: NoteFail): QemuVcpu[] {
  const prstatus: ElfNote[] = [];
  const qemu: ElfNote[] = [];
  for (const note of notes) {
    if (note.name === 'QEMU') qemu.push(note);
    else if (note.name === 'CORE' && note.type === NT_PRSTATUS) prstatus.push(note);
  }
  // pr_pid sits after 32 bytes of padding in the x86-64 prstatus, after 24 in the i386 one.
  const pidOffset = machine === EM_X86_64 ? 32 : 24;
  return qemu.map((note, k) => {
    const pr = prstatus[k];
    const pid = pr && pr.desc.length >= pidOffset + 4 ? le.u32(pr.desc, pidOffset) : undefined;
    return parseCpuState(fail, note, k, pid, machine);
  });
}

function parseCpuState(fail: NoteFail, note: ElfNote, k: number, pid: number | undefined, machine: number): QemuVcpu {
  const d = note.desc;
  const what = `QEMU note of vCPU ${k}`;
  if (d.length < 8) {
    throw fail(what, note.offset, `n_descsz is ${d.length}, too small for a QEMUCPUState header (8 bytes)`);
  }
  const version = le.u32(d, QEMU_CPU_STATE.version);
  const size = le.u32(d, QEMU_CPU_STATE.size);
  if (version !== 1) {
    throw fail(what, note.descOffset, `QEMUCPUState version is ${version}, only version 1 is known`);
  }
  if (size > d.length) {
    throw fail(what, note.descOffset + 4, `QEMUCPUState size ${size} is larger than the note's n_descsz ${d.length}`);
  }
  if (size < QEMU_CPU_STATE.minSize) {
    throw fail(what, note.descOffset + 4, `QEMUCPUState size ${size} is too small to hold CR4 (needs ${QEMU_CPU_STATE.minSize})`);
  }
  const cr0 = le.u64(d, QEMU_CPU_STATE.cr0);
  const cr2 = le.u64(d, QEMU_CPU_STATE.cr2);
  const cr3 = le.u64(d, QEMU_CPU_STATE.cr3);
  const cr4 = le.u64(d, QEMU_CPU_STATE.cr4);
  const csSelector = le.u32(d, QEMU_CPU_STATE.cs);
  const csFlags = le.u32(d, QEMU_CPU_STATE.cs + 8);
  const cs64 = (csFlags & CS_L) !== 0;
  const longMode = cs64 || (machine === EM_X86_64 && (cr0 & CR0_PG) !== 0n && (cr4 & CR4_PAE) !== 0n);
  const state = pagingState(cr0, cr3, cr4, longMode);
  return {
    index: k,
    ...(pid === undefined ? {} : { pid }),
    noteOffset: note.offset,
    stateVersion: version,
    stateSize: size,
    cr0,
    cr2,
    cr3,
    cr4,
    rip: le.u64(d, QEMU_CPU_STATE.rip),
    rflags: le.u64(d, QEMU_CPU_STATE.rflags),
    csSelector,
    csFlags,
    cs64,
    longMode,
    pagingMode: state.pagingMode,
    la57: (cr4 & CR4_LA57) !== 0n,
    pcide: (cr4 & CR4_PCIDE) !== 0n,
    ...(state.pcid === undefined ? {} : { pcid: state.pcid }),
    root: state.root,
  };
}

/** Open `path`, parse it as a QEMU core, close it. */
export function readQemuCore(path: string): QemuCore {
  const elf = ElfFile.open(path);
  try {
    return parseQemuCore(elf);
  } finally {
    elf.close();
  }
}

/** File offset holding guest-physical `pa`, or undefined when no segment has it (spec §3 (i)). */
export function fileOffsetOf(segments: readonly PhysSegment[], pa: bigint): bigint | undefined {
  for (const s of segments) {
    if (pa >= s.pa && pa < s.pa + s.size) return s.fileOffset + (pa - s.pa);
  }
  return undefined;
}
