// The reference twin of assembly/paging: the same kernels, the same memory, the
// same records, in plain TypeScript. 64-bit entries are handled as two int32
// halves and physical addresses as exact doubles (< 2^53); BigInt appears only
// at the call boundary and once per table in map/unmap, never per entry.
import type { PagingKernels, BackendContext } from '../backend.js';
import * as A from '../../abi.js';
import { ReferenceContig } from './contig.js';
import { ReferenceRelocate } from './relocate.js';
import { ReferenceWalkParams, TWO32, MAX_LEVELS, RM, lo32, hi32 } from './walk-params.js';

const ABSENT = -1;

export class ReferencePaging extends ReferenceWalkParams implements PagingKernels {
  /** Bit r set: the current access kind is refused with rights r. */
  private refusedMask = 0;

  // Results of the last walk.
  private wPa = 0;
  private wEa = 0;
  private wELo = 0;
  private wEHi = 0;
  private wEnd = 0;
  private readonly cTable = new Float64Array(MAX_LEVELS);
  /** Rights accumulators on entry to each level: and lo/hi, or lo/hi. */
  private readonly cAcc = new Int32Array(MAX_LEVELS * 4);
  // The running accumulators of the current walk.
  private aLo = -1;
  private aHi = -1;
  private oLo = 0;
  private oHi = 0;

  // map/unmap/protect state.
  private count = 0;
  private poolPtr = 0;
  private poolLeft = 0;

  /** The contiguous-hint kernels (contig.ts). */
  private readonly contig: ReferenceContig;
  /** move_xen's relocation (relocate.ts). */
  private readonly relocator: ReferenceRelocate;

  constructor(ctx: BackendContext) {
    super(ctx);
    this.contig = new ReferenceContig(ctx);
    this.relocator = new ReferenceRelocate(ctx);
  }

  // ---- helpers ------------------------------------------------------------------

  private index(i: number, vlo: number, vhi: number): number {
    const sh = this.shift[i]!;
    return (sh >= 32 ? vhi >>> (sh - 32) : (vlo >>> sh) | (vhi << (32 - sh))) & this.imask[i]!;
  }

