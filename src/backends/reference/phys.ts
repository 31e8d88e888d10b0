// The one way the reference kernels reach physical memory, as assembly/shared/phys.ts
// is for the wasm ones: a resident RAM image is a compare and an add; an engine over
// a source finds the frame through its frame cache (faulting it in): FrameCache.fetch
// looks at the frame's home slot first, then the frame map, as the kernels do. The offset
// returned is valid for `bytes` bytes until the next physical access.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';
import type { FrameCache } from '../../memory/frame-cache.js';

const FRAME = 4096;

export class ReferencePhys {
  private readonly ramBase: number;
  private readonly ramBytes: number;
  private readonly cache: FrameCache | undefined;
  private readonly u32: Uint32Array;

  constructor(ctx: BackendContext) {
    this.ramBase = ctx.layout.ramBase;
    this.ramBytes = ctx.layout.ramBytes;
    this.cache = ctx.cache;
    this.u32 = new Uint32Array(ctx.memory.buffer);
  }

  /** Byte offset in the memory of physical [pa, pa+bytes) for reading, or 0 when it is not there. */
  addr(pa: number, bytes: number): number {
    if (this.cache) return this.cached(pa, bytes, this.u32[(A.LAYOUT + A.LY_WRITE_INTENT) >>> 2] !== 0);
    return pa + bytes <= this.ramBytes ? this.ramBase + pa : 0;
  }

  /** The same for writing (an engine over a source writes a private copy of the frame). */
  writeAddr(pa: number, bytes: number): number {
    if (this.cache) return this.cached(pa, bytes, true);
    return pa + bytes <= this.ramBytes ? this.ramBase + pa : 0;
  }

  private cached(pa: number, bytes: number, write: boolean): number {
    const off = pa % FRAME;
    // Frames are not contiguous in the cache: a span over two is not one address.
    if (off + bytes > FRAME) return 0;
    const slot = this.cache!.fetch(Math.floor(pa / FRAME), write);
    return slot === 0 ? 0 : slot + off;
  }
}
