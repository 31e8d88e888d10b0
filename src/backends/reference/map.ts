// The reference twin of assembly/paging/map.ts: map, unmap and protect a range,
// recursively by level, with the same undo notes in the caller's journal (why:
// see the kernel's header). BigInt appears once per table (the VA), never per entry.
import * as A from '../../abi.js';
import { ReferenceWalk } from './walk.js';
import { TWO32, lo32, hi32 } from './params.js';

const ABSENT = -1;

export class ReferenceMap extends ReferenceWalk {
  // map/unmap/protect state.
  private count = 0;
  private poolPtr = 0;
  private poolLeft = 0;
  // The journal: next free byte, end, and the last record if a note may extend it (0: none).
  private jAt = 0;
  private jEnd = 0;
  private jRun = 0;

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

  private setUp(journal: number, journalBytes: number): void {
    this.load();
    // Written on its own by every call (src/paging/prepare.ts), without a new WP_GEN.
    this.maxLeaf = this.view.getUint32(A.WP + A.WP_MAX_LEAF, true);
    this.count = 0;
    this.jAt = journal;
    this.jEnd = journal + journalBytes;
    this.jRun = 0;
  }

  private jNew(kind: number, addr: number, lo: number, hi: number, n: number): boolean {
    const r = this.jAt, v = this.view;
    if (r + A.JR_BYTES > this.jEnd) return false;
    v.setBigUint64(r + A.JR_ADDR, BigInt(addr), true);
    v.setInt32(r + A.JR_VALUE, lo, true);
    v.setInt32(r + A.JR_VALUE + 4, hi, true);
    v.setUint32(r + A.JR_KIND, kind, true);
    v.setUint32(r + A.JR_COUNT, n, true);
    this.jRun = r;
    this.jAt = r + A.JR_BYTES;
    return true;
  }

  /** Note that the entry at `ea` held (lo, hi) (JK_ENTRIES), or that in the protect mask (JK_RIGHTS). */
  private noteEntry(kind: number, ea: number, lo: number, hi: number): boolean {
    const r = this.jRun, v = this.view;
    if (r !== 0 && v.getUint32(r + A.JR_KIND, true) === kind && v.getInt32(r + A.JR_VALUE, true) === lo && v.getInt32(r + A.JR_VALUE + 4, true) === hi) {
      const n = v.getUint32(r + A.JR_COUNT, true);
      if (Number(v.getBigUint64(r + A.JR_ADDR, true)) + n * this.eb === ea && n < 0x7fffffff) {
        v.setUint32(r + A.JR_COUNT, n + 1, true);
        return true;
      }
    }
    return this.jNew(kind, ea, lo, hi, 1);
  }

