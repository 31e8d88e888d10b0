// The reference twin of assembly/frames/type-system.ts: general and type
// references, recursive validation of L1..L4 tables, pin/unpin and page_lock.
import * as A from '../../abi.js';
import { ReferenceAllocation } from './allocation.js';
import { NULL, TYPE_SHIFT, COUNT, UNDO, VALID, L4, FR, isTable, xenSlot } from './state.js';

export class ReferenceTypeSystem extends ReferenceAllocation {
  // type-system error record
  protected errSet = false;
  protected tableSet = false;


  protected beginOp(): void {
    this.errSet = false;
    this.tableSet = false;
    this.fr(A.FR_ERR_FRAME, NULL);
    this.fr(A.FR_ERR_WANT, 0);
    this.fr(A.FR_ERR_FOUND, 0);
    this.fr(A.FR_ERR_TABLE, NULL);
    this.fr(A.FR_ERR_ENTRY, NULL);
    this.fr(A.FR_ERR_LEVEL, 0);
    this.fr(A.FR_ERR_ELO, 0);
    this.fr(A.FR_ERR_EHI, 0);
  }

  protected refuse(code: number, f: number, want: number, found: number): number {
    if (!this.errSet) {
      this.errSet = true;
      this.fr(A.FR_ERR_FRAME, f >>> 0);
      this.fr(A.FR_ERR_WANT, want);
      this.fr(A.FR_ERR_FOUND, found >>> 0);
    }
    return code;
  }

  protected noteTable(f: number, i: number, t: number, lo: number, hi: number): void {
    if (!this.tableSet) {
      this.tableSet = true;
      this.fr(A.FR_ERR_TABLE, f);
      this.fr(A.FR_ERR_ENTRY, i);
      this.fr(A.FR_ERR_LEVEL, t);
      this.fr(A.FR_ERR_ELO, lo >>> 0);
      this.fr(A.FR_ERR_EHI, hi >>> 0);
    }
  }

  protected anomaly(): void {
    const i = FR + (A.FR_ANOMALY >>> 2);
    this.u[i] = this.u[i]! + 1;
  }

  protected pageGet(f: number, owner: number): number {
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    const u = this.u;
    const o = u[this.cOwner + f]!;
    const c = u[this.cCount + f]!;
    if (o === A.OWNER_NONE || (c & A.PGC_COUNT_MASK) === 0) return this.refuse(A.TE_NOT_ALLOCATED, f, 0, c);
    if (o !== owner) return this.refuse(A.TE_FOREIGN, f, owner, o);
    if ((c & A.PGC_COUNT_MASK) === A.PGC_COUNT_MASK) return this.refuse(A.TE_COUNT_OVERFLOW, f, 0, c);
    u[this.cCount + f] = c + 1;
    return A.TE_OK;
  }

  protected pagePut(f: number): void {
    const u = this.u;
    const c = u[this.cCount + f]!;
    if ((c & A.PGC_COUNT_MASK) === 0) this.anomaly();
    else u[this.cCount + f] = c - 1;
  }

  protected promoteL4(f: number): void {
    const u = this.u;
    const d = (u[this.cOwner + f]! - A.OWNER_BIAS) >>> 0;
    if (!this.live(d)) return;
    const e = this.entryW(f, A.RO_MPT_SLOT);
    const strict = (this.domGet(d, A.DOM_FLAGS) & A.DF_M2P_STRICT) !== 0;
    u[e] = strict ? A.RO_MPT_LO : 0;
    u[e + 1] = strict ? A.RO_MPT_HI : 0;
    this.domSet(d, A.DOM_NR_L4, (this.domGet(d, A.DOM_NR_L4) + 1) >>> 0);
    const t = this.domGet(d, A.DOM_L4_TAIL);
    u[this.l4N + f] = NULL;
    u[this.l4P + f] = t;
    if (t === NULL) this.domSet(d, A.DOM_L4_HEAD, f);
    else u[this.l4N + t] = f;
    this.domSet(d, A.DOM_L4_TAIL, f);
    this.domSet(d, A.DOM_L4_COUNT, (this.domGet(d, A.DOM_L4_COUNT) + 1) >>> 0);
  }

