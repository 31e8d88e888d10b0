// The walk parameters as the reference kernels read them: the format
// description of the control block (written by writeWalkParams), parsed into
// int32 arrays once per rewrite (WP_GEN), with 64-bit masks as [lo, hi] pairs.
// Every reference kernel over page tables extends this class.
import type { BackendContext } from '../backend.js';
import * as A from '../../abi.js';
import { ReferencePhys } from './phys.js';
import { WALK_FIELDS, LEVEL_FIELDS, type WalkField, type WalkFieldName, type LevelFieldName } from '../walk-fields.js';

export const TWO32 = 4294967296;
export const MAX_LEVELS = A.MAX_LEVELS;
/** Int32 words of one RM_* rights record (6 masks x lo/hi). */
export const RM_WORDS = A.RM_BYTES >>> 2;
/** Rights words per level in `rm`: the table's record (LV_T_RIGHTS), then the leaf's (LV_L_RIGHTS). */
export const RM = 2 * RM_WORDS;

/** Where each field of a list goes: its value as int32 halves (hi 0 for a u32), then `extra` (the level). */
type FieldSinks<N extends string, X extends unknown[] = []> = { readonly [K in N]: (lo: number, hi: number, ...extra: X) => void };

/** The six RM_* masks of a rights record: `put` gets each at its int32 index in the record. */
function rightsInto<P extends string, X extends unknown[]>(prefix: P, put: (k: number, lo: number, hi: number, ...extra: X) => void) {
  const at = (o: number) => (lo: number, hi: number, ...extra: X) => put(o >>> 2, lo, hi, ...extra);
  return {
    [`${prefix}WriteAllow`]: at(A.RM_W_ALLOW),
    [`${prefix}WriteDeny`]: at(A.RM_W_DENY),
    [`${prefix}UserAllow`]: at(A.RM_U_ALLOW),
    [`${prefix}UserDeny`]: at(A.RM_U_DENY),
    [`${prefix}Pxn`]: at(A.RM_PXN),
    [`${prefix}Uxn`]: at(A.RM_UXN),
  } as Record<`${P}${'WriteAllow' | 'WriteDeny' | 'UserAllow' | 'UserDeny' | 'Pxn' | 'Uxn'}`, (lo: number, hi: number, ...extra: X) => void>;
}

/** A u64 field of level i as the pair [lo, hi] at 2i of `dst`. */
const pairInto = (dst: Int32Array) => (lo: number, hi: number, i: number) => {
  dst[i * 2] = lo;
  dst[i * 2 + 1] = hi;
};

/** Int32 words of a level's fast-path fields in `fast` (LV_FAST_MASK .. LV_LOR_KEEP, in abi order). */
export const FAST_WORDS = (A.LV_LEAF_STATUS - A.LV_FAST_MASK) >>> 2;

/** A fast-path u64 field of level i at its int32 index from LV_FAST_MASK in `fast`. */
const fastInto = (dst: Int32Array, field: number) => (lo: number, hi: number, i: number) => {
  const k = i * FAST_WORDS + ((field - A.LV_FAST_MASK) >>> 2);
  dst[k] = lo;
  dst[k + 1] = hi;
};

export const lo32 = (v: bigint) => Number(BigInt.asUintN(32, v)) | 0;
export const hi32 = (v: bigint) => Number(BigInt.asUintN(32, v >> 32n)) | 0;

export class ReferenceWalkParams {
  protected readonly i32: Int32Array;
  protected readonly u8: Uint8Array;
  protected readonly view: DataView;
  /** Physical memory, resident or through the frame cache. */
  protected readonly phys: ReferencePhys;

  private gen = -1;
  protected n = 0;
  protected eb = 8;
  protected flags = 0;
  protected vaBits = 48;
  protected maxLeaf = 0;
  protected rootLo = 0;
  protected rootHi = 0;
  protected readonly shift = new Int32Array(MAX_LEVELS);
  protected readonly imask = new Int32Array(MAX_LEVELS);
  protected readonly vmask = new Int32Array(MAX_LEVELS);
  protected readonly vval = new Int32Array(MAX_LEVELS);
  protected readonly lmask = new Int32Array(MAX_LEVELS);
  protected readonly lval = new Int32Array(MAX_LEVELS);
  protected readonly lallowed = new Int32Array(MAX_LEVELS);
  /** Entries of a contiguous group (Arm), 0 where the level has no hint. */
  protected readonly groupN = new Int32Array(MAX_LEVELS);
  protected readonly extShift = new Float64Array(MAX_LEVELS); // 2^shift, as a multiplier
  protected readonly tAddr = new Int32Array(MAX_LEVELS * 2);
  protected readonly lAddr = new Int32Array(MAX_LEVELS * 2);
  protected readonly ext = new Int32Array(MAX_LEVELS * 2);
  protected readonly rsvdT = new Int32Array(MAX_LEVELS * 2);
  protected readonly rsvdL = new Int32Array(MAX_LEVELS * 2);
  protected readonly tTmpl = new Int32Array(MAX_LEVELS * 2);
  protected readonly lTmpl = new Int32Array(MAX_LEVELS * 2);
  /** Bits a valid leaf must have (Arm AF). */
  protected readonly lReq = new Int32Array(MAX_LEVELS * 2);
  /** The contiguous-hint bit of a leaf. */
  protected readonly cbit = new Int32Array(MAX_LEVELS * 2);
  protected readonly rm = new Int32Array(MAX_LEVELS * RM);
  /** Fast-path tests and rights folding per level, 8 [lo, hi] pairs (abi LV_FAST_* .. LV_LOR_KEEP). */
  protected readonly fast = new Int32Array(MAX_LEVELS * FAST_WORDS);
  protected readonly leafSt = new Int32Array(MAX_LEVELS);
  /** Table rights shared by all table levels: 6 masks x [lo, hi]. */
  protected readonly tr = new Int32Array(RM_WORDS);

