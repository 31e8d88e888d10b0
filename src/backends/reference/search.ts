// The search kernels in TypeScript, the twin of assembly/search: the same scans
// over the same span records, one position at a time (the wasm kernel takes 16
// candidates at once; the answers are the same).
import * as A from '../../abi.js';
import type { BackendContext, SearchKernels } from '../backend.js';
import { ReferencePhys } from './phys.js';

const FRAME = 4096;

export class ReferenceSearch implements SearchKernels {
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private readonly phys: ReferencePhys;
  private readonly cached: boolean;

  constructor(ctx: BackendContext) {
    this.u8 = new Uint8Array(ctx.memory.buffer);
    this.view = new DataView(ctx.memory.buffer);
    this.phys = new ReferencePhys(ctx);
    this.cached = ctx.cache !== undefined;
  }

  /** Logical starts may be above 2^53 (kernel addresses): compared exactly. */
  private logical(spans: number, s: number): bigint {
    return this.view.getBigUint64(spans + s * A.SP_BYTES + A.SP_LOGICAL, true);
  }
  private pa(spans: number, s: number): number {
    return Number(this.view.getBigUint64(spans + s * A.SP_BYTES + A.SP_PA, true));
  }
  private length(spans: number, s: number): number {
    return Number(this.view.getBigUint64(spans + s * A.SP_BYTES + A.SP_LENGTH, true));
  }
  private hit(out: number, i: number, s: number, off: number): void {
    this.view.setUint32(out + i * A.HIT_BYTES + A.HIT_SPAN, s, true);
    this.view.setUint32(out + i * A.HIT_BYTES + A.HIT_OFFSET, off, true);
  }

  /** Do the n bytes at `pattern` follow at (s, off), running on into following spans? */
  private matchesFrom(spans: number, count: number, s: number, off: number, pattern: number, n: number): boolean {
    for (let k = 0; k < n; k++) {
      while (off >= this.length(spans, s)) {
        const next = s + 1;
        if (next >= count || this.logical(spans, next) !== this.logical(spans, s) + BigInt(this.length(spans, s))) return false;
        off -= this.length(spans, s);
        s = next;
      }
      const a = this.phys.addr(this.pa(spans, s) + off, 1);
      if (a === 0 || this.u8[a] !== this.u8[pattern + k]) return false;
      off++;
    }
    return true;
  }

  searchPattern(spans: number, count: number, starts: number, pattern: number, n: number, from: number, fromOffset: bigint, out: number, max: number): number {
    if (n === 0 || max === 0) return 0;
    const u8 = this.u8;
    let hits = 0;
    for (let s = from; s < starts; s++) {
      const len = this.length(spans, s);
      for (let off = s === from ? Number(fromOffset) : 0; off < len; ) {
        const pa = this.pa(spans, s) + off;
        let chunk = len - off;
        if (this.cached) chunk = Math.min(chunk, FRAME - (pa % FRAME));
        let a = this.phys.addr(pa, chunk);
        if (a === 0) {
          chunk = Math.min(chunk, FRAME - (pa % FRAME));
          a = this.phys.addr(pa, chunk);
          if (a === 0) {
            off += chunk;
            continue;
          }
        }
        for (let i = 0; i < chunk; i++) {
          const rest = Math.min(n, chunk - i);
          let k = 0;
          while (k < rest && u8[a + i + k] === u8[pattern + k]) k++;
          if (k < rest) continue;
          if (rest === n || this.matchesFrom(spans, count, s, off + chunk, pattern + rest, n - rest)) {
            this.hit(out, hits++, s, off + i);
            if (hits === max) return hits;
          }
          if (rest < n) {
            // The check may have evicted this chunk's frame: find it again.
            a = this.phys.addr(pa, chunk);
            if (a === 0) break;
          }
        }
        off += chunk;
      }
    }
    return hits;
  }

  matchFrames(spans: number, count: number, at: number, ref: number, entries: number, misses: number, from: number, fromOffset: bigint, out: number, max: number): number {
    if (max === 0) return 0;
    const view = this.view;
    let hits = 0;
    for (let s = from; s < count; s++) {
      const len = this.length(spans, s);
      for (let off = s === from ? Number(fromOffset) : 0; off + FRAME <= len; off += FRAME) {
        const a = this.phys.addr(this.pa(spans, s) + off + at, entries * 8);
        if (a === 0) continue;
        let missed = 0;
        for (let k = 0; k < entries; k++) {
          const want = view.getBigUint64(ref + k * 8, true);
          if (want !== 0n && view.getBigUint64(a + k * 8, true) !== want && ++missed > misses) break;
        }
        if (missed <= misses) {
          this.hit(out, hits++, s, off);
          if (hits === max) return hits;
        }
      }
    }
    return hits;
  }
}
