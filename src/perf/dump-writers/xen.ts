/**
 * Xen `xl dump-core` files (layout from xc_core.h, shared/spec/dump-formats.md):
 * an ELF64 ET_CORE with no program headers and the sections .note.Xen (header
 * note 0x2000001 {magic, nr_vcpus, nr_pages, page_size}, format version note
 * 0x2000003), .xen_prstatus (5168-byte x86_64 vcpu_guest_context per vCPU,
 * ctrlreg[] at 4984), .xen_shared_info, .xen_p2m ({pfn, gmfn} pairs) or .xen_pfn,
 * and .xen_pages (page i is entry i's).
 */
import { writeElfCore } from './elf.js';
import type { ElfCoreLayout } from './elf.js';
import { concat, elfNote } from './notes.js';
import { Bytes, patternFrame } from './sparse.js';

export interface XenSpec {
  hvm?: boolean;
  /** One entry per stored page, in file order: guest pfn and (PV) machine frame; content patternFrame(pfn). */
  pages: readonly { pfn: bigint | number; mfn?: bigint | number }[];
  vcpus: readonly { cr0: bigint; cr3: bigint; cr4: bigint }[];
  /** Override xch_nr_pages (default pages.length) or the magic. */
  nrPages?: number;
  magic?: bigint;
}

export const CONTEXT_BYTES = 5168;

export function writeXenDumpCore(spec: XenSpec): ElfCoreLayout {
  const n = spec.nrPages ?? spec.pages.length;
  const header = new Bytes(32)
    .u64(0, spec.magic ?? (spec.hvm ? 0xf00febeen : 0xf00febedn))
    .u64(8, spec.vcpus.length)
    .u64(16, n)
    .u64(24, 4096).buf;
  const notes = concat([elfNote('Xen', 0x2000000, new Uint8Array(0)), elfNote('Xen', 0x2000001, header), elfNote('Xen', 0x2000003, new Bytes(8).u64(0, 1).buf)]);
  const prstatus = new Bytes(CONTEXT_BYTES * spec.vcpus.length);
  spec.vcpus.forEach((v, k) => {
    const o = k * CONTEXT_BYTES + 4984;
    prstatus.u64(o, v.cr0).u64(o + 24, v.cr3).u64(o + 32, v.cr4);
  });
  const table = new Bytes(spec.pages.length * (spec.hvm ? 8 : 16));
  spec.pages.forEach((p, i) => {
    if (spec.hvm) table.u64(i * 8, p.pfn);
    else table.u64(i * 16, p.pfn).u64(i * 16 + 8, p.mfn ?? 0xffffffffffffffffn);
  });
  const pages = new Uint8Array(spec.pages.length * 4096);
  spec.pages.forEach((p, i) => {
    if (BigInt(p.pfn) !== 0xffffffffffffffffn) pages.set(patternFrame(Number(p.pfn)), i * 4096);
  });
  return writeElfCore({
    sections: [
      { name: '.note.Xen', type: 7, data: notes },
      { name: '.xen_prstatus', type: 1, data: prstatus.buf },
      { name: '.xen_shared_info', type: 1, data: new Uint8Array(4096) },
      { name: spec.hvm ? '.xen_pfn' : '.xen_p2m', type: 1, data: table.buf },
      { name: '.xen_pages', type: 1, data: pages },
    ],
  });
}
