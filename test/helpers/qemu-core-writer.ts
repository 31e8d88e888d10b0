/**
 * Writes small ELF cores in the exact layout QEMU 7.2's `dump-guest-memory`
 * produces (shared/spec/qemu-elf-core.md §1): ELF header, section headers at 64
 * (NULL + .shstrtab), program headers (PT_NOTE first, then one PT_LOAD per block),
 * the notes (all NT_PRSTATUS, then all "QEMU" notes), the blocks back to back, and
 * the .shstrtab bytes last. e_ehsize is 8, as QEMU writes it.
 *
 * `layout` reports every offset so malformed variants can be made by patching bytes.
 */
import { Bytes } from '../../src/perf/dump-writers/sparse.js';

export interface CoreVcpu {
  cr0?: bigint;
  cr2?: bigint;
  cr3: bigint;
  cr4: bigint;
  rip?: bigint;
  /** CS descriptor flags (default 0x00af9b00: 64-bit code, L set). */
  csFlags?: number;
  csSelector?: number;
  /** QEMUCPUState `size` field (default 440) and version (default 1). */
  stateSize?: number;
  stateVersion?: number;
}

export interface CoreBlock {
  pa: bigint;
  /** Contents, or a size to fill with a recognisable pattern (see `patternByte`). */
  data: Uint8Array | number;
}

export interface CoreOptions {
  vcpus: CoreVcpu[];
  blocks: CoreBlock[];
  /** 62 (default, ELF64, vCPU 0 in long mode) or 3 (i386 notes). */
  machine?: 62 | 3;
  /** 64 (default) or 32. */
  elfClass?: 64 | 32;
  /** Write e_phnum = 0xffff and the real count in section header 0's sh_info. */
  pnXnum?: boolean;
  /** Return only the bytes before the first block (headers and notes): no RAM is allocated. */
  headOnly?: boolean;
}

export interface CoreLayout {
  phoff: number;
  shoff: number;
  noteOffset: number;
  noteSize: number;
  /** File offset of each vCPU's "QEMU" note and of its NT_PRSTATUS note. */
  qemuNotes: number[];
  prstatusNotes: number[];
  /** File offset of each block's data, and of its program header. */
  blockOffsets: number[];
  loadHeaders: number[];
  memoryOffset: number;
  fileSize: number;
}

/** The byte the writer puts at guest-physical `pa` when a block is given by size. */
export function patternByte(pa: bigint): number {
  const x = Number(pa & 0xffffffffn);
  return ((x >>> 12) * 31 + (x & 0xfff) * 7 + 1) & 0xff;
}

const QEMU_STATE_SIZE = 440;
const PRSTATUS64 = 336;
const PRSTATUS32 = 144;

function noteSize(descsz: number): number {
  return 12 + 8 + Math.ceil(descsz / 4) * 4;
}

export function qemuCoreLayout(opts: CoreOptions): CoreLayout {
  const is64 = (opts.elfClass ?? 64) === 64;
  const ehdr = is64 ? 64 : 52;
  const shent = is64 ? 64 : 40;
  const phent = is64 ? 56 : 32;
  const shnum = 2;
  const phnum = 1 + opts.blocks.length;
  const shoff = ehdr;
  const phoff = shoff + shent * shnum;
  const noteOffset = phoff + phent * phnum;
  const prs = (opts.machine ?? 62) === 62 ? PRSTATUS64 : PRSTATUS32;
  const n = opts.vcpus.length;
  const prstatusNotes = opts.vcpus.map((_, k) => noteOffset + k * noteSize(prs));
  const qemuStart = noteOffset + n * noteSize(prs);
  const qemuNotes = opts.vcpus.map((_, k) => qemuStart + k * noteSize(QEMU_STATE_SIZE));
  const noteSize_ = n * (noteSize(prs) + noteSize(QEMU_STATE_SIZE));
  const memoryOffset = noteOffset + noteSize_;
  const blockOffsets: number[] = [];
  let off = memoryOffset;
  for (const b of opts.blocks) {
    blockOffsets.push(off);
    off += typeof b.data === 'number' ? b.data : b.data.length;
  }
  const loadHeaders = opts.blocks.map((_, i) => phoff + phent * (i + 1));
  return { phoff, shoff, noteOffset, noteSize: noteSize_, qemuNotes, prstatusNotes, blockOffsets, loadHeaders, memoryOffset, fileSize: off + 11 };
}

