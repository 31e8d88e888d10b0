// The reference twin of assembly/paging/qemu-tlb.ts: QEMU 7.2's `info tlb` lines
// made from mapping records, straight into bytes, 45 a line.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';
import { writeHex8 } from './hex-bytes.js';

const LINE = 45;
/** Flag letters after X, with the entry bit each shows. */
const FLAGS = Array.from('GPDACTUW', (c, k) => [1 << (8 - k), c.charCodeAt(0)] as const);
const DASH = 0x2d;

export class ReferenceQemuTlb {
  private readonly memory: WebAssembly.Memory;

  constructor(ctx: BackendContext) {
    this.memory = ctx.memory;
  }

  formatTlb(recPtr: number, n: number, outPtr: number, vaBits: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    const i32 = new Int32Array(this.memory.buffer);
    // Bits of the high word above the sign bit (bit vaBits-1 of the VA).
    const signHi = vaBits - 1 - 32;
    for (let i = 0; i < n; i++) {
      const w = (recPtr + i * A.MR_BYTES) >>> 2;
      const o = outPtr + i * LINE;
      const vlo = i32[w + (A.MR_VA >>> 2)]!;
      let vhi = i32[w + (A.MR_VA >>> 2) + 1]!;
      vhi = (vhi >>> signHi) & 1 ? vhi | -(2 ** (signHi + 1)) : vhi & (2 ** (signHi + 1) - 1);
      const lo = i32[w + (A.MR_ENTRY >>> 2)]!;
      const hi = i32[w + (A.MR_ENTRY >>> 2) + 1]!;
      const shift = (i32[w + (A.MR_STATUS >>> 2)]! >>> A.ST_PAGE_SHIFT) & 0xff;
      // Frame bits 12..49 above the page offset; bit 7 of a 4 KiB leaf is PAT, not PS.
      const palo = lo & (shift >= 32 ? 0 : -(2 ** shift));
      const pahi = hi & 0x3ffff & (shift > 32 ? -(2 ** (shift - 32)) : -1);
      const bits = lo & (shift === 12 ? 0x17e : 0x1fe);
      writeHex8(u8, o, vhi);
      writeHex8(u8, o + 8, vlo);
      u8[o + 16] = 0x3a;
      u8[o + 17] = 0x20;
      writeHex8(u8, o + 18, pahi);
      writeHex8(u8, o + 26, palo & ~0xfff);
      u8[o + 34] = 0x20;
      u8[o + 35] = hi < 0 ? 0x58 : DASH;
      for (let k = 0; k < 8; k++) u8[o + 36 + k] = bits & FLAGS[k]![0] ? FLAGS[k]![1] : DASH;
      u8[o + 44] = 0x0a;
    }
    return n * LINE;
  }
}
