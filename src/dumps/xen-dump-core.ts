/**
 * Xen's `xl dump-core`: an ELF64 core with sections and no program headers.
 * `.note.Xen` says PV or HVM and how many pages there are; `.xen_pages` holds the
 * pages; entry i of `.xen_p2m` (PV: {pfn, gmfn}) or `.xen_pfn` (HVM: pfn) says
 * which frame page i is; `.xen_prstatus` holds one vcpu_guest_context per vCPU.
 *
 * The same file is addressable two ways, chosen when it is opened:
 * - `frames: 'guest'` (default): pfn = the guest's pseudo-physical frame;
 * - `frames: 'machine'` (PV only): pfn = the machine frame (gmfn), which is what a
 *   PV guest's page tables and CR3 hold, so walking them needs this view.
 * The table is read once at open and sorted; a frame costs a binary search and one
 * positioned read.
 */
import { UnsupportedFormatError } from '../errors.js';
import { ElfFile, SHT_NOTE } from '../images/elf.js';
import type { ElfSectionHeader } from '../images/elf.js';
import type { QemuVcpu } from '../images/qemu-core.js';
import { FRAME_SIZE, FrameState } from '../memory/source.js';
import type { PhysRange, PhysicalSource, SourceDescription } from '../memory/source.js';
import { hex } from '../util/numbers.js';
import { field, malformedFile, readStructure } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { frameRanges } from './extents.js';
import { requireCore } from './elf-core.js';
import { partitionPoint } from '../util/partition-point.js';

export type XenFrames = 'guest' | 'machine';

export const XEN_NOTE_HEADER = 0x2000001;
export const XEN_NOTE_FORMAT_VERSION = 0x2000003;
export const XEN_MAGIC_PV = 0xf00febedn;
export const XEN_MAGIC_HVM = 0xf00febeen;
const INVALID = 0xffffffffffffffffn;

/** vcpu_guest_context (x86_64): where the fields a walker needs are. */
const CTX = { flags: 512, rip: 520 + 128, cs: 520 + 136, rflags: 520 + 144, ctrlreg: 4984, size: 5168 } as const;

/** True when an ELF core has the section that makes it a Xen dump-core. */
export function isXenDumpCore(elf: ElfFile): boolean {
  return elf.sectionHeaders().some((sh) => sh.type === SHT_NOTE && elf.sectionName(sh) === '.note.Xen');
}

export function openXenDumpCore(bytes: ByteSource, frames: XenFrames = 'guest'): PhysicalSource {
  try {
    return new XenDumpCore(bytes, frames);
  } catch (err) {
    bytes.close();
    throw err;
  }
}

class XenDumpCore implements PhysicalSource {
  readonly description: SourceDescription;
  readonly ranges: readonly PhysRange[];
  readonly end: bigint;
  /** Frame numbers in ascending order, and the page index each one is stored at. */
  private readonly frames: Float64Array;
  private readonly pageOf: Float64Array;
  private readonly pagesOffset: number;

