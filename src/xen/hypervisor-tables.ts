import type { Engine } from '../engine/engine.js';
import { InvalidInputError } from '../errors.js';
import { P, RW, PWT, PCD, PS, G, XD } from '../paging/formats/x86-bits.js';

/** Where Xen maps itself and the direct map on x86-64 (L4 slots 261 and 262). */
export const XEN_VIRT_START = 0xffff82d080000000n;
export const DIRECTMAP_VIRT_START = 0xffff830000000000n;
/** The linear page-table (self-map) slot of Xen's root table. */
export const LINEAR_PT_SLOT = 258;

export interface HypervisorTables {
  /** The image: text/data mapped by l2_xenmap, then the tables. */
  readonly image: { readonly start: bigint; readonly end: bigint };
  readonly root: bigint;
  readonly l2xenmap: bigint;
  /** Every table of the set. */
  readonly tables: readonly bigint[];
  /** Virtual range of the image (through l2_xenmap). */
  readonly xenVirt: { readonly start: bigint; readonly end: bigint };
}

const TABLE = P | RW;
const MiB = 1n << 20n, GiB = 1n << 30n;

/**
 * Build a hypervisor-like boot table set in an 8 MiB image at `base` (2 MiB
 * aligned), as move_xen finds it: a root with a self-map in slot 258; the image's
 * 4 MiB of text/data mapped by l2_xenmap with 2 MiB leaves at XEN_VIRT_START; a
 * direct map with a 1 GiB leaf, 2 MiB leaves and an L1 table of 4 KiB fixmap pages.
 */
export function buildHypervisorTables(engine: Engine, base: bigint): HypervisorTables {
  if (base % (2n * MiB) !== 0n || base + 8n * MiB > BigInt(engine.phys.size)) {
    throw new InvalidInputError(`hypervisor tables: base ${base} must be 2 MiB aligned with 8 MiB of image after it`, { input: 'base' });
  }
  const t = (i: number) => base + 4n * MiB + BigInt(i) * 4096n;
  const [root, l3xen, l2xenmap, l3direct, l2direct, l1fixmap] = [0, 1, 2, 3, 4, 5].map(t) as [bigint, bigint, bigint, bigint, bigint, bigint];
  const phys = engine.phys;
  phys.fill(base, 8 * 2 ** 20);
  const slot = (table: bigint, i: number | bigint, v: bigint) => phys.write64(table + BigInt(i) * 8n, v);
  const idx = (va: bigint, shift: bigint) => (va >> shift) & 511n;
  slot(root, LINEAR_PT_SLOT, root | TABLE); // the self-map
  slot(root, idx(XEN_VIRT_START, 39n), l3xen | TABLE);
  slot(l3xen, idx(XEN_VIRT_START, 30n), l2xenmap | TABLE);
  // The image's text/data: two 2 MiB leaves, read-only text then writable data.
  slot(l2xenmap, idx(XEN_VIRT_START, 21n), base | P | PS | G);
  slot(l2xenmap, idx(XEN_VIRT_START, 21n) + 1n, (base + 2n * MiB) | P | RW | PS | G | XD);
  slot(root, idx(DIRECTMAP_VIRT_START, 39n), l3direct | TABLE);
  slot(l3direct, 0, 0n | P | RW | PS | XD); // [0, 1 GiB) with one 1 GiB leaf
  slot(l3direct, 1, l2direct | TABLE);
  slot(l2direct, 0, GiB | P | RW | PS | XD);
  slot(l2direct, 1, (GiB + 2n * MiB) | P | RW | PS | XD);
  slot(l2direct, 2, l1fixmap | TABLE);
  slot(l1fixmap, 0, 0xfee00000n | P | RW | PWT | PCD | XD); // LAPIC, uncached
  slot(l1fixmap, 1, 0xfec00000n | P | RW | PWT | PCD | XD); // IOAPIC
  return {
    image: { start: base, end: base + 8n * MiB },
    root,
    l2xenmap,
    tables: [root, l3xen, l2xenmap, l3direct, l2direct, l1fixmap],
    xenVirt: { start: XEN_VIRT_START, end: XEN_VIRT_START + 4n * MiB },
  };
}
