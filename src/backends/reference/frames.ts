// The reference twin of assembly/frames: the same kernels over the same memory, in
// plain TypeScript. Every column is read through one Uint32Array of the whole
// memory (index = byte offset / 4); 64-bit table entries are two u32 halves.
// Results are returned as wasm returns an i32 (`| 0`), so both backends give
// identical numbers.
import type { BackendContext, FrameKernels } from '../backend.js';
import * as A from '../../abi.js';
import { ReferencePhys } from './phys.js';

const NULL = 0xffffffff;
const TYPE_SHIFT = A.PGT_TYPE_SHIFT;
const COUNT = A.PGT_COUNT_MASK;
const UNDO = A.PGT_UNDO_MASK;
const VALID = A.PGT_VALIDATED;
const L4 = A.PGT_L4;
const FR = A.FR >>> 2;
/** type_info bits 28..31 of a validated L4 table. */
const VALID_L4 = (A.PGT_L4 << 1) | 1;

const isTable = (t: number) => t >= A.PGT_L1 && t <= A.PGT_L4;
const xenSlot = (t: number, i: number) => t === L4 && i >= A.L4_XEN_FIRST && i <= A.L4_XEN_LAST;

function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export class ReferenceFrames implements FrameKernels {
  private readonly u: Uint32Array;
  private readonly frames: number;
  private readonly ramFrames: number;
  private readonly cType: number;
  private readonly cCount: number;
  private readonly cOwner: number;
  private readonly cNext: number;
  private readonly cPrev: number;
  private readonly l4N: number;
  private readonly l4P: number;
  private readonly doms: number;
  private readonly phys: ReferencePhys;

  // permutation state
  private pn = 0;
  private pmask = 0;
  private phalf = 1;
  private a0 = 1;
  private b0 = 0;
  private a1 = 1;
  private b1 = 0;
  private a2 = 1;
  private b2 = 0;

  // type-system error record
  private errSet = false;
  private tableSet = false;

  // fix-up counters
  private visited = 0;
  private filled = 0;
  private already = 0;
  private lockFailed = 0;
  private l4LockFailed = 0;
  private checks = 0;

  constructor(ctx: BackendContext) {
    const l = ctx.layout;
    this.u = new Uint32Array(ctx.memory.buffer);
    this.frames = l.frames;
    // Table frames have contents below ramBytes, or anywhere a source has them.
    this.ramFrames = ctx.cache ? l.frames : Math.min(l.frames, Math.floor(l.ramBytes / 4096));
    this.cType = l.colType >>> 2;
    this.cCount = l.colCount >>> 2;
    this.cOwner = l.colOwner >>> 2;
    this.cNext = l.colNext >>> 2;
    this.cPrev = l.colPrev >>> 2;
    this.l4N = l.l4Next >>> 2;
    this.l4P = l.l4Prev >>> 2;
    this.doms = l.domains >>> 2;
    this.phys = new ReferencePhys(ctx);
  }

  // ---- records ----------------------------------------------------------------------

  private dom(d: number, field: number): number {
    return this.doms + d * (A.DOM_STRIDE >>> 2) + (field >>> 2);
  }
  private domGet(d: number, field: number): number {
    return this.u[this.dom(d, field)]!;
  }
  private domSet(d: number, field: number, v: number): void {
    this.u[this.dom(d, field)] = v;
  }
  private live(d: number): boolean {
    return d >>> 0 < A.DOM_MAX && (this.domGet(d, A.DOM_FLAGS) & A.DF_IN_USE) !== 0;
  }
  private fr(field: number, v: number): void {
    this.u[FR + (field >>> 2)] = v;
  }
  /**
   * u32 index of entry i of table frame f (low half; high half at +1), valid until
   * the next physical access (the caller checked f < ramFrames).
   */
  private entry(f: number, i: number): number {
    return this.phys.addr(f * 4096 + i * 8, 8) >>> 2;
  }
  /** The same, for writing it. */
  private entryW(f: number, i: number): number {
    return this.phys.writeAddr(f * 4096 + i * 8, 8) >>> 2;
  }

  // ---- page lists ---------------------------------------------------------------------

  private linkTail(d: number, f: number): void {
    const u = this.u;
    const t = this.domGet(d, A.DOM_TAIL);
    u[this.cNext + f] = NULL;
    u[this.cPrev + f] = t;
    if (t >= this.frames) this.domSet(d, A.DOM_HEAD, f);
    else u[this.cNext + t] = f;
    this.domSet(d, A.DOM_TAIL, f);
    this.domSet(d, A.DOM_COUNT, this.domGet(d, A.DOM_COUNT) + 1);
  }

  private linkHead(d: number, f: number): void {
    const u = this.u;
    const h = this.domGet(d, A.DOM_HEAD);
    u[this.cPrev + f] = NULL;
    u[this.cNext + f] = h;
    if (h >= this.frames) this.domSet(d, A.DOM_TAIL, f);
    else u[this.cPrev + h] = f;
    this.domSet(d, A.DOM_HEAD, f);
    this.domSet(d, A.DOM_COUNT, this.domGet(d, A.DOM_COUNT) + 1);
  }

  private unlinkHead(d: number): number {
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

  private unlink(d: number, f: number): number {
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

  // ---- domains ------------------------------------------------------------------------

  private clearRecord(d: number): void {
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

  private release(f: number): void {
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

  // ---- allocation ---------------------------------------------------------------------

  private permSetup(n: number, seed: number): void {
    let bits = 1;
    while (bits < 31 && 2 ** bits < n) bits++;
    this.pn = n;
    this.pmask = 2 ** bits - 1;
    this.phalf = bits >>> 1 > 0 ? bits >>> 1 : 1;
    this.a0 = (mix((seed + 0x9e3779b9) | 0) | 1) | 0;
    this.b0 = mix(seed ^ 0x85ebca6b) | 0;
    this.a1 = (mix((seed + 0x3c6ef372) | 0) | 1) | 0;
    this.b1 = mix(seed ^ 0xc2b2ae35) | 0;
    this.a2 = (mix((seed + 0xdaa66d2b) | 0) | 1) | 0;
    this.b2 = mix(seed ^ 0x27d4eb2f) | 0;
  }

  private perm(k: number): number {
    const m = this.pmask, h = this.phalf, n = this.pn;
    const a0 = this.a0, b0 = this.b0, a1 = this.a1, b1 = this.b1, a2 = this.a2, b2 = this.b2;
    let x = k;
    do {
      x = (Math.imul(x, a0) + b0) & m;
      x ^= x >>> h;
      x = (Math.imul(x, a1) + b1) & m;
      x ^= x >>> h;
      x = (Math.imul(x, a2) + b2) & m;
      x ^= x >>> h;
    } while (x >= n);
    return x;
  }

  private patternFrame(first: number, chunk: number, stride: number, k: number): number {
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

  // ---- type system --------------------------------------------------------------------

  private beginOp(): void {
    this.errSet = false;
    this.tableSet = false;
    this.fr(A.FR_ERR_FRAME, NULL);
    this.fr(A.FR_ERR_WANT, 0);
    this.fr(A.FR_ERR_FOUND, 0);
    this.fr(A.FR_ERR_TABLE, NULL);
    this.fr(A.FR_ERR_ENTRY, NULL);
    this.fr(A.FR_ERR_LEVEL, 0);
    this.fr(A.FR_ERR_ELO, 0);
    this.fr(A.FR_ERR_EHI, 0);
  }

  private refuse(code: number, f: number, want: number, found: number): number {
    if (!this.errSet) {
      this.errSet = true;
      this.fr(A.FR_ERR_FRAME, f >>> 0);
      this.fr(A.FR_ERR_WANT, want);
      this.fr(A.FR_ERR_FOUND, found >>> 0);
    }
    return code;
  }

  private noteTable(f: number, i: number, t: number, lo: number, hi: number): void {
    if (!this.tableSet) {
      this.tableSet = true;
      this.fr(A.FR_ERR_TABLE, f);
      this.fr(A.FR_ERR_ENTRY, i);
      this.fr(A.FR_ERR_LEVEL, t);
      this.fr(A.FR_ERR_ELO, lo >>> 0);
      this.fr(A.FR_ERR_EHI, hi >>> 0);
    }
  }

  private anomaly(): void {
    const i = FR + (A.FR_ANOMALY >>> 2);
    this.u[i] = this.u[i]! + 1;
  }

  private pageGet(f: number, owner: number): number {
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    const u = this.u;
    const o = u[this.cOwner + f]!;
    const c = u[this.cCount + f]!;
    if (o === A.OWNER_NONE || (c & A.PGC_COUNT_MASK) === 0) return this.refuse(A.TE_NOT_ALLOCATED, f, 0, c);
    if (o !== owner) return this.refuse(A.TE_FOREIGN, f, owner, o);
    if ((c & A.PGC_COUNT_MASK) === A.PGC_COUNT_MASK) return this.refuse(A.TE_COUNT_OVERFLOW, f, 0, c);
    u[this.cCount + f] = c + 1;
    return A.TE_OK;
  }

  private pagePut(f: number): void {
    const u = this.u;
    const c = u[this.cCount + f]!;
    if ((c & A.PGC_COUNT_MASK) === 0) this.anomaly();
    else u[this.cCount + f] = c - 1;
  }

  private promoteL4(f: number): void {
    const u = this.u;
    const d = (u[this.cOwner + f]! - A.OWNER_BIAS) >>> 0;
    if (!this.live(d)) return;
    const e = this.entryW(f, A.RO_MPT_SLOT);
    const strict = (this.domGet(d, A.DOM_FLAGS) & A.DF_M2P_STRICT) !== 0;
    u[e] = strict ? A.RO_MPT_LO : 0;
    u[e + 1] = strict ? A.RO_MPT_HI : 0;
    this.domSet(d, A.DOM_NR_L4, (this.domGet(d, A.DOM_NR_L4) + 1) >>> 0);
    const t = this.domGet(d, A.DOM_L4_TAIL);
    u[this.l4N + f] = NULL;
    u[this.l4P + f] = t;
    if (t === NULL) this.domSet(d, A.DOM_L4_HEAD, f);
    else u[this.l4N + t] = f;
    this.domSet(d, A.DOM_L4_TAIL, f);
    this.domSet(d, A.DOM_L4_COUNT, (this.domGet(d, A.DOM_L4_COUNT) + 1) >>> 0);
  }

  private demoteL4(f: number): void {
    const u = this.u;
    const d = (u[this.cOwner + f]! - A.OWNER_BIAS) >>> 0;
    if (!this.live(d)) return;
    this.domSet(d, A.DOM_NR_L4, (this.domGet(d, A.DOM_NR_L4) - 1) >>> 0);
    const p = u[this.l4P + f]!, n = u[this.l4N + f]!;
    if (p === NULL) this.domSet(d, A.DOM_L4_HEAD, n);
    else if (p < this.ramFrames) u[this.l4N + p] = n;
    if (n === NULL) this.domSet(d, A.DOM_L4_TAIL, p);
    else if (n < this.ramFrames) u[this.l4P + n] = p;
    u[this.l4N + f] = NULL;
    u[this.l4P + f] = NULL;
    this.domSet(d, A.DOM_L4_COUNT, (this.domGet(d, A.DOM_L4_COUNT) - 1) >>> 0);
    if (this.domGet(d, A.DOM_FIX_MODE) === A.FIXM_INDEXED && this.domGet(d, A.DOM_FIX_CURSOR) === f) this.domSet(d, A.DOM_FIX_CURSOR, n);
  }

  private typeGet(f: number, t: number): number {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    const cur = x >>> TYPE_SHIFT;
    if (cnt === 0) {
      if (x & A.PGT_PARTIAL) return this.refuse(A.TE_PARTIAL, f, t, x);
      if (cur === t && x & VALID) {
        u[this.cType + f] = x + 1;
        return A.TE_OK;
      }
      const base = ((t << TYPE_SHIFT) | (x & UNDO) | 1) >>> 0;
      if (!isTable(t)) {
        u[this.cType + f] = base | VALID;
        return A.TE_OK;
      }
      if (f >= this.ramFrames) return this.refuse(A.TE_OUTSIDE_IMAGE, f, t, x);
      u[this.cType + f] = base;
      const rc = this.validate(f, t);
      if (rc !== A.TE_OK) {
        u[this.cType + f] = x;
        return rc;
      }
      if (t === L4) this.promoteL4(f);
      u[this.cType + f] = u[this.cType + f]! | VALID;
      return A.TE_OK;
    }
    if (cur !== t) return this.refuse(t === A.PGT_WRITABLE && isTable(cur) ? A.TE_WRITABLE_PT : A.TE_TYPE_MISMATCH, f, t, x);
    if (!(x & VALID)) return this.refuse(A.TE_NOT_VALIDATED, f, t, x);
    if (cnt === COUNT) return this.refuse(A.TE_COUNT_OVERFLOW, f, t, x);
    u[this.cType + f] = x + 1;
    return A.TE_OK;
  }

  private typePut(f: number, rollback: boolean): void {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    if (cnt === 0) {
      this.anomaly();
      return;
    }
    let nx = x - 1;
    if (cnt === 1) {
      const cur = x >>> TYPE_SHIFT;
      if (isTable(cur) && x & VALID) {
        nx = (nx & ~VALID) >>> 0;
        u[this.cType + f] = nx;
        this.releaseEntries(f, cur, 512, rollback);
        if (cur === L4) this.demoteL4(f);
      }
      if (rollback) nx = ((nx & 0x0fffffff) | (((nx & UNDO) >>> A.PGT_UNDO_SHIFT) << 28)) >>> 0;
      else nx = ((nx & ~UNDO) | (((nx >>> 28) & 0xf) << A.PGT_UNDO_SHIFT)) >>> 0;
    }
    u[this.cType + f] = nx;
  }

  private takeEntry(lo: number, hi: number, t: number, owner: number): number {
    const tg = (lo >>> 12) + (hi & 0xfffff) * 1048576;
    const tg32 = tg >>> 0;
    const want = t === A.PGT_L1 ? (lo & A.PTE_RW ? A.PGT_WRITABLE : 0) : t - 1;
    if (hi & A.DIS_HI) return this.refuse(A.TE_DISALLOWED, tg32, want, 0);
    if (t !== A.PGT_L1) {
      if (lo & A.PTE_PS) return this.refuse(t === L4 ? A.TE_DISALLOWED : A.TE_SUPERPAGE, tg32, want, 0);
      if (lo & A.DIS_TABLE_LO) return this.refuse(A.TE_DISALLOWED, tg32, want, 0);
    }
    if (tg >= this.frames) return this.refuse(A.TE_FRAME_RANGE, tg32, want, 0);
    let rc = this.pageGet(tg, owner);
    if (rc !== A.TE_OK) return rc;
    if (want !== 0) {
      rc = this.typeGet(tg, want);
      if (rc !== A.TE_OK) {
        this.pagePut(tg);
        return rc;
      }
    }
    return A.TE_OK;
  }

  private dropEntry(lo: number, hi: number, t: number, rollback: boolean): void {
    const tg = (lo >>> 12) + (hi & 0xfffff) * 1048576;
    if (tg >= this.frames) {
      this.anomaly();
      return;
    }
    if (t !== A.PGT_L1 || lo & A.PTE_RW) this.typePut(tg, rollback);
    this.pagePut(tg);
  }

  private releaseEntries(f: number, t: number, upto: number, rollback: boolean): void {
    const u = this.u;
    for (let i = upto - 1; i >= 0; i--) {
      if (xenSlot(t, i)) continue;
      const e = this.entry(f, i);
      const lo = u[e]!;
      if (lo & 1) this.dropEntry(lo, u[e + 1]!, t, rollback);
    }
  }

  private validate(f: number, t: number): number {
    const u = this.u;
    const owner = u[this.cOwner + f]!;
    for (let i = 0; i < 512; i++) {
      if (xenSlot(t, i)) continue;
      const e = this.entry(f, i);
      const lo = u[e]!;
      if (!(lo & 1)) continue;
      const hi = u[e + 1]!;
      const rc = this.takeEntry(lo, hi, t, owner);
      if (rc !== A.TE_OK) {
        this.noteTable(f, i, t, lo, hi);
        this.releaseEntries(f, t, i, true);
        return rc;
      }
    }
    return A.TE_OK;
  }

  private checkFrame(f: number): number {
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    if (this.u[this.cOwner + f] === A.OWNER_NONE) return this.refuse(A.TE_NOT_ALLOCATED, f, 0, this.u[this.cCount + f]!);
    return A.TE_OK;
  }

  getType(f: number, t: number): number {
    f >>>= 0;
    t >>>= 0;
    this.beginOp();
    if (t === 0 || t > A.PGT_WRITABLE) return this.refuse(A.TE_BAD_TYPE, f, t, 0);
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    return this.typeGet(f, t);
  }

  putType(f: number): number {
    f >>>= 0;
    this.beginOp();
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const x = this.u[this.cType + f]!;
    const cnt = x & COUNT;
    if (cnt === 0) return this.refuse(A.TE_NO_TYPE_REF, f, 0, x);
    const held = (x & A.PGT_PINNED ? 1 : 0) + (x & A.PGT_LOCKED ? 1 : 0);
    if (cnt <= held) return this.refuse(x & A.PGT_PINNED ? A.TE_PINNED : A.TE_LOCKED, f, 0, x);
    this.typePut(f, false);
    return A.TE_OK;
  }

  pin(f: number, t: number): number {
    f >>>= 0;
    t >>>= 0;
    this.beginOp();
    if (!isTable(t)) return this.refuse(A.TE_BAD_TYPE, f, t, 0);
    let rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const u = this.u;
    const x = u[this.cType + f]!;
    if (x & A.PGT_PINNED) return this.refuse(A.TE_PINNED, f, t, x);
    rc = this.pageGet(f, u[this.cOwner + f]!);
    if (rc !== A.TE_OK) return rc;
    rc = this.typeGet(f, t);
    if (rc !== A.TE_OK) {
      this.pagePut(f);
      return rc;
    }
    u[this.cType + f] = (u[this.cType + f]! | A.PGT_PINNED) >>> 0;
    return A.TE_OK;
  }

  unpin(f: number): number {
    f >>>= 0;
    this.beginOp();
    const rc = this.checkFrame(f);
    if (rc !== A.TE_OK) return rc;
    const u = this.u;
    const x = u[this.cType + f]!;
    if (!(x & A.PGT_PINNED)) return this.refuse(A.TE_NOT_PINNED, f, 0, x);
    u[this.cType + f] = (x & ~A.PGT_PINNED) >>> 0;
    this.typePut(f, false);
    this.pagePut(f);
    return A.TE_OK;
  }

  private tryLock(f: number): boolean {
    const u = this.u;
    const x = u[this.cType + f]!;
    const cnt = x & COUNT;
    if ((x & (A.PGT_LOCKED | VALID)) !== VALID || cnt === 0 || cnt === COUNT) return false;
    u[this.cType + f] = ((x + 1) | A.PGT_LOCKED) >>> 0;
    return true;
  }

  private unlockHeld(f: number): void {
    const u = this.u;
    u[this.cType + f] = ((u[this.cType + f]! & ~A.PGT_LOCKED) - 1) >>> 0;
  }

  pageLock(f: number): number {
    f >>>= 0;
    if (f >= this.frames) return 0;
    return this.tryLock(f) ? 1 : 0;
  }

  pageUnlock(f: number): number {
    f >>>= 0;
    this.beginOp();
    if (f >= this.frames) return this.refuse(A.TE_FRAME_RANGE, f, 0, 0);
    const u = this.u;
    const x = u[this.cType + f]!;
    if (!(x & A.PGT_LOCKED)) return this.refuse(A.TE_NOT_LOCKED, f, 0, x);
    u[this.cType + f] = (x & ~A.PGT_LOCKED) >>> 0;
    this.typePut(f, false);
    return A.TE_OK;
  }

  // ---- RO_MPT slot and census ---------------------------------------------------------

  private fillSlot(f: number): boolean {
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

  // ---- m2p-strict fix-ups -------------------------------------------------------------

  private start(): void {
    this.visited = 0;
    this.filled = 0;
    this.already = 0;
    this.lockFailed = 0;
    this.l4LockFailed = 0;
    this.checks = 0;
  }

  private finish(code: number): number {
    this.fr(A.FR_VISITED, this.visited);
    this.fr(A.FR_FILLED, this.filled);
    this.fr(A.FR_ALREADY, this.already);
    this.fr(A.FR_LOCK_FAILED, this.lockFailed);
    this.fr(A.FR_L4_LOCK_FAILED, this.l4LockFailed);
    this.fr(A.FR_CHECKS, this.checks);
    return code;
  }

  /** Lock, fill if L4, unlock; 1 when the slot was already set. */
  private visit(f: number): number {
    let seenSet = 0;
    if (this.tryLock(f)) {
      if (this.u[this.cType + f]! >>> TYPE_SHIFT === L4 && f < this.ramFrames) {
        if (this.fillSlot(f)) this.filled++;
        else {
          this.already++;
          seenSet = 1;
        }
      }
      this.unlockHeld(f);
    } else {
      this.lockFailed++;
      if (this.u[this.cType + f]! >>> 28 === VALID_L4) this.l4LockFailed++;
    }
    return seenSet;
  }

  fixFaithful(d: number, maxChecks: number): number {
    d >>>= 0;
    maxChecks >>>= 0;
    this.start();
    if (!this.live(d)) return this.finish(A.TE_NO_DOMAIN);
    let head = this.domGet(d, A.DOM_HEAD);
    let tail = this.domGet(d, A.DOM_TAIL);
    const u = this.u, next = this.cNext, prev = this.cPrev, frames = this.frames;
    if (head >= frames || tail >= frames) return this.finish(A.FX_EMPTY);
    if (maxChecks === 0) maxChecks = 1;
    let i = 0;
    let code = A.FX_RESTART;
    for (;;) {
      const f = head;
      const n = u[next + f]!;
      if (n < frames) {
        u[prev + n] = NULL;
        u[next + tail] = f;
        u[prev + f] = tail;
        u[next + f] = NULL;
        tail = f;
        head = n;
      }
      this.visited++;
      if (this.visit(f)) {
        code = A.FX_DONE;
        break;
      }
      if ((++i & 0xff) === 0) {
        this.checks++;
        if (this.checks >= maxChecks) break;
      }
    }
    this.domSet(d, A.DOM_HEAD, head);
    this.domSet(d, A.DOM_TAIL, tail);
    return this.finish(code);
  }

  /** Start run `mode` of a resumable fix-up, or continue it; a new run puts `from` in `field`. */
  private enterFix(d: number, mode: number, field: number, from: number): number {
    if (this.domGet(d, A.DOM_FIX_MODE) !== mode) {
      this.domSet(d, A.DOM_FIX_MODE, mode);
      this.domSet(d, field, from);
    }
    return this.domGet(d, field);
  }

  /** Stop for preemption: the next call continues from `at`. */
  private restartFix(d: number, field: number, at: number): number {
    this.domSet(d, field, at);
    return this.finish(A.FX_RESTART);
  }

  /** The run is complete: clear its state (`idle` is the field's resting value). */
  private doneFix(d: number, field: number, idle: number): number {
    this.domSet(d, A.DOM_FIX_MODE, A.FIXM_NONE);
    this.domSet(d, field, idle);
    return this.finish(A.FX_DONE);
  }

  fixCounted(d: number, maxChecks: number): number {
    d >>>= 0;
    maxChecks >>>= 0;
    this.start();
    if (!this.live(d)) return this.finish(A.TE_NO_DOMAIN);
    if (maxChecks === 0) maxChecks = 1;
    let left = this.enterFix(d, A.FIXM_COUNTED, A.DOM_FIX_LEFT, this.domGet(d, A.DOM_COUNT));
    let head = this.domGet(d, A.DOM_HEAD);
    let tail = this.domGet(d, A.DOM_TAIL);
    const u = this.u, next = this.cNext, prev = this.cPrev, frames = this.frames;
    let i = 0;
    let code = A.FX_DONE;
    if (tail >= frames) left = 0;
    while (left > 0 && head < frames) {
      const f = head;
      const n = u[next + f]!;
      if (n < frames) {
        u[prev + n] = NULL;
        u[next + tail] = f;
        u[prev + f] = tail;
        u[next + f] = NULL;
        tail = f;
        head = n;
      }
      this.visited++;
      this.visit(f);
      left--;
      if ((++i & 0xff) === 0 && left > 0) {
        this.checks++;
        if (this.checks >= maxChecks) {
          code = A.FX_RESTART;
          break;
        }
      }
    }
    this.domSet(d, A.DOM_HEAD, head);
    this.domSet(d, A.DOM_TAIL, tail);
    return code === A.FX_RESTART ? this.restartFix(d, A.DOM_FIX_LEFT, left) : this.doneFix(d, A.DOM_FIX_LEFT, 0);
  }

  fixFlat(d: number, maxChecks: number): number {
    d >>>= 0;
    maxChecks >>>= 0;
    this.start();
    if (!this.live(d)) return this.finish(A.TE_NO_DOMAIN);
    if (maxChecks === 0) maxChecks = 1;
    let f = this.enterFix(d, A.FIXM_FLAT, A.DOM_FIX_CURSOR, 0);
    const u = this.u, col = this.cType, own = this.cOwner, frames = this.frames;
    const owner = d + A.OWNER_BIAS;
    while (f < frames) {
      const end = frames - f > 256 ? f + 256 : frames;
      this.visited += end - f;
      for (; f < end; f++) {
        if (u[col + f]! >>> 28 === VALID_L4 && u[own + f] === owner) this.visit(f);
      }
      if (f < frames) {
        this.checks++;
        if (this.checks >= maxChecks) {
          return this.restartFix(d, A.DOM_FIX_CURSOR, f);
        }
      }
    }
    return this.doneFix(d, A.DOM_FIX_CURSOR, 0);
  }

  fixIndexed(d: number, maxChecks: number): number {
    d >>>= 0;
    maxChecks >>>= 0;
    this.start();
    if (!this.live(d)) return this.finish(A.TE_NO_DOMAIN);
    if (maxChecks === 0) maxChecks = 1;
    const u = this.u, rf = this.ramFrames;
    let c = this.enterFix(d, A.FIXM_INDEXED, A.DOM_FIX_CURSOR, this.domGet(d, A.DOM_L4_HEAD));
    let i = 0;
    while (c < rf) {
      const f = c;
      c = u[this.l4N + f]!;
      this.visited++;
      this.visit(f);
      if ((++i & 0xff) === 0 && c < rf) {
        this.checks++;
        if (this.checks >= maxChecks) {
          return this.restartFix(d, A.DOM_FIX_CURSOR, c);
        }
      }
    }
    return this.doneFix(d, A.DOM_FIX_CURSOR, NULL);
  }
}