  protected demoteL4(f: number): void {
    const u = this.u;
    const d = (u[this.cOwner + f]! - A.OWNER_BIAS) >>> 0;
    if (!this.live(d)) return;
    this.domSet(d, A.DOM_NR_L4, (this.domGet(d, A.DOM_NR_L4) - 1) >>> 0);
    const p = u[this.l4P + f]!, n = u[this.l4N + f]!;
    if (p === NULL) this.domSet(d, A.DOM_L4_HEAD, n);
    else if (p < this.ramFrames) u[this.l4N + p] = n;
    if (n === NULL) this.domSet(d, A.DOM_L4_TAIL, p);
    else if (n < this.ramFrames) u[this.l4P + n] = p;
    u[this.l4N + f] = NULL;
    u[this.l4P + f] = NULL;
    this.domSet(d, A.DOM_L4_COUNT, (this.domGet(d, A.DOM_L4_COUNT) - 1) >>> 0);
    if (this.domGet(d, A.DOM_FIX_MODE) === A.FIXM_INDEXED && this.domGet(d, A.DOM_FIX_CURSOR) === f) this.domSet(d, A.DOM_FIX_CURSOR, n);
  }

  protected typeGet(f: number, t: number): number {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    const cur = x >>> TYPE_SHIFT;
    if (cnt === 0) {
      if (x & A.PGT_PARTIAL) return this.refuse(A.TE_PARTIAL, f, t, x);
      if (cur === t && x & VALID) {
        u[this.cType + f] = x + 1;
        return A.TE_OK;
      }
      const base = ((t << TYPE_SHIFT) | (x & UNDO) | 1) >>> 0;
      if (!isTable(t)) {
        u[this.cType + f] = base | VALID;
        return A.TE_OK;
      }
      if (f >= this.ramFrames) return this.refuse(A.TE_OUTSIDE_IMAGE, f, t, x);
      u[this.cType + f] = base;
      const rc = this.validate(f, t);
      if (rc !== A.TE_OK) {
        u[this.cType + f] = x;
        return rc;
      }
      if (t === L4) this.promoteL4(f);
      u[this.cType + f] = u[this.cType + f]! | VALID;
      return A.TE_OK;
    }
    if (cur !== t) return this.refuse(t === A.PGT_WRITABLE && isTable(cur) ? A.TE_WRITABLE_PT : A.TE_TYPE_MISMATCH, f, t, x);
    if (!(x & VALID)) return this.refuse(A.TE_NOT_VALIDATED, f, t, x);
    if (cnt === COUNT) return this.refuse(A.TE_COUNT_OVERFLOW, f, t, x);
    u[this.cType + f] = x + 1;
    return A.TE_OK;
  }

  protected typePut(f: number, rollback: boolean): void {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    if (cnt === 0) {
      this.anomaly();
      return;
    }
    let nx = x - 1;
    if (cnt === 1) {
      const cur = x >>> TYPE_SHIFT;
      if (isTable(cur) && x & VALID) {
        nx = (nx & ~VALID) >>> 0;
        u[this.cType + f] = nx;
        this.releaseEntries(f, cur, 512, rollback);
        if (cur === L4) this.demoteL4(f);
      }
      if (rollback) nx = ((nx & 0x0fffffff) | (((nx & UNDO) >>> A.PGT_UNDO_SHIFT) << 28)) >>> 0;
      else nx = ((nx & ~UNDO) | (((nx >>> 28) & 0xf) << A.PGT_UNDO_SHIFT)) >>> 0;
    }
    u[this.cType + f] = nx;
  }

  protected takeEntry(lo: number, hi: number, t: number, owner: number): number {
    const tg = (lo >>> 12) + (hi & 0xfffff) * 1048576;
    const tg32 = tg >>> 0;
    const want = t === A.PGT_L1 ? (lo & A.PTE_RW ? A.PGT_WRITABLE : 0) : t - 1;
    if (hi & A.DIS_HI) return this.refuse(A.TE_DISALLOWED, tg32, want, 0);
    if (t !== A.PGT_L1) {
      if (lo & A.PTE_PS) return this.refuse(t === L4 ? A.TE_DISALLOWED : A.TE_SUPERPAGE, tg32, want, 0);
      if (lo & A.DIS_TABLE_LO) return this.refuse(A.TE_DISALLOWED, tg32, want, 0);
    }
    if (tg >= this.frames) return this.refuse(A.TE_FRAME_RANGE, tg32, want, 0);
    let rc = this.pageGet(tg, owner);
    if (rc !== A.TE_OK) return rc;
    if (want !== 0) {
      rc = this.typeGet(tg, want);
      if (rc !== A.TE_OK) {
        this.pagePut(tg);
        return rc;
      }
    }
    return A.TE_OK;
  }

  protected dropEntry(lo: number, hi: number, t: number, rollback: boolean): void {
    const tg = (lo >>> 12) + (hi & 0xfffff) * 1048576;
    if (tg >= this.frames) {
      this.anomaly();
      return;
    }
    if (t !== A.PGT_L1 || lo & A.PTE_RW) this.typePut(tg, rollback);
    this.pagePut(tg);
  }

