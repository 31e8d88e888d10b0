/**
 * Xen 4.17's physical and virtual memory arrangement for the initial PV domain
 * (dom0_construct_pv), 64-bit and compat (32-bit PAE), and the two shapes of the
 * printout Xen writes about it. The rules are those of
 * shared/spec/dom0-layout.md; arithmetic wraps at 64 bits like Xen's
 * `unsigned long`.
 */
import { InvalidInputError, MemwalkError } from '../errors.js';
import { hex, hex16 } from '../util/numbers.js';
import { computeNrPages, defaultDom0Mem, parseDom0Mem, type Dom0MemSpec } from './dom0-mem.js';
import { PAGE_SIZE, pageTableCount, placePageTables } from './page-table-count.js';

const U64 = (1n << 64n) - 1n;
const wrap = (x: bigint): bigint => x & U64;
const pup = (x: bigint): bigint => wrap(x + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
const pfnUp = (x: bigint): bigint => (x + PAGE_SIZE - 1n) >> 12n;

/** sizeof(struct start_info) and sizeof(struct dom0_vga_console_info) on x86-64. */
export const START_INFO_SIZE = 0x490n;
export const VGA_CONSOLE_INFO_SIZE = 0x28n;
/** Larger dom0s would need more pages than a 52-bit physical address space has. */
const MAX_PAGES = 1n << 40n;

/**
 * Xen would stop here with panic(): the inputs describe a boot that never gets
 * as far as printing the arrangement. `details.panic` holds Xen's own words.
 */
export class XenPanicError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid-input', message, details);
  }
}

export interface Dom0LayoutInputs {
  /** v_start: the VIRT_BASE note (0 when absent). */
  virtBase: bigint;
  /** virt_kstart / virt_kend: the loaded kernel's virtual range. */
  kernelStart: bigint;
  kernelEnd: bigint;
  /** virt_entry. */
  entry: bigint;
  /** INIT_P2M note; null/undefined when the kernel has none. Ignored (with a message) for compat guests. */
  p2mBase?: bigint | null;
  /** The kernel has a non-zero MOD_START_PFN note: the initrd is not mapped. */
  unmappedInitrd?: boolean;
  /** 32-bit PAE guest (needs Xen with CONFIG_PV32). */
  compat?: boolean;
  /** Length of the initrd module in bytes; null/undefined when there is no initrd module at all. */
  initrdLength?: bigint | null;
  /** nr_pages directly ... */
  nrPages?: bigint;
  /** ... or from a dom0_mem= value (parsed or text) and the host's available pages. */
  dom0Mem?: string | Dom0MemSpec;
  avail?: bigint;
  /** Physical start of the dom0 allocation (host-dependent); default 0. */
  allocBase?: bigint;
  /** Physical address of the initrd module (host-dependent); default 0. */
  initrdBase?: bigint;
  /** Xen running as a PV shim: Xenstore and console pages follow the start info. */
  pvShim?: boolean;
}

export interface Range {
  start: bigint;
  end: bigint;
}

export interface Dom0Layout {
  compat: boolean;
  pvShim: boolean;
  nrPages: bigint;
  /** d->max_pages when nr_pages came from dom0_mem (else undefined). */
  maxPages?: bigint;
  /** Lines Xen prints before the arrangement (clipping, ignored P2M base). */
  messages: string[];

  kernel: Range;
  /** Virtual initrd as Xen computes it; [0, 0) when unmapped. */
  initrd: Range;
  initrdMapped: boolean;
  /** The initrd module, if any: its length and physical placement. */
  initrdModule: { length: bigint; phys: Range } | null;
  /** Phys-Mach map as printed (at the INIT_P2M base when the kernel has one). */
  p2m: Range;
  /** Start info as printed (64-bit end includes the VGA console info outside shim mode). */
  startInfo: Range;
  xenstore: Range;
  console: Range;
  pageTables: Range & { pages: bigint };
  bootStack: Range;
  total: Range;
  entry: bigint;

  order: number;
  allocPages: bigint;
  alloc: Range;
  pagesToBeAllocated: bigint;
}

