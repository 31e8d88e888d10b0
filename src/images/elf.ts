/**
 * A small, generic, read-only ELF reader (ELF32 and ELF64, little-endian).
 *
 * It reads only what it is asked for: the file header, the program header table,
 * the section header table and the notes of a PT_NOTE segment or SHT_NOTE section.
 * Everything else (segment contents, symbols) is left to the caller, who can read
 * any byte range through `ElfFile.read`.
 *
 * Rules it enforces, each with a one-line MalformedFileError naming the file, the
 * structure and its file offset (details: {file, offset, structure}):
 * - the identification bytes: magic, class 1/2, data 1 (little-endian), version 1;
 * - every table and every entry it reads lies inside the file;
 * - a table's entry size is at least the size of the standard entry;
 * - PN_XNUM / SHN_UNDEF / SHN_XINDEX escapes are resolved through section header 0;
 * - a note's name and descriptor (with their padding) stay inside their container.
 *
 * It deliberately does NOT check `e_ehsize`: QEMU 7.2 writes 8 there.
 *
 * 64-bit quantities (addresses, offsets, sizes) are `bigint`; 16/32-bit fields are
 * `number`. ELF32 values are widened to the same shapes, so callers never branch on
 * the class except where the format itself differs.
 *
 * Usage:
 * ```ts
 * const elf = ElfFile.open('vmlinux');          // or ElfFile.fromBuffer(buf, 'name')
 * try {
 *   for (const ph of elf.programHeaders()) ...
 *   for (const note of elf.notes(ph)) ...     // ph of type PT_NOTE (or a section of type SHT_NOTE)
 * } finally { elf.close(); }
 * ```
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MalformedFileError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { latin1 } from '../util/bytes-text.js';

export const ELF_MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;

export const ET_CORE = 4;
export const EM_386 = 3;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_NOTE = 4;

export const SHT_NOTE = 7;

/** e_phnum value meaning "the real count is in section header 0's sh_info". */
export const PN_XNUM = 0xffff;
/** e_shstrndx value meaning "the real index is in section header 0's sh_link". */
export const SHN_XINDEX = 0xffff;

/** Sizes of the standard structures, by class. */
const SIZES = {
  [ELFCLASS32]: { ehdr: 52, phdr: 32, shdr: 40 },
  [ELFCLASS64]: { ehdr: 64, phdr: 56, shdr: 64 },
} as const;

/** Where bytes come from: a file descriptor or an in-memory buffer. */
export interface ByteSource {
  /** Name used in error messages (normally the path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Copy `length` bytes at `offset` into `into` (or a new array) and return them.
   * The caller has checked that the range is inside the source.
   */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
  /** Release the file descriptor, if any (idempotent). */
  close(): void;
}

/** A ByteSource over bytes already in memory. */
export function bufferSource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.length,
    read(offset, length, into) {
      const view = bytes.subarray(offset, offset + length);
      if (!into) return view.slice();
      into.set(view);
      return into.subarray(0, length);
    },
    close() {},
  };
}

/** A ByteSource over a file, read with positioned synchronous reads (no full load). */
export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  let open = true;
  let size: number;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`${path}: is a directory`), { code: 'EISDIR', path });
    size = st.size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return {
    name: path,
    size,
    read(offset, length, into) {
      if (!open) throw new Error(`${path}: read after close`);
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) {
          // The file shrank under us: report it like any truncation.
          throw new MalformedFileError(
            `${path}: file ended at offset ${hex(offset + done)} while reading ${length} bytes at ${hex(offset)} (was it truncated while being read?)`,
            { file: path, offset: offset + done },
          );
        }
        done += n;
      }
      return out;
    },
    close() {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
}

