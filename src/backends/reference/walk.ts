// The reference twin of assembly/paging/walk.ts: one walk of one address from
// any level, its fault codes and rights, and the per-level cache a range or a
// batch resumes from. 64-bit entries are handled as two int32 halves and
// physical addresses as exact doubles (< 2^53).
import * as A from '../../abi.js';
import { ReferenceWalkParams, TWO32, MAX_LEVELS } from './params.js';

// RM_* masks as int32 indices from a rights record (low half; high half at +1).
const W_ALLOW = A.RM_W_ALLOW >>> 2;
const W_DENY = A.RM_W_DENY >>> 2;
const U_ALLOW = A.RM_U_ALLOW >>> 2;
const U_DENY = A.RM_U_DENY >>> 2;
const PXN = A.RM_PXN >>> 2;
const UXN = A.RM_UXN >>> 2;

export class ReferenceWalk extends ReferenceWalkParams {
  /** Bit r set: the current access kind is refused with rights r. */
  protected refusedMask = 0;

  // Results of the last walk.
  protected wPa = 0;
  protected wEa = 0;
  protected wELo = 0;
  protected wEHi = 0;
  protected wEnd = 0;
  protected readonly cTable = new Float64Array(MAX_LEVELS);
  /** Rights accumulators on entry to each level: and lo/hi, or lo/hi. */
  protected readonly cAcc = new Int32Array(MAX_LEVELS * 4);
  // The running accumulators of the current walk.
  protected aLo = -1;
  protected aHi = -1;
  protected oLo = 0;
  protected oHi = 0;


  protected index(i: number, vlo: number, vhi: number): number {
    const sh = this.shift[i]!;
    return (sh >= 32 ? vhi >>> (sh - 32) : (vlo >>> sh) | (vhi << (32 - sh))) & this.imask[i]!;
  }

  protected canonical(vlo: number, vhi: number): boolean {
    const bits = this.vaBits;
    if (bits >= 64) return true;
    if (this.flags & A.WF_SIGN_EXTEND) {
      if (bits > 32) {
        const t = vhi >> (bits - 33);
        return t === 0 || t === -1;
      }
      const t = vlo >> (bits - 1);
      return (t === 0 && vhi === 0) || (t === -1 && vhi === -1);
    }
    return bits >= 32 ? (bits === 32 ? vhi === 0 : vhi >>> (bits - 32) === 0) : vhi === 0 && vlo >>> bits === 0;
  }

  /** Deny bits of entry (lo, hi) under the rights record at `off` in `rm` (tRights/lRights). */
  protected denyOf(lo: number, hi: number, off: number): number {
    return this.deny(this.rm, off, lo, hi, lo, hi);
  }

  /** Deny bits of the table levels walked so far, from the AND/OR accumulators. */
  protected tableDeny(aLo: number, aHi: number, oLo: number, oHi: number): number {
    return this.deny(this.tr, 0, aLo, aHi, oLo, oHi);
  }

  /** Deny bits under the rights record at `m[off]`: allow bits must all be set in (aLo, aHi), deny bits none in (oLo, oHi). */
  private deny(m: Int32Array, off: number, aLo: number, aHi: number, oLo: number, oHi: number): number {
    let d = 0;
    const waL = m[off + W_ALLOW]!, waH = m[off + W_ALLOW + 1]!;
    if ((aLo & waL) !== waL || (aHi & waH) !== waH || (oLo & m[off + W_DENY]!) !== 0 || (oHi & m[off + W_DENY + 1]!) !== 0) d |= A.R_WRITE;
    const uaL = m[off + U_ALLOW]!, uaH = m[off + U_ALLOW + 1]!;
    if ((aLo & uaL) !== uaL || (aHi & uaH) !== uaH || (oLo & m[off + U_DENY]!) !== 0 || (oHi & m[off + U_DENY + 1]!) !== 0) d |= A.R_USER;
    if (((oLo & m[off + PXN]!) | (oHi & m[off + PXN + 1]!)) !== 0) d |= A.R_EXEC;
    if (((oLo & m[off + UXN]!) | (oHi & m[off + UXN + 1]!)) !== 0) d |= A.R_UEXEC;
    return d;
  }

  /** Precompute which of the 16 rights sets refuse the coming walks' access kind. */
  protected setAccess(acc: number): void {
    let m = 0;
    for (let r = 0; r < 16; r++) if (this.refused(r, acc)) m |= 1 << r;
    this.refusedMask = m;
  }

