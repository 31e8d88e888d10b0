/**
 * The dom0 layout inputs Xen 4.17 takes from a PV kernel image: unwrap a
 * bzImage (its payload, decompressed), then read the ELF's loadable segments
 * and its Xen notes the way libelf does (elf_parse_binary, elf_xen_parse,
 * elf_xen_addr_calc_check), and decide the guest kind as dom0_construct_pv does.
 */
import { existingFileSync } from '../util/validate.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InvalidInputError, MalformedFileError } from '../errors.js';
import { ELFCLASS32, ElfFile, EM_386, EM_X86_64, PT_LOAD, PT_NOTE, SHT_NOTE, le, type ElfSectionHeader } from '../images/elf.js';
import { decodeLzmaAlone, decodeXz } from '../images/xz.js';
import { hex } from '../util/numbers.js';

/** Note types from Xen's public/elfnote.h (a stable ABI). */
export const XEN_ELFNOTE = {
  INFO: 0,
  ENTRY: 1,
  HYPERCALL_PAGE: 2,
  VIRT_BASE: 3,
  PADDR_OFFSET: 4,
  XEN_VERSION: 5,
  GUEST_OS: 6,
  GUEST_VERSION: 7,
  LOADER: 8,
  PAE_MODE: 9,
  FEATURES: 10,
  BSD_SYMTAB: 11,
  HV_START_LOW: 12,
  L1_MFN_VALID: 13,
  SUSPEND_CANCEL: 14,
  INIT_P2M: 15,
  MOD_START_PFN: 16,
  SUPPORTED_FEATURES: 17,
  PHYS32_ENTRY: 18,
} as const;

/** Which notes libelf reads as strings; the rest of the known ones are numbers. */
const STRING_NOTES = new Set<number>([
  XEN_ELFNOTE.XEN_VERSION,
  XEN_ELFNOTE.GUEST_OS,
  XEN_ELFNOTE.GUEST_VERSION,
  XEN_ELFNOTE.LOADER,
  XEN_ELFNOTE.PAE_MODE,
  XEN_ELFNOTE.FEATURES,
  XEN_ELFNOTE.BSD_SYMTAB,
]);
const NOTE_NAMES = new Map<number, string>(Object.entries(XEN_ELFNOTE).map(([k, v]) => [v, k]));
/** libelf ignores INFO and L1_MFN_VALID (no entry in its table). */
const IGNORED_NOTES = new Set<number>([XEN_ELFNOTE.INFO, XEN_ELFNOTE.L1_MFN_VALID]);

const XENFEAT_DOM0 = 11;
/** __HYPERVISOR_COMPAT_VIRT_START: the lowest a compat guest may push Xen's area. */
const COMPAT_VIRT_START = 0xf5800000n;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const U64 = (1n << 64n) - 1n;
const wrap = (x: bigint): bigint => x & U64;

export interface XenNote {
  type: number;
  name: string;
  value: bigint | string;
  /** Offset of the note in the ELF image. */
  offset: number;
}

export interface KernelImage {
  file: string;
  /** How the ELF was found: the file itself, a bzImage payload, or a compressed file. */
  container: 'elf' | 'bzImage' | 'compressed';
  compression: 'gzip' | 'xz' | 'lzma' | null;
  elfClass: 32 | 64;
  machine: number;
  loadSegments: { paddr: bigint; memsz: bigint }[];
  pstart: bigint;
  pend: bigint;
  notesFrom: 'PT_NOTE' | 'SHT_NOTE' | '__xen_guest';
  notes: XenNote[];
  guestOs: string;
  loader: string;
  xenVersion: string;
  virtBase: bigint;
  elfPaddrOffset: bigint;
  virtOffset: bigint;
  kernelStart: bigint;
  kernelEnd: bigint;
  entry: bigint;
  /** INIT_P2M, or null when unset (Xen prints 0xffffffffffffffff). */
  p2mBase: bigint | null;
  unmappedInitrd: boolean;
  /** 32-bit PAE kernel, built as a compat guest (Xen needs CONFIG_PV32). */
  compat: boolean;
  hvStartLow: bigint | null;
  /** The appended BSD symbol table, when the BSD_SYMTAB note asks for one. */
  bsdSymtab: { start: bigint; end: bigint } | null;
  /** Xen's "ELF: ..." lines for this kernel, as `dom0=verbose` would show them (abridged). */
  messages: string[];
}