  /** Zero the new table at `t`, noting what it held; MAP_OK, MAP_JOURNAL_FULL or MAP_OUTSIDE_IMAGE. */
  private freshTable(t: number, bytes: number): number {
    const v = this.view;
    // A table may span frames (64 KiB granule): frame by frame.
    for (let z = 0; z < bytes; z += 4096) {
      const n = Math.min(4096, bytes - z);
      const at = t + z;
      const a = this.phys.writeAddr(at, n);
      if (a === 0) return this.conflict(A.MAP_OUTSIDE_IMAGE, 0n, at, 0, 0);
      const w = a >>> 2;
      let zero = true;
      for (let k = 0; k < n >>> 2; k++) if (this.i32[w + k] !== 0) { zero = false; break; }
      if (zero) {
        const r = this.jRun;
        if (r !== 0 && v.getUint32(r + A.JR_KIND, true) === A.JK_ZERO && Number(v.getBigUint64(r + A.JR_ADDR, true)) + v.getUint32(r + A.JR_COUNT, true) === at &&
          v.getUint32(r + A.JR_COUNT, true) < 0x7fff0000) {
          v.setUint32(r + A.JR_COUNT, v.getUint32(r + A.JR_COUNT, true) + n, true);
        } else if (!this.jNew(A.JK_ZERO, at, 0, 0, n)) return A.MAP_JOURNAL_FULL;
      } else {
        const padded = (n + 7) & ~7;
        if (this.jAt + padded + A.JR_BYTES > this.jEnd) return A.MAP_JOURNAL_FULL;
        this.u8.copyWithin(this.jAt, a, a + n);
        this.jAt += padded;
        this.jNew(A.JK_SAVED, at, 0, 0, n);
        this.u8.fill(0, a, a + n);
      }
    }
    return A.MAP_OK;
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

  private mapLevel(table: number, fresh: boolean, i: number, va: bigint, pa: number, size: number, bLo: number, bHi: number, dry: boolean): number {
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
          r = this.mapLevel(ABSENT, true, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
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
            if (!fresh && !this.noteEntry(A.JK_ENTRIES, ea, lo, hi)) return A.MAP_JOURNAL_FULL;
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
          r = this.mapLevel(t, false, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        } else if (dry) {
          this.count++;
          r = this.mapLevel(ABSENT, true, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        } else {
          if (this.poolLeft === 0) return this.conflict(A.MAP_POOL_EMPTY, va + BigInt(off), ea, lo, hi);
          const t = Number(this.view.getBigUint64(this.poolPtr, true));
          this.poolPtr += 8;
          this.poolLeft--;
          // Zero the new table first (it may be this very table, if the allocator says so).
          const z = this.freshTable(t, (this.imask[i + 1]! + 1) * eb);
          if (z !== A.MAP_OK) {
            if (z === A.MAP_OUTSIDE_IMAGE) this.view.setBigUint64(A.RES + A.RES_VA, BigInt.asUintN(64, va + BigInt(off)), true);
            return z;
          }
          if (!fresh && !this.noteEntry(A.JK_ENTRIES, ea, lo, hi)) return A.MAP_JOURNAL_FULL;
          const tlo = t % TWO32 | 0, thi = Math.floor(t / TWO32) | 0;
          this.writeEntry(ea, this.tTmpl[i * 2]! | (tlo & this.tAddr[i * 2]!), this.tTmpl[i * 2 + 1]! | (thi & this.tAddr[i * 2 + 1]!));
          r = this.mapLevel(t, true, i + 1, va + BigInt(off), cpa, chunk, bLo, bHi, dry);
        }
      }
      if (r !== A.MAP_OK) return r;
      off += chunk;
      idx++;
    }
    return A.MAP_OK;
  }

  mapRange(root: bigint, va: bigint, pa: bigint, size: bigint, leafBits: bigint, pool: number, poolCount: number, dry: number, journal: number, journalBytes: number): number {
    this.setUp(journal, journalBytes);
    this.poolPtr = pool;
    this.poolLeft = poolCount;
    const r = this.mapLevel(this.rootAddr(lo32(root), hi32(root)), false, 0, va, Number(pa), Number(size), lo32(leafBits), hi32(leafBits), dry !== 0);
    this.view.setBigUint64(A.RES + (dry !== 0 ? A.RES_TABLES_NEEDED : A.RES_LEAVES), BigInt(this.count), true);
    this.view.setBigUint64(A.RES + A.RES_JOURNAL_BYTES, BigInt(this.jAt - journal), true);
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
          else {
            if (!this.noteEntry(A.JK_RIGHTS, ea, lo & cLo, hi & cHi)) return A.MAP_JOURNAL_FULL;
            this.writeEntry(ea, (lo & ~cLo) | sLo, (hi & ~cHi) | sHi);
          }
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
    this.setUp(0, 0);
    const r = this.editLevel(this.rootAddr(lo32(root), hi32(root)), 0, va, Number(size), 0, 0, 0, 0, 0, dry !== 0);
    this.view.setBigUint64(A.RES + A.RES_LEAVES, BigInt(this.count), true);
    return r;
  }

  protectRange(root: bigint, va: bigint, size: bigint, set: bigint, clear: bigint, dry: number, journal: number, journalBytes: number): number {
    this.setUp(journal, journalBytes);
    const r = this.editLevel(this.rootAddr(lo32(root), hi32(root)), 0, va, Number(size), 1, lo32(set), hi32(set), lo32(clear), hi32(clear), dry !== 0);
    this.view.setBigUint64(A.RES + A.RES_LEAVES, BigInt(this.count), true);
    this.view.setBigUint64(A.RES + A.RES_JOURNAL_BYTES, BigInt(this.jAt - journal), true);
    return r;
  }
}
