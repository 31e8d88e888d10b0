/**
 * kdump-compressed files for the tests, written from the layout in
 * shared/spec/dump-formats.md (and makedumpfile's diskdump_mod.h field order):
 * block 0 the main header, block 1.. the sub-header with the notes and vmcoreinfo
 * after it, the two bitmaps, one 24-byte descriptor per dumped frame in frame
 * order, then the page data, the shared zero page first. `flatten` turns the
 * plain file into makedumpfile's flattened form.
 */
import { deflateSync } from 'node:zlib';
import snappy from 'snappyjs';
import { Bytes, SparseFile, patternFrame } from './sparse.js';

export type Compression = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd';
export const FLAG: Record<Compression, number> = { none: 0, zlib: 1, lzo: 2, snappy: 4, zstd: 0x20 };

export interface KdumpSpec {
  maxMapnr: number;
  /** Frames that exist (first bitmap), as [start, end) pfn runs. */
  exists: readonly (readonly [number, number])[];
  /** Frames dumped (second bitmap), ascending. */
  dumped: readonly number[];
  /** Contents of a dumped frame (default patternFrame). All-zero frames share one zero page. */
  content?: (pfn: number) => Uint8Array;
  /** How a frame is compressed: default 'none' for all. */
  compression?: Compression | ((pfn: number) => Compression);
  /** Compressors for LZO and zstd (tests pass real-tool output from fixtures). */
  compressors?: Partial<Record<Compression, (page: Uint8Array) => Uint8Array>>;
  notes?: Uint8Array;
  vmcoreinfo?: string;
  headerVersion?: number;
  utsMachine?: string;
  /** makedumpfile's dump level (-d), in the sub-header; default 0. */
  dumpLevel?: number;
  /** Header status bits (default: the compressions used). */
  status?: number;
  blockSize?: number;
}

export interface KdumpLayout {
  file: SparseFile;
  subHeader: number;
  noteOffset: number;
  bitmap1: number;
  bitmap2: number;
  descOffset: number;
  /** Descriptor file offset and data offset of each dumped frame. */
  desc: Map<number, { at: number; data: number; size: number; flags: number }>;
  zeroPage?: number;
}

const BLOCK = 4096;

export function compressWith(kind: Compression, page: Uint8Array, spec: Pick<KdumpSpec, 'compressors'>): Uint8Array {
  switch (kind) {
    case 'none':
      return page;
    case 'zlib':
      return new Uint8Array(deflateSync(page));
    case 'snappy':
      return snappy.compress(page);
    default: {
      const f = spec.compressors?.[kind];
      if (!f) throw new Error(`test writer: no ${kind} compressor given`);
      return f(page);
    }
  }
}