/** A compression format by its leading bytes (the same table Xen and Linux use). */
const COMPRESSION_MAGIC: { name: string; magic: number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'gzip', magic: [0x1f, 0x9e] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'lzma', magic: [0x5d, 0x00, 0x00] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'lzo', magic: [0x89, 0x4c, 0x5a, 0x4f] },
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
];

export function detectCompression(bytes: Uint8Array): string | null {
  for (const { name, magic } of COMPRESSION_MAGIC) {
    if (bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)) return name;
  }
  return null;
}

const MAX_KERNEL_BYTES = 1 << 30;

function decompress(bytes: Uint8Array, compression: string, file: string, offset: number): Uint8Array {
  switch (compression) {
    case 'gzip':
      try {
        return new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_KERNEL_BYTES }));
      } catch (err) {
        throw new MalformedFileError(`${file}: gzip payload at offset ${hex(offset)}: ${(err as Error).message}`, { file, offset });
      }
    case 'xz':
      return decodeXz(bytes, file, offset);
    case 'lzma':
      return decodeLzmaAlone(bytes, file, offset);
    default:
      throw new MalformedFileError(`${file}: payload at offset ${hex(offset)}: unsupported payload compression ${compression} (memwalk decodes gzip, xz and lzma)`, {
        file,
        offset,
        compression,
      });
  }
}

const SETUP_HEADER_END = 0x250; // end of payload_length in the x86 boot protocol header

/**
 * Find the ELF inside a kernel file, as Xen's bzimage_parse() does: a bzImage
 * (boot protocol >= 2.08) yields its payload; a payload or file that is not
 * ELF is decompressed by its magic.
 */
export function unwrapKernel(bytes: Uint8Array, file: string): { elf: Uint8Array; container: KernelImage['container']; compression: KernelImage['compression']; elfName: string } {
  let data = bytes;
  let base = 0;
  let container: KernelImage['container'] = 'elf';
  const isHdrS = bytes.length >= 0x206 && bytes[0x202] === 0x48 && bytes[0x203] === 0x64 && bytes[0x204] === 0x72 && bytes[0x205] === 0x53;
  if (isHdrS) {
    if (bytes.length < SETUP_HEADER_END) {
      throw new MalformedFileError(`${file}: bzImage setup header at offset 0x1f1: truncated, the header needs ${hex(SETUP_HEADER_END)} bytes but the file has ${hex(bytes.length)}`, { file, offset: 0x1f1 });
    }
    const version = le.u16(bytes, 0x206);
    if (version < 0x208) {
      throw new MalformedFileError(`${file}: bzImage boot protocol at offset 0x206 is v${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}, Xen needs at least v2.08 (for payload_offset)`, { file, offset: 0x206 });
    }
    // Xen uses setup_sects as is (no "0 means 4" rule).
    const setupSects = bytes[0x1f1]!;
    const payloadOffset = le.u32(bytes, 0x248);
    const payloadLength = le.u32(bytes, 0x24c);
    base = (setupSects + 1) * 512 + payloadOffset;
    if (base + payloadLength > bytes.length) {
      throw new MalformedFileError(
        `${file}: bzImage payload at offset ${hex(base)}: truncated, payload_length ${hex(payloadLength)} needs up to ${hex(base + payloadLength)} but the file ends at ${hex(bytes.length)}`,
        { file, offset: base },
      );
    }
    data = bytes.subarray(base, base + payloadLength);
    container = 'bzImage';
  }
  if (ElfFile.hasMagic(data)) return { elf: data, container, compression: null, elfName: container === 'bzImage' ? `${file} (bzImage payload)` : file };
  const compression = detectCompression(data);
  if (!compression) {
    const head = Array.from(data.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const what = container === 'bzImage' ? 'bzImage payload' : 'kernel';
    throw new MalformedFileError(`${file}: ${what} at offset ${hex(base)}: unknown payload compression (first bytes ${head || 'none'}; not ELF, gzip, xz, lzma, bzip2, lzo, lz4 or zstd)`, { file, offset: base });
  }
  const elf = decompress(data, compression, file, base);
  if (!ElfFile.hasMagic(elf)) {
    throw new MalformedFileError(`${file}: ${compression} payload at offset ${hex(base)}: decompresses to ${elf.length} bytes that are not an ELF image`, { file, offset: base });
  }
  return {
    elf,
    container: container === 'bzImage' ? 'bzImage' : 'compressed',
    compression: compression as KernelImage['compression'],
    elfName: `${file} (decompressed ${compression} payload)`,
  };
}

/** C's "%#" PRIx64: like hex() except that zero prints as "0". */
const cHex = (v: bigint): string => (v === 0n ? '0' : hex(v));

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('latin1');
}