/** Build the whole core in memory. */
export function writeQemuCore(opts: CoreOptions): Uint8Array {
  const is64 = (opts.elfClass ?? 64) === 64;
  const machine = opts.machine ?? 62;
  const L = qemuCoreLayout(opts);
  const o = new Bytes(opts.headOnly ? L.memoryOffset : L.fileSize);
  const phnum = 1 + opts.blocks.length;

  // ELF header.
  o.buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1], 0);
  o.u16(16, 4); // ET_CORE
  o.u16(18, machine);
  o.u32(20, 1);
  if (is64) {
    o.u64(24, 0n);
    o.u64(32, BigInt(L.phoff));
    o.u64(40, BigInt(L.shoff));
    o.u32(48, 0);
    o.u16(52, 8); // QEMU 7.2's e_ehsize bug
    o.u16(54, 56);
    o.u16(56, opts.pnXnum ? 0xffff : phnum);
    o.u16(58, 64);
    o.u16(60, 2);
    o.u16(62, 1);
  } else {
    o.u32(24, 0);
    o.u32(28, L.phoff);
    o.u32(32, L.shoff);
    o.u32(36, 0);
    o.u16(40, 8);
    o.u16(42, 32);
    o.u16(44, opts.pnXnum ? 0xffff : phnum);
    o.u16(46, 40);
    o.u16(48, 2);
    o.u16(50, 1);
  }

  // Section headers: NULL (sh_info = phnum under PN_XNUM) and .shstrtab.
  const strtabOffset = L.fileSize - 11;
  if (is64) {
    if (opts.pnXnum) o.u32(L.shoff + 44, phnum);
    const s1 = L.shoff + 64;
    o.u32(s1, 1); // name ".shstrtab" at 1
    o.u32(s1 + 4, 3); // SHT_STRTAB
    o.u64(s1 + 24, BigInt(strtabOffset));
    o.u64(s1 + 32, 11n);
  } else {
    if (opts.pnXnum) o.u32(L.shoff + 28, phnum);
    const s1 = L.shoff + 40;
    o.u32(s1, 1);
    o.u32(s1 + 4, 3);
    o.u32(s1 + 16, strtabOffset);
    o.u32(s1 + 20, 11);
  }
  if (!opts.headOnly) o.buf.set(new TextEncoder().encode('\0.shstrtab\0'), strtabOffset);

  // Program headers.
  const ph = (at: number, type: number, offset: number, pa: bigint, size: number) => {
    if (is64) {
      o.u32(at, type);
      o.u32(at + 4, 0);
      o.u64(at + 8, BigInt(offset));
      o.u64(at + 16, pa); // QEMU writes p_paddr into p_vaddr without -p
      o.u64(at + 24, pa);
      o.u64(at + 32, BigInt(size));
      o.u64(at + 40, BigInt(size));
      o.u64(at + 48, 0n);
    } else {
      o.u32(at, type);
      o.u32(at + 4, offset);
      o.u32(at + 8, Number(pa));
      o.u32(at + 12, Number(pa));
      o.u32(at + 16, size);
      o.u32(at + 20, size);
      o.u32(at + 24, 0);
      o.u32(at + 28, 0);
    }
  };
  ph(L.phoff, 4, L.noteOffset, 0n, L.noteSize);
  opts.blocks.forEach((b, i) => {
    const size = typeof b.data === 'number' ? b.data : b.data.length;
    ph(L.loadHeaders[i]!, 1, L.blockOffsets[i]!, b.pa, size);
    if (opts.headOnly) return;
    if (typeof b.data === 'number') {
      for (let j = 0; j < size; j++) o.buf[L.blockOffsets[i]! + j] = patternByte(b.pa + BigInt(j));
    } else {
      o.buf.set(b.data, L.blockOffsets[i]!);
    }
  });

  // Notes.
  const prs = machine === 62 ? PRSTATUS64 : PRSTATUS32;
  const noteHeader = (at: number, name: string, descsz: number, type: number) => {
    o.u32(at, 5);
    o.u32(at + 4, descsz);
    o.u32(at + 8, type);
    o.buf.set(new TextEncoder().encode(name), at + 12);
    return at + 20;
  };
  opts.vcpus.forEach((c, k) => {
    const d = noteHeader(L.prstatusNotes[k]!, 'CORE', prs, 1);
    o.u32(d + (machine === 62 ? 32 : 24), k + 1); // pr_pid = cpu_index + 1
    if (machine === 62) {
      o.u64(d + 112 + 16 * 8, c.rip ?? 0xffffffff81000000n);
      o.u64(d + 112 + 17 * 8, BigInt(c.csSelector ?? 0x10));
    }
  });
  opts.vcpus.forEach((c, k) => {
    const d = noteHeader(L.qemuNotes[k]!, 'QEMU', QEMU_STATE_SIZE, 0);
    o.u32(d, c.stateVersion ?? 1);
    o.u32(d + 4, c.stateSize ?? QEMU_STATE_SIZE);
    o.u64(d + 8 + 16 * 8, c.rip ?? 0xffffffff81000000n);
    o.u64(d + 8 + 17 * 8, 0x246n);
    o.u32(d + 152, c.csSelector ?? 0x10);
    o.u32(d + 156, 0xffffffff);
    o.u32(d + 160, c.csFlags ?? 0x00af9b00);
    o.u64(d + 392, c.cr0 ?? 0x80050033n);
    o.u64(d + 408, c.cr2 ?? 0n);
    o.u64(d + 416, c.cr3);
    o.u64(d + 424, c.cr4);
  });
  return o.buf;
}
