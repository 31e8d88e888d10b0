// A domain's page list (xen-mm.md §2): add at head or tail, remove the head or a
// given frame, iterate, and the chase that walks the next column only.
import { assertScratchFree } from '../core/scratch-lease.js';
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { frameError } from './refusal.js';
import { NO_FRAME, checkFrameNumber } from './frame-info.js';

/** What a chase of the list returns: steps taken and the sum of the frames met (mod 2^32). */
export interface ChaseResult {
  readonly steps: number;
  readonly checksum: number;
}

export class PageList {
  constructor(
    private readonly ctx: EngineContext,
    readonly domain: number,
  ) {}

  private field(o: number): number {
    return this.ctx.view.getUint32(this.ctx.layout.domains + this.domain * A.DOM_STRIDE + o, true);
  }

  /** First frame, or undefined when empty. */
  get head(): number | undefined {
    const h = this.field(A.DOM_HEAD);
    return h === NO_FRAME ? undefined : h;
  }
  get tail(): number | undefined {
    const t = this.field(A.DOM_TAIL);
    return t === NO_FRAME ? undefined : t;
  }
  /** Frames on the list, as the record counts them. */
  get length(): number {
    return this.field(A.DOM_COUNT);
  }

  private check(rc: number, op: string, frame?: number): void {
    if (rc !== A.TE_OK) throw frameError(rc, op, frame === undefined ? `domain ${this.domain}` : `frame ${frame}`);
  }

  addHead(frame: number): void {
    checkFrameNumber(this.ctx, frame);
    this.check(this.ctx.backend.frames.listAddHead(this.domain, frame), 'page list add head');
  }

  addTail(frame: number): void {
    checkFrameNumber(this.ctx, frame);
    this.check(this.ctx.backend.frames.listAddTail(this.domain, frame), 'page list add tail');
  }

  /** Remove and return the head; undefined when the list is empty. */
  removeHead(): number | undefined {
    const f = this.ctx.backend.frames.listRemoveHead(this.domain) >>> 0;
    return f === NO_FRAME ? undefined : f;
  }

  remove(frame: number): void {
    checkFrameNumber(this.ctx, frame);
    this.check(this.ctx.backend.frames.listRemove(this.domain, frame), 'page list remove', frame);
  }

  /** The frames in list order (at most `max`, default the recorded length + 1 to expose a broken list). */
  frames(max = this.length + 1): Uint32Array {
    const e = this.ctx;
    assertScratchFree(e, 'page list');
    const out = new Uint32Array(Math.min(max, e.layout.frames + 1));
    const io = e.layout.ioBase;
    const per = Math.floor(e.layout.ioBytes / 4);
    let from = this.head ?? NO_FRAME;
    let n = 0;
    while (from !== NO_FRAME && n < out.length) {
      const got = e.backend.frames.listIterate(from, io, Math.min(per, out.length - n)) >>> 0;
      out.set(new Uint32Array(e.memory.buffer, io, got), n);
      n += got;
      from = e.view.getUint32(A.FR + A.FR_NEXT, true);
      if (got === 0) break;
    }
    return out.subarray(0, n);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.frames()[Symbol.iterator]();
  }

  /** Walk the list reading only the next links (at most `max` steps). */
  chase(max = this.length + 1): ChaseResult {
    const e = this.ctx;
    const from = this.head ?? NO_FRAME;
    const checksum = e.backend.frames.listChase(from, max) >>> 0;
    return { steps: e.view.getUint32(A.FR + A.FR_COUNT, true), checksum };
  }
}
