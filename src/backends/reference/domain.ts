// The reference twin of assembly/frames/domain.ts: domain records, create and destroy.
import * as A from '../../abi.js';
import { ReferencePageList } from './page-list.js';
import { NULL } from './state.js';

export class ReferenceDomains extends ReferencePageList {

  protected clearRecord(d: number): void {
    for (let o = 0; o < A.DOM_STRIDE; o += 4) this.domSet(d, o, 0);
    this.domSet(d, A.DOM_HEAD, NULL);
    this.domSet(d, A.DOM_TAIL, NULL);
    this.domSet(d, A.DOM_L4_HEAD, NULL);
    this.domSet(d, A.DOM_L4_TAIL, NULL);
  }

  domainCreate(d: number, flags: number): number {
    d >>>= 0;
    if (d >= A.DOM_MAX) return A.TE_NO_DOMAIN;
    if (this.live(d)) return A.TE_DOMAIN_EXISTS;
    this.clearRecord(d);
    this.domSet(d, A.DOM_FLAGS, (flags | A.DF_IN_USE) >>> 0);
    return A.TE_OK;
  }

  protected release(f: number): void {
    const u = this.u;
    u[this.cOwner + f] = A.OWNER_NONE;
    u[this.cCount + f] = 0;
    u[this.cType + f] = 0;
    u[this.cNext + f] = NULL;
    u[this.cPrev + f] = NULL;
  }

  domainFree(d: number): number {
    d >>>= 0;
    if (!this.live(d)) return 0;
    const u = this.u;
    let x = this.domGet(d, A.DOM_L4_HEAD);
    let guard = 0;
    while (x < this.ramFrames && guard < this.ramFrames) {
      const n = u[this.l4N + x]!;
      u[this.l4N + x] = NULL;
      u[this.l4P + x] = NULL;
      x = n;
      guard++;
    }
    const owner = d + A.OWNER_BIAS;
    let released = 0;
    const own = this.cOwner, frames = this.frames;
    if (this.domGet(d, A.DOM_TOT_PAGES) * 4 >= frames) {
      for (let g = 0; g < frames; g++) {
        if (u[own + g] === owner) {
          this.release(g);
          released++;
        }
      }
    } else {
      let f = this.domGet(d, A.DOM_HEAD);
      let steps = 0;
      const listed = this.domGet(d, A.DOM_COUNT);
      while (f < frames && steps <= listed) {
        const n = u[this.cNext + f]!;
        if (u[own + f] === owner) {
          this.release(f);
          released++;
        }
        f = n;
        steps++;
      }
      if (released !== this.domGet(d, A.DOM_TOT_PAGES)) {
        for (let g = 0; g < frames; g++) {
          if (u[own + g] === owner) {
            this.release(g);
            released++;
          }
        }
      }
    }
    this.clearRecord(d);
    return released | 0;
  }

}