function requireU64(v: bigint, name: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64) {
    throw new InvalidInputError(`${name}: ${String(v)} is not a 64-bit unsigned value`, { input: name });
  }
  return v;
}

/** Xen's get_order_from_bytes(): smallest k with 4096 << k >= size (size 0 wraps to order 52). */
export function orderFromBytes(size: bigint): number {
  let s = wrap(size - 1n) >> 12n;
  let order = 0;
  while (s) {
    s >>= 1n;
    order++;
  }
  return order;
}

function resolveNrPages(inp: Dom0LayoutInputs, compat: boolean, hasInitP2m: boolean, initrdLength: bigint): { nr: bigint; max?: bigint; messages: string[] } {
  if (inp.nrPages !== undefined) {
    if (inp.dom0Mem !== undefined) {
      throw new InvalidInputError('nr-pages: give either nr_pages or dom0_mem with avail, not both', { input: 'nr-pages' });
    }
    const nr = requireU64(inp.nrPages, 'nr-pages');
    if (nr > MAX_PAGES) throw new InvalidInputError(`nr-pages: ${nr} is more than 2^40 pages (4 PiB)`, { input: 'nr-pages' });
    return { nr, messages: [] };
  }
  if (inp.avail === undefined) {
    throw new InvalidInputError('avail: needed to size dom0 (or give nr_pages)', { input: 'avail' });
  }
  const avail = requireU64(inp.avail, 'avail');
  if (avail > MAX_PAGES) throw new InvalidInputError(`avail: ${avail} is more than 2^40 pages (4 PiB)`, { input: 'avail' });
  const spec = inp.dom0Mem === undefined ? defaultDom0Mem() : typeof inp.dom0Mem === 'string' ? parseDom0Mem(inp.dom0Mem) : inp.dom0Mem;
  const r = computeNrPages(spec, avail, {
    virtBase: inp.virtBase,
    kernelEnd: inp.kernelEnd,
    unmappedInitrd: inp.unmappedInitrd ?? false,
    hasInitP2m,
    compat,
    initrdLength,
  });
  return { nr: r.nrPages, max: r.maxPages, messages: r.messages };
}

