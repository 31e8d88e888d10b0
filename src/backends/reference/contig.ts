// The reference twin of assembly/paging/contig.ts: the contiguous-hint update
// and check over the same memory, with the same records. Entries are two int32
// halves and output addresses exact doubles; BigInt appears once per table (the
// VA bounds of a range), never per entry.
import * as A from '../../abi.js';
import { ReferenceTraverse, type DfsVisit } from './traverse.js';
import { TWO32, lo32, hi32 } from './params.js';

// CR_* fields as int32 indices from a record.
const CR_TABLE = A.CR_TABLE >>> 2;
const CR_VA = A.CR_VA >>> 2;
const CR_INDEX = A.CR_INDEX >>> 2;
const CR_LEVEL = A.CR_LEVEL >>> 2;
const CR_RULES = A.CR_RULES >>> 2;
const CR_HINTED = A.CR_HINTED >>> 2;

export class ReferenceContig extends ReferenceTraverse implements DfsVisit {
  private hinted = 0;
  private changed = 0;
  private groups = 0;

  /** The root table's address from a root register value given as a bigint. */
  private rootOf(root: bigint): number {
    return this.rootAddr(lo32(root), hi32(root));
  }

  private isLeafEntry(i: number, lo: number): boolean {
    return this.isValid(i, lo) && this.isLeaf(i, lo);
  }

  /** CG_* rules broken by the group of `n` entries from `g` (CG_NOT_ALL excluded); sets this.hinted. */
  private groupRules(table: number, i: number, g: number, n: number): number {
    const i32 = this.i32, eb = this.eb;
    const cL = this.cbit[i * 2]!, cH = this.cbit[i * 2 + 1]!;
    const aL = this.lAddr[i * 2]!, aH = this.lAddr[i * 2 + 1]!;
    const xL = this.ext[i * 2]!;
    const attrL = ~(aL | xL | cL), attrH = ~(aH | this.ext[i * 2 + 1]! | cH);
    const span = 2 ** this.shift[i]!;
    let rules = 0, hinted = 0, first = true, base = 0, atL = 0, atH = 0;
    for (let k = 0; k < n; k++) {
      const ea = table + (g + k) * eb;
      let lo = 0, hi = 0;
      const at = this.phys.addr(ea, eb);
      if (at !== 0) {
        const w = at >>> 2;
        lo = i32[w]!;
        hi = eb === 8 ? i32[w + 1]! : 0;
      }
      if (!this.isLeafEntry(i, lo)) {
        rules |= A.CG_NOT_LEAF;
        continue;
      }
      if (((lo & cL) | (hi & cH)) !== 0) hinted++;
      let out = (hi & aH) * TWO32 + ((lo & aL) >>> 0);
      const x = lo & xL;
      if (x !== 0) out += (x >>> 0) * this.extShift[i]!;
      const start = out - k * span;
      if (first) {
        first = false;
        base = start;
        atL = lo & attrL;
        atH = hi & attrH;
        if (base % (n * span) !== 0) rules |= A.CG_MISALIGNED;
      } else {
        if (start !== base) rules |= A.CG_NOT_CONSECUTIVE;
        if ((lo & attrL) !== atL || (hi & attrH) !== atH) rules |= A.CG_ATTRS_DIFFER;
      }
    }
    this.hinted = hinted;
    return rules;
  }

  private writeGroup(table: number, i: number, g: number, n: number, on: boolean): void {
    const i32 = this.i32, eb = this.eb;
    const cL = this.cbit[i * 2]!, cH = this.cbit[i * 2 + 1]!;
    for (let k = 0; k < n; k++) {
      const ea = table + (g + k) * eb;
      const at = this.phys.addr(ea, eb);
      if (at === 0) continue;
      let w = at >>> 2;
      const lo = i32[w]!;
      const hi = eb === 8 ? i32[w + 1]! : 0;
      if (!this.isLeafEntry(i, lo)) continue;
      const nl = on ? lo | cL : lo & ~cL;
      const nh = on ? hi | cH : hi & ~cH;
      if (nl !== lo || nh !== hi) {
        w = this.phys.writeAddr(ea, eb) >>> 2;
        i32[w] = nl;
        if (eb === 8) i32[w + 1] = nh;
        this.changed++;
      }
    }
  }

