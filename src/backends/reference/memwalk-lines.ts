// The reference twin of assembly/paging/memwalk-lines.ts: memwalk's listing lines
// made from mapping records, straight into bytes, each tail copied from its slot.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';
import { writeHex8 } from './hex-bytes.js';

const HEAD = 53;

export class ReferenceMemwalkLines {
  private readonly memory: WebAssembly.Memory;

  constructor(ctx: BackendContext) {
    this.memory = ctx.memory;
  }

  formatLines(recPtr: number, n: number, outPtr: number, tails: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    const u32 = new Uint32Array(this.memory.buffer);
    let o = outPtr;
    for (let i = 0; i < n; i++) {
      const w = (recPtr + i * A.MR_BYTES) >>> 2;
      const vlo = u32[w + (A.MR_VA >>> 2)]!, vhi = u32[w + (A.MR_VA >>> 2) + 1]!;
      const st = u32[w + (A.MR_STATUS >>> 2)]!;
      const shift = (st >>> A.ST_PAGE_SHIFT) & 0x3f;
      // The end wraps at 2^64, as the VA plus the size does in u64.
      const low = vlo + (shift < 32 ? 2 ** shift : 0);
      const carry = low >= 2 ** 32 ? 1 : 0;
      const ehi = (vhi + carry + (shift >= 32 ? 2 ** (shift - 32) : 0)) >>> 0;
      writeHex8(u8, o, vhi);
      writeHex8(u8, o + 8, vlo);
      u8[o + 16] = 0x2d;
      writeHex8(u8, o + 17, ehi);
      writeHex8(u8, o + 25, (low - carry * 2 ** 32) >>> 0);
      u8[o + 33] = 0x20;
      u8[o + 34] = 0x2d;
      u8[o + 35] = 0x3e;
      u8[o + 36] = 0x20;
      writeHex8(u8, o + 37, u32[w + (A.MR_PA >>> 2) + 1]!);
      writeHex8(u8, o + 45, u32[w + (A.MR_PA >>> 2)]!);
      const t = tails + ((shift << 4) | ((st >>> A.ST_RIGHTS_SHIFT) & 0xf)) * 32;
      const len = u8[t]!;
      for (let k = 0; k < len; k++) u8[o + HEAD + k] = u8[t + 1 + k]!;
      o += HEAD + len;
    }
    return o - outPtr;
  }
}
