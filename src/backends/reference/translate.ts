// The reference twin of assembly/paging/translate.ts: translate, the batch (plain,
// cached, interleaved), the range walk and its run-length sink, over the walk of walk.ts.
import * as A from '../../abi.js';
import { ReferenceWalk } from './walk.js';
import { TWO32, RM_WORDS, lo32, hi32 } from './params.js';

export class ReferenceTranslate extends ReferenceWalk {
  /** Bits of a leaf at level i that decide its status: all but the output address, plus every bit a check reads. */
  private leafKeyMask(i: number): [number, number] {
    const r = this.rm, o = this.lRights(i);
    let lo = ~this.lAddr[i * 2]! | this.vmask[i]! | this.ext[i * 2]! | this.rsvdL[i * 2]! | this.lReq[i * 2]!;
    let hi = ~this.lAddr[i * 2 + 1]! | this.ext[i * 2 + 1]! | this.rsvdL[i * 2 + 1]! | this.lReq[i * 2 + 1]!;
    for (let k = 0; k < RM_WORDS; k += 2) {
      lo |= r[o + k]!;
      hi |= r[o + k + 1]!;
    }
    return [lo, hi];
  }


  private emit(out: number, st: number): void {
    const v = (st & A.ST_KIND_MASK) === A.K_OK ? this.wPa : this.wEa;
    const w = out >>> 2;
    this.i32[w] = v % TWO32 | 0;
    this.i32[w + 1] = Math.floor(v / TWO32) | 0;
    this.i32[w + 2] = st;
    this.i32[w + 3] = this.wELo;
  }


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
  /** As the wasm kernel: table entries the call may still read; rDry: they ran out before page rAt. */
  private rLeft = 0;
  private rDry = false;
  private rAt = 0;

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

  translateRuns(root: bigint, va: bigint, pages: number, outPtr: number, maxRuns: number, access: number, maxEntries: number): number {
    this.load();
    this.rOut = outPtr;
    this.rMax = maxRuns >>> 0;
    this.rN = 0;
    this.rStop = false;
    this.rOpen = false;
    this.rLeft = maxEntries >>> 0;
    this.rDry = false;
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
      else {
        if (this.rOpen) this.runClose();
        if (this.rDry) covered = this.rAt;
      }
    }
    this.view.setBigUint64(A.RES + A.RES_PAGES_COVERED, BigInt(covered), true);
    this.view.setBigUint64(A.RES + A.RES_ENTRIES_READ, BigInt((maxEntries >>> 0) - this.rLeft), true);
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
      const from = runs && prevEnd >= 0 ? this.restartLevel(clo, chi, plo, phi, prevEnd) : 0;
      const st = this.walkCached(rootAddr, clo, chi, plo, phi, prevEnd, access);
      if (runs) {
        // A walk costs the entries from its restart level to the level it ended at.
        const cost = ((st >>> A.ST_LEVEL_SHIFT) & 0xf) + 1 - from;
        if (cost > this.rLeft) {
          this.rDry = true;
          this.rAt = k;
          return;
        }
        this.rLeft -= cost;
      }
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
        if (runs) {
          if (this.rLeft === 0) {
            this.rDry = true;
            this.rAt = k;
            return;
          }
          this.rLeft--;
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
          } else if (!this.isValid(last, lo)) {
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
}
