// The reference twin of assembly/paging/traverse.ts: the depth-first traversal of
// the page tables under a root, written once, with the visit chosen per use (the
// enumerator, the contiguous-hint check). The state lives in a DFS block of the
// control area, in the same records as the wasm kernels write, so a traversal
// resumes across calls (and from either backend).
import * as A from '../../abi.js';
import { ReferenceWalk } from './walk.js';
import { TWO32, lo32, hi32 } from './params.js';

// DFS_* fields as int32 indices from a level record.
const TABLE = A.DFS_TABLE >>> 2;
const VA = A.DFS_VA >>> 2;
const INDEX = A.DFS_INDEX >>> 2;
const DENY = A.DFS_DENY >>> 2;

/** What a traversal does at a slot and at a leaf (see assembly/paging/traverse.ts). */
export interface DfsVisit {
  /** Stop before the next slot (the traversal resumes there). */
  full(): boolean;
  /** Every slot of a table at level d, before its entry is read (its VA: dfsVa). */
  slot(d: number, table: number, idx: number): void;
  /** Every valid leaf that maps (no reserved bit set), with the deny bits of the tables above it. */
  leaf(d: number, table: number, idx: number, vlo: number, vhi: number, lo: number, hi: number, deny: number): void;
}

export class ReferenceTraverse extends ReferenceWalk {
  /** The VA of the entry dfsVa looked at, as int32 halves (not yet canonical). */
  protected vaLo = 0;
  protected vaHi = 0;

  /** The VA of slot `idx` of the table at level d of the traversal in `block` (into vaLo, vaHi). */
  protected dfsVa(block: number, d: number, idx: number): void {
    const sw = (block + A.DFS_LEVEL_BASE + d * A.DFS_LEVEL_STRIDE) >>> 2;
    const sh = this.shift[d]!;
    let vlo = this.i32[sw + VA]!;
    let vhi = this.i32[sw + VA + 1]!;
    // The table's VA | idx << shift.
    if (sh >= 32) vhi |= idx << (sh - 32);
    else {
      vlo |= idx << sh;
      vhi |= sh === 0 ? 0 : idx >>> (32 - sh);
    }
    this.vaLo = vlo;
    this.vaHi = vhi;
  }

  /** Start a traversal of the tables under root register value `root` in the DFS block at `block`. */
  protected dfsStart(block: number, root: bigint): void {
    this.load();
    const i32 = this.i32;
    const w = (block + A.DFS_LEVEL_BASE) >>> 2;
    const t = this.rootAddr(lo32(root), hi32(root));
    i32[(block + A.DFS_DEPTH) >>> 2] = 0;
    i32[w + TABLE] = t % TWO32 | 0;
    i32[w + TABLE + 1] = Math.floor(t / TWO32) | 0;
    i32[w + VA] = i32[w + VA + 1] = 0;
    i32[w + INDEX] = 0;
    i32[w + DENY] = 0;
  }

  /** Continue the traversal in `block` until it is over (DFS_DEPTH -1) or the visit is full. */
  protected dfsRun(block: number, v: DfsVisit): void {
    this.load();
    const i32 = this.i32;
    const n = this.n, eb = this.eb;
    const checkRsvd = (this.flags & A.WF_CHECK_RSVD) !== 0;
    const level = (d: number) => (block + A.DFS_LEVEL_BASE + d * A.DFS_LEVEL_STRIDE) >>> 2;
    let d = i32[(block + A.DFS_DEPTH) >>> 2]!;
    while (d >= 0 && !v.full()) {
      const sw = level(d);
      const idx = i32[sw + INDEX]! >>> 0;
      if (idx > this.imask[d]!) {
        d--;
        continue;
      }
      i32[sw + INDEX] = idx + 1;
      const table = (i32[sw + TABLE + 1]! >>> 0) * TWO32 + (i32[sw + TABLE]! >>> 0);
      v.slot(d, table, idx);
      const at = this.phys.addr(table + idx * eb, eb);
      if (at === 0) {
        // A table beyond the image reads as zeros, as QEMU reads unbacked memory.
        d--;
        continue;
      }
      const w = at >>> 2;
      const lo = i32[w]!;
      const hi = eb === 8 ? i32[w + 1]! : 0;
      if (!this.isValid(d, lo)) continue;
      this.dfsVa(block, d, idx);
      const vlo = this.vaLo, vhi = this.vaHi;
      const deny = i32[sw + DENY]!;
      if (this.isLeaf(d, lo)) {
        // A leaf with reserved bits set would fault: it maps nothing.
        if (!checkRsvd || ((lo & this.rsvdL[d * 2]!) | (hi & this.rsvdL[d * 2 + 1]!)) === 0) v.leaf(d, table, idx, vlo, vhi, lo, hi, deny);
        continue;
      }
      if (checkRsvd && ((lo & this.rsvdT[d * 2]!) | (hi & this.rsvdT[d * 2 + 1]!)) !== 0) continue;
      if (d + 1 >= n) continue;
      const cw = level(d + 1);
      const t = (hi & this.tAddr[d * 2 + 1]!) * TWO32 + ((lo & this.tAddr[d * 2]!) >>> 0);
      i32[cw + TABLE] = t % TWO32 | 0;
      i32[cw + TABLE + 1] = Math.floor(t / TWO32) | 0;
      i32[cw + VA] = vlo;
      i32[cw + VA + 1] = vhi;
      i32[cw + INDEX] = 0;
      i32[cw + DENY] = deny | this.denyOf(lo, hi, this.tRights(d));
      d++;
    }
    i32[(block + A.DFS_DEPTH) >>> 2] = d;
  }
}
