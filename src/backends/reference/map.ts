// The reference twin of assembly/paging/map.ts: map, unmap and protect a range,
// recursively by level. BigInt appears once per table (the VA), never per entry.
import * as A from '../../abi.js';
import { ReferenceWalk } from './walk.js';
import { TWO32, lo32, hi32 } from './params.js';

const ABSENT = -1;

export class ReferenceMap extends ReferenceWalk {
  // map/unmap/protect state.
  private count = 0;
  private poolPtr = 0;
  private poolLeft = 0;

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
        const valid = this.isValid(i, lo);
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
      if (!this.isValid(i, lo)) continue;
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
}