/** elf_note_numeric(): 1, 2, 4 or 8 descriptor bytes, little-endian; any other size reads as 0. */
function noteNumber(desc: Uint8Array): bigint {
  switch (desc.length) {
    case 1:
      return BigInt(desc[0]!);
    case 2:
      return BigInt(le.u16(desc, 0));
    case 4:
      return BigInt(le.u32(desc, 0));
    case 8:
      return le.u64(desc, 0);
    default:
      return 0n;
  }
}

/** C strtoull(s, NULL, 0) on a __xen_guest value: stops at the first non-digit. */
function strtoull(text: string): bigint {
  const m = /^\s*(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(text);
  if (!m) return 0n;
  const t = m[1]!;
  if (/^0x/i.test(t)) return BigInt(t) & U64;
  if (t.startsWith('0')) return BigInt('0o' + (t.slice(1) || '0')) & U64;
  return BigInt(t) & U64;
}

/** Parse a kernel file's bytes; `file` names it in messages and errors. */
export function readKernelImage(bytes: Uint8Array, file: string): KernelImage {
  const { elf: elfBytes, container, compression, elfName } = unwrapKernel(bytes, file);
  const elf = ElfFile.fromBuffer(elfBytes, elfName);
  const messages: string[] = [];
  const h = elf.header;

  // elf_parse_binary: loadable = PT_LOAD with any of R/W/X.
  const loadSegments: KernelImage['loadSegments'] = [];
  let pstart = U64;
  let pend = 0n;
  for (const ph of elf.programHeaders()) {
    if (ph.type !== PT_LOAD || (ph.flags & 7) === 0) continue;
    loadSegments.push({ paddr: ph.paddr, memsz: ph.memsz });
    messages.push(`ELF: phdr: paddr=${cHex(ph.paddr)} memsz=${cHex(ph.memsz)}`);
    if (ph.paddr < pstart) pstart = ph.paddr;
    const top = wrap(ph.paddr + ph.memsz);
    if (top > pend) pend = top;
  }
  if (loadSegments.length === 0) {
    throw new MalformedFileError(`${elfName}: program header table at offset ${hex(h.phoff)}: no loadable PT_LOAD segment (with R, W or X set)`, { file: elfName, offset: h.phoff });
  }
  messages.push(`ELF: memory: ${cHex(pstart)} -> ${cHex(pend)}`);

  // elf_xen_parse: PT_NOTE segments first, SHT_NOTE sections only if those held no Xen note.
  const notes: XenNote[] = [];
  let noteRegions = 0;
  const scan = (offset: bigint, size: bigint): number => {
    noteRegions++;
    let found = 0;
    // Xen pads note names and descriptors to 4 bytes whatever the container's alignment.
    for (const n of elf.notes({ offset, size })) {
      if (n.name !== 'Xen') continue;
      found++;
      if (IGNORED_NOTES.has(n.type) || !NOTE_NAMES.has(n.type)) {
        messages.push(`ELF: note: unknown (${hex(n.type)})`);
        continue;
      }
      const name = NOTE_NAMES.get(n.type)!;
      const value = STRING_NOTES.has(n.type) ? cString(n.desc) : noteNumber(n.desc);
      notes.push({ type: n.type, name, value, offset: n.offset });
      messages.push(typeof value === 'string' ? `ELF: note: ${name} = "${value}"` : `ELF: note: ${name} = ${cHex(value)}`);
    }
    return found;
  };
  let notesFrom: KernelImage['notesFrom'] = 'PT_NOTE';
  let xenNotes = 0;
  for (const ph of elf.programHeaders()) {
    if (ph.type !== PT_NOTE || ph.offset === 0n) continue; // some binutils leave p_offset 0
    xenNotes += scan(ph.offset, ph.filesz);
  }
  if (xenNotes === 0) {
    for (const sh of elf.sectionHeaders().slice(1)) {
      if (sh.type !== SHT_NOTE) continue;
      const found = scan(sh.offset, sh.size);
      if (xenNotes === 0 && found > 0) {
        notesFrom = 'SHT_NOTE';
        messages.push('ELF: using notes from SHT_NOTE section');
      }
      xenNotes += found;
    }
  }

  // The parameters libelf collects (struct elf_dom_parms).
  let virtBase: bigint | null = null;
  let paddrOffset: bigint | null = null;
  let entry: bigint | null = null;
  let p2mBase: bigint | null = null;
  let unmappedInitrd = false;
  let hvStartLow: bigint | null = null;
  let pae: 'yes' | 'extcr3' | 'bimodal' | null = null;
  let bsdSymtabWanted = false;
  let guestOs = '';
  let loader = '';
  let xenVersion = '';
  let supported = 0;
  let hasSupportedNote = false;
  for (const n of notes) {
    const v = n.value;
    switch (n.type) {
      case XEN_ELFNOTE.VIRT_BASE: virtBase = v as bigint; break;
      case XEN_ELFNOTE.PADDR_OFFSET: paddrOffset = v as bigint; break;
      case XEN_ELFNOTE.ENTRY: entry = v as bigint; break;
      case XEN_ELFNOTE.INIT_P2M: p2mBase = v as bigint; break;
      case XEN_ELFNOTE.MOD_START_PFN: unmappedInitrd = (v as bigint) !== 0n; break;
      case XEN_ELFNOTE.HV_START_LOW: hvStartLow = v as bigint; break;
      case XEN_ELFNOTE.GUEST_OS: guestOs = v as string; break;
      case XEN_ELFNOTE.LOADER: loader = v as string; break;
      case XEN_ELFNOTE.XEN_VERSION: xenVersion = v as string; break;
      case XEN_ELFNOTE.PAE_MODE:
        if (v === 'yes') pae = 'extcr3';
        if ((v as string).includes('bimodal')) pae = 'bimodal';
        break;
      case XEN_ELFNOTE.BSD_SYMTAB: if (v === 'yes') bsdSymtabWanted = true; break;
      case XEN_ELFNOTE.FEATURES:
        for (const f of (v as string).split('|')) if (f.replace(/^!/, '') === 'dom0') supported |= 1 << XENFEAT_DOM0;
        break;
      case XEN_ELFNOTE.SUPPORTED_FEATURES:
        hasSupportedNote = true;
        supported |= Number((v as bigint) & 0xffffffffn);
        break;
    }
  }

  // Last resort: the legacy "__xen_guest" section of KEY=VALUE pairs.
  let legacy = false;
  if (xenNotes === 0) {
    const sh = elf.sectionHeaders().find((s: ElfSectionHeader) => s.index > 0 && elf.sectionName(s) === '__xen_guest');
    if (sh) {
      legacy = true;
      notesFrom = '__xen_guest';
      const text = cString(elf.read('__xen_guest section', sh.offset, Number(sh.size)));
      messages.push(`ELF: __xen_guest: "${text}"`);
      for (const item of text.split(',')) {
        const eq = item.indexOf('=');
        const key = eq < 0 ? item : item.slice(0, eq);
        const value = eq < 0 ? '' : item.slice(eq + 1);
        if (key === 'LOADER') loader = value;
        if (key === 'GUEST_OS') guestOs = value;
        if (key === 'XEN_VER') xenVersion = value;
        if (key === 'PAE') pae = value === 'yes[extended-cr3]' ? 'extcr3' : value.startsWith('yes') ? 'yes' : pae;
        if (key === 'BSD_SYMTAB') bsdSymtabWanted = true;
        if (key === 'VIRT_BASE') virtBase = strtoull(value);
        if (key === 'VIRT_ENTRY') entry = strtoull(value);
        if (key === 'ELF_PADDR_OFFSET') paddrOffset = strtoull(value);
      }
    }
  }
  if (xenNotes === 0 && !legacy) {
    throw new MalformedFileError(
      `${elfName}: ELF header at offset 0x0: no Xen ELF notes (no note named "Xen" in ${noteRegions} PT_NOTE/SHT_NOTE area(s)) and no __xen_guest section: not a Xen PV kernel`,
      { file: elfName, offset: 0 },
    );
  }
  // elf_xen_note_check: Xen only loads generic-loader or Linux images built for xen-3.0.
  if (!loader.startsWith('generic') && !guestOs.startsWith('linux')) {
    throw new InvalidInputError(`${file}: Xen will only load images built for the generic loader or Linux (LOADER "${loader}", GUEST_OS "${guestOs}")`, { input: 'kernel', file });
  }
  if (!xenVersion.startsWith('xen-3.0')) {
    throw new InvalidInputError(`${file}: Xen will only load images built for Xen v3.0 (XEN_VERSION "${xenVersion}")`, { input: 'kernel', file });
  }

  // elf_xen_addr_calc_check.
  if (paddrOffset !== null && virtBase === null) {
    throw new InvalidInputError(`${file}: ELF_PADDR_OFFSET is set but VIRT_BASE is not (Xen refuses this kernel)`, { input: 'kernel', file });
  }
  if (virtBase === null) {
    virtBase = 0n;
    messages.push('ELF: VIRT_BASE unset, using 0');
  }
  if (paddrOffset === null) {
    paddrOffset = noteRegions > 0 && !legacy ? 0n : virtBase;
    messages.push(`ELF_PADDR_OFFSET unset, using ${cHex(paddrOffset)}`);
  }
  const virtOffset = wrap(virtBase - paddrOffset);
  const kernelStart = wrap(pstart + virtOffset);
  let kernelEnd = wrap(pend + virtOffset);
  if (entry === null) entry = h.entry;
  let bsdSymtab: KernelImage['bsdSymtab'] = null;
  if (bsdSymtabWanted) {
    const sym = findBsdSymtab(elf, pend);
    if (sym) {
      bsdSymtab = sym;
      kernelEnd = wrap(sym.end + virtOffset);
    }
  }
  messages.push('ELF: addresses:');
  messages.push(`    virt_base        = ${hex(virtBase)}`);
  messages.push(`    elf_paddr_offset = ${hex(paddrOffset)}`);
  messages.push(`    virt_offset      = ${hex(virtOffset)}`);
  messages.push(`    virt_kstart      = ${hex(kernelStart)}`);
  messages.push(`    virt_kend        = ${hex(kernelEnd)}`);
  messages.push(`    virt_entry       = ${hex(entry)}`);
  messages.push(`    p2m_base         = ${hex(p2mBase ?? U64)}`);
  if (kernelStart > kernelEnd || entry < kernelStart || entry > kernelEnd || virtBase > kernelStart) {
    throw new InvalidInputError(
      `${file}: ELF start or entries are out of bounds (virt_base ${hex(virtBase)}, kernel ${hex(kernelStart)}-${hex(kernelEnd)}, entry ${hex(entry)})`,
      { input: 'kernel', file },
    );
  }
  if (p2mBase !== null && p2mBase >= kernelStart && p2mBase < kernelEnd) {
    throw new InvalidInputError(`${file}: P->M table base ${hex(p2mBase)} is out of bounds (inside the kernel)`, { input: 'kernel', file });
  }

  // dom0_construct_pv's compatibility check.
  let compat: boolean;
  if (h.elfClass === ELFCLASS32) {
    if (!pae || h.machine !== EM_386) {
      throw new InvalidInputError(`${file}: Mismatch between Xen and DOM0 kernel (32-bit ELF needs EM_386 and a PAE_MODE note; machine ${h.machine}, PAE ${pae ?? 'none'})`, { input: 'kernel', file });
    }
    compat = true;
    // Xen keeps the compat M2P at 0xF5800000 and up; a kernel wanting Xen higher cannot boot.
    if (hvStartLow !== null && ((hvStartLow + 0x1fffffn) & ~0x1fffffn) > COMPAT_VIRT_START) {
      throw new InvalidInputError(`${file}: Dom0 expects too high a hypervisor start address (HV_START_LOW ${hex(hvStartLow)} > ${hex(COMPAT_VIRT_START)})`, { input: 'kernel', file });
    }
  } else {
    if (h.machine !== EM_X86_64) {
      throw new InvalidInputError(`${file}: Mismatch between Xen and DOM0 kernel (64-bit ELF for machine ${h.machine}, not x86-64)`, { input: 'kernel', file });
    }
    compat = false;
  }
  if (hasSupportedNote && !(supported & (1 << XENFEAT_DOM0))) {
    throw new InvalidInputError(`${file}: Kernel does not support Dom0 operation (SUPPORTED_FEATURES lacks XENFEAT_dom0)`, { input: 'kernel', file });
  }

  return {
    file,
    container,
    compression,
    elfClass: h.elfClass === ELFCLASS32 ? 32 : 64,
    machine: h.machine,
    loadSegments,
    pstart,
    pend,
    notesFrom,
    notes,
    guestOs,
    loader,
    xenVersion,
    virtBase,
    elfPaddrOffset: paddrOffset,
    virtOffset,
    kernelStart,
    kernelEnd,
    entry,
    p2mBase,
    unmappedInitrd,
    compat,
    hvStartLow,
    bsdSymtab,
    messages,
  };
}

/**
 * elf_parse_bsdsyms(): room after the kernel for a size word, an ELF header,
 * three section headers, the symbol table and its string table, each rounded
 * to the ELF word size.
 */
function findBsdSymtab(elf: ElfFile, pend: bigint): { start: bigint; end: bigint } | null {
  const shs = elf.sectionHeaders();
  let symtab: ElfSectionHeader | undefined;
  for (const sh of shs.slice(1)) {
    if (sh.type !== SHT_SYMTAB) continue;
    if (sh.link === 0 || sh.link >= shs.length) break;
    symtab = sh;
    break;
  }
  if (!symtab) {
    throw new MalformedFileError(`${elf.name}: section header table at offset ${hex(elf.header.shoff)}: BSD_SYMTAB asks for the symbol table but there is no SHT_SYMTAB section with a valid link`, {
      file: elf.name,
      offset: elf.header.shoff,
    });
  }
  const word = elf.is64 ? 8n : 4n;
  const up = (x: bigint) => wrap(x + word - 1n) & ~(word - 1n);
  const start = up(pend);
  const ehdrUnion = 64n; // sizeof(elf_ehdr), the union of both classes
  let size = up(4n + (4n + ehdrUnion) + 3n * (elf.is64 ? 64n : 40n));
  size = up(size + symtab.size);
  const strtab = shs[symtab.link]!;
  if (strtab.type !== SHT_STRTAB) return null; // Xen then leaves virt_kend alone
  size = up(size + strtab.size);
  return { start, end: wrap(start + size) };
}

/** Read and parse a kernel file from disk. */
export function readKernelFile(path: string): KernelImage {
  existingFileSync(path, 'kernel');
  return readKernelImage(new Uint8Array(readFileSync(path)), path);
}
