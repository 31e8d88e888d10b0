// The reference twin of assembly/frames/page-list.ts: domain page lists, doubly
// linked through the next/prev columns.
import * as A from '../../abi.js';
import { ReferenceFrameState } from './state.js';
import { NULL } from './state.js';

export class ReferencePageList extends ReferenceFrameState {

  protected linkTail(d: number, f: number): void {
    const u = this.u;
    const t = this.domGet(d, A.DOM_TAIL);
    u[this.cNext + f] = NULL;
    u[this.cPrev + f] = t;
    if (t >= this.frames) this.domSet(d, A.DOM_HEAD, f);
    else u[this.cNext + t] = f;
    this.domSet(d, A.DOM_TAIL, f);
    this.domSet(d, A.DOM_COUNT, this.domGet(d, A.DOM_COUNT) + 1);
  }

  protected linkHead(d: number, f: number): void {
    const u = this.u;
    const h = this.domGet(d, A.DOM_HEAD);
    u[this.cPrev + f] = NULL;
    u[this.cNext + f] = h;
    if (h >= this.frames) this.domSet(d, A.DOM_TAIL, f);
    else u[this.cPrev + h] = f;
    this.domSet(d, A.DOM_HEAD, f);
    this.domSet(d, A.DOM_COUNT, this.domGet(d, A.DOM_COUNT) + 1);
  }

  protected unlinkHead(d: number): number {
    const u = this.u;
    const f = this.domGet(d, A.DOM_HEAD);
    if (f >= this.frames) return NULL;
    const n = u[this.cNext + f]!;
    this.domSet(d, A.DOM_HEAD, n);
    if (n >= this.frames) this.domSet(d, A.DOM_TAIL, NULL);
    else u[this.cPrev + n] = NULL;
    u[this.cNext + f] = NULL;
    u[this.cPrev + f] = NULL;
    this.domSet(d, A.DOM_COUNT, (this.domGet(d, A.DOM_COUNT) - 1) >>> 0);
    return f;
  }

  protected unlink(d: number, f: number): number {
    const u = this.u;
    const p = u[this.cPrev + f]!, n = u[this.cNext + f]!;
    if ((p !== NULL && p >= this.frames) || (n !== NULL && n >= this.frames)) return A.TE_NOT_ON_LIST;
    if (p === NULL ? this.domGet(d, A.DOM_HEAD) !== f : u[this.cNext + p] !== f) return A.TE_NOT_ON_LIST;
    if (n === NULL ? this.domGet(d, A.DOM_TAIL) !== f : u[this.cPrev + n] !== f) return A.TE_NOT_ON_LIST;
    if (p === NULL) this.domSet(d, A.DOM_HEAD, n);
    else u[this.cNext + p] = n;
    if (n === NULL) this.domSet(d, A.DOM_TAIL, p);
    else u[this.cPrev + n] = p;
    u[this.cNext + f] = NULL;
    u[this.cPrev + f] = NULL;
    this.domSet(d, A.DOM_COUNT, (this.domGet(d, A.DOM_COUNT) - 1) >>> 0);
    return A.TE_OK;
  }

  listAddHead(d: number, f: number): number {
    d >>>= 0;
    f >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if (f >= this.frames) return A.TE_FRAME_RANGE;
    this.linkHead(d, f);
    return A.TE_OK;
  }

  listAddTail(d: number, f: number): number {
    d >>>= 0;
    f >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if (f >= this.frames) return A.TE_FRAME_RANGE;
    this.linkTail(d, f);
    return A.TE_OK;
  }

  listRemoveHead(d: number): number {
    d >>>= 0;
    if (!this.live(d)) return NULL | 0;
    return this.unlinkHead(d) | 0;
  }

  listRemove(d: number, f: number): number {
    d >>>= 0;
    f >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if (f >= this.frames) return A.TE_FRAME_RANGE;
    return this.unlink(d, f);
  }

  listIterate(from: number, out: number, max: number): number {
    const u = this.u, next = this.cNext, frames = this.frames;
    let f = from >>> 0;
    let n = 0;
    const o = out >>> 2;
    max >>>= 0;
    while (f < frames && n < max) {
      u[o + n] = f;
      n++;
      f = u[next + f]!;
    }
    this.fr(A.FR_NEXT, f < frames ? f : NULL);
    this.fr(A.FR_COUNT, n);
    return n | 0;
  }

  listChase(from: number, max: number): number {
    const u = this.u, next = this.cNext, frames = this.frames;
    max >>>= 0;
    let f = from >>> 0;
    let n = 0;
    let sum = 0;
    while (f < frames && n < max) {
      const nx = u[next + f]!;
      sum = (sum + f) | 0;
      n++;
      f = nx;
    }
    this.fr(A.FR_COUNT, n);
    return sum;
  }

}
