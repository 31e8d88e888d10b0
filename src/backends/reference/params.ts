// The walk parameters as the reference kernels read them: the format
// description of the control block (written by writeWalkParams), parsed into
// int32 arrays once per rewrite (WP_GEN), with 64-bit masks as [lo, hi] pairs.
// Every reference kernel over page tables extends this class.
import type { BackendContext } from '../backend.js';
import * as A from '../../abi.js';
import { ReferencePhys } from './phys.js';

export const TWO32 = 4294967296;
export const MAX_LEVELS = A.MAX_LEVELS;
/** Int32 words of one RM_* rights record (6 masks x lo/hi). */
export const RM_WORDS = A.RM_BYTES >>> 2;
/** Rights words per level in `rm`: the table's record (LV_T_RIGHTS), then the leaf's (LV_L_RIGHTS). */
export const RM = 2 * RM_WORDS;

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
  protected readonly fast = new Int32Array(MAX_LEVELS * 16);
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

  /** Parse the walk parameters when the TS layer has rewritten them. */
  protected load(): void {
    const v = this.view;
    const gen = v.getUint32(A.WP + A.WP_GEN, true);
    if (gen === this.gen) return;
    this.gen = gen;
    this.n = v.getUint32(A.WP + A.WP_LEVELS, true);
    this.eb = v.getUint32(A.WP + A.WP_ENTRY_BYTES, true);
    this.flags = v.getUint32(A.WP + A.WP_FLAGS, true);
    this.vaBits = v.getUint32(A.WP + A.WP_VA_BITS, true);
    this.maxLeaf = v.getUint32(A.WP + A.WP_MAX_LEAF, true);
    this.rootLo = v.getInt32(A.WP + A.WP_ROOT_MASK, true);
    this.rootHi = v.getInt32(A.WP + A.WP_ROOT_MASK + 4, true);
    for (let k = 0; k < RM_WORDS; k++) this.tr[k] = v.getInt32(A.WP + A.WP_T_RIGHTS + k * 4, true);
    for (let i = 0; i < this.n; i++) {
      const b = A.WP + A.WP_LEVEL_BASE + i * A.WP_LEVEL_STRIDE;
      const u = (o: number) => v.getUint32(b + o, true);
      const pair = (dst: Int32Array, o: number, at = i * 2) => {
        dst[at] = v.getInt32(b + o, true);
        dst[at + 1] = v.getInt32(b + o + 4, true);
      };
      this.shift[i] = u(A.LV_SHIFT);
      this.imask[i] = u(A.LV_INDEX_MASK);
      this.vmask[i] = u(A.LV_VALID_MASK);
      this.vval[i] = u(A.LV_VALID_VALUE);
      this.lmask[i] = u(A.LV_LEAF_MASK);
      this.lval[i] = u(A.LV_LEAF_VALUE);
      this.lallowed[i] = u(A.LV_LEAF_ALLOWED);
      this.groupN[i] = u(A.LV_CONTIG_ENTRIES);
      this.extShift[i] = 2 ** u(A.LV_LEAF_EXT_SHIFT);
      pair(this.tAddr, A.LV_TABLE_ADDR);
      pair(this.lAddr, A.LV_LEAF_ADDR);
      pair(this.ext, A.LV_LEAF_EXT_MASK);
      pair(this.rsvdT, A.LV_RSVD_TABLE);
      pair(this.rsvdL, A.LV_RSVD_LEAF);
      pair(this.tTmpl, A.LV_TABLE_TEMPLATE);
      pair(this.lTmpl, A.LV_LEAF_TEMPLATE);
      pair(this.lReq, A.LV_LEAF_REQUIRE);
      pair(this.cbit, A.LV_CONTIG_BIT);
      for (let k = 0; k < RM_WORDS; k++) {
        this.rm[this.tRights(i) + k] = v.getInt32(b + A.LV_T_RIGHTS + k * 4, true);
        this.rm[this.lRights(i) + k] = v.getInt32(b + A.LV_L_RIGHTS + k * 4, true);
      }
      const fields = [A.LV_FAST_MASK, A.LV_FAST_VALUE, A.LV_AND_KEEP, A.LV_OR_KEEP, A.LV_LFAST_MASK, A.LV_LFAST_VALUE, A.LV_LAND_KEEP, A.LV_LOR_KEEP];
      fields.forEach((f, k) => pair(this.fast, f, i * 16 + k * 2));
      this.leafSt[i] = u(A.LV_LEAF_STATUS);
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