  private updateLevel(table: number, i: number, va: bigint, last: bigint, set: boolean): void {
    const sh = BigInt(this.shift[i]!);
    const im = this.imask[i]!;
    const first = Number((va >> sh) & BigInt(im));
    const end = Number((last >> sh) & BigInt(im));
    const n = this.groupN[i]!;
    if (n > 1) {
      for (let g = first & ~(n - 1); g <= end; g += n) {
        const rules = this.groupRules(table, i, g, n);
        if (rules === 0 && (set || this.hinted === n)) {
          if (this.hinted !== n) this.writeGroup(table, i, g, n, true);
          this.groups++;
        } else if (this.hinted !== 0) {
          this.writeGroup(table, i, g, n, false);
        }
      }
    }
    if (i + 1 >= this.n) return;
    const i32 = this.i32, eb = this.eb;
    const checkRsvd = (this.flags & A.WF_CHECK_RSVD) !== 0;
    const spanMask = (1n << sh) - 1n;
    const tbase = va & ~spanMask & ~(BigInt(im) << sh);
    for (let idx = first; idx <= end; idx++) {
      const ea = table + idx * eb;
      const at = this.phys.addr(ea, this.eb);
      if (at === 0) break;
      const w = at >>> 2;
      const lo = i32[w]!;
      const hi = eb === 8 ? i32[w + 1]! : 0;
      if (!this.isValid(i, lo) || this.isLeaf(i, lo)) continue;
      if (checkRsvd && ((lo & this.rsvdT[i * 2]!) | (hi & this.rsvdT[i * 2 + 1]!)) !== 0) continue;
      const s = tbase | (BigInt(idx) << sh);
      const t = s + spanMask;
      const next = (hi & this.tAddr[i * 2 + 1]!) * TWO32 + ((lo & this.tAddr[i * 2]!) >>> 0);
      this.updateLevel(next, i + 1, s > va ? s : va, t < last ? t : last, set);
    }
  }

  contigUpdate(root: bigint, va: bigint, size: bigint, set: number): number {
    this.load();
    this.changed = 0;
    this.groups = 0;
    if (size !== 0n) {
      const v = BigInt.asUintN(64, va);
      this.updateLevel(this.rootOf(root), 0, v, BigInt.asUintN(64, v + size - 1n), set !== 0);
    }
    this.view.setBigUint64(A.RES + A.RES_HINTS_CHANGED, BigInt(this.changed), true);
    return this.groups;
  }

  contigCheckStart(root: bigint): void {
    this.dfsStart(A.CK, root);
  }

  private out = 0;
  private max = 0;
  private steps = 0;
  private count = 0;
  private done = 0;

  contigCheckNext(outPtr: number, max: number, steps: number): number {
    this.out = outPtr;
    this.max = max;
    this.steps = steps;
    this.count = 0;
    this.done = 0;
    this.dfsRun(A.CK, this);
    this.view.setBigUint64(A.RES + A.RES_ENTRIES_VISITED, BigInt(this.done), true);
    return this.count;
  }

  full(): boolean {
    return this.count >= this.max || this.done >= this.steps;
  }

  /** At the first slot of each group: a record when its hint is set while a rule is broken. */
  slot(d: number, table: number, idx: number): void {
    this.done++;
    const gn = this.groupN[d]!;
    if (gn <= 1 || (idx & (gn - 1)) !== 0) return;
    let rules = this.groupRules(table, d, idx, gn);
    if (this.hinted === 0) return;
    if (this.hinted !== gn) rules |= A.CG_NOT_ALL;
    if (rules === 0) return;
    const i32 = this.i32;
    this.dfsVa(A.CK, d, idx);
    const w = (this.out + this.count * A.CR_BYTES) >>> 2;
    i32[w + CR_TABLE] = table % TWO32 | 0;
    i32[w + CR_TABLE + 1] = Math.floor(table / TWO32) | 0;
    i32[w + CR_VA] = this.vaLo;
    i32[w + CR_VA + 1] = this.canonicalHi(this.vaHi);
    i32[w + CR_INDEX] = idx;
    i32[w + CR_LEVEL] = d;
    i32[w + CR_RULES] = rules;
    i32[w + CR_HINTED] = this.hinted;
    this.count++;
  }

  leaf(): void {}
}