  constructor(
    private readonly bytes: ByteSource,
    view: XenFrames,
  ) {
    const elf = new ElfFile(bytes);
    requireCore(elf);
    const name = bytes.name;
    const sections = new Map<string, ElfSectionHeader>();
    for (const sh of elf.sectionHeaders()) {
      const n = elf.sectionName(sh);
      if (n) sections.set(n, sh);
    }
    const section = (n: string) => {
      const sh = sections.get(n);
      if (!sh) throw malformedFile(name, 'section header table', elf.header.shoff, `no ${n} section, which every Xen dump-core has`);
      return sh;
    };

    // .note.Xen: PV or HVM, counts, page size.
    let header: Uint8Array | undefined;
    let headerAt = 0;
    let formatVersion: bigint | undefined;
    for (const note of elf.notes(section('.note.Xen'))) {
      if (note.name !== 'Xen') continue;
      if (note.type === XEN_NOTE_HEADER) {
        if (note.desc.length < 32) throw malformedFile(name, 'Xen dump-core header note', note.offset, `n_descsz is ${note.desc.length}, the header needs 32`);
        header = note.desc;
        headerAt = note.descOffset;
      } else if (note.type === XEN_NOTE_FORMAT_VERSION && note.desc.length >= 8) {
        formatVersion = field.u64(note.desc, 0);
      }
    }
    if (!header) throw malformedFile(name, '.note.Xen section', section('.note.Xen').offset, 'no dump-core header note (type 0x2000001)');
    if (formatVersion !== undefined && formatVersion >> 32n !== 0n) {
      throw new UnsupportedFormatError(`${name}: Xen dump-core format version ${hex(formatVersion)}; only major version 0 is known`, { file: name, format: 'xen-dump-core' });
    }
    const magic = field.u64(header, 0);
    if (magic !== XEN_MAGIC_PV && magic !== XEN_MAGIC_HVM) {
      throw malformedFile(name, 'Xen dump-core header note', headerAt, `xch_magic is ${hex(magic)}, expected 0xf00febed (PV) or 0xf00febee (HVM)`);
    }
    const pv = magic === XEN_MAGIC_PV;
    const nrVcpus = field.u64(header, 8);
    const nrPages = field.u64(header, 16);
    const pageSize = field.u64(header, 24);
    if (pageSize !== BigInt(FRAME_SIZE)) throw malformedFile(name, 'Xen dump-core header note', headerAt + 24, `xch_page_size is ${pageSize}, only 4096 is read`);
    if (nrPages > BigInt(bytes.size) / BigInt(FRAME_SIZE)) {
      throw malformedFile(name, 'Xen dump-core header note', headerAt + 16, `xch_nr_pages ${nrPages} pages cannot fit a ${hex(bytes.size)}-byte file`);
    }
    if (!pv && view === 'machine') {
      throw new UnsupportedFormatError(`${name}: an HVM Xen dump-core records guest frames only (.xen_pfn); it has no machine-frame view`, { file: name, format: 'xen-dump-core' });
    }
    const n = Number(nrPages);

    const pages = section('.xen_pages');
    if (pages.size < nrPages * BigInt(FRAME_SIZE) || pages.offset + pages.size > BigInt(bytes.size)) {
      throw malformedFile(name, `section header ${pages.index} (.xen_pages)`, pages.headerOffset, `${hex(pages.size)} bytes at ${hex(pages.offset)} do not hold ${n} pages inside the ${hex(bytes.size)}-byte file`);
    }
    this.pagesOffset = Number(pages.offset);

    // The table: one entry per stored page.
    const tableName = pv ? '.xen_p2m' : '.xen_pfn';
    const entry = pv ? 16 : 8;
    const table = section(tableName);
    if (table.size < nrPages * BigInt(entry)) {
      throw malformedFile(name, `section header ${table.index} (${tableName})`, table.headerOffset, `${table.size} bytes hold fewer than the ${n} entries of ${entry} bytes xch_nr_pages declares`);
    }
    const raw = readStructure(bytes, `${tableName} table`, table.offset, n * entry);
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const pfn = field.u64(raw, i * entry);
      const frame = pv && view === 'machine' ? field.u64(raw, i * entry + 8) : pfn;
      if (pfn === INVALID || frame === INVALID) continue;
      if (frame >= 1n << 40n) {
        throw malformedFile(name, `${tableName} entry ${i}`, Number(table.offset) + i * entry, `frame ${hex(frame)} is beyond 52-bit physical space`);
      }
      pairs.push([Number(frame), i]);
    }
    pairs.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < pairs.length; i++) {
      if (pairs[i]![0] === pairs[i - 1]![0]) {
        const [f, k] = pairs[i]!;
        throw malformedFile(name, `${tableName} entry ${k}`, Number(table.offset) + k * entry, `${view} frame ${hex(f)} is also entry ${pairs[i - 1]![1]}'s`);
      }
    }
    this.frames = Float64Array.from(pairs, (p) => p[0]);
    this.pageOf = Float64Array.from(pairs, (p) => p[1]);
    this.ranges = frameRanges(runsOf(this.frames));
    this.end = this.ranges.length ? this.ranges[this.ranges.length - 1]!.end : 0n;

    const vcpus = this.readVcpus(elf, section('.xen_prstatus'), Number(nrVcpus), pv);
    this.description = {
      format: 'xen-dump-core',
      name,
      fileSize: BigInt(bytes.size),
      compression: ['none'],
      machine: 'x86_64',
      vcpus,
      details: {
        guest: pv ? 'pv' : 'hvm',
        frames: view,
        pages: n,
        ...(pv ? { cr3: 'machine address (walk with frames: machine)' } : {}),
        ...(formatVersion !== undefined ? { formatVersion } : {}),
      },
    };
  }

  readFrame(pfn: number, out: Uint8Array): FrameState {
    const lo = partitionPoint(this.frames.length, (i) => this.frames[i]! < pfn);
    if (lo === this.frames.length || this.frames[lo] !== pfn) {
      out.fill(0, 0, FRAME_SIZE);
      return FrameState.Absent;
    }
    this.bytes.read(this.pagesOffset + this.pageOf[lo]! * FRAME_SIZE, FRAME_SIZE, out);
    return FrameState.Present;
  }

  close(): void {
    this.bytes.close();
  }

  /**
   * vCPUs from `.xen_prstatus` (x86_64 vcpu_guest_context). A 64-bit PV guest
   * always runs 4-level paging and its ctrlreg[3] is a machine address; an HVM
   * guest's control registers are its own, and long mode is taken to be on when
   * paging and PAE are (EFER is not in the context).
   */
  private readVcpus(elf: ElfFile, sh: ElfSectionHeader, count: number, pv: boolean): QemuVcpu[] {
    if (count === 0 || elf.header.elfClass !== 2) return [];
    const stride = Number(sh.size) / count;
    const what = `section header ${sh.index} (.xen_prstatus)`;
    if (!Number.isInteger(stride) || stride < CTX.size) {
      throw malformedFile(this.bytes.name, what, sh.headerOffset, `${sh.size} bytes for ${count} vCPUs is not ${CTX.size}-byte x86_64 vcpu_guest_context each`);
    }
    const all = readStructure(this.bytes, '.xen_prstatus contents', sh.offset, Number(sh.size));
    return Array.from({ length: count }, (_, k) => {
      const c = all.subarray(k * stride, k * stride + CTX.size);
      const cr = (i: number) => field.u64(c, CTX.ctrlreg + 8 * i);
      const [cr0, cr2, cr3, cr4] = [cr(0), cr(2), cr(3), cr(4)];
      const la57 = (cr4 & (1n << 12n)) !== 0n;
      const paging = (cr0 & (1n << 31n)) !== 0n;
      const pae = (cr4 & (1n << 5n)) !== 0n;
      const pagingMode = pv ? '4-level' : !paging ? 'disabled' : !pae ? '32-bit' : la57 ? '5-level' : '4-level';
      const root = pagingMode === 'disabled' ? null : pagingMode === '32-bit' ? cr3 & 0xfffff000n : cr3 & 0x000ffffffffff000n;
      return {
        index: k,
        noteOffset: Number(sh.offset) + k * stride,
        stateVersion: 0,
        stateSize: stride,
        cr0,
        cr2,
        cr3,
        cr4,
        rip: field.u64(c, CTX.rip),
        rflags: field.u64(c, CTX.rflags),
        csSelector: field.u16(c, CTX.cs),
        csFlags: 0,
        cs64: pv,
        longMode: pv || (paging && pae),
        pagingMode,
        la57: !pv && la57,
        pcide: (cr4 & (1n << 17n)) !== 0n,
        root,
      } satisfies QemuVcpu;
    });
  }
}

function* runsOf(frames: Float64Array): Generator<{ start: number; end: number }> {
  let i = 0;
  while (i < frames.length) {
    let j = i + 1;
    while (j < frames.length && frames[j] === frames[j - 1]! + 1) j++;
    yield { start: frames[i]! * FRAME_SIZE, end: frames[j - 1]! * FRAME_SIZE + FRAME_SIZE };
    i = j;
  }
}