  protected accessBits(acc: number): number {
    let ec = 0;
    if (acc & A.ACC_WRITE) ec |= A.PF_W;
    if (acc & A.ACC_USER) ec |= A.PF_U;
    if (acc & A.ACC_FETCH && this.flags & (A.WF_SMEP | A.WF_NXE)) ec |= A.PF_I;
    return ec;
  }

  protected fault(kind: number, level: number, ec: number): number {
    this.wEnd = level;
    return kind | (level << A.ST_LEVEL_SHIFT) | (ec << A.ST_ERR_SHIFT);
  }

  protected refused(rights: number, acc: number): boolean {
    const f = this.flags;
    if (acc & A.ACC_USER) {
      if (!(rights & A.R_USER)) return true;
      if (acc & A.ACC_WRITE && !(rights & A.R_WRITE)) return true;
      if (acc & A.ACC_FETCH && !(rights & A.R_UEXEC)) return true;
      return false;
    }
    if (acc & A.ACC_WRITE && !(rights & A.R_WRITE) && f & A.WF_WP) return true;
    if (acc & A.ACC_FETCH) {
      if (!(rights & A.R_EXEC)) return true;
      if (f & A.WF_SMEP && rights & A.R_USER) return true;
    } else if (f & A.WF_SMAP && rights & A.R_USER) return true;
    return false;
  }

  /** Output address bits of leaf entry (lo, hi) at level i. */
  protected leafBase(i: number, lo: number, hi: number): number {
    let pa = (hi & this.lAddr[i * 2 + 1]!) * TWO32 + ((lo & this.lAddr[i * 2]!) >>> 0);
    const ext = lo & this.ext[i * 2]!;
    if (ext !== 0) pa += (ext >>> 0) * this.extShift[i]!;
    return pa;
  }

  protected leafStatus(lo: number, hi: number, i: number, vlo: number, vhi: number, deny: number, acc: number): number {
    if (this.flags & A.WF_CHECK_RSVD && ((lo & this.rsvdL[i * 2]!) | (hi & this.rsvdL[i * 2 + 1]!)) !== 0) {
      return this.fault(A.K_RESERVED, i, A.PF_P | A.PF_RSVD | this.accessBits(acc));
    }
    // Arm's Access flag fault comes before any permission fault.
    const rl = this.lReq[i * 2]!, rh = this.lReq[i * 2 + 1]!;
    if ((lo & rl) !== rl || (hi & rh) !== rh) return this.fault(A.K_ACCESS_FLAG, i, A.PF_P | this.accessBits(acc));
    deny |= this.denyOf(lo, hi, this.lRights(i));
    const sh = this.shift[i]!;
    const off = sh >= 32 ? (vhi & (2 ** (sh - 32) - 1)) * TWO32 + (vlo >>> 0) : (vlo >>> 0) % 2 ** sh;
    this.wPa = this.leafBase(i, lo, hi) + off;
    const rights = ~deny & 0xf;
    if (this.refused(rights, acc)) return this.fault(A.K_PROTECTION, i, A.PF_P | this.accessBits(acc));
    this.wEnd = i;
    return (i << A.ST_LEVEL_SHIFT) | (rights << A.ST_RIGHTS_SHIFT) | (sh << A.ST_PAGE_SHIFT);
  }