  constructor(ctx: BackendContext) {
    const buf = ctx.memory.buffer;
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.view = new DataView(buf);
    this.phys = new ReferencePhys(ctx);
  }

  /** Where each walk field goes (u32 fields: lo; u64 fields: lo, hi). */
  private readonly walkInto: FieldSinks<WalkFieldName> = {
    levels: (lo) => (this.n = lo >>> 0),
    entryBytes: (lo) => (this.eb = lo >>> 0),
    flags: (lo) => (this.flags = lo >>> 0),
    vaBits: (lo) => (this.vaBits = lo >>> 0),
    rootMask: (lo, hi) => {
      this.rootLo = lo;
      this.rootHi = hi;
    },
    maxLeaf: (lo) => (this.maxLeaf = lo >>> 0),
    ...rightsInto('tables', (k, lo, hi) => {
      this.tr[k] = lo;
      this.tr[k + 1] = hi;
    }),
  };

  /** Where each field of level i goes. */
  private readonly levelInto: FieldSinks<LevelFieldName, [i: number]> = {
    shift: (lo, _, i) => (this.shift[i] = lo),
    indexMask: (lo, _, i) => (this.imask[i] = lo),
    validMask: (lo, _, i) => (this.vmask[i] = lo),
    validValue: (lo, _, i) => (this.vval[i] = lo),
    leafMask: (lo, _, i) => (this.lmask[i] = lo),
    leafValue: (lo, _, i) => (this.lval[i] = lo),
    leafAllowed: (lo, _, i) => (this.lallowed[i] = lo),
    // The architecture's name for the level: for messages, no kernel reads it.
    archLevel: () => {},
    leafExtShift: (lo, _, i) => (this.extShift[i] = 2 ** (lo >>> 0)),
    tableAddr: pairInto(this.tAddr),
    leafAddr: pairInto(this.lAddr),
    leafExtMask: pairInto(this.ext),
    rsvdTable: pairInto(this.rsvdT),
    rsvdLeaf: pairInto(this.rsvdL),
    ...rightsInto('table', (k, lo, hi, i: number) => {
      this.rm[this.tRights(i) + k] = lo;
      this.rm[this.tRights(i) + k + 1] = hi;
    }),
    ...rightsInto('leaf', (k, lo, hi, i: number) => {
      this.rm[this.lRights(i) + k] = lo;
      this.rm[this.lRights(i) + k + 1] = hi;
    }),
    tableTemplate: pairInto(this.tTmpl),
    leafTemplate: pairInto(this.lTmpl),
    leafRequire: pairInto(this.lReq),
    contigBit: pairInto(this.cbit),
    contigEntries: (lo, _, i) => (this.groupN[i] = lo),
    fastMask: fastInto(this.fast, A.LV_FAST_MASK),
    fastValue: fastInto(this.fast, A.LV_FAST_VALUE),
    andKeep: fastInto(this.fast, A.LV_AND_KEEP),
    orKeep: fastInto(this.fast, A.LV_OR_KEEP),
    leafFastMask: fastInto(this.fast, A.LV_LFAST_MASK),
    leafFastValue: fastInto(this.fast, A.LV_LFAST_VALUE),
    leafAndKeep: fastInto(this.fast, A.LV_LAND_KEEP),
    leafOrKeep: fastInto(this.fast, A.LV_LOR_KEEP),
    leafStatus: (lo, _, i) => (this.leafSt[i] = lo),
  };

  /** Parse the walk parameters when the TS layer has rewritten them. */
  protected load(): void {
    const v = this.view;
    const gen = v.getUint32(A.WP + A.WP_GEN, true);
    if (gen === this.gen) return;
    this.gen = gen;
    const read = (f: WalkField, at: number): [number, number] => [v.getInt32(at + f.at, true), f.width === 8 ? v.getInt32(at + f.at + 4, true) : 0];
    for (const f of WALK_FIELDS) this.walkInto[f.name](...read(f, A.WP));
    for (let i = 0; i < this.n; i++) {
      const b = A.WP + A.WP_LEVEL_BASE + i * A.WP_LEVEL_STRIDE;
      for (const f of LEVEL_FIELDS) this.levelInto[f.name](...read(f, b), i);
    }
  }

  /** Where level i's table-entry rights record starts in `rm`. */
  protected tRights(i: number): number {
    return i * RM;
  }

  /** Where level i's leaf rights record starts in `rm`. */
  protected lRights(i: number): number {
    return i * RM + RM_WORDS;
  }

  /** Is an entry with low half `lo` valid at level i? */
  protected isValid(i: number, lo: number): boolean {
    return (lo & this.vmask[i]!) === this.vval[i];
  }

  /** Is the valid entry with low half `lo` a leaf at level i? */
  protected isLeaf(i: number, lo: number): boolean {
    return this.lallowed[i] !== 0 && (lo & this.lmask[i]!) === this.lval[i];
  }

  /** The root table's address from a root register value. */
  protected rootAddr(lo: number, hi: number): number {
    return (hi & this.rootHi) * TWO32 + ((lo & this.rootLo) >>> 0);
  }

  /** High half of the canonical form of a VA built from indices. */
  protected canonicalHi(vhi: number): number {
    const bits = this.vaBits;
    if (bits >= 64 || bits <= 32 || !(this.flags & A.WF_SIGN_EXTEND)) return vhi;
    const s = 64 - bits;
    return (vhi << s) >> s;
  }
}