export interface ElfHeader {
  /** 1 = ELFCLASS32, 2 = ELFCLASS64. */
  readonly elfClass: 1 | 2;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly shoff: bigint;
  readonly flags: number;
  /** As stored; not checked (QEMU 7.2 stores 8). */
  readonly ehsize: number;
  readonly phentsize: number;
  /** The real number of program headers (PN_XNUM resolved). */
  readonly phnum: number;
  /** The raw e_phnum field (0xffff when PN_XNUM is in use). */
  readonly rawPhnum: number;
  readonly shentsize: number;
  /** The real number of section headers (e_shnum 0 with sections resolved through sh_size of header 0). */
  readonly shnum: number;
  /** The real section-name string table index (SHN_XINDEX resolved). */
  readonly shstrndx: number;
}

export interface ElfProgramHeader {
  /** Position in the table (0-based). */
  readonly index: number;
  /** File offset of this header entry itself. */
  readonly headerOffset: number;
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly align: bigint;
}

export interface ElfSectionHeader {
  readonly index: number;
  readonly headerOffset: number;
  /** Offset of the name in the section-name string table. */
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: bigint;
  readonly size: bigint;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: bigint;
}

export interface ElfNote {
  /** File offset of the note header (n_namesz). */
  readonly offset: number;
  /** Name without its trailing NUL(s), e.g. "CORE", "QEMU", "Xen". */
  readonly name: string;
  readonly type: number;
  /** File offset of the descriptor. */
  readonly descOffset: number;
  /** The descriptor bytes (n_descsz of them, without padding). */
  readonly desc: Uint8Array;
}

/** Anything notes can be read from: a program header (PT_NOTE) or a section header (SHT_NOTE). */
export type NoteContainer = ElfProgramHeader | ElfSectionHeader | { offset: bigint; size: bigint; align?: bigint };

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function u64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32(b, o + 4)) << 32n) | BigInt(u32(b, o));
}

/** Little-endian readers usable by format parsers on top of this module. */
export const le = { u16, u32, u64 };