export function writeKdump(spec: KdumpSpec): KdumpLayout {
  const bs = spec.blockSize ?? BLOCK;
  const version = spec.headerVersion ?? 6;
  const content = spec.content ?? patternFrame;
  const notes = spec.notes ?? new Uint8Array(0);
  const vmci = new TextEncoder().encode(spec.vmcoreinfo ?? '');
  const subHeader = BLOCK;
  const noteOffset = subHeader + 104;
  const vmciOffset = noteOffset + notes.length;
  const subBlocks = Math.max(1, Math.ceil((104 + notes.length + vmci.length) / BLOCK));
  const bitmapBytes = Math.ceil(spec.maxMapnr / 8);
  const halfBlocks = Math.max(1, Math.ceil(bitmapBytes / BLOCK));
  const bitmap1 = BLOCK * (1 + subBlocks);
  const bitmap2 = bitmap1 + halfBlocks * BLOCK;
  const descOffset = bitmap2 + halfBlocks * BLOCK;
  let dataPos = descOffset + spec.dumped.length * 24;
  const file = new SparseFile();
  const used = new Set<Compression>();

  const kindOf = (pfn: number): Compression => (typeof spec.compression === 'function' ? spec.compression(pfn) : spec.compression ?? 'none');
  const desc = new Map<number, { at: number; data: number; size: number; flags: number }>();
  const descs = new Bytes(spec.dumped.length * 24);
  let zeroPage: number | undefined;
  spec.dumped.forEach((pfn, k) => {
    const page = content(pfn);
    let data: Uint8Array;
    let flags: number;
    let at: number;
    if (page.every((b) => b === 0)) {
      // One raw zero page shared by every all-zero frame, as QEMU writes it.
      if (zeroPage === undefined) {
        zeroPage = dataPos;
        file.put(dataPos, new Uint8Array(BLOCK));
        dataPos += BLOCK;
      }
      at = zeroPage;
      data = page;
      flags = 0;
    } else {
      const kind = kindOf(pfn);
      const c = compressWith(kind, page, spec);
      [data, flags] = c.length < BLOCK && kind !== 'none' ? [c, FLAG[kind]] : [page, 0];
      if (flags) used.add(kind);
      at = dataPos;
      file.put(at, data);
      dataPos += data.length;
    }
    descs.u64(k * 24, at).u32(k * 24 + 8, data.length).u32(k * 24 + 12, flags);
    desc.set(pfn, { at: descOffset + k * 24, data: at, size: data.length, flags });
  });

  const h = new Bytes(464);
  h.text(0, 'KDUMP   ').u32(8, version);
  if (spec.utsMachine) h.text(12 + 65 * 4, spec.utsMachine);
  const status = spec.status ?? [...used].reduce((s, k) => s | FLAG[k], 0);
  h.u32(424, status).u32(428, bs).u32(432, subBlocks).u32(436, 2 * halfBlocks);
  h.u32(440, Math.min(spec.maxMapnr, 0xffffffff)).u32(460, 1);
  file.put(0, h.buf);

  const sub = new Bytes(104);
  sub.u32(8, spec.dumpLevel ?? 0).u64(16, 0).u64(24, spec.maxMapnr);
  if (vmci.length) sub.u64(32, vmciOffset).u64(40, vmci.length);
  if (notes.length) sub.u64(48, noteOffset).u64(56, notes.length);
  sub.u64(80, 0).u64(88, spec.maxMapnr).u64(96, spec.maxMapnr);
  file.put(subHeader, sub.buf);
  if (notes.length) file.put(noteOffset, notes);
  if (vmci.length) file.put(vmciOffset, vmci);

  // Bitmaps, written a block at a time and only where a bit is set, so a 1 TiB machine's stay sparse.
  const setBits = (base: number, pfns: Iterable<number>) => {
    const blocks = new Map<number, Uint8Array>();
    for (const pfn of pfns) {
      const byte = pfn >> 3;
      const blk = Math.floor(byte / BLOCK);
      let b = blocks.get(blk);
      if (!b) blocks.set(blk, (b = new Uint8Array(BLOCK)));
      b[byte % BLOCK]! |= 1 << (pfn & 7);
    }
    for (const [blk, b] of blocks) file.put(base + blk * BLOCK, b);
  };
  setBits(bitmap1, (function* () {
    for (const [s, e] of spec.exists) for (let p = s; p < e; p++) yield p;
  })());
  setBits(bitmap2, spec.dumped);
  if (spec.dumped.length) file.put(descOffset, descs.buf);
  file.size = Math.max(file.size, dataPos, descOffset);
  return { file, subHeader, noteOffset, bitmap1, bitmap2, descOffset, desc, ...(zeroPage === undefined ? {} : { zeroPage }) };
}

export interface FlattenOptions {
  /** Split pieces into records of at most this many bytes (default 4096). */
  recordBytes?: number;
  /** Write records in reverse order (they may come in any order). */
  reverse?: boolean;
  /** Before the real records, write garbage at these plain offsets, which the real records then overwrite. */
  overwritten?: readonly { offset: number; length: number }[];
  /** Leave out the end record. */
  noEnd?: boolean;
}

export interface FlatLayout {
  file: SparseFile;
  /** File offset of each record header, in file order, with its plain offset and size. */
  records: { at: number; offset: number; size: number }[];
}

/** The flattened form of a plain kdump: 4096-byte header, then records, then the end record. */
export function flatten(plain: SparseFile, options: FlattenOptions = {}): FlatLayout {
  const max = options.recordBytes ?? 4096;
  const recs: { offset: number; bytes: Uint8Array }[] = [];
  for (const g of options.overwritten ?? []) recs.push({ offset: g.offset, bytes: new Uint8Array(g.length).fill(0xa5) });
  const real: { offset: number; bytes: Uint8Array }[] = [];
  for (const p of plain.pieces) {
    for (let o = 0; o < p.bytes.length; o += max) real.push({ offset: p.offset + o, bytes: p.bytes.subarray(o, o + max) });
  }
  if (options.reverse) real.reverse();
  for (const r of real) recs.push(r);
  const file = new SparseFile();
  const h = new Bytes(4096).text(0, 'makedumpfile').i64be(16, 1).i64be(24, 1);
  file.put(0, h.buf);
  let pos = 4096;
  const records: FlatLayout['records'] = [];
  for (const r of recs) {
    records.push({ at: pos, offset: r.offset, size: r.bytes.length });
    file.put(pos, new Bytes(16).i64be(0, r.offset).i64be(8, r.bytes.length).buf);
    file.put(pos + 16, r.bytes);
    pos += 16 + r.bytes.length;
  }
  if (!options.noEnd) file.put(pos, new Bytes(16).i64be(0, -1).i64be(8, -1).buf);
  return { file, records };
}
