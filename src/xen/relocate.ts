import * as A from '../abi.js';
import type { Engine } from '../engine/engine.js';
import { physicalLimit, writing } from '../core/context.js';
import type { PagingFormat } from '../paging/format.js';
import { x86_64 } from '../paging/formats/x86.js';
import { prepareWalk } from '../paging/prepare.js';
import { pagingFormat } from '../paging/arguments.js';
import { InvalidInputError, MappingConflictError, OutsideImageError, CapacityError } from '../errors.js';
import { hex } from '../util/numbers.js';

export interface RelocateOptions {
  /** Physical address of the root table (before the move). */
  readonly root: bigint;
  /** Physical address of l2_xenmap, the table mapping the image with 2 MiB leaves (before the move). */
  readonly l2xenmap: bigint;
  /** Bytes the image moves by (a multiple of 2 MiB; may be negative). */
  readonly delta: bigint;
  /**
   * The image [start, end) to copy to start + delta first, as move_xen's memcpy
   * does. Without it, the tables are taken as already copied.
   */
  readonly image?: { readonly start: bigint; readonly end: bigint };
  readonly format?: PagingFormat;
}

export interface RelocationReport {
  /** Tables fixed (each once). */
  readonly tables: number;
  /** Entries that got delta added (non-leaf pass and l2_xenmap pass). */
  readonly entries: number;
  readonly root: bigint;
  readonly l2xenmap: bigint;
}

const TWO_MIB = 1n << 21n;
const BELOW_TWO_MIB = TWO_MIB - 1n;
/** The walk options of the default format, one object for every call. */
const X86_64_ONLY = { format: x86_64 };
/** Tables one relocation may visit: a boot table set has a few dozen. */
const MAX_TABLES = 4096;

/**
 * Seed 000's move_xen: copy the image `delta` bytes away (optional), then fix
 * its boot page tables in the copy. A 4 KiB mapping in l2_xenmap, a table
 * outside the image, or bad arguments are reported before anything is modified.
 */
export function relocateHypervisorTables(engine: Engine, o: RelocateOptions): RelocationReport {
  const format = o.format === undefined ? x86_64 : pagingFormat(o.format);
  // The walk block only (no walk options apply): the call's cost is the kernel's.
  const p = prepareWalk(engine, format === x86_64 ? X86_64_ONLY : { format });
  if (p.levels.length < 3 || p.levels[p.levels.length - 2]!.shift !== 21) {
    throw new InvalidInputError(`relocate: format ${format.name} has no 2 MiB level for l2_xenmap`);
  }
  const delta = o.delta;
  if ((delta & BELOW_TWO_MIB) !== 0n) throw new InvalidInputError(`relocate: delta ${hex(delta)} must be a multiple of 2 MiB (l2_xenmap maps the image with 2 MiB leaves)`, { input: 'delta' });
  const root = BigInt.asUintN(64, o.root + delta);
  const l2xenmap = BigInt.asUintN(64, o.l2xenmap + delta);
  const delta64 = BigInt.asUintN(64, delta);
  if (o.image) {
    const ram = BigInt(physicalLimit(engine));
    const { start, end } = o.image;
    if (start < 0n || end <= start || end > ram) throw new InvalidInputError(`relocate: image [${hex(start)}, ${hex(end)}) is not a range inside the RAM image`, { input: 'image' });
    const to = start + delta;
    if (to < 0n || to + (end - start) > ram) throw new OutsideImageError(`relocate: the copy [${hex(to)}, ${hex(to + end - start)}) would lie outside the RAM image (${hex(ram)} bytes)`);
    if (to < end && start < to + (end - start)) throw new InvalidInputError(`relocate: old [${hex(start)}, ${hex(end)}) and new [${hex(to)}, ${hex(to + end - start)}) locations overlap`, { input: 'delta' });
    // Check on the original (delta 0 walks the same structure) before copying anything.
    run(engine, o.root, o.l2xenmap, 0n, A.RELOC_DRY);
    engine.phys.write(to, engine.phys.read(start, Number(end - start)));
    run(engine, root, l2xenmap, delta64, A.RELOC_APPLY);
  } else {
    // The check and the fix-up in one kernel call.
    run(engine, root, l2xenmap, delta64, A.RELOC_CHECKED);
  }
  const v = engine.view;
  return {
    tables: v.getUint32(A.RES + A.RES_TABLES_VISITED, true),
    entries: v.getUint32(A.RES + A.RES_RELOCATED, true),
    root,
    l2xenmap,
  };
}

/** One kernel call; a refusal becomes its typed error. */
function run(engine: Engine, root: bigint, xenmap: bigint, delta: bigint, mode: number): void {
  const scratch = engine.layout.ioBase;
  const cap = Math.min(MAX_TABLES, Math.floor(engine.layout.ioBytes / 24));
  const k = engine.backend.paging;
  const rc = engine.backing ? writing(engine, () => k.relocate(root, xenmap, delta, scratch, cap, mode)) : k.relocate(root, xenmap, delta, scratch, cap, mode);
  if (rc !== A.RELOC_OK) throw relocationError(engine, rc);
}

function relocationError(engine: Engine, rc: number): Error {
  const v = engine.view;
  const at = v.getBigUint64(A.RES + A.RES_VA, true);
  const ea = v.getBigUint64(A.RES + A.RES_ENTRY_ADDR, true);
  const e = v.getBigUint64(A.RES + A.RES_ENTRY_VALUE, true);
  switch (rc) {
    case A.RELOC_XENMAP_4K:
      return new MappingConflictError(
        `relocate: l2_xenmap slot ${at} (entry ${hex(ea)} = ${hex(e)}) points to a 4 KiB page table, not a 2 MiB leaf; nothing was modified`,
        { slot: Number(at), entryAddress: ea, entryValue: e },
      );
    case A.RELOC_OUTSIDE_IMAGE:
      return new OutsideImageError(`relocate: the table at ${hex(ea)} lies outside the RAM image; nothing was modified`, { table: ea });
    default:
      return new CapacityError(`relocate: more than ${MAX_TABLES} tables below the root; nothing was modified`, { table: ea });
  }
}
