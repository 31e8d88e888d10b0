// The reference twin of assembly/frames/m2p-fixup.ts: the m2p-strict restore
// fix-up and its variants, resumable at every preemption check.
import * as A from '../../abi.js';
import { ReferenceRoMpt } from './ro-mpt.js';
import { NULL, TYPE_SHIFT, L4, VALID_L4 } from './state.js';

export class ReferenceM2pFixup extends ReferenceRoMpt {
  // fix-up counters
  protected visited = 0;
  protected filled = 0;
  protected already = 0;
  protected lockFailed = 0;
  protected l4LockFailed = 0;
  protected checks = 0;


  protected start(): void {
    this.visited = 0;
    this.filled = 0;
    this.already = 0;
    this.lockFailed = 0;
    this.l4LockFailed = 0;
    this.checks = 0;
  }

  protected finish(code: number): number {
    this.fr(A.FR_VISITED, this.visited);
    this.fr(A.FR_FILLED, this.filled);
    this.fr(A.FR_ALREADY, this.already);
    this.fr(A.FR_LOCK_FAILED, this.lockFailed);
    this.fr(A.FR_L4_LOCK_FAILED, this.l4LockFailed);
    this.fr(A.FR_CHECKS, this.checks);
    return code;
  }

  /** Lock, fill if L4, unlock; 1 when the slot was already set. */
  protected visit(f: number): number {
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
  protected enterFix(d: number, mode: number, field: number, from: number): number {
    if (this.domGet(d, A.DOM_FIX_MODE) !== mode) {
      this.domSet(d, A.DOM_FIX_MODE, mode);
      this.domSet(d, field, from);
    }
    return this.domGet(d, field);
  }

  /** Stop for preemption: the next call continues from `at`. */
  protected restartFix(d: number, field: number, at: number): number {
    this.domSet(d, field, at);
    return this.finish(A.FX_RESTART);
  }

  /** The run is complete: clear its state (`idle` is the field's resting value). */
  protected doneFix(d: number, field: number, idle: number): number {
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
