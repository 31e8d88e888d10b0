// The reference twin of assembly/paging/enumerate.ts: every valid leaf, in
// ascending address order, streamed through the EN block across calls.
import * as A from '../../abi.js';
import { ReferenceWalk } from './walk.js';
import { TWO32, RM, lo32, hi32 } from './params.js';

export class ReferenceEnumerate extends ReferenceWalk {
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
}
