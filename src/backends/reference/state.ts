// The reference twin of assembly/frames/state.ts: the frame columns and domain
// records of the layout, read through one Uint32Array of the whole memory (index =
// byte offset / 4); 64-bit table entries are two u32 halves. Results are returned
// as wasm returns an i32 (`| 0`), so both backends give identical numbers.
import type { BackendContext } from '../backend.js';
import * as A from '../../abi.js';
import { ReferencePhys } from './phys.js';

export const NULL = 0xffffffff;
export const TYPE_SHIFT = A.PGT_TYPE_SHIFT;
export const COUNT = A.PGT_COUNT_MASK;
export const UNDO = A.PGT_UNDO_MASK;
export const VALID = A.PGT_VALIDATED;
export const L4 = A.PGT_L4;
export const FR = A.FR >>> 2;
/** type_info bits 28..31 of a validated L4 table. */
export const VALID_L4 = (A.PGT_L4 << 1) | 1;

export const isTable = (t: number) => t >= A.PGT_L1 && t <= A.PGT_L4;
export const xenSlot = (t: number, i: number) => t === L4 && i >= A.L4_XEN_FIRST && i <= A.L4_XEN_LAST;

export class ReferenceFrameState {
  protected readonly u: Uint32Array;
  protected readonly frames: number;
  protected readonly ramFrames: number;
  protected readonly cType: number;
  protected readonly cCount: number;
  protected readonly cOwner: number;
  protected readonly cNext: number;
  protected readonly cPrev: number;
  protected readonly l4N: number;
  protected readonly l4P: number;
  protected readonly doms: number;
  protected readonly phys: ReferencePhys;

  constructor(ctx: BackendContext) {
    const l = ctx.layout;
    this.u = new Uint32Array(ctx.memory.buffer);
    this.frames = l.frames;
    // Table frames have contents below ramBytes, or anywhere a source has them.
    this.ramFrames = ctx.cache ? l.frames : Math.min(l.frames, Math.floor(l.ramBytes / 4096));
    this.cType = l.colType >>> 2;
    this.cCount = l.colCount >>> 2;
    this.cOwner = l.colOwner >>> 2;
    this.cNext = l.colNext >>> 2;
    this.cPrev = l.colPrev >>> 2;
    this.l4N = l.l4Next >>> 2;
    this.l4P = l.l4Prev >>> 2;
    this.doms = l.domains >>> 2;
    this.phys = new ReferencePhys(ctx);
  }


  protected dom(d: number, field: number): number {
    return this.doms + d * (A.DOM_STRIDE >>> 2) + (field >>> 2);
  }
  protected domGet(d: number, field: number): number {
    return this.u[this.dom(d, field)]!;
  }
  protected domSet(d: number, field: number, v: number): void {
    this.u[this.dom(d, field)] = v;
  }
  protected live(d: number): boolean {
    return d >>> 0 < A.DOM_MAX && (this.domGet(d, A.DOM_FLAGS) & A.DF_IN_USE) !== 0;
  }
  protected fr(field: number, v: number): void {
    this.u[FR + (field >>> 2)] = v;
  }
  /**
   * u32 index of entry i of table frame f (low half; high half at +1), valid until
   * the next physical access (the caller checked f < ramFrames).
   */
  protected entry(f: number, i: number): number {
    return this.phys.addr(f * 4096 + i * 8, 8) >>> 2;
  }
  /** The same, for writing it. */
  protected entryW(f: number, i: number): number {
    return this.phys.writeAddr(f * 4096 + i * 8, 8) >>> 2;
  }
}
