/**
 * ELF cores: QEMU's `dump-guest-memory` (vCPUs from its "QEMU" notes) and any
 * other ELF core whose PT_LOADs carry physical addresses (/proc/vmcore copies,
 * other hypervisors' dumps), which open with no vCPUs. Every PT_LOAD is a range,
 * wherever it lies in 52-bit physical space; the part of a segment past p_filesz
 * (up to p_memsz) is in the machine but not in the file: it reads as Excluded.
 */
import { UnsupportedFormatError } from '../errors.js';
import { EM_386, EM_AARCH64, EM_X86_64, ET_CORE, ElfFile, PT_LOAD, PT_NOTE } from '../images/elf.js';
import type { ElfNote } from '../images/elf.js';
import { vcpusFromNotes } from '../images/qemu-core.js';
import type { PhysicalSource } from '../memory/source.js';
import type { ByteSource } from './bytes.js';
import { ExtentSource, checkExtents } from './extents.js';
import type { Extent } from './extents.js';

const MACHINES: Record<number, string> = { [EM_386]: 'i386', [EM_X86_64]: 'x86_64', [EM_AARCH64]: 'aarch64', 40: 'arm', 243: 'riscv', 22: 's390', 21: 'ppc64' };

/** Architecture name of an ELF e_machine, for descriptions. */
export function machineName(machine: number): string {
  return MACHINES[machine] ?? `e_machine ${machine}`;
}

const E_TYPES: Record<number, string> = { 1: 'relocatable object', 2: 'executable', 3: 'shared object' };

/** Refuse an ELF file that is not a core (a kernel image, a module). */
export function requireCore(elf: ElfFile): void {
  const t = elf.header.type;
  if (t !== ET_CORE) {
    throw new UnsupportedFormatError(
      `${elf.name}: an ELF ${E_TYPES[t] ?? `file of e_type ${t}`}, not a memory dump (ET_CORE); nothing to read physical memory from`,
      { file: elf.name, format: 'elf', offset: 16n },
    );
  }
}

export function openElfCore(bytes: ByteSource): PhysicalSource {
  const elf = new ElfFile(bytes);
  requireCore(elf);
  const phs = elf.programHeaders();
  const extents: Extent[] = phs
    .filter((ph) => ph.type === PT_LOAD)
    .map((ph) => ({
      start: Number(ph.paddr),
      memBytes: Number(ph.memsz),
      fileBytes: Number(ph.filesz),
      fileOffset: Number(ph.offset),
      structure: `program header ${ph.index} (PT_LOAD)`,
      structureOffset: ph.headerOffset,
    }));
  for (const ph of phs) {
    // Numbers are exact below 2^53; anything larger is refused by checkExtents as beyond 52 bits or the file.
    if (ph.type === PT_LOAD && (ph.paddr >= 1n << 53n || ph.memsz >= 1n << 53n || ph.offset >= 1n << 53n || ph.filesz >= 1n << 53n)) {
      throw elf.fail(`program header ${ph.index} (PT_LOAD)`, ph.headerOffset, `p_paddr ${ph.paddr}, p_offset ${ph.offset} or sizes are beyond 52-bit physical space or any file`);
    }
  }
  const checked = checkExtents(bytes, extents);

  const notes: ElfNote[] = [];
  for (const ph of phs) if (ph.type === PT_NOTE) notes.push(...elf.notes(ph));
  const x86 = elf.header.machine === EM_X86_64 || elf.header.machine === EM_386;
  const isQemu = x86 && notes.some((n) => n.name === 'QEMU');
  const vcpus = isQemu ? vcpusFromNotes(notes, elf.header.machine, (s, o, p) => elf.fail(s, o, p)) : [];
  return new ExtentSource(
    {
      format: isQemu ? 'qemu-elf' : 'elf-core',
      name: bytes.name,
      fileSize: BigInt(bytes.size),
      compression: ['none'],
      machine: machineName(elf.header.machine),
      vcpus,
      details: { elfClass: elf.header.elfClass === 2 ? 64 : 32, loadSegments: checked.length, pnXnum: elf.header.rawPhnum === 0xffff },
    },
    bytes,
    checked,
  );
}
