/**
 * ELF64 core files for the tests: any PT_LOADs (physical address, bytes in the
 * file, bytes in memory), an optional PT_NOTE, optional sections (Xen's
 * dump-core has sections and no program headers). Segment contents are given as
 * explicit bytes or as a list of frames to fill with `patternFrame`, so a 1 TiB
 * segment costs only the frames written (the file is sparse).
 *
 * Layout: ELF header, program headers, section headers, notes, section data,
 * then the segments back to back starting at `dataOffset`.
 */
import { Bytes, SparseFile, patternFrame } from './sparse.js';

export interface SegmentSpec {
  pa: number;
  fileBytes: number;
  /** Default: fileBytes. */
  memBytes?: number;
  /** Explicit contents (from the segment's start), or frames (absolute pfns) to fill with patternFrame. */
  data?: Uint8Array;
  frames?: readonly number[];
}

export interface SectionSpec {
  name: string;
  type: number;
  data: Uint8Array;
}

export interface ElfCoreSpec {
  segments?: readonly SegmentSpec[];
  notes?: Uint8Array;
  sections?: readonly SectionSpec[];
  machine?: number;
  type?: number;
  /** Where the first segment's data goes (default: right after everything else). */
  dataOffset?: number;
}

export interface ElfCoreLayout {
  file: SparseFile;
  phoff: number;
  /** File offset of each PT_LOAD's program header (after the PT_NOTE, when there is one). */
  loadHeaders: number[];
  segmentOffsets: number[];
  noteOffset: number;
  shoff: number;
  /** File offset of each section's data and of its section header. */
  sectionOffsets: number[];
  sectionHeaders: number[];
}

export function writeElfCore(spec: ElfCoreSpec): ElfCoreLayout {
  const segs = spec.segments ?? [];
  const secs = spec.sections ?? [];
  const notes = spec.notes;
  const phnum = segs.length + (notes ? 1 : 0);
  const shnum = secs.length ? secs.length + 2 : 0; // NULL, the sections, .shstrtab
  const phoff = 64;
  const shoff = phoff + 56 * phnum;
  let pos = shoff + 64 * shnum;
  const noteOffset = pos;
  pos += notes?.length ?? 0;
  const names = ['', ...secs.map((s) => s.name), '.shstrtab'];
  const strtab = new Uint8Array(names.reduce((n, s) => n + s.length + 1, 0));
  const nameOff: number[] = [];
  let so = 0;
  for (const n of names) {
    nameOff.push(so);
    for (let i = 0; i < n.length; i++) strtab[so + i] = n.charCodeAt(i);
    so += n.length + 1;
  }
  const sectionOffsets: number[] = [];
  for (const s of secs) {
    sectionOffsets.push(pos);
    pos += s.data.length;
  }
  const strtabOffset = pos;
  if (shnum) pos += strtab.length;
  let dataPos = spec.dataOffset ?? pos;
  const segmentOffsets = segs.map((s) => {
    const at = dataPos;
    dataPos += s.fileBytes;
    return at;
  });

  const file = new SparseFile(shnum || phnum ? Math.max(pos, dataPos) : pos);
  const h = new Bytes(64);
  h.buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  h.u16(16, spec.type ?? 4).u16(18, spec.machine ?? 62).u32(20, 1);
  h.u64(32, phnum ? phoff : 0).u64(40, shnum ? shoff : 0);
  h.u16(52, 64).u16(54, 56).u16(56, phnum).u16(58, 64).u16(60, shnum).u16(62, shnum ? shnum - 1 : 0);
  file.put(0, h.buf);

  const ph = new Bytes(56 * phnum);
  const loadHeaders: number[] = [];
  let i = 0;
  if (notes) {
    ph.u32(0, 4).u64(8, noteOffset).u64(32, notes.length).u64(40, notes.length);
    i++;
  }
  segs.forEach((s, k) => {
    const o = 56 * i++;
    loadHeaders.push(phoff + o);
    ph.u32(o, 1).u64(o + 8, segmentOffsets[k]!).u64(o + 16, s.pa).u64(o + 24, s.pa);
    ph.u64(o + 32, s.fileBytes).u64(o + 40, s.memBytes ?? s.fileBytes);
  });
  if (phnum) file.put(phoff, ph.buf);

  const sectionHeaders: number[] = [];
  if (shnum) {
    const sh = new Bytes(64 * shnum);
    secs.forEach((s, k) => {
      const o = 64 * (k + 1);
      sectionHeaders.push(shoff + o);
      // Note sections as xc_core writes them: no alignment, so notes are padded to 4 bytes.
      sh.u32(o, nameOff[k + 1]!).u32(o + 4, s.type).u64(o + 24, sectionOffsets[k]!).u64(o + 32, s.data.length).u64(o + 48, s.type === 7 ? 0 : 8);
    });
    const o = 64 * (shnum - 1);
    sh.u32(o, nameOff[shnum - 1]!).u32(o + 4, 3).u64(o + 24, strtabOffset).u64(o + 32, strtab.length).u64(o + 48, 1);
    file.put(shoff, sh.buf);
    secs.forEach((s, k) => file.put(sectionOffsets[k]!, s.data));
    file.put(strtabOffset, strtab);
  }
  if (notes) file.put(noteOffset, notes);
  segs.forEach((s, k) => {
    if (s.data) file.put(segmentOffsets[k]!, s.data);
    for (const pfn of s.frames ?? []) file.put(segmentOffsets[k]! + (pfn * 4096 - s.pa), patternFrame(pfn));
  });
  file.size = Math.max(file.size, dataPos);
  return { file, phoff, loadHeaders, segmentOffsets, noteOffset, shoff, sectionOffsets, sectionHeaders };
}