/** Compute the whole arrangement; throws InvalidInputError for impossible inputs and XenPanicError where Xen panics. */
export function dom0Layout(inp: Dom0LayoutInputs): Dom0Layout {
  const virtBase = requireU64(inp.virtBase, 'virt-base');
  const kstart = requireU64(inp.kernelStart, 'kernel-start');
  const kend = requireU64(inp.kernelEnd, 'kernel-end');
  const entry = requireU64(inp.entry, 'entry');
  const compat = inp.compat ?? false;
  const pvShim = inp.pvShim ?? false;
  const unmapped = inp.unmappedInitrd ?? false;
  let p2mBase = inp.p2mBase ?? null;
  if (p2mBase !== null) requireU64(p2mBase, 'p2m-base');

  // libelf refuses these kernels before any layout is computed (elf_xen_addr_calc_check).
  const outOfBounds = (what: string) =>
    new InvalidInputError(`${what} (Xen: "ELF start or entries are out of bounds")`, { input: 'kernel' });
  if (kstart > kend) throw outOfBounds(`kernel-start ${hex(kstart)} is above kernel-end ${hex(kend)}`);
  if (entry < kstart || entry > kend) throw outOfBounds(`entry ${hex(entry)} is outside the kernel [${hex(kstart)}, ${hex(kend)}]`);
  if (virtBase > kstart) throw outOfBounds(`virt-base ${hex(virtBase)} is above kernel-start ${hex(kstart)}`);
  if (p2mBase !== null && p2mBase >= kstart && p2mBase < kend) {
    throw new InvalidInputError(`p2m-base ${hex(p2mBase)} lies inside the kernel [${hex(kstart)}, ${hex(kend)}) (Xen: "P->M table base is out of bounds")`, { input: 'p2m-base' });
  }

  const hasModule = inp.initrdLength !== undefined && inp.initrdLength !== null;
  const initrdLen = hasModule ? requireU64(inp.initrdLength!, 'initrd-size') : 0n;
  // Boot modules carry 32-bit lengths (multiboot module_t).
  if (initrdLen > 0xffffffffn) throw new InvalidInputError(`initrd-size: ${initrdLen} bytes does not fit a 32-bit module length`, { input: 'initrd-size' });

  const hasInitP2m = p2mBase !== null;
  const sized = resolveNrPages(inp, compat, hasInitP2m, initrdLen);
  const nrPages = sized.nr;
  const messages = [...sized.messages];
  // Xen sizes dom0 before it drops a compat kernel's P2M base, so only the layout ignores it.
  if (compat && p2mBase !== null) {
    messages.push('P2M table base ignored');
    p2mBase = null;
  }

  // Virtual layout, piece after piece from the kernel end upward.
  const initrd: Range = unmapped ? { start: 0n, end: 0n } : { start: pup(kend), end: wrap(pup(kend) + initrdLen) };
  const p2mStart = unmapped ? pup(kend) : pup(initrd.end);
  const p2mLen = wrap(nrPages * (compat ? 4n : 8n));
  const p2mPlacedEnd = p2mBase !== null ? p2mStart : wrap(p2mStart + p2mLen);
  const siStart = pup(p2mPlacedEnd);
  let siEnd = wrap(siStart + START_INFO_SIZE);
  let xenstore: Range = { start: 0n, end: 0n };
  let consoleRing: Range = { start: 0n, end: 0n };
  let vptStart: bigint;
  if (pvShim) {
    xenstore = { start: pup(siEnd), end: wrap(pup(siEnd) + PAGE_SIZE) };
    consoleRing = { start: xenstore.end, end: wrap(xenstore.end + PAGE_SIZE) };
    vptStart = consoleRing.end;
  } else {
    vptStart = pup(siEnd);
    siEnd = wrap(siEnd + VGA_CONSOLE_INFO_SIZE);
  }
  const n = pageTableCount({ vStart: virtBase, vptStart, compat });
  const area = placePageTables(vptStart, n);

  // Physical allocation: one 2^order block; a mapped initrd's pages are reused in place.
  let count = wrap(area.vEnd - virtBase);
  // Xen tests vinitrd_start, not "mapped": a mapped initrd that wrapped to 0 is not subtracted.
  if (initrd.start !== 0n) count = wrap(count - pup(initrdLen));
  const order = orderFromBytes(count);
  const allocPages = 1n << BigInt(order);
  if (allocPages + pfnUp(initrdLen) > nrPages) {
    throw new XenPanicError(
      `nr-pages: ${nrPages} pages cannot hold the order-${order} allocation (${allocPages} pages) plus ${pfnUp(initrdLen)} initrd pages (Xen panics: "Domain 0 allocation is too small for kernel image")`,
      { input: 'nr-pages', panic: 'Domain 0 allocation is too small for kernel image', nrPages, order, allocPages },
    );
  }

  const allocBase = requireU64(inp.allocBase ?? 0n, 'alloc-base');
  const blockBytes = allocPages * PAGE_SIZE;
  if (allocBase % blockBytes !== 0n) {
    throw new InvalidInputError(`alloc-base: ${hex(allocBase)} is not aligned to the ${hex(blockBytes)}-byte order-${order} block (Xen's buddy allocator aligns it naturally)`, { input: 'alloc-base' });
  }
  if (allocBase + blockBytes > U64 + 1n) {
    throw new InvalidInputError(`alloc-base: ${hex(allocBase)} + ${hex(blockBytes)} runs past the 64-bit physical address space`, { input: 'alloc-base' });
  }
  let initrdModule: Dom0Layout['initrdModule'] = null;
  if (hasModule) {
    const base = requireU64(inp.initrdBase ?? 0n, 'initrd-addr');
    if (base % PAGE_SIZE !== 0n) throw new InvalidInputError(`initrd-addr: ${hex(base)} is not page aligned (modules start on a page frame)`, { input: 'initrd-addr' });
    if (base + initrdLen > U64) throw new InvalidInputError(`initrd-addr: ${hex(base)} + ${hex(initrdLen)} runs past the 64-bit physical address space`, { input: 'initrd-addr' });
    initrdModule = { length: initrdLen, phys: { start: base, end: base + initrdLen } };
  }
  const owned = allocPages + pfnUp(initrdLen);

  return {
    compat,
    pvShim,
    nrPages,
    ...(sized.max !== undefined ? { maxPages: sized.max } : {}),
    messages,
    kernel: { start: kstart, end: kend },
    initrd,
    initrdMapped: !unmapped,
    initrdModule,
    p2m: p2mBase !== null ? { start: p2mBase, end: wrap(p2mBase + nrPages * 8n) } : { start: p2mStart, end: p2mPlacedEnd },
    startInfo: { start: siStart, end: siEnd },
    xenstore,
    console: consoleRing,
    pageTables: { start: vptStart, end: area.vptEnd, pages: n },
    bootStack: { start: area.stackStart, end: area.stackEnd },
    total: { start: virtBase, end: area.vEnd },
    entry,
    order,
    allocPages,
    alloc: { start: allocBase, end: allocBase + blockBytes },
    pagesToBeAllocated: nrPages - owned,
  };
}