  /**
   * Walk from level `start` in `table`, with the accumulators in this.aLo..oHi.
   * The common case (a valid table entry, nothing reserved) is one masked compare
   * per level; everything else takes the slow path. `cache` records each level.
   */
  protected walkFrom(vlo: number, vhi: number, start: number, table: number, acc: number, cache: boolean): number {
    const n = this.n, eb = this.eb, i32 = this.i32, f = this.fast;
    let aLo = this.aLo, aHi = this.aHi, oLo = this.oLo, oHi = this.oHi;
    for (let i = start; i < n; i++) {
      if (cache) {
        this.cTable[i] = table;
        const c = i * 4;
        this.cAcc[c] = aLo;
        this.cAcc[c + 1] = aHi;
        this.cAcc[c + 2] = oLo;
        this.cAcc[c + 3] = oHi;
      }
      const ea = table + this.index(i, vlo, vhi) * eb;
      const at = this.phys.addr(ea, eb);
      if (at === 0) {
        this.wEa = ea;
        this.wELo = this.wEHi = 0;
        return this.fault(A.K_OUTSIDE_IMAGE, i, this.accessBits(acc));
      }
      const w = at >>> 2;
      const lo = i32[w]!;
      const hi = eb === 8 ? i32[w + 1]! : 0;
      const k = i * 16;
      if ((lo & f[k]!) === f[k + 2] && (hi & f[k + 1]!) === f[k + 3]) {
        aLo &= lo | f[k + 4]!;
        aHi &= hi | f[k + 5]!;
        oLo |= lo & f[k + 6]!;
        oHi |= hi & f[k + 7]!;
        table = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
        continue;
      }
      this.wEa = ea;
      this.wELo = lo;
      this.wEHi = hi;
      if ((lo & f[k + 8]!) === f[k + 10] && (hi & f[k + 9]!) === f[k + 11]) {
        // The common leaf: its rights fold into the table accumulators.
        const rights = ~this.tableDeny(aLo & (lo | f[k + 12]!), aHi & (hi | f[k + 13]!), oLo | (lo & f[k + 14]!), oHi | (hi & f[k + 15]!)) & 0xf;
        const st = this.leafSt[i]!;
        const sh = st >>> A.ST_PAGE_SHIFT;
        const off = sh >= 32 ? (vhi & (2 ** (sh - 32) - 1)) * TWO32 + (vlo >>> 0) : (vlo >>> 0) % 2 ** sh;
        this.wPa = (hi & this.lAddr[i * 2 + 1]!) * TWO32 + ((lo & this.lAddr[i * 2]!) >>> 0) + off;
        if ((this.refusedMask >>> rights) & 1) return this.fault(A.K_PROTECTION, i, A.PF_P | this.accessBits(acc));
        this.wEnd = i;
        return st | (rights << A.ST_RIGHTS_SHIFT);
      }
      if (!this.isValid(i, lo)) return this.fault(A.K_NOT_PRESENT, i, this.accessBits(acc));
      if (this.isLeaf(i, lo)) {
        return this.leafStatus(lo, hi, i, vlo, vhi, this.tableDeny(aLo, aHi, oLo, oHi), acc);
      }
      if (this.flags & A.WF_CHECK_RSVD && ((lo & this.rsvdT[i * 2]!) | (hi & this.rsvdT[i * 2 + 1]!)) !== 0) {
        return this.fault(A.K_RESERVED, i, A.PF_P | A.PF_RSVD | this.accessBits(acc));
      }
      // A valid table entry the fused test could not express for this format.
      aLo &= lo | f[k + 4]!;
      aHi &= hi | f[k + 5]!;
      oLo |= lo & f[k + 6]!;
      oHi |= hi & f[k + 7]!;
      table = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
    }
    return this.fault(A.K_NOT_PRESENT, n - 1, this.accessBits(acc));
  }

  /** Start a walk's accumulators (no table rights yet) or resume them from the cache at level s. */
  protected resetAcc(s = -1): void {
    if (s < 0) {
      this.aLo = this.aHi = -1;
      this.oLo = this.oHi = 0;
    } else {
      const c = s * 4;
      this.aLo = this.cAcc[c]!;
      this.aHi = this.cAcc[c + 1]!;
      this.oLo = this.cAcc[c + 2]!;
      this.oHi = this.cAcc[c + 3]!;
    }
  }

  protected walk(rootLo: number, rootHi: number, vlo: number, vhi: number, acc: number): number {
    this.wPa = 0;
    if (!this.canonical(vlo, vhi)) {
      this.wEa = this.wELo = this.wEHi = 0;
      return this.fault(A.K_NON_CANONICAL, 0, 0);
    }
    this.resetAcc();
    return this.walkFrom(vlo, vhi, 0, this.rootAddr(rootLo, rootHi), acc, false);
  }

  protected restartLevel(vlo: number, vhi: number, plo: number, phi: number, prevEnd: number): number {
    const dlo = vlo ^ plo, dhi = vhi ^ phi;
    for (let i = prevEnd; i > 0; i--) {
      const sh = this.shift[i - 1]!;
      const same = sh >= 32 ? dhi >>> (sh - 32) === 0 : dhi === 0 && dlo >>> sh === 0;
      if (same) return i;
    }
    return 0;
  }

  protected walkCached(root: number, vlo: number, vhi: number, plo: number, phi: number, prevEnd: number, acc: number): number {
    const s = prevEnd < 0 ? 0 : this.restartLevel(vlo, vhi, plo, phi, prevEnd);
    if (s === 0) {
      this.resetAcc();
      return this.walkFrom(vlo, vhi, 0, root, acc, true);
    }
    this.resetAcc(s);
    return this.walkFrom(vlo, vhi, s, this.cTable[s]!, acc, true);
  }
}