/** The error every format reader throws: `<file>: <structure> at offset 0x..: <problem>`. */
export function malformedFile(file: string, structure: string, offset: number | bigint, problem: string): MalformedFileError {
  return new MalformedFileError(`${file}: ${structure} at offset ${hex(offset)}: ${problem}`, {
    file,
    offset: typeof offset === 'bigint' ? offset : BigInt(offset),
    structure,
  });
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export class ElfFile {
  readonly source: ByteSource;
  readonly header: ElfHeader;
  private phCache?: readonly ElfProgramHeader[];
  private shCache?: readonly ElfSectionHeader[];

  /** Open and parse the header of an ELF file on disk. Close it when done. */
  static open(path: string): ElfFile {
    const src = fileSource(path);
    try {
      return new ElfFile(src);
    } catch (err) {
      src.close();
      throw err;
    }
  }

  /** Parse an ELF image held in memory. `name` is used in error messages. */
  static fromBuffer(bytes: Uint8Array, name: string): ElfFile {
    return new ElfFile(bufferSource(bytes, name));
  }

  /** True when `bytes` starts with the ELF magic. */
  static hasMagic(bytes: Uint8Array): boolean {
    return bytes.length >= 4 && ELF_MAGIC.every((v, i) => bytes[i] === v);
  }

  constructor(source: ByteSource) {
    this.source = source;
    this.header = this.parseHeader();
  }

  get name(): string {
    return this.source.name;
  }

  get size(): number {
    return this.source.size;
  }

  get is64(): boolean {
    return this.header.elfClass === ELFCLASS64;
  }

  close(): void {
    this.source.close();
  }

  /** Build the error every rule violation throws: `<file>: <structure> at offset 0x..: <problem>`. */
  fail(structure: string, offset: number | bigint, problem: string): MalformedFileError {
    return malformedFile(this.name, structure, offset, problem);
  }

  /**
   * Check that `length` bytes at `offset` lie inside the file, else throw a
   * MalformedFileError for `structure`. Returns the offset as a number.
   */
  requireInFile(structure: string, offset: bigint | number, length: bigint | number): number {
    const off = BigInt(offset);
    const len = BigInt(length);
    const size = BigInt(this.size);
    if (off > size || len > size - off) {
      throw this.fail(
        structure,
        off,
        `needs ${len} bytes (up to ${hex(off + len)}) but the file ends at ${hex(size)}`,
      );
    }
    return Number(off);
  }

  /** Read `length` bytes at `offset`, checking bounds first (error names `structure`). */
  read(structure: string, offset: bigint | number, length: number): Uint8Array {
    const off = this.requireInFile(structure, offset, length);
    return this.source.read(off, length);
  }

  private parseHeader(): ElfHeader {
    const size = this.size;
    if (size < 16) {
      throw this.fail('ELF identification', 0, `needs 16 bytes but the file has only ${size}`);
    }
    const id = this.source.read(0, 16);
    if (!ElfFile.hasMagic(id)) {
      throw this.fail('ELF identification', 0, `bad magic ${Array.from(id.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')} (expected 7f 45 4c 46)`);
    }
    const cls = id[4]!;
    if (cls !== ELFCLASS32 && cls !== ELFCLASS64) {
      throw this.fail('ELF identification', 4, `EI_CLASS is ${cls} (expected 1 for ELF32 or 2 for ELF64)`);
    }
    if (id[5] !== ELFDATA2LSB) {
      throw this.fail('ELF identification', 5, `EI_DATA is ${id[5]} (only 1, little-endian, is supported)`);
    }
    if (id[6] !== 1) {
      throw this.fail('ELF identification', 6, `EI_VERSION is ${id[6]} (expected 1)`);
    }
    const sz = SIZES[cls];
    const what = `ELF${cls === ELFCLASS64 ? 64 : 32} header`;
    const h = this.read(what, 0, sz.ehdr);
    const is64 = cls === ELFCLASS64;
    const word = (o32: number, o64: number): bigint => (is64 ? u64(h, o64) : BigInt(u32(h, o32)));
    // Field offsets: ELF32 / ELF64.
    const type = u16(h, 16);
    const machine = u16(h, 18);
    const version = u32(h, 20);
    const entry = word(24, 24);
    const phoff = word(28, 32);
    const shoff = word(32, 40);
    const flags = u32(h, is64 ? 48 : 36);
    const ehsize = u16(h, is64 ? 52 : 40);
    const phentsize = u16(h, is64 ? 54 : 42);
    const rawPhnum = u16(h, is64 ? 56 : 44);
    const shentsize = u16(h, is64 ? 58 : 46);
    const rawShnum = u16(h, is64 ? 60 : 48);
    const rawShstrndx = u16(h, is64 ? 62 : 50);

    // Section header 0 carries the escapes for large counts.
    let sh0: { size: bigint; link: number; info: number } | undefined;
    const needSh0 = rawPhnum === PN_XNUM || rawShnum === 0 || rawShstrndx === SHN_XINDEX;
    if (needSh0 && shoff !== 0n) {
      if (shentsize < sz.shdr) {
        throw this.fail(what, is64 ? 58 : 46, `e_shentsize is ${shentsize}, smaller than the ${sz.shdr}-byte section header`);
      }
      const b = this.read('section header 0', shoff, sz.shdr);
      sh0 = is64
        ? { size: u64(b, 32), link: u32(b, 40), info: u32(b, 44) }
        : { size: BigInt(u32(b, 20)), link: u32(b, 24), info: u32(b, 28) };
    }

    let phnum = rawPhnum;
    if (rawPhnum === PN_XNUM) {
      if (!sh0) {
        throw this.fail(what, is64 ? 56 : 44, 'e_phnum is PN_XNUM (0xffff) but there is no section header 0 holding the real count');
      }
      phnum = sh0.info;
    }
    let shnum = rawShnum;
    if (rawShnum === 0 && sh0 && sh0.size !== 0n) {
      if (sh0.size > 0xffffffffn) {
        throw this.fail('section header 0', shoff, `sh_size ${hex(sh0.size)} is not a plausible section count`);
      }
      shnum = Number(sh0.size);
    }
    let shstrndx = rawShstrndx;
    if (rawShstrndx === SHN_XINDEX && sh0) shstrndx = sh0.link;

    if (phnum > 0 && phentsize < sz.phdr) {
      throw this.fail(what, is64 ? 54 : 42, `e_phentsize is ${phentsize}, smaller than the ${sz.phdr}-byte program header`);
    }
    if (shnum > 0 && shentsize < sz.shdr) {
      throw this.fail(what, is64 ? 58 : 46, `e_shentsize is ${shentsize}, smaller than the ${sz.shdr}-byte section header`);
    }
    return {
      elfClass: cls,
      type,
      machine,
      version,
      entry,
      phoff,
      shoff,
      flags,
      ehsize,
      phentsize,
      phnum,
      rawPhnum,
      shentsize,
      shnum,
      shstrndx,
    };
  }

  /** The program header table, in file order (cached). */
  programHeaders(): readonly ElfProgramHeader[] {
    if (this.phCache) return this.phCache;
    const { phoff, phentsize, phnum } = this.header;
    const entry = SIZES[this.header.elfClass].phdr;
    const out: ElfProgramHeader[] = [];
    if (phnum > 0) {
      // Check the whole table first so a truncated table is reported as such.
      this.requireInFile(`program header table (${phnum} entries of ${phentsize} bytes)`, phoff, BigInt(phnum) * BigInt(phentsize));
      const table = this.source.read(Number(phoff), phnum * phentsize);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        const b = table.subarray(o, o + entry);
        const headerOffset = Number(phoff) + o;
        out.push(
          this.is64
            ? {
                index: i,
                headerOffset,
                type: u32(b, 0),
                flags: u32(b, 4),
                offset: u64(b, 8),
                vaddr: u64(b, 16),
                paddr: u64(b, 24),
                filesz: u64(b, 32),
                memsz: u64(b, 40),
                align: u64(b, 48),
              }
            : {
                index: i,
                headerOffset,
                type: u32(b, 0),
                offset: BigInt(u32(b, 4)),
                vaddr: BigInt(u32(b, 8)),
                paddr: BigInt(u32(b, 12)),
                filesz: BigInt(u32(b, 16)),
                memsz: BigInt(u32(b, 20)),
                flags: u32(b, 24),
                align: BigInt(u32(b, 28)),
              },
        );
      }
    }
    this.phCache = out;
    return out;
  }

  /** The section header table, in file order (cached). Empty when e_shoff is 0. */
  sectionHeaders(): readonly ElfSectionHeader[] {
    if (this.shCache) return this.shCache;
    const { shoff, shentsize, shnum } = this.header;
    const entry = SIZES[this.header.elfClass].shdr;
    const out: ElfSectionHeader[] = [];
    if (shoff !== 0n && shnum > 0) {
      this.requireInFile(`section header table (${shnum} entries of ${shentsize} bytes)`, shoff, BigInt(shnum) * BigInt(shentsize));
      const table = this.source.read(Number(shoff), shnum * shentsize);
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        const b = table.subarray(o, o + entry);
        const headerOffset = Number(shoff) + o;
        out.push(
          this.is64
            ? {
                index: i,
                headerOffset,
                nameOffset: u32(b, 0),
                type: u32(b, 4),
                flags: u64(b, 8),
                addr: u64(b, 16),
                offset: u64(b, 24),
                size: u64(b, 32),
                link: u32(b, 40),
                info: u32(b, 44),
                addralign: u64(b, 48),
                entsize: u64(b, 56),
              }
            : {
                index: i,
                headerOffset,
                nameOffset: u32(b, 0),
                type: u32(b, 4),
                flags: BigInt(u32(b, 8)),
                addr: BigInt(u32(b, 12)),
                offset: BigInt(u32(b, 16)),
                size: BigInt(u32(b, 20)),
                link: u32(b, 24),
                info: u32(b, 28),
                addralign: BigInt(u32(b, 32)),
                entsize: BigInt(u32(b, 36)),
              },
        );
      }
    }
    this.shCache = out;
    return out;
  }

  /**
   * The name of a section from the section-name string table (e_shstrndx), or
   * undefined when the file has no such table.
   */
  sectionName(sh: ElfSectionHeader): string | undefined {
    const shs = this.sectionHeaders();
    const strtab = shs[this.header.shstrndx];
    if (!strtab || this.header.shstrndx === 0) return undefined;
    if (BigInt(sh.nameOffset) >= strtab.size) {
      throw this.fail(`section header ${sh.index}`, sh.headerOffset, `sh_name ${sh.nameOffset} is outside the ${strtab.size}-byte section-name table`);
    }
    const len = Number(strtab.size) - sh.nameOffset;
    const bytes = this.read('section-name string table', strtab.offset + BigInt(sh.nameOffset), Math.min(len, 4096));
    const end = bytes.indexOf(0);
    return latin1(bytes.subarray(0, end < 0 ? bytes.length : end));
  }

  /**
   * Iterate over the notes of a PT_NOTE segment / SHT_NOTE section (or any
   * {offset, size} range). Name and descriptor are each padded to 4 bytes (8 when
   * the container's alignment is 8, as for GNU property notes). Throws a
   * MalformedFileError when a note does not fit its container or the file.
   */
  *notes(container: NoteContainer): Generator<ElfNote> {
    const start = container.offset;
    const size = 'filesz' in container ? container.filesz : container.size;
    const alignField = 'addralign' in container ? container.addralign : container.align;
    const pad = alignField === 8n ? 8 : 4;
    const where = 'headerOffset' in container
      ? ('filesz' in container ? `PT_NOTE segment (program header ${container.index})` : `note section (section header ${container.index})`)
      : 'note area';
    this.requireInFile(`${where} data`, start, size);
    yield* readNotes(this.source, Number(start), Number(size), pad, where);
  }
}