export type PrintShape = '4.17' | '4.15';
export const PRINT_SHAPES: readonly PrintShape[] = ['4.17', '4.15'];

/**
 * The PHYSICAL / VIRTUAL MEMORY ARRANGEMENT block, line by line, as Xen prints
 * it. 4.17 prints the virtual initrd only when it is non-empty and the Xenstore
 * and console rings only in shim mode; 4.11-4.15 always printed all of them.
 */
export function formatArrangement(l: Dom0Layout, shape: PrintShape = '4.17'): string[] {
  const r = (x: Range) => `${hex16(x.start)}->${hex16(x.end)}`;
  const lines: string[] = ['PHYSICAL MEMORY ARRANGEMENT:'];
  let alloc = ` Dom0 alloc.:   ${r(l.alloc)}`;
  if (l.pagesToBeAllocated > 0n) alloc += ` (${l.pagesToBeAllocated} pages to be allocated)`;
  lines.push(alloc);
  if (l.initrdModule) lines.push(` Init. ramdisk: ${r(l.initrdModule.phys)}`);
  lines.push('VIRTUAL MEMORY ARRANGEMENT:');
  lines.push(` Loaded kernel: ${r(l.kernel)}`);
  if (shape === '4.15' || l.initrd.end > l.initrd.start) lines.push(` Init. ramdisk: ${r(l.initrd)}`);
  lines.push(` Phys-Mach map: ${r(l.p2m)}`);
  lines.push(` Start info:    ${r(l.startInfo)}`);
  if (shape === '4.15' || l.pvShim) {
    lines.push(` Xenstore ring: ${r(l.xenstore)}`);
    lines.push(` Console ring:  ${r(l.console)}`);
  }
  lines.push(` Page tables:   ${r(l.pageTables)}`);
  lines.push(` Boot stack:    ${r(l.bootStack)}`);
  lines.push(` TOTAL:         ${r(l.total)}`);
  lines.push(` ENTRY ADDRESS: ${hex16(l.entry)}`);
  return lines;
}

/** The machine-readable form: addresses as "0x..." strings, counts as numbers. */
export function layoutJson(l: Dom0Layout): Record<string, unknown> {
  const r = (x: Range) => ({ start: hex(x.start), end: hex(x.end) });
  return {
    kernel: r(l.kernel),
    initrd: l.initrdMapped ? r(l.initrd) : null,
    p2m: r(l.p2m),
    startInfo: r(l.startInfo),
    ...(l.pvShim ? { xenstore: r(l.xenstore), console: r(l.console) } : {}),
    pageTables: { ...r(l.pageTables), pages: Number(l.pageTables.pages) },
    bootStack: r(l.bootStack),
    total: r(l.total),
    entry: hex(l.entry),
    nrPages: Number(l.nrPages),
    allocPages: Number(l.allocPages),
    order: l.order,
    pagesToBeAllocated: Number(l.pagesToBeAllocated),
    alloc: r(l.alloc),
    initrdModule: l.initrdModule ? { length: Number(l.initrdModule.length), ...r(l.initrdModule.phys) } : null,
    compat: l.compat,
    messages: l.messages,
  };
}
