// The frame table: one metadata record per frame, stored column-wise in the
// engine's memory (type_info, count_info, owner, next, prev; 20 bytes a frame),
// with the operations on it gathered behind `engine.frames`.
import { assertScratchFree } from '../core/scratch-lease.js';
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { decodeTypeInfo, typeCode, checkFrameNumber, NO_FRAME, type FrameInfo, type FrameType, type TableType } from './frame-info.js';

export { checkFrameNumber };
import { PageList } from './page-list.js';
import * as types from './type-system.js';
import * as alloc from './allocation.js';
import { audit, type AuditOptions, type AuditReport } from './audit.js';

/** The five metadata columns (copies) over a range of frames. */
export interface FrameColumns {
  readonly typeInfo: Uint32Array;
  readonly countInfo: Uint32Array;
  readonly owner: Uint32Array;
  readonly next: Uint32Array;
  readonly prev: Uint32Array;
}

/** Frames per census kernel call. */
const CENSUS_SLICE = 1 << 23;

export interface CensusResult {
  /** Frames of the type (owned by the domain, when one was given). */
  readonly count: number;
  /** For L4: those whose RO_MPT slot is set. */
  readonly filled: number;
  readonly scanned: number;
}

export class FrameTable {
  constructor(private readonly ctx: EngineContext) {}

  /** Frames with metadata. */
  get size(): number {
    return this.ctx.layout.frames;
  }
  /** Frames with contents in the RAM image (only these can be page tables). */
  get imageFrames(): number {
    return Math.min(this.ctx.layout.frames, Math.floor(this.ctx.layout.ramBytes / 4096));
  }

  /** Live views of the columns (no copy): for scans in TS and audits. */
  columns(): FrameColumns {
    const l = this.ctx.layout;
    const b = this.ctx.memory.buffer;
    return {
      typeInfo: new Uint32Array(b, l.colType, l.frames),
      countInfo: new Uint32Array(b, l.colCount, l.frames),
      owner: new Uint32Array(b, l.colOwner, l.frames),
      next: new Uint32Array(b, l.colNext, l.frames),
      prev: new Uint32Array(b, l.colPrev, l.frames),
    };
  }

  /** Copies of the columns over [from, to): to compare two states or two backends. */
  snapshot(from = 0, to = this.size): FrameColumns {
    const c = this.columns();
    return {
      typeInfo: c.typeInfo.slice(from, to),
      countInfo: c.countInfo.slice(from, to),
      owner: c.owner.slice(from, to),
      next: c.next.slice(from, to),
      prev: c.prev.slice(from, to),
    };
  }

  info(frame: number): FrameInfo {
    checkFrameNumber(this.ctx, frame);
    const c = this.columns();
    const ti = c.typeInfo[frame]!;
    const ci = c.countInfo[frame]!;
    const o = c.owner[frame]!;
    const n = c.next[frame]!;
    const p = c.prev[frame]!;
    return {
      frame,
      ...decodeTypeInfo(ti),
      allocated: (ci & A.PGC_ALLOCATED) !== 0,
      refCount: ci & A.PGC_COUNT_MASK,
      owner: o === A.OWNER_NONE ? undefined : o - A.OWNER_BIAS,
      next: n === NO_FRAME ? undefined : n,
      prev: p === NO_FRAME ? undefined : p,
      typeInfo: ti,
      countInfo: ci,
    };
  }

  /**
   * Count the frames of `type` (owned by `domain` if given) in [from, to), reading
   * the type column (the owner column only for matches). `validated` (default: true
   * for every type but none) must match too, so 'L4' counts promoted L4 tables, not
   * demoted frames that kept the type. For L4 also counts those whose RO_MPT slot is
   * set. Default range: the whole table.
   */
  census(type: FrameType, options: { domain?: number; from?: number; to?: number; validated?: boolean } = {}): CensusResult {
    const e = this.ctx;
    assertScratchFree(e, 'census');
    const d = options.domain ?? NO_FRAME;
    const key = typeCode(type) * 2 + ((options.validated ?? type !== 'none') ? 1 : 0);
    const from = Math.max(0, Math.min(options.from ?? 0, this.size));
    const to = Math.max(from, Math.min(options.to ?? this.size, this.size));
    // In slices: a wasm function is optimised for its next call, so one call over
    // 128M frames would run entirely in the baseline tier.
    let count = 0, filled = 0;
    for (let f = from; f < to; f += CENSUS_SLICE) {
      count += e.backend.frames.census(key, d, f, Math.min(to, f + CENSUS_SLICE)) >>> 0;
      filled += e.view.getUint32(A.FR + A.FR_FILLED, true);
    }
    return { count, filled, scanned: to - from };
  }

  /** The page list of domain `dom`. */
  list(dom: number): PageList {
    return new PageList(this.ctx, dom);
  }

  // ---- type system (frames/type-system.ts) ------------------------------------------
  getType(frame: number, type: FrameType): void {
    types.getType(this.ctx, frame, type);
  }
  putType(frame: number): void {
    types.putType(this.ctx, frame);
  }
  pin(frame: number, type: TableType): void {
    types.pin(this.ctx, frame, type);
  }
  unpin(frame: number): void {
    types.unpin(this.ctx, frame);
  }
  lock(frame: number): boolean {
    return types.pageLock(this.ctx, frame);
  }
  unlock(frame: number): void {
    types.pageUnlock(this.ctx, frame);
  }

  // ---- allocation (frames/allocation.ts) --------------------------------------------
  allocate(dom: number, options: alloc.AllocateOptions): void {
    alloc.allocate(this.ctx, dom, options);
  }
  allocateFrames(dom: number, frames: ArrayLike<number>): void {
    alloc.allocateFrames(this.ctx, dom, frames);
  }
  free(frame: number): void {
    alloc.freeFrame(this.ctx, frame);
  }

  // ---- the RO_MPT slot (L4 slot 256) --------------------------------------------------
  /** Value of the RO_MPT slot of table frame `frame`. */
  roMpt(frame: number): bigint {
    this.checkImage(frame);
    return this.ctx.phys.read64(BigInt(frame) * 4096n + BigInt(A.RO_MPT_SLOT * 8));
  }
  /** fill_ro_mpt: true when the slot was empty and is now filled. */
  fillRoMpt(frame: number): boolean {
    this.checkImage(frame);
    return this.ctx.backend.frames.fillRoMpt(frame) === A.FILL_DONE;
  }
  zapRoMpt(frame: number): void {
    this.checkImage(frame);
    this.ctx.backend.frames.zapRoMpt(frame);
  }
  private checkImage(frame: number): void {
    checkFrameNumber(this.ctx, frame);
    if (frame >= this.imageFrames) {
      throw new InvalidInputError(`frame: ${hex(frame)} has no contents (the RAM image holds frames [0, ${hex(this.imageFrames)}))`, {
        input: 'frame',
        value: frame,
      });
    }
  }

  /** Check every list, link and count (frames/audit.ts). */
  audit(options?: AuditOptions): AuditReport {
    return audit(this.ctx, options);
  }
}
