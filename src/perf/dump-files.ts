// Large dumps for the startup benchmarks, written as sparse files (ftruncate and a
// few positioned writes: a 12 GiB dump costs a few hundred KiB of disk): x86-64
// 4-level tables in the top frames of physical memory mapping `pages` 4 KiB pages
// of the direct map, as a plain ELF core (one PT_LOAD over all of RAM, no vCPU
// notes: the root comes with --cr3) and as a kdump (zlib pages, only the table
// frames dumped, as makedumpfile leaves a machine whose memory is free).
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const PAGE = 4096;
export const BENCH_DUMP_VA = 0xffff_8880_0000_0000n;

export interface DumpTables {
  /** Frame number of the root table (the top frame). */
  readonly rootPfn: number;
  /** Table frames, ascending, and their contents. */
  readonly frames: Map<number, Uint8Array>;
  /** Mappings made (4 KiB leaves at BENCH_DUMP_VA mapping physical 0 on). */
  readonly pages: number;
}

/** x86-64 tables in the top frames of `ramBytes` of RAM, mapping `pages` 4 KiB pages (at most 1 GiB). */
export function topTables(ramBytes: number, pages: number): DumpTables {
  if (pages > 512 * 512) throw new Error('topTables: at most 1 GiB of 4 KiB pages');
  const top = ramBytes / PAGE - 1;
  const frames = new Map<number, Uint8Array>();
  const table = (pfn: number) => {
    let t = frames.get(pfn);
    if (!t) frames.set(pfn, (t = new Uint8Array(PAGE)));
    return new DataView(t.buffer);
  };
  const entry = (pfn: number, i: number, target: number) => table(pfn).setBigUint64(i * 8, (BigInt(target) << 12n) | 0x63n, true);
  const [pml4, pdpt, pd] = [top, top - 1, top - 2];
  entry(pml4, Number((BENCH_DUMP_VA >> 39n) & 511n), pdpt);
  entry(pdpt, Number((BENCH_DUMP_VA >> 30n) & 511n), pd);
  for (let i = 0; i < pages; i++) {
    const pt = top - 3 - Math.floor(i / 512);
    if (i % 512 === 0) entry(pd, Number((BENCH_DUMP_VA >> 21n) & 511n) + i / 512, pt);
    entry(pt, i % 512, i);
  }
  return { rootPfn: top, frames: new Map([...frames].sort((a, b) => a[0] - b[0])), pages };
}

function writeSparse(path: string, size: number, pieces: readonly [number, Uint8Array][]): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const [at, bytes] of pieces) writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

/** A plain x86-64 ELF core: one PT_LOAD holding physical [0, ramBytes) at file offset 4096. */
export function writeElfDump(path: string, ramBytes: number, t: DumpTables): void {
  const h = new DataView(new ArrayBuffer(64 + 56));
  [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1].forEach((b, i) => h.setUint8(i, b));
  h.setUint16(16, 4, true); // ET_CORE
  h.setUint16(18, 62, true); // EM_X86_64
  h.setUint32(20, 1, true);
  h.setBigUint64(32, 64n, true); // e_phoff
  h.setUint16(52, 64, true);
  h.setUint16(54, 56, true);
  h.setUint16(56, 1, true);
  h.setUint16(58, 64, true);
  const p = 64;
  h.setUint32(p, 1, true); // PT_LOAD
  h.setUint32(p + 4, 6, true);
  h.setBigUint64(p + 8, BigInt(PAGE), true);
  h.setBigUint64(p + 32, BigInt(ramBytes), true);
  h.setBigUint64(p + 40, BigInt(ramBytes), true);
  h.setBigUint64(p + 48, BigInt(PAGE), true);
  writeSparse(path, PAGE + ramBytes, [[0, new Uint8Array(h.buffer)], ...[...t.frames].map(([pfn, b]) => [PAGE + pfn * PAGE, b] as [number, Uint8Array])]);
}

/**
 * A plain kdump-compressed file (header version 6): every frame exists, only the
 * table frames are dumped (zlib), the rest excluded as makedumpfile -d 31 leaves
 * free memory.
 */
export function writeKdumpDump(path: string, ramBytes: number, t: DumpTables): void {
  const maxMapnr = ramBytes / PAGE;
  const bitmapBytes = Math.ceil(maxMapnr / 8);
  const halfBlocks = Math.ceil(bitmapBytes / PAGE);
  const bitmap1 = 2 * PAGE;
  const bitmap2 = bitmap1 + halfBlocks * PAGE;
  const descOffset = bitmap2 + halfBlocks * PAGE;
  const dumped = [...t.frames.keys()];
  const pieces: [number, Uint8Array][] = [];
  const h = new DataView(new ArrayBuffer(464));
  'KDUMP   '.split('').forEach((c, i) => h.setUint8(i, c.charCodeAt(0)));
  h.setUint32(8, 6, true);
  'x86_64'.split('').forEach((c, i) => h.setUint8(12 + 65 * 4 + i, c.charCodeAt(0)));
  h.setUint32(424, 1, true); // zlib
  h.setUint32(428, PAGE, true);
  h.setUint32(432, 1, true); // sub-header blocks
  h.setUint32(436, 2 * halfBlocks, true);
  h.setUint32(440, Math.min(maxMapnr, 0xffffffff), true);
  h.setUint32(460, 1, true);
  pieces.push([0, new Uint8Array(h.buffer)]);
  const sub = new DataView(new ArrayBuffer(104));
  sub.setInt32(8, 31, true);
  sub.setBigUint64(24, BigInt(maxMapnr), true);
  sub.setBigUint64(88, BigInt(maxMapnr), true);
  sub.setBigUint64(96, BigInt(maxMapnr), true);
  pieces.push([PAGE, new Uint8Array(sub.buffer)]);
  // Every frame exists: the first bitmap is all ones up to max_mapnr.
  const exists = new Uint8Array(bitmapBytes).fill(0xff);
  if (maxMapnr % 8) exists[bitmapBytes - 1] = (1 << maxMapnr % 8) - 1;
  pieces.push([bitmap1, exists]);
  const bits = new Map<number, Uint8Array>();
  for (const pfn of dumped) {
    const blk = Math.floor(pfn / 8 / PAGE);
    let b = bits.get(blk);
    if (!b) bits.set(blk, (b = new Uint8Array(PAGE)));
    b[Math.floor(pfn / 8) % PAGE]! |= 1 << pfn % 8;
  }
  for (const [blk, b] of bits) pieces.push([bitmap2 + blk * PAGE, b]);
  const desc = new DataView(new ArrayBuffer(dumped.length * 24));
  let at = descOffset + dumped.length * 24;
  dumped.forEach((pfn, k) => {
    const z = new Uint8Array(deflateSync(t.frames.get(pfn)!));
    desc.setBigUint64(k * 24, BigInt(at), true);
    desc.setUint32(k * 24 + 8, z.length, true);
    desc.setUint32(k * 24 + 12, 1, true);
    pieces.push([at, z]);
    at += z.length;
  });
  pieces.push([descOffset, new Uint8Array(desc.buffer)]);
  writeSparse(path, at, pieces);
}
