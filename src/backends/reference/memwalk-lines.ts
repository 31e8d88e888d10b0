// The reference twin of assembly/paging/memwalk-lines.ts: memwalk's listing lines
// made from mapping records, straight into bytes, each tail copied from its slot.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';

const HEAD = 53;
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

export class ReferenceMemwalkLines {
  private readonly memory: WebAssembly.Memory;

  constructor(ctx: BackendContext) {
    this.memory = ctx.memory;
  }

  formatLines(recPtr: number, n: number, outPtr: number, tails: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    const dv = new DataView(this.memory.buffer);
    const hex16 = (o: number, v: bigint) => {
      for (let k = 0; k < 16; k++) u8[o + k] = HEX[Number((v >> BigInt(60 - 4 * k)) & 0xfn)]!;
    };
    let o = outPtr;
    for (let i = 0; i < n; i++) {
      const r = recPtr + i * A.MR_BYTES;
      const va = dv.getBigUint64(r + A.MR_VA, true);
      const st = dv.getUint32(r + A.MR_STATUS, true);
      const shift = (st >>> A.ST_PAGE_SHIFT) & 0x3f;
      hex16(o, va);
      u8[o + 16] = 0x2d;
      hex16(o + 17, BigInt.asUintN(64, va + (1n << BigInt(shift))));
      u8.set([0x20, 0x2d, 0x3e, 0x20], o + 33);
      hex16(o + 37, dv.getBigUint64(r + A.MR_PA, true));
      const t = tails + ((shift << 4) | ((st >>> A.ST_RIGHTS_SHIFT) & 0xf)) * 32;
      const len = u8[t]!;
      u8.copyWithin(o + HEAD, t + 1, t + 1 + len);
      o += HEAD + len;
    }
    return o - outPtr;
  }
}