  protected releaseEntries(f: number, t: number, upto: number, rollback: boolean): void {
    const u = this.u;
    for (let i = upto - 1; i >= 0; i--) {
      if (xenSlot(t, i)) continue;
      const e = this.entry(f, i);
      const lo = u[e]!;
      if (lo & 1) this.dropEntry(lo, u[e + 1]!, t, rollback);
    }
  }

  protected validate(f: number, t: number): number {
    const u = this.u;
    const owner = u[this.cOwner + f]!;
    for (let i = 0; i < 512; i++) {
      if (xenSlot(t, i)) continue;
      const e = this.entry(f, i);
      const lo = u[e]!;
      if (!(lo & 1)) continue;
      const hi = u[e + 1]!;
      const rc = this.takeEntry(lo, hi, t, owner);
      if (rc !== A.TE_OK) {
        this.noteTable(f, i, t, lo, hi);
        this.releaseEntries(f, t, i, true);
        return rc;
      }
    }
    return A.TE_OK;
  }

  protected checkFrame(f: number): number {
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    if (this.u[this.cOwner + f] === A.OWNER_NONE) return this.refuse(A.TE_NOT_ALLOCATED, f, 0, this.u[this.cCount + f]!);
    return A.TE_OK;
  }

  getType(f: number, t: number): number {
    f >>>= 0;
    t >>>= 0;
    this.beginOp();
    if (t === 0 || t > A.PGT_WRITABLE) return this.refuse(A.TE_BAD_TYPE, f, t, 0);
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    return this.typeGet(f, t);
  }

  putType(f: number): number {
    f >>>= 0;
    this.beginOp();
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const x = this.u[this.cType + f]!;
    const cnt = x & COUNT;
    if (cnt === 0) return this.refuse(A.TE_NO_TYPE_REF, f, 0, x);
    const held = (x & A.PGT_PINNED ? 1 : 0) + (x & A.PGT_LOCKED ? 1 : 0);
    if (cnt <= held) return this.refuse(x & A.PGT_PINNED ? A.TE_PINNED : A.TE_LOCKED, f, 0, x);
    this.typePut(f, false);
    return A.TE_OK;
  }

  pin(f: number, t: number): number {
    f >>>= 0;
    t >>>= 0;
    this.beginOp();
    if (!isTable(t)) return this.refuse(A.TE_BAD_TYPE, f, t, 0);
    let rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const u = this.u;
    const x = u[this.cType + f]!;
    if (x & A.PGT_PINNED) return this.refuse(A.TE_PINNED, f, t, x);
    rc = this.pageGet(f, u[this.cOwner + f]!);
    if (rc !== A.TE_OK) return rc;
    rc = this.typeGet(f, t);
    if (rc !== A.TE_OK) {
      this.pagePut(f);
      return rc;
    }
    u[this.cType + f] = (u[this.cType + f]! | A.PGT_PINNED) >>> 0;
    return A.TE_OK;
  }

  unpin(f: number): number {
    f >>>= 0;
    this.beginOp();
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const u = this.u;
    const x = u[this.cType + f]!;
    if (!(x & A.PGT_PINNED)) return this.refuse(A.TE_NOT_PINNED, f, 0, x);
    u[this.cType + f] = (x & ~A.PGT_PINNED) >>> 0;
    this.typePut(f, false);
    this.pagePut(f);
    return A.TE_OK;
  }

  protected tryLock(f: number): boolean {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    if ((x & (A.PGT_LOCKED | VALID)) !== VALID || cnt === 0 || cnt === COUNT) return false;
    u[this.cType + f] = ((x + 1) | A.PGT_LOCKED) >>> 0;
    return true;
  }

  protected unlockHeld(f: number): void {
    const u = this.u;
    u[this.cType + f] = ((u[this.cType + f]! & ~A.PGT_LOCKED) - 1) >>> 0;
  }

  pageLock(f: number): number {
    f >>>= 0;
    if (f >= this.frames) return 0;
    return this.tryLock(f) ? 1 : 0;
  }

  pageUnlock(f: number): number {
    f >>>= 0;
    this.beginOp();
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    const u = this.u;
    const x = u[this.cType + f]!;
    if (!(x & A.PGT_LOCKED)) return this.refuse(A.TE_NOT_LOCKED, f, 0, x);
    u[this.cType + f] = (x & ~A.PGT_LOCKED) >>> 0;
    this.typePut(f, false);
    return A.TE_OK;
  }

}