/**
 * The notes in `size` bytes at `start` of `source` (which the caller has checked
 * lie inside it): name and descriptor each padded to `pad` bytes. Throws a
 * MalformedFileError when a note does not fit the area. Used for ELF notes and
 * for the same notes other dump formats carry (a kdump sub-header).
 */
export function* readNotes(source: ByteSource, start: number, size: number, pad: 4 | 8, where: string): Generator<ElfNote> {
  const end = start + size;
  let pos = start;
  let k = 0;
  while (pos < end) {
    if (end - pos < 12) {
      throw malformedFile(source.name, `note ${k}`, pos, `only ${end - pos} bytes left in the ${where} (ends at ${hex(end)}), a note header needs 12`);
    }
    const h = source.read(pos, 12);
    const namesz = u32(h, 0);
    const descsz = u32(h, 4);
    const type = u32(h, 8);
    const nameStart = pos + 12;
    const descStart = nameStart + align(namesz, pad);
    const next = descStart + align(descsz, pad);
    if (descStart > end || next > end) {
      throw malformedFile(
        source.name,
        `note ${k}`,
        pos,
        `n_namesz ${namesz} and n_descsz ${descsz} (padded to ${pad} bytes) need up to ${hex(next)} but the ${where} ends at ${hex(end)}`,
      );
    }
    const nameBytes = namesz > 0 ? source.read(nameStart, namesz) : new Uint8Array(0);
    let nameLen = nameBytes.length;
    while (nameLen > 0 && nameBytes[nameLen - 1] === 0) nameLen--;
    const name = latin1(nameBytes.subarray(0, nameLen));
    const desc = descsz > 0 ? source.read(descStart, descsz) : new Uint8Array(0);
    yield { offset: pos, name, type, descOffset: descStart, desc };
    pos = next;
    k++;
  }
}
