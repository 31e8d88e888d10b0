// The reference twin of assembly/paging/enumerate.ts: one MR_* record per valid
// leaf under a root, in ascending address order, streamed through the EN block
// across calls (the traversal of traverse.ts).
import * as A from '../../abi.js';
import { ReferenceTraverse, type DfsVisit } from './traverse.js';
import { TWO32 } from './params.js';

// MR_* fields as int32 indices from a record.
const VA = A.MR_VA >>> 2;
const PA = A.MR_PA >>> 2;
const ENTRY = A.MR_ENTRY >>> 2;
const STATUS = A.MR_STATUS >>> 2;

export class ReferenceEnumerate extends ReferenceTraverse implements DfsVisit {
  private out = 0;
  private max = 0;
  private count = 0;

  enumStart(root: bigint): void {
    this.dfsStart(A.EN, root);
  }

  enumNext(outPtr: number, max: number): number {
    this.out = outPtr;
    this.max = max;
    this.count = 0;
    this.dfsRun(A.EN, this);
    return this.count;
  }

  full(): boolean {
    return this.count >= this.max;
  }

  slot(): void {}

  leaf(d: number, _table: number, _idx: number, vlo: number, vhi: number, lo: number, hi: number, deny: number): void {
    const i32 = this.i32;
    const rights = ~(deny | this.denyOf(lo, hi, this.lRights(d))) & 0xf;
    const w = (this.out + this.count * A.MR_BYTES) >>> 2;
    i32[w + VA] = vlo;
    i32[w + VA + 1] = this.canonicalHi(vhi);
    const pa = this.leafBase(d, lo, hi);
    i32[w + PA] = pa % TWO32 | 0;
    i32[w + PA + 1] = Math.floor(pa / TWO32) | 0;
    i32[w + ENTRY] = lo;
    i32[w + ENTRY + 1] = hi;
    i32[w + STATUS] = (d << A.ST_LEVEL_SHIFT) | (rights << A.ST_RIGHTS_SHIFT) | (this.shift[d]! << A.ST_PAGE_SHIFT);
    this.count++;
  }
}
