// Large dumps for the startup benchmarks, written as sparse files (ftruncate and a
// few positioned writes: a 12 GiB dump costs a few hundred KiB of disk): x86-64
// 4-level tables in the top frames of physical memory mapping `pages` 4 KiB pages
// of the direct map, as a plain ELF core (one PT_LOAD over all of RAM, no vCPU
// notes: the root comes with --cr3) and as a kdump (zlib pages, only the table
// frames dumped, as makedumpfile leaves a machine whose memory is free).
import { writeElfCore } from './dump-writers/elf.js';
import { writeKdump } from './dump-writers/kdump.js';

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

/** A plain x86-64 ELF core: one PT_LOAD holding physical [0, ramBytes) at file offset 4096. */
export function writeElfDump(path: string, ramBytes: number, t: DumpTables): void {
  const { file, segmentOffsets } = writeElfCore({ segments: [{ pa: 0, fileBytes: ramBytes }], dataOffset: PAGE });
  for (const [pfn, bytes] of t.frames) file.put(segmentOffsets[0]! + pfn * PAGE, bytes);
  file.writeTo(path);
}

/**
 * A plain kdump-compressed file: every frame exists, only the table frames are
 * dumped (zlib), the rest excluded as `makedumpfile -d 31` leaves free memory.
 */
export function writeKdumpDump(path: string, ramBytes: number, t: DumpTables): void {
  const maxMapnr = ramBytes / PAGE;
  writeKdump({ maxMapnr, exists: [[0, maxMapnr]], dumped: [...t.frames.keys()], content: (pfn) => t.frames.get(pfn)!, compression: 'zlib', dumpLevel: 31, utsMachine: 'x86_64' }).file.writeTo(path);
}
