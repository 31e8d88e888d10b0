// The reference twin of assembly/paging/index.ts: the page-table kernels of one
// backend object, each from the file that pairs with its assembly file
// (translate.ts, enumerate.ts, qemu-tlb.ts, qemu-mem.ts, memwalk-lines.ts, memwalk-json.ts, map.ts, contig.ts, relocate.ts).
import type { PagingKernels, BackendContext } from '../backend.js';
import { ReferenceTranslate } from './translate.js';
import { ReferenceEnumerate } from './enumerate.js';
import { ReferenceQemuTlb } from './qemu-tlb.js';
import { ReferenceQemuMem } from './qemu-mem.js';
import { ReferenceMemwalkLines } from './memwalk-lines.js';
import { ReferenceMemwalkJson } from './memwalk-json.js';
import { ReferenceMap } from './map.js';
import { ReferenceContig } from './contig.js';
import { ReferenceRelocate } from './relocate.js';

export class ReferencePaging extends ReferenceTranslate implements PagingKernels {
  private readonly enumerator: ReferenceEnumerate;
  private readonly tlb: ReferenceQemuTlb;
  private readonly mem: ReferenceQemuMem;
  private readonly lines: ReferenceMemwalkLines;
  private readonly json: ReferenceMemwalkJson;
  private readonly mapper: ReferenceMap;
  private readonly contig: ReferenceContig;
  private readonly relocator: ReferenceRelocate;

  constructor(ctx: BackendContext) {
    super(ctx);
    this.enumerator = new ReferenceEnumerate(ctx);
    this.tlb = new ReferenceQemuTlb(ctx);
    this.mem = new ReferenceQemuMem(ctx);
    this.lines = new ReferenceMemwalkLines(ctx);
    this.json = new ReferenceMemwalkJson(ctx);
    this.mapper = new ReferenceMap(ctx);
    this.contig = new ReferenceContig(ctx);
    this.relocator = new ReferenceRelocate(ctx);
  }

  enumStart(root: bigint): void {
    this.enumerator.enumStart(root);
  }

  enumNext(outPtr: number, max: number): number {
    return this.enumerator.enumNext(outPtr, max);
  }

  formatTlb(recPtr: number, n: number, outPtr: number, vaBits: number): number {
    return this.tlb.formatTlb(recPtr, n, outPtr, vaBits);
  }

  formatMem(recPtr: number, n: number, outPtr: number, vaBits: number, state: number): number {
    return this.mem.formatMem(recPtr, n, outPtr, vaBits, state);
  }

  formatLines(recPtr: number, n: number, outPtr: number, tails: number): number {
    return this.lines.formatLines(recPtr, n, outPtr, tails);
  }

  formatJson(recPtr: number, n: number, outPtr: number, tables: number, first: number): number {
    return this.json.formatJson(recPtr, n, outPtr, tables, first);
  }

  mapRange(root: bigint, va: bigint, pa: bigint, size: bigint, leafBits: bigint, pool: number, poolCount: number, dry: number, journal: number, journalBytes: number): number {
    return this.mapper.mapRange(root, va, pa, size, leafBits, pool, poolCount, dry, journal, journalBytes);
  }

  unmapRange(root: bigint, va: bigint, size: bigint, dry: number): number {
    return this.mapper.unmapRange(root, va, size, dry);
  }

  protectRange(root: bigint, va: bigint, size: bigint, set: bigint, clear: bigint, dry: number, journal: number, journalBytes: number): number {
    return this.mapper.protectRange(root, va, size, set, clear, dry, journal, journalBytes);
  }

  contigUpdate(root: bigint, va: bigint, size: bigint, set: number): number {
    return this.contig.contigUpdate(root, va, size, set);
  }

  contigCheckStart(root: bigint): void {
    this.contig.contigCheckStart(root);
  }

  contigCheckNext(outPtr: number, max: number, steps: number): number {
    return this.contig.contigCheckNext(outPtr, max, steps);
  }

  relocate(root: bigint, xenmap: bigint, delta: bigint, scratch: number, cap: number, dry: number): number {
    return this.relocator.relocate(root, xenmap, delta, scratch, cap, dry);
  }
}
