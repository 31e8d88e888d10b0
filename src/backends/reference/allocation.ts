// The reference twin of assembly/frames/allocation.ts: giving frames to a domain
// and taking them back, all or nothing.
import * as A from '../../abi.js';
import { ReferencePermutation } from './permutation.js';
import { NULL, COUNT } from './state.js';

export class ReferenceAllocation extends ReferencePermutation {
  protected patternFrame(first: number, chunk: number, stride: number, k: number): number {
    return (chunk === 1 ? first + k * stride : first + Math.floor(k / chunk) * stride + (k % chunk)) >>> 0;
  }

  allocClaim(d: number, first: number, chunk: number, stride: number, kFrom: number, kTo: number): number {
    d >>>= 0;
    first >>>= 0;
    chunk >>>= 0;
    stride >>>= 0;
    kFrom >>>= 0;
    kTo >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if (chunk === 0) chunk = 1;
    const u = this.u, own = this.cOwner, cnt = this.cCount, typ = this.cType, frames = this.frames;
    const o = d + A.OWNER_BIAS;
    for (let k = kFrom; k < kTo; k++) {
      const f = this.patternFrame(first, chunk, stride, k);
      if (f >= frames || u[own + f] !== A.OWNER_NONE) {
        for (let b = kFrom; b < k; b++) {
          const g = this.patternFrame(first, chunk, stride, b);
          u[own + g] = A.OWNER_NONE;
          u[cnt + g] = 0;
        }
        this.fr(A.FR_ERR_FRAME, f);
        return f >= frames ? A.TE_FRAME_RANGE : A.TE_NOT_FREE;
      }
      u[own + f] = o;
      u[cnt + f] = A.PGC_ALLOCATED | 1;
      u[typ + f] = 0;
    }
    this.domSet(d, A.DOM_TOT_PAGES, (this.domGet(d, A.DOM_TOT_PAGES) + (kTo - kFrom)) >>> 0);
    return A.TE_OK;
  }

  allocLink(d: number, first: number, chunk: number, stride: number, count: number, jFrom: number, jTo: number, order: number, seed: number): number {
    d >>>= 0;
    first >>>= 0;
    chunk >>>= 0;
    stride >>>= 0;
    count >>>= 0;
    jFrom >>>= 0;
    jTo >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if (jFrom >= jTo) return A.TE_OK;
    if (chunk === 0) chunk = 1;
    const random = order === A.ORDER_RANDOM;
    if (random) this.permSetup(count, seed >>> 0);
    const u = this.u, next = this.cNext, prev = this.cPrev;
    let t = this.domGet(d, A.DOM_TAIL);
    let f = this.patternFrame(first, chunk, stride, random ? this.perm(jFrom) : jFrom);
    if (t === NULL) this.domSet(d, A.DOM_HEAD, f);
    else u[next + t] = f;
    for (let j = jFrom; j < jTo; j++) {
      const j1 = j + 1;
      const nf = j1 < jTo ? this.patternFrame(first, chunk, stride, random ? this.perm(j1) : j1) : NULL;
      u[prev + f] = t;
      u[next + f] = nf;
      t = f;
      f = nf;
    }
    this.domSet(d, A.DOM_TAIL, t);
    this.domSet(d, A.DOM_COUNT, (this.domGet(d, A.DOM_COUNT) + (jTo - jFrom)) >>> 0);
    return A.TE_OK;
  }

  allocCheck(first: number, chunk: number, stride: number, count: number): number {
    first >>>= 0;
    chunk >>>= 0;
    stride >>>= 0;
    count >>>= 0;
    if (chunk === 0) chunk = 1;
    const u = this.u, owner = this.cOwner, frames = this.frames;
    for (let k = 0; k < count; k++) {
      const f = this.patternFrame(first, chunk, stride, k);
      if (f >= frames || u[owner + f] !== A.OWNER_NONE) return f | 0;
    }
    return NULL | 0;
  }

  allocList(d: number, ptr: number, n: number): number {
    d >>>= 0;
    n >>>= 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    const u = this.u, p = ptr >>> 2, own = this.cOwner;
    const o = d + A.OWNER_BIAS;
    for (let i = 0; i < n; i++) {
      const f = u[p + i]!;
      if (f >= this.frames || u[own + f] !== A.OWNER_NONE) {
        for (let b = 0; b < i; b++) {
          const g = u[p + b]!;
          u[own + g] = A.OWNER_NONE;
          u[this.cCount + g] = 0;
        }
        this.fr(A.FR_ERR_FRAME, f);
        return f >= this.frames ? A.TE_FRAME_RANGE : A.TE_NOT_FREE;
      }
      u[own + f] = o;
      u[this.cCount + f] = A.PGC_ALLOCATED | 1;
      u[this.cType + f] = 0;
    }
    for (let i = 0; i < n; i++) this.linkTail(d, u[p + i]!);
    this.domSet(d, A.DOM_TOT_PAGES, (this.domGet(d, A.DOM_TOT_PAGES) + n) >>> 0);
    return A.TE_OK;
  }

  freeFrame(f: number): number {
    f >>>= 0;
    this.fr(A.FR_ERR_FRAME, f);
    if (f >= this.frames) return A.TE_FRAME_RANGE;
    const u = this.u;
    const o = u[this.cOwner + f]!;
    if (o === A.OWNER_NONE) return A.TE_NOT_ALLOCATED;
    const d = (o - A.OWNER_BIAS) >>> 0;
    if (!this.live(d)) return A.TE_NO_DOMAIN;
    if ((u[this.cType + f]! & (COUNT | A.PGT_PINNED | A.PGT_LOCKED | A.PGT_PARTIAL)) !== 0) return A.TE_IN_USE;
    if (u[this.cCount + f] !== (A.PGC_ALLOCATED | 1)) return A.TE_IN_USE;
    if (this.unlink(d, f) !== A.TE_OK) return A.TE_NOT_ON_LIST;
    u[this.cOwner + f] = A.OWNER_NONE;
    u[this.cCount + f] = 0;
    u[this.cType + f] = 0;
    this.domSet(d, A.DOM_TOT_PAGES, (this.domGet(d, A.DOM_TOT_PAGES) - 1) >>> 0);
    return A.TE_OK;
  }

}