  private canonical(vlo: number, vhi: number): boolean {
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

  private denyOf(lo: number, hi: number, off: number): number {
    const m = this.rm;
    let d = 0;
    const waL = m[off]!, waH = m[off + 1]!;
    if ((lo & waL) !== waL || (hi & waH) !== waH || (lo & m[off + 2]!) !== 0 || (hi & m[off + 3]!) !== 0) d |= A.R_WRITE;
    const uaL = m[off + 4]!, uaH = m[off + 5]!;
    if ((lo & uaL) !== uaL || (hi & uaH) !== uaH || (lo & m[off + 6]!) !== 0 || (hi & m[off + 7]!) !== 0) d |= A.R_USER;
    if (((lo & m[off + 8]!) | (hi & m[off + 9]!)) !== 0) d |= A.R_EXEC;
    if (((lo & m[off + 10]!) | (hi & m[off + 11]!)) !== 0) d |= A.R_UEXEC;
    return d;
  }

  /** Deny bits of the table levels walked so far, from the AND/OR accumulators. */
  private tableDeny(aLo: number, aHi: number, oLo: number, oHi: number): number {
    const m = this.tr;
    let d = 0;
    const waL = m[0]!, waH = m[1]!;
    if ((aLo & waL) !== waL || (aHi & waH) !== waH || (oLo & m[2]!) !== 0 || (oHi & m[3]!) !== 0) d |= A.R_WRITE;
    const uaL = m[4]!, uaH = m[5]!;
    if ((aLo & uaL) !== uaL || (aHi & uaH) !== uaH || (oLo & m[6]!) !== 0 || (oHi & m[7]!) !== 0) d |= A.R_USER;
    if (((oLo & m[8]!) | (oHi & m[9]!)) !== 0) d |= A.R_EXEC;
    if (((oLo & m[10]!) | (oHi & m[11]!)) !== 0) d |= A.R_UEXEC;
    return d;
  }

  /** Precompute which of the 16 rights sets refuse the coming walks' access kind. */
  private setAccess(acc: number): void {
    let m = 0;
    for (let r = 0; r < 16; r++) if (this.refused(r, acc)) m |= 1 << r;
    this.refusedMask = m;
  }

  private accessBits(acc: number): number {
    let ec = 0;
    if (acc & A.ACC_WRITE) ec |= A.PF_W;
    if (acc & A.ACC_USER) ec |= A.PF_U;
    if (acc & A.ACC_FETCH && this.flags & (A.WF_SMEP | A.WF_NXE)) ec |= A.PF_I;
    return ec;
  }

  private fault(kind: number, level: number, ec: number): number {
    this.wEnd = level;
    return kind | (level << A.ST_LEVEL_SHIFT) | (ec << A.ST_ERR_SHIFT);
  }

  private refused(rights: number, acc: number): boolean {
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
  private leafBase(i: number, lo: number, hi: number): number {
    let pa = (hi & this.lAddr[i * 2 + 1]!) * TWO32 + ((lo & this.lAddr[i * 2]!) >>> 0);
    const ext = lo & this.ext[i * 2]!;
    if (ext !== 0) pa += (ext >>> 0) * this.extShift[i]!;
    return pa;
  }

  private leafStatus(lo: number, hi: number, i: number, vlo: number, vhi: number, deny: number, acc: number): number {
    if (this.flags & A.WF_CHECK_RSVD && ((lo & this.rsvdL[i * 2]!) | (hi & this.rsvdL[i * 2 + 1]!)) !== 0) {
      return this.fault(A.K_RESERVED, i, A.PF_P | A.PF_RSVD | this.accessBits(acc));
    }
    // Arm's Access flag fault comes before any permission fault.
    const rl = this.lReq[i * 2]!, rh = this.lReq[i * 2 + 1]!;
    if ((lo & rl) !== rl || (hi & rh) !== rh) return this.fault(A.K_ACCESS_FLAG, i, A.PF_P | this.accessBits(acc));
    deny |= this.denyOf(lo, hi, i * RM + 12);
    const sh = this.shift[i]!;
    const off = sh >= 32 ? (vhi & (2 ** (sh - 32) - 1)) * TWO32 + (vlo >>> 0) : (vlo >>> 0) % 2 ** sh;
    this.wPa = this.leafBase(i, lo, hi) + off;
    const rights = ~deny & 0xf;
    if (this.refused(rights, acc)) return this.fault(A.K_PROTECTION, i, A.PF_P | this.accessBits(acc));
    this.wEnd = i;
    return (i << A.ST_LEVEL_SHIFT) | (rights << A.ST_RIGHTS_SHIFT) | (sh << A.ST_PAGE_SHIFT);
  }

  /** Bits of a leaf at level i that decide its status: all but the output address, plus every bit a check reads. */
  private leafKeyMask(i: number): [number, number] {
    const r = this.rm, o = i * RM + 12;
    let lo = ~this.lAddr[i * 2]! | this.vmask[i]! | this.ext[i * 2]! | this.rsvdL[i * 2]! | this.lReq[i * 2]!;
    let hi = ~this.lAddr[i * 2 + 1]! | this.ext[i * 2 + 1]! | this.rsvdL[i * 2 + 1]! | this.lReq[i * 2 + 1]!;
    for (let k = 0; k < 12; k += 2) {
      lo |= r[o + k]!;
      hi |= r[o + k + 1]!;
    }
    return [lo, hi];
  }

  /**
   * Walk from level `start` in `table`, with the accumulators in this.aLo..oHi.
   * The common case (a valid table entry, nothing reserved) is one masked compare
   * per level; everything else takes the slow path. `cache` records each level.
   */
  private walkFrom(vlo: number, vhi: number, start: number, table: number, acc: number, cache: boolean): number {
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
      if ((lo & this.vmask[i]!) !== this.vval[i]) return this.fault(A.K_NOT_PRESENT, i, this.accessBits(acc));
      if (this.lallowed[i] && (lo & this.lmask[i]!) === this.lval[i]) {
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
  private resetAcc(s = -1): void {
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

  private walk(rootLo: number, rootHi: number, vlo: number, vhi: number, acc: number): number {
    this.wPa = 0;
    if (!this.canonical(vlo, vhi)) {
      this.wEa = this.wELo = this.wEHi = 0;
      return this.fault(A.K_NON_CANONICAL, 0, 0);
    }
    this.resetAcc();
    return this.walkFrom(vlo, vhi, 0, this.rootAddr(rootLo, rootHi), acc, false);
  }

  private restartLevel(vlo: number, vhi: number, plo: number, phi: number, prevEnd: number): number {
    const dlo = vlo ^ plo, dhi = vhi ^ phi;
    for (let i = prevEnd; i > 0; i--) {
      const sh = this.shift[i - 1]!;
      const same = sh >= 32 ? dhi >>> (sh - 32) === 0 : dhi === 0 && dlo >>> sh === 0;
      if (same) return i;
    }
    return 0;
  }

  private walkCached(root: number, vlo: number, vhi: number, plo: number, phi: number, prevEnd: number, acc: number): number {
    const s = prevEnd < 0 ? 0 : this.restartLevel(vlo, vhi, plo, phi, prevEnd);
    if (s === 0) {
      this.resetAcc();
      return this.walkFrom(vlo, vhi, 0, root, acc, true);
    }
    this.resetAcc(s);
    return this.walkFrom(vlo, vhi, s, this.cTable[s]!, acc, true);
  }

  private emit(out: number, st: number): void {
    const v = (st & A.ST_KIND_MASK) === A.K_OK ? this.wPa : this.wEa;
    const w = out >>> 2;
    this.i32[w] = v % TWO32 | 0;
    this.i32[w + 1] = Math.floor(v / TWO32) | 0;
    this.i32[w + 2] = st;
    this.i32[w + 3] = this.wELo;
  }

  // ---- kernels --------------------------------------------------------------------

  translate(root: bigint, va: bigint, access: number): number {
    this.load();
    this.setAccess(access);
    const st = this.walk(lo32(root), hi32(root), lo32(va), hi32(va), access);
    const v = this.view;
    v.setBigUint64(A.RES + A.RES_PA, (st & A.ST_KIND_MASK) === A.K_OK ? BigInt(this.wPa) : 0n, true);
    v.setBigUint64(A.RES + A.RES_ENTRY_ADDR, BigInt(this.wEa), true);
    v.setInt32(A.RES + A.RES_ENTRY_VALUE, this.wELo, true);
    v.setInt32(A.RES + A.RES_ENTRY_VALUE + 4, this.wEHi, true);
    v.setUint32(A.RES + A.RES_STATUS, st, true);
    return st;
  }

  translateBatch(root: bigint, inPtr: number, outPtr: number, n: number, access: number, mode: number): void {
    this.load();
    this.setAccess(access);
    const i32 = this.i32;
    const rootAddr = this.rootAddr(lo32(root), hi32(root));
    if (mode === A.BATCH_INTERLEAVED) {
      for (let k = 0; k < n; k += A.BATCH_GROUP) this.interleaved(rootAddr, inPtr, outPtr, k, Math.min(A.BATCH_GROUP, n - k), access);
      return;
    }
    let plo = 0, phi = 0, prevEnd = -1;
    // Cached mode, as the wasm kernel: an address in the same leaf table as the
    // previous one, whose entry has the previous OK entry's key, reuses its status.
    const cached = mode === A.BATCH_CACHED;
    const last = this.n - 1, eb = this.eb;
    const [kLo, kHi] = this.leafKeyMask(last);
    const above = last > 0 ? this.shift[last - 1]! : 64;
    const lsh = this.shift[last]!, psize = 2 ** lsh;
    let memo = false, memoLo = 0, memoHi = 0, memoSt = 0;
    for (let k = 0; k < n; k++) {
      const w = (inPtr >>> 2) + k * 2;
      const vlo = i32[w]!, vhi = i32[w + 1]!;
      if (memo && (above >= 32 ? (vhi ^ phi) >>> (above - 32) === 0 : vhi === phi && (vlo ^ plo) >>> above === 0)) {
        const ea = this.cTable[last]! + this.index(last, vlo, vhi) * eb;
        const at = this.phys.addr(ea, eb);
        if (at !== 0) {
          const ew = at >>> 2;
          const lo = i32[ew]!;
          const hi = eb === 8 ? i32[ew + 1]! : 0;
          if ((lo & kLo) === memoLo && (hi & kHi) === memoHi) {
            this.wPa = this.leafBase(last, lo, hi) + (lsh >= 32 ? 0 : (vlo >>> 0) % psize);
            this.wEa = ea;
            this.wELo = lo;
            this.wEHi = hi;
            this.emit(outPtr + k * A.BR_BYTES, memoSt);
            plo = vlo;
            phi = vhi;
            continue;
          }
        }
      }
      let st: number;
      if (!this.canonical(vlo, vhi)) {
        st = this.walk(0, 0, vlo, vhi, access);
        prevEnd = -1;
        memo = false;
      } else {
        if (cached) st = this.walkCached(rootAddr, vlo, vhi, plo, phi, prevEnd, access);
        else {
          this.resetAcc();
          st = this.walkFrom(vlo, vhi, 0, rootAddr, access, false);
        }
        plo = vlo;
        phi = vhi;
        prevEnd = this.wEnd;
        memo = cached && last > 0 && prevEnd === last && (st & A.ST_KIND_MASK) === A.K_OK;
        memoLo = this.wELo & kLo;
        memoHi = this.wEHi & kHi;
        memoSt = st;
      }
      this.emit(outPtr + k * A.BR_BYTES, st);
    }
  }

  // Group state of the interleaved walk: table, va halves, accumulators.
  private readonly gTable = new Float64Array(A.BATCH_GROUP);
  private readonly gVa = new Int32Array(A.BATCH_GROUP * 2);
  private readonly gAcc = new Int32Array(A.BATCH_GROUP * 4);
  /** Each member's entry at the current level ([lo, hi]), read in the first pass, and whether it was inside the image. */
  private readonly gE = new Int32Array(A.BATCH_GROUP * 2);
  private readonly gIn = new Uint8Array(A.BATCH_GROUP);

  /** Addresses [k, k+m) walked together level by level (see assembly/paging/translate.ts). */
  private interleaved(root: number, inPtr: number, outPtr: number, k: number, m: number, access: number): void {
    const i32 = this.i32, f = this.fast, eb = this.eb;
    let active = 0;
    for (let g = 0; g < m; g++) {
      const w = (inPtr >>> 2) + (k + g) * 2;
      const vlo = i32[w]!, vhi = i32[w + 1]!;
      if (!this.canonical(vlo, vhi)) {
        this.emit(outPtr + (k + g) * A.BR_BYTES, this.walk(0, 0, vlo, vhi, access));
        continue;
      }
      this.gTable[g] = root;
      this.gVa[g * 2] = vlo;
      this.gVa[g * 2 + 1] = vhi;
      this.gAcc[g * 4] = this.gAcc[g * 4 + 1] = -1;
      this.gAcc[g * 4 + 2] = this.gAcc[g * 4 + 3] = 0;
      active |= 1 << g;
    }
    for (let i = 0; i < this.n && active !== 0; i++) {
      const q = i * 16;
      // Pass 1: read every member's entry before using any (their misses overlap).
      let rest = active;
      while (rest !== 0) {
        const g = 31 - Math.clz32(rest & -rest);
        rest &= rest - 1;
        const ea = this.gTable[g]! + this.index(i, this.gVa[g * 2]!, this.gVa[g * 2 + 1]!) * eb;
        const at = this.phys.addr(ea, eb);
        this.gIn[g] = at !== 0 ? 1 : 0;
        if (at !== 0) {
          const w = at >>> 2;
          this.gE[g * 2] = i32[w]!;
          this.gE[g * 2 + 1] = eb === 8 ? i32[w + 1]! : 0;
        }
      }
      // Pass 2: advance the members that met a plain table pointer; finish the others.
      rest = active;
      while (rest !== 0) {
        const g = 31 - Math.clz32(rest & -rest);
        rest &= rest - 1;
        const table = this.gTable[g]!;
        const vlo = this.gVa[g * 2]!, vhi = this.gVa[g * 2 + 1]!;
        if (this.gIn[g]) {
          const lo = this.gE[g * 2]!, hi = this.gE[g * 2 + 1]!;
          if ((lo & f[q]!) === f[q + 2] && (hi & f[q + 1]!) === f[q + 3]) {
            this.gTable[g] = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
            const c = g * 4;
            this.gAcc[c] &= lo | f[q + 4]!;
            this.gAcc[c + 1] &= hi | f[q + 5]!;
            this.gAcc[c + 2] |= lo & f[q + 6]!;
            this.gAcc[c + 3] |= hi & f[q + 7]!;
            continue;
          }
        }
        const c = g * 4;
        this.aLo = this.gAcc[c]!;
        this.aHi = this.gAcc[c + 1]!;
        this.oLo = this.gAcc[c + 2]!;
        this.oHi = this.gAcc[c + 3]!;
        this.emit(outPtr + (k + g) * A.BR_BYTES, this.walkFrom(vlo, vhi, i, table, access, false));
        active &= ~(1 << g);
      }
    }
  }

  // ---- runs (translateRuns): the range walk's second sink, as in assembly/paging/translate.ts
  private rRuns = false;
  private rOut = 0;
  private rMax = 0;
  private rN = 0;
  private rStop = false;
  private rOpen = false;
  private rK = 0;
  private rCur = 0;
  private rV = 0;
  private rSt = 0;
  private rIn = 0;
  private rSh = 0;
  private rBLo = 0;
  private rBHi = 0;
  private rPsize = 4096;

  /** va of page k of the range, as [lo, hi]. */
  private runVa(k: number): [number, number] {
    const sum = (this.rBLo >>> 0) + k * this.rPsize;
    return [sum % TWO32 | 0, (this.rBHi + Math.floor(sum / TWO32)) | 0];
  }

  private runClose(): void {
    const w = (this.rOut + this.rN * A.RR_BYTES) >>> 2;
    const [lo, hi] = this.runVa(this.rK);
    const i32 = this.i32;
    i32[w] = lo;
    i32[w + 1] = hi;
    i32[w + 2] = this.rV % TWO32 | 0;
    i32[w + 3] = Math.floor(this.rV / TWO32) | 0;
    i32[w + 4] = this.rCur - this.rK;
    i32[w + 5] = this.rSt;
    this.rN++;
  }

  private runExpect(k: number): number {
    if ((this.rSt & A.ST_KIND_MASK) === A.K_OK) return this.rV + (k - this.rK) * this.rPsize;
    if (this.rSh >= 64) return this.rV;
    return this.rV + Math.floor((this.rIn + (k - this.rK) * this.rPsize) / 2 ** this.rSh) * this.eb;
  }

  private runAdd(k: number, count: number, v: number, st: number): void {
    if (this.rOpen && k === this.rCur && st === this.rSt && v === this.runExpect(k)) {
      if ((st & A.ST_KIND_MASK) === A.K_OK || count === 1 || this.rSh >= 64 || this.runExpect(k + count - 1) === v) {
        this.rCur = k + count;
        return;
      }
      this.rCur = k + 1;
      k++;
      count--;
    }
    if (this.rOpen) {
      this.runClose();
      if (this.rN >= this.rMax) {
        this.rStop = true;
        this.rOpen = false;
        this.rK = k;
        return;
      }
    }
    this.rOpen = true;
    this.rK = k;
    this.rCur = k + count;
    this.rV = v;
    this.rSt = st;
    const kind = st & A.ST_KIND_MASK;
    if (kind === A.K_OK) return;
    if (kind === A.K_NON_CANONICAL) {
      this.rSh = 64;
      return;
    }
    const sh = this.shift[(st >>> A.ST_LEVEL_SHIFT) & 0xf]!;
    this.rSh = sh;
    const [lo, hi] = this.runVa(k);
    this.rIn = sh >= 32 ? (hi & (2 ** (sh - 32) - 1)) * TWO32 + (lo >>> 0) : (lo >>> 0) % 2 ** sh;
  }

  private sinkPage(outPtr: number, k: number, st: number): void {
    if (!this.rRuns) this.emit(outPtr + k * A.BR_BYTES, st);
    else this.runAdd(k, 1, (st & A.ST_KIND_MASK) === A.K_OK ? this.wPa : this.wEa, st);
  }

  translateRuns(root: bigint, va: bigint, pages: number, outPtr: number, maxRuns: number, access: number): number {
    this.load();
    this.rOut = outPtr;
    this.rMax = maxRuns >>> 0;
    this.rN = 0;
    this.rStop = false;
    this.rOpen = false;
    this.rBLo = lo32(va);
    this.rBHi = hi32(va);
    this.rPsize = 2 ** this.shift[this.n - 1]!;
    let covered = pages;
    if (this.rMax === 0) covered = 0;
    else {
      this.rRuns = true;
      try {
        this.rangeWalk(root, va, pages, 0, access);
      } finally {
        this.rRuns = false;
      }
      if (this.rStop) covered = this.rK;
      else if (this.rOpen) this.runClose();
    }
    this.view.setBigUint64(A.RES + A.RES_PAGES_COVERED, BigInt(covered), true);
    return this.rN;
  }

  translateRange(root: bigint, va: bigint, pages: number, outPtr: number, access: number): void {
    this.load();
    this.rangeWalk(root, va, pages, outPtr, access);
  }

  private rangeWalk(root: bigint, va: bigint, pages: number, outPtr: number, access: number): void {
    const runs = this.rRuns;
    this.setAccess(access);
    const last = this.n - 1;
    const psh = this.shift[last]!;
    const psize = 2 ** psh;
    const eb = this.eb, i32 = this.i32;
    const rootAddr = this.rootAddr(lo32(root), hi32(root));
    const mask = this.imask[last]!;
    let plo = 0, phi = 0, prevEnd = -1;
    let k = 0;
    // The current VA as two halves, advanced by psize with carry.
    let clo = lo32(va), chi = hi32(va);
    // Offset of va inside its page: the same for every page of the range.
    const poff = psh >= 32 ? 0 : (clo >>> 0) % psize;
    const advance = (pagesBy: number) => {
      const sum = (clo >>> 0) + pagesBy * psize;
      clo = sum % TWO32 | 0;
      chi = (chi + Math.floor(sum / TWO32)) | 0;
    };
    while (k < pages) {
      if (!this.canonical(clo, chi)) {
        this.sinkPage(outPtr, k, this.walk(0, 0, clo, chi, access));
        k++;
        advance(1);
        prevEnd = -1;
        if (runs && this.rStop) return;
        continue;
      }
      const st = this.walkCached(rootAddr, clo, chi, plo, phi, prevEnd, access);
      this.sinkPage(outPtr, k, st);
      k++;
      if (runs && this.rStop) return;
      const end = this.wEnd;
      if (end < last) {
        const ssh = this.shift[end]!;
        // Pages from cur to the end of the entry's span.
        const inSpan = ssh >= 32 ? (chi & (2 ** (ssh - 32) - 1)) * TWO32 + (clo >>> 0) : (clo >>> 0) % 2 ** ssh;
        const spanLeft = (2 ** ssh - inSpan) / psize;
        const ok = (st & A.ST_KIND_MASK) === A.K_OK;
        let m = 1;
        if (runs) {
          // The rest of the span in one step.
          const cnt = Math.min(spanLeft - 1, pages - k);
          if (cnt > 0) {
            this.runAdd(k, cnt, ok ? this.wPa + psize : this.wEa, st);
            k += cnt;
            if (this.rStop) return;
          }
          m = cnt + 1;
        }
        while (m < spanLeft && k < pages) {
          if (ok) this.wPa += psize;
          this.emit(outPtr + k * A.BR_BYTES, st);
          m++;
          k++;
        }
        advance(m - 1);
        plo = clo;
        phi = chi;
        prevEnd = end;
        advance(1);
        continue;
      }
      const table = this.cTable[last]!;
      this.resetAcc(last);
      const deny = this.tableDeny(this.aLo, this.aHi, this.oLo, this.oHi);
      let idx = this.index(last, clo, chi);
      // As the wasm kernel: in one leaf table a valid leaf's status depends only on
      // the entry's bits outside its output address (plus those its checks read), so
      // an entry whose key equals the previous OK entry's reuses that status.
      const [kLo, kHi] = this.leafKeyMask(last);
      let memo = false, memoLo = 0, memoHi = 0, memoSt = 0;
      // As the wasm kernel: records, 8-byte entries, no split address bits, the whole
      // table in the image: while entries keep the memo key, a page is a compare and four stores.
      const tight = !runs && eb === 8 && this.ext[last * 2] === 0 && this.ext[last * 2 + 1] === 0 && this.phys.addr(table, (mask + 1) * 8) !== 0;
      const aLo = this.lAddr[last * 2]!, aHi = this.lAddr[last * 2 + 1]!;
      while (k < pages && idx < mask) {
        if (tight && memo) {
          const lim = Math.min(pages - k, mask - idx);
          let w = (this.phys.addr(table, (mask + 1) * 8) + (idx + 1) * 8) >>> 2;
          let o = (outPtr + k * A.BR_BYTES) >>> 2;
          let j = 0;
          for (; j < lim; j++, w += 2, o += 4) {
            const lo = i32[w]!, hi = i32[w + 1]!;
            if ((lo & kLo) !== memoLo || (hi & kHi) !== memoHi) break;
            // The leaf address has no bits below the page: the offset ORs in.
            i32[o] = (lo & aLo) | poff;
            i32[o + 1] = hi & aHi;
            i32[o + 2] = memoSt;
            i32[o + 3] = lo;
          }
          idx += j;
          k += j;
          advance(j);
          if (k >= pages || idx >= mask) break;
        }
        idx++;
        advance(1);
        const ea = table + idx * eb;
        let s: number;
        const at = this.phys.addr(ea, eb);
        if (at === 0) {
          s = this.walkFrom(clo, chi, last, table, access, true);
          memo = false;
        } else {
          const w = at >>> 2;
          const lo = i32[w]!;
          const hi = eb === 8 ? i32[w + 1]! : 0;
          this.wEa = ea;
          this.wELo = lo;
          this.wEHi = hi;
          if (memo && (lo & kLo) === memoLo && (hi & kHi) === memoHi) {
            this.wPa = this.leafBase(last, lo, hi) + poff;
            s = memoSt;
          } else if ((lo & this.vmask[last]!) !== this.vval[last]) {
            s = this.walkFrom(clo, chi, last, table, access, true);
            memo = false;
          } else {
            s = this.leafStatus(lo, hi, last, clo, chi, deny, access);
            memo = (s & A.ST_KIND_MASK) === A.K_OK;
            memoLo = lo & kLo;
            memoHi = hi & kHi;
            memoSt = s;
          }
        }
        this.sinkPage(outPtr, k, s);
        k++;
        if (runs && this.rStop) return;
      }
      plo = clo;
      phi = chi;
      prevEnd = last;
      advance(1);
    }
  }

  enumStart(root: bigint): void {
    this.load();
    const v = this.view;
    v.setInt32(A.EN + A.DFS_DEPTH, 0, true);
    const s = A.EN + A.DFS_LEVEL_BASE;
    v.setBigUint64(s + A.DFS_TABLE, BigInt(this.rootAddr(lo32(root), hi32(root))), true);
    v.setBigUint64(s + A.DFS_VA, 0n, true);
    v.setUint32(s + A.DFS_INDEX, 0, true);
    v.setUint32(s + A.DFS_DENY, 0, true);
  }

  enumNext(outPtr: number, max: number): number {
    this.load();
    const v = this.view, i32 = this.i32;
    const n = this.n, eb = this.eb;
    const checkRsvd = (this.flags & A.WF_CHECK_RSVD) !== 0;
    let d = v.getInt32(A.EN + A.DFS_DEPTH, true);
    let count = 0;
    while (d >= 0 && count < max) {
      const s = A.EN + A.DFS_LEVEL_BASE + d * A.DFS_LEVEL_STRIDE;
      const sw = s >>> 2;
      const idx = i32[sw + (A.DFS_INDEX >>> 2)]! >>> 0;
      if (idx > this.imask[d]!) {
        d--;
        continue;
      }
      i32[sw + (A.DFS_INDEX >>> 2)] = idx + 1;
      const table = (i32[sw + 1]! >>> 0) * TWO32 + (i32[sw]! >>> 0);
      const ea = table + idx * eb;
      const at = this.phys.addr(ea, eb);
      if (at === 0) {
        d--;
        continue;
      }
      const w = at >>> 2;
      const lo = i32[w]!;
      const hi = eb === 8 ? i32[w + 1]! : 0;
      if ((lo & this.vmask[d]!) !== this.vval[d]) continue;
      // VA of this entry: the table's VA | idx << shift.
      const sh = this.shift[d]!;
      let vlo = i32[sw + (A.DFS_VA >>> 2)]!;
      let vhi = i32[sw + (A.DFS_VA >>> 2) + 1]!;
      if (sh >= 32) vhi |= idx << (sh - 32);
      else {
        vlo |= idx << sh;
        vhi |= sh === 0 ? 0 : idx >>> (32 - sh);
      }
      const deny = i32[sw + (A.DFS_DENY >>> 2)]!;
      if (this.lallowed[d] && (lo & this.lmask[d]!) === this.lval[d]) {
        if (checkRsvd && ((lo & this.rsvdL[d * 2]!) | (hi & this.rsvdL[d * 2 + 1]!)) !== 0) continue;
        const rights = ~(deny | this.denyOf(lo, hi, d * RM + 12)) & 0xf;
        const ow = (outPtr + count * A.MR_BYTES) >>> 2;
        i32[ow] = vlo;
        i32[ow + 1] = this.canonicalHi(vhi);
        const pa = this.leafBase(d, lo, hi);
        i32[ow + 2] = pa % TWO32 | 0;
        i32[ow + 3] = Math.floor(pa / TWO32) | 0;
        i32[ow + 4] = lo;
        i32[ow + 5] = hi;
        i32[ow + 6] = (d << A.ST_LEVEL_SHIFT) | (rights << A.ST_RIGHTS_SHIFT) | (sh << A.ST_PAGE_SHIFT);
        count++;
        continue;
      }
      if (checkRsvd && ((lo & this.rsvdT[d * 2]!) | (hi & this.rsvdT[d * 2 + 1]!)) !== 0) continue;
      if (d + 1 >= n) continue;
      const cw = (A.EN + A.DFS_LEVEL_BASE + (d + 1) * A.DFS_LEVEL_STRIDE) >>> 2;
      const t = (hi & this.tAddr[d * 2 + 1]!) * TWO32 + ((lo & this.tAddr[d * 2]!) >>> 0);
      i32[cw] = t % TWO32 | 0;
      i32[cw + 1] = Math.floor(t / TWO32) | 0;
      i32[cw + (A.DFS_VA >>> 2)] = vlo;
      i32[cw + (A.DFS_VA >>> 2) + 1] = vhi;
      i32[cw + (A.DFS_INDEX >>> 2)] = 0;
      i32[cw + (A.DFS_DENY >>> 2)] = deny | this.denyOf(lo, hi, d * RM);
      d++;
    }
    v.setInt32(A.EN + A.DFS_DEPTH, d, true);
    return count;
  }

  // ---- map / unmap / protect ---------------------------------------------------------

  private conflict(code: number, va: bigint, ea: number, lo: number, hi: number): number {
    const v = this.view;
    v.setBigUint64(A.RES + A.RES_VA, BigInt.asUintN(64, va), true);
    v.setBigUint64(A.RES + A.RES_ENTRY_ADDR, BigInt(ea), true);
    v.setInt32(A.RES + A.RES_ENTRY_VALUE, lo, true);
    v.setInt32(A.RES + A.RES_ENTRY_VALUE + 4, hi, true);
    return code;
  }

  /** The entry at `ea` (the caller found it in memory with phys.addr). */
  private readEntry(ea: number): [number, number] {
    const w = this.phys.addr(ea, this.eb) >>> 2;
    return [this.i32[w]!, this.eb === 8 ? this.i32[w + 1]! : 0];
  }

  private writeEntry(ea: number, lo: number, hi: number): void {
    const w = this.phys.writeAddr(ea, this.eb) >>> 2;
    this.i32[w] = lo;
    if (this.eb === 8) this.i32[w + 1] = hi;
  }

  private isLeaf(i: number, lo: number): boolean {
    return this.lallowed[i] !== 0 && (lo & this.lmask[i]!) === this.lval[i];
  }

  /** Bytes from va to the end of its entry's span at level i (va as BigInt, once per call). */
  private firstRoom(va: bigint, i: number): number {
    const span = 2n ** BigInt(this.shift[i]!);
    return Number(span - (va & (span - 1n)));
  }

  /** Can a leaf at level i hold output `pa` (no address bit lost)? */
  private representable(i: number, pa: number): boolean {
    const plo = pa % TWO32 | 0, phi = Math.floor(pa / TWO32) | 0;
    const extv = Math.floor(pa / this.extShift[i]!) & this.ext[i * 2]!;
    return this.leafBase(i, (plo & this.lAddr[i * 2]!) | extv, phi & this.lAddr[i * 2 + 1]!) === pa;
  }

  private mapLevel(table: number, i: number, va: bigint, pa: number, size: number, bLo: number, bHi: number, dry: boolean): number {
    const sh = this.shift[i]!;
    const span = 2 ** sh;
    const eb = this.eb;
    const leafHere = this.lallowed[i] !== 0 && i >= this.maxLeaf;
    let idx = Number((va >> BigInt(sh)) & BigInt(this.imask[i]!));
    let room = this.firstRoom(va, i);
    let off = 0;
    while (off < size) {
      const chunk = Math.min(room, size - off);
      room = span;
      const cpa = pa + off;
      const asLeaf = leafHere && chunk === span && cpa % span === 0;
      let r: number = A.MAP_OK;
      if (table === ABSENT) {
        if (asLeaf) {
          if (!this.representable(i, cpa)) return this.conflict(A.MAP_PA_UNREPRESENTABLE, va + BigInt(off), 0, 0, 0);
        } else {
          this.count++;
          r = this.mapLevel(ABSENT, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        }
      } else {
        const ea = table + (idx & this.imask[i]!) * eb;
        if (this.phys.addr(ea, eb) === 0) return this.conflict(A.MAP_OUTSIDE_IMAGE, va + BigInt(off), ea, 0, 0);
        const [lo, hi] = this.readEntry(ea);
        const valid = (lo & this.vmask[i]!) === this.vval[i];
        if (asLeaf) {
          if (valid) return this.conflict(A.MAP_ALREADY_MAPPED, va + BigInt(off), ea, lo, hi);
          if (!this.representable(i, cpa)) return this.conflict(A.MAP_PA_UNREPRESENTABLE, va + BigInt(off), ea, lo, hi);
          if (!dry) {
            const plo = cpa % TWO32 | 0, phi = Math.floor(cpa / TWO32) | 0;
            const extv = Math.floor(cpa / this.extShift[i]!) & this.ext[i * 2]!;
            this.writeEntry(
              ea,
              this.lTmpl[i * 2]! | bLo | (plo & this.lAddr[i * 2]!) | extv,
              this.lTmpl[i * 2 + 1]! | bHi | (phi & this.lAddr[i * 2 + 1]!),
            );
            this.count++;
          }
        } else if (valid) {
          if (this.isLeaf(i, lo)) return this.conflict(A.MAP_INSIDE_LEAF, va + BigInt(off), ea, lo, hi);
          if (this.flags & A.WF_CHECK_RSVD && ((lo & this.rsvdT[i * 2]!) | (hi & this.rsvdT[i * 2 + 1]!)) !== 0) {
            return this.conflict(A.MAP_BAD_ENTRY, va + BigInt(off), ea, lo, hi);
          }
          const t = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
          r = this.mapLevel(t, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        } else if (dry) {
          this.count++;
          r = this.mapLevel(ABSENT, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        } else {
          if (this.poolLeft === 0) return this.conflict(A.MAP_POOL_EMPTY, va + BigInt(off), ea, lo, hi);
          const t = Number(this.view.getBigUint64(this.poolPtr, true));
          this.poolPtr += 8;
          this.poolLeft--;
          const bytes = (this.imask[i + 1]! + 1) * eb;
          // A new table may span frames (64 KiB granule): zero it frame by frame.
          for (let z = 0; z < bytes; z += 4096) {
            const n = Math.min(4096, bytes - z);
            const at = this.phys.writeAddr(t + z, n);
            this.u8.fill(0, at, at + n);
          }
          const tlo = t % TWO32 | 0, thi = Math.floor(t / TWO32) | 0;
          this.writeEntry(ea, this.tTmpl[i * 2]! | (tlo & this.tAddr[i * 2]!), this.tTmpl[i * 2 + 1]! | (thi & this.tAddr[i * 2 + 1]!));
          r = this.mapLevel(t, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        }
      }
      if (r !== A.MAP_OK) return r;
      off += chunk;
      idx++;
    }
    return A.MAP_OK;
  }

  mapRange(root: bigint, va: bigint, pa: bigint, size: bigint, leafBits: bigint, pool: number, poolCount: number, dry: number): number {
    this.load();
    this.count = 0;
    this.poolPtr = pool;
    this.poolLeft = poolCount;
    const r = this.mapLevel(this.rootAddr(lo32(root), hi32(root)), 0, va, Number(pa), Number(size), lo32(leafBits), hi32(leafBits), dry !== 0);
    this.view.setBigUint64(A.RES + (dry !== 0 ? A.RES_TABLES_NEEDED : A.RES_LEAVES), BigInt(this.count), true);
    return r;
  }

  private editLevel(table: number, i: number, va: bigint, size: number, op: number, sLo: number, sHi: number, cLo: number, cHi: number, dry: boolean): number {
    const sh = this.shift[i]!;
    const span = 2 ** sh;
    const eb = this.eb;
    let idx = Number((va >> BigInt(sh)) & BigInt(this.imask[i]!));
    let room = this.firstRoom(va, i);
    let off = 0;
    while (off < size) {
      const chunk = Math.min(room, size - off);
      room = span;
      const ea = table + (idx & this.imask[i]!) * eb;
      const at = off;
      off += chunk;
      idx++;
      if (this.phys.addr(ea, eb) === 0) continue;
      const [lo, hi] = this.readEntry(ea);
      if ((lo & this.vmask[i]!) !== this.vval[i]) continue;
      if (this.isLeaf(i, lo)) {
        if (chunk !== span) return this.conflict(A.MAP_SPLITS_LEAF, va + BigInt(at), ea, lo, hi);
        if (!dry) {
          if (op === 0) this.writeEntry(ea, 0, 0);
          else this.writeEntry(ea, (lo & ~cLo) | sLo, (hi & ~cHi) | sHi);
        }
        this.count++;
        continue;
      }
      if (this.flags & A.WF_CHECK_RSVD && ((lo & this.rsvdT[i * 2]!) | (hi & this.rsvdT[i * 2 + 1]!)) !== 0) {
        return this.conflict(A.MAP_BAD_ENTRY, va + BigInt(at), ea, lo, hi);
      }
      if (i + 1 >= this.n) continue;
      const t = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
      const r = this.editLevel(t, i + 1, va + BigInt(at), chunk, op, sLo, sHi, cLo, cHi, dry);
      if (r !== A.MAP_OK) return r;
    }
    return A.MAP_OK;
  }

  unmapRange(root: bigint, va: bigint, size: bigint, dry: number): number {
    this.load();
    this.count = 0;
    const r = this.editLevel(this.rootAddr(lo32(root), hi32(root)), 0, va, Number(size), 0, 0, 0, 0, 0, dry !== 0);
    this.view.setBigUint64(A.RES + A.RES_LEAVES, BigInt(this.count), true);
    return r;
  }

  protectRange(root: bigint, va: bigint, size: bigint, set: bigint, clear: bigint, dry: number): number {
    this.load();
    this.count = 0;
    const r = this.editLevel(this.rootAddr(lo32(root), hi32(root)), 0, va, Number(size), 1, lo32(set), hi32(set), lo32(clear), hi32(clear), dry !== 0);
    this.view.setBigUint64(A.RES + A.RES_LEAVES, BigInt(this.count), true);
    return r;
  }

  // ---- contiguous hint (reference/contig.ts) ---------------------------------------------

  contigUpdate(root: bigint, va: bigint, size: bigint, set: number): number {
    return this.contig.contigUpdate(root, va, size, set);
  }

  contigCheckStart(root: bigint): void {
    this.contig.contigCheckStart(root);
  }

  contigCheckNext(outPtr: number, max: number, steps: number): number {
    return this.contig.contigCheckNext(outPtr, max, steps);
  }

  relocate(root: bigint, xenmap: bigint, delta: bigint, scratch: number, cap: number, dry: number): number {
    return this.relocator.relocate(root, xenmap, delta, scratch, cap, dry);
  }
}
