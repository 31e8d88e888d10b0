/**
 * The on-demand early mapper of an x86-64 Linux kernel (early_make_pgtable,
 * seed 002, xen-mm.md §6): before the kernel's own page fault handler exists, a
 * fault at a direct-map address is fixed by mapping the 2 MiB region around it
 * with one large leaf, taking the tables it needs from a small fixed pool. When
 * the pool is exhausted, every root entry the mapper manages is cleared, the
 * pool starts again from its first page, and the mapping is retried: whatever
 * was mapped before is gone.
 *
 * Reading through the direct map (`read`) walks the tables for every 4 KiB step
 * and fails on the first step that is not mapped; `readWithHandler` calls the
 * mapper on such a fault and retries, as the early IDT handler would.
 */
import type { Engine } from '../engine/engine.js';
import type { MapFlags, PagingFormat } from '../paging/format.js';
import type { FrameAllocator } from '../paging/allocator.js';
import type { Fault } from '../paging/types.js';
import { x86_64 } from '../paging/formats/x86.js';
import { CapacityError, InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { BOOT_PARAMS_BYTES, parseBootParams, type BootParams } from './boot-params.js';

const M2 = 1n << 21n;
const PAGE = 4096n;

/** __PAGE_OFFSET of a 4-level x86-64 kernel (without KASLR). */
export const LINUX_PAGE_OFFSET = 0xffff888000000000n;

/** A read through the page tables hit an address that is not mapped. */
export class EarlyPageFault extends Error {
  constructor(
    readonly va: bigint,
    readonly fault: Fault,
  ) {
    super(`early read: ${hex(va)} is not mapped (${fault.kind} at level ${fault.level}, error code ${hex(fault.errorCode)}): page fault before the fault handler exists`);
    this.name = 'EarlyPageFault';
  }
}

export interface EarlyMapperOptions {
  readonly engine: Engine;
  /** The early top-level table (early_top_pgt). */
  readonly root: bigint;
  /** Frame numbers of the pool of table pages (early_dynamic_pgts), used in this order. */
  readonly pool: readonly number[];
  /** Virtual address of physical 0 (default LINUX_PAGE_OFFSET). */
  readonly base?: bigint;
  /** Bytes of physical memory the direct map may cover (default 64 TiB, 4-level paging's direct map). */
  readonly span?: bigint;
  readonly format?: PagingFormat;
  /** Root slots a reset keeps (default: the last one, the kernel's own mapping). */
  readonly keepSlots?: readonly number[];
  /** Leaf rights (default: writable, not executable, global). */
  readonly flags?: MapFlags;
}

/** Hands out the pool's pages in order; `reset` makes them all available again. */
class PoolAllocator implements FrameAllocator {
  next = 0;
  constructor(readonly frames: readonly number[]) {}
  allocate(frames = 1): number | undefined {
    if (frames !== 1 || this.next >= this.frames.length) return undefined;
    return this.frames[this.next++];
  }
  free(frame: number): void {
    const i = this.frames.indexOf(frame);
    if (i >= 0 && i < this.next) this.next = i;
  }
}

export class EarlyMapper {
  readonly engine: Engine;
  readonly root: bigint;
  readonly base: bigint;
  readonly span: bigint;
  readonly format: PagingFormat;
  /** How many times the pool ran out and the tables were reset. */
  resets = 0;
  /** 2 MiB regions mapped (over the mapper's whole life). */
  mapped = 0;
  private readonly pool: PoolAllocator;
  private readonly keep: Set<number>;
  private readonly flags: MapFlags;

  constructor(o: EarlyMapperOptions) {
    this.engine = o.engine;
    this.root = o.root;
    this.base = o.base ?? LINUX_PAGE_OFFSET;
    this.span = o.span ?? 1n << 46n;
    this.format = o.format ?? x86_64;
    this.flags = o.flags ?? { write: true, execute: false, global: true };
    if (o.pool.length === 0) throw new InvalidInputError('pool: the early mapper needs at least one table page', { input: 'pool' });
    this.pool = new PoolAllocator(o.pool);
    const p = this.engine.prepare({ format: this.format });
    this.keep = new Set(o.keepSlots ?? [2 ** p.levels[0]!.bits - 1]);
  }

  /** Pool pages in use since the last reset. */
  get poolUsed(): number {
    return this.pool.next;
  }

  /** Is `va` in the direct map the mapper serves? */
  covers(va: bigint): boolean {
    return va >= this.base && va - this.base < this.span;
  }

  /** Clear every root entry but the kept ones and start the pool again. */
  reset(): void {
    const p = this.engine.prepare({ format: this.format });
    const eb = BigInt(p.entryBytes);
    const table = this.root & p.rootMask;
    for (let i = 0; i < 2 ** p.levels[0]!.bits; i++) {
      if (this.keep.has(i)) continue;
      const ea = table + BigInt(i) * eb;
      if (eb === 8n) this.engine.phys.write64(ea, 0n);
      else this.engine.phys.write32(ea, 0);
    }
    this.pool.next = 0;
    this.resets++;
  }

  /**
   * The fault handler: map the 2 MiB region around `va` (pa = va - base).
   * Returns false for an address outside the direct map (the handler cannot help).
   */
  handleFault(va: bigint): boolean {
    if (!this.covers(va)) return false;
    const pa = (va - this.base) & ~(M2 - 1n);
    const at = this.base + pa;
    const opts = { format: this.format, largestLeaf: Number(M2) };
    if (this.engine.translate(this.root, at, { format: this.format }).ok) return true;
    try {
      this.engine.map(this.root, at, pa, M2, this.flags, this.pool, opts);
    } catch (err) {
      if (!(err instanceof CapacityError)) throw err;
      // The pool is exhausted: start over from an empty top level, as Linux does.
      this.reset();
      try {
        this.engine.map(this.root, at, pa, M2, this.flags, this.pool, opts);
      } catch (again) {
        if (!(again instanceof CapacityError)) throw again;
        throw new CapacityError(`early mapper: a pool of ${this.pool.frames.length} table pages cannot map even one 2 MiB region`, { pool: this.pool.frames.length });
      }
    }
    this.mapped++;
    return true;
  }

  /** Read `len` bytes at `va` through the tables; an unmapped 4 KiB step throws EarlyPageFault. */
  read(va: bigint, len: number): Uint8Array {
    return this.readSteps(va, len, false);
  }

  /** The same, calling the fault handler on a fault and retrying the step once. */
  readWithHandler(va: bigint, len: number): Uint8Array {
    return this.readSteps(va, len, true);
  }

  private readSteps(va: bigint, len: number, handle: boolean): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = va + BigInt(done);
      const n = Math.min(len - done, Number(PAGE - (at % PAGE)));
      let t = this.engine.translate(this.root, at, { format: this.format });
      if (!t.ok && handle && this.handleFault(at)) t = this.engine.translate(this.root, at, { format: this.format });
      if (!t.ok) throw new EarlyPageFault(at, t.fault);
      out.set(this.engine.phys.read(t.pa, n), done);
      done += n;
    }
    return out;
  }
}

/**
 * Read the zero page at `va` through the direct map. With `mapSteps` (default),
 * every 4 KiB page the structure touches is handed to the mapper first, as the
 * kernel must do before its fault handler exists. (Linux's own loop maps
 * `params + i` for i = 0, 4096, ... below sizeof(boot_params), i.e. only the
 * first page: a zero page that is not page aligned and straddles a 2 MiB
 * boundary then faults on its tail; see the tests.)
 */
export function readBootParamsEarly(mapper: EarlyMapper, va: bigint, options: { mapSteps?: boolean } = {}): BootParams {
  if (options.mapSteps ?? true) {
    const first = va - (va % PAGE);
    for (let step = first; step < va + BigInt(BOOT_PARAMS_BYTES); step += PAGE) {
      if (!mapper.handleFault(step)) throw new InvalidInputError(`boot_params at ${hex(va)}: ${hex(step)} is outside the direct map the early mapper serves`, { va });
    }
  }
  return parseBootParams(mapper.read(va, BOOT_PARAMS_BYTES), `boot_params at ${hex(va)}`);
}
