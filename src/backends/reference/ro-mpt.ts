// The reference twin of assembly/frames/ro-mpt.ts: the read-only M2P slot of L4
// tables and the census of the type column.
import * as A from '../../abi.js';
import { ReferenceTypeSystem } from './type-system.js';
import { NULL, L4 } from './state.js';

export class ReferenceRoMpt extends ReferenceTypeSystem {

  protected fillSlot(f: number): boolean {
    const u = this.u;
    const e = this.entry(f, A.RO_MPT_SLOT);
    if ((u[e]! | u[e + 1]!) !== 0) return false;
    const w = this.entryW(f, A.RO_MPT_SLOT);
    u[w] = A.RO_MPT_LO;
    u[w + 1] = A.RO_MPT_HI;
    return true;
  }

  fillRoMpt(f: number): number {
    f >>>= 0;
    if (f >= this.ramFrames) return A.FILL_OUTSIDE;
    return this.fillSlot(f) ? A.FILL_DONE : A.FILL_ALREADY;
  }

  zapRoMpt(f: number): number {
    f >>>= 0;
    if (f >= this.ramFrames) return A.FILL_OUTSIDE;
    const e = this.entryW(f, A.RO_MPT_SLOT);
    this.u[e] = 0;
    this.u[e + 1] = 0;
    return A.FILL_DONE;
  }

  census(key: number, d: number, from: number, to: number): number {
    key >>>= 0;
    d >>>= 0;
    from >>>= 0;
    to >>>= 0;
    if (to > this.frames) to = this.frames;
    if (from > to) from = to;
    const u = this.u, col = this.cType, own = this.cOwner, rf = this.ramFrames;
    const owner = (d + A.OWNER_BIAS) >>> 0;
    const any = d === NULL;
    const l4 = key >>> 1 === L4;
    let n = 0;
    let filled = 0;
    for (let f = from; f < to; f++) {
      if (u[col + f]! >>> 28 === key) {
        if (any || u[own + f] === owner) {
          n++;
          if (l4 && f < rf) {
            const e = this.entry(f, A.RO_MPT_SLOT);
            if ((u[e]! | u[e + 1]!) !== 0) filled++;
          }
        }
      }
    }
    this.fr(A.FR_FILLED, filled);
    this.fr(A.FR_VISITED, to - from);
    return n | 0;
  }

}
