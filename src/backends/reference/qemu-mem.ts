// The reference twin of assembly/paging/qemu-mem.ts: QEMU 7.2's `info mem` lines
// made from mapping records, straight into bytes, 55 a line, the merge state in the
// caller's MS_* block. Addresses are below 2^58, so doubles hold them exactly.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';
import { writeHex8 } from './hex-bytes.js';

const LINE = 55;
const W32 = 2 ** 32;
const NONE = -1;

export class ReferenceQemuMem {
  private readonly memory: WebAssembly.Memory;

  constructor(ctx: BackendContext) {
    this.memory = ctx.memory;
  }

  formatMem(recPtr: number, n: number, outPtr: number, vaBits: number, st: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    const dv = new DataView(this.memory.buffer);
    const get64 = (at: number) => {
      const v = dv.getBigUint64(at, true);
      return v === 2n ** 64n - 1n ? NONE : Number(v);
    };
    const signHi = vaBits - 1 - 32; // the sign bit's position in the high word
    const put16 = (o: number, x: number) => {
      let hi = Math.floor(x / W32);
      const lo = x - hi * W32;
      if ((hi >>> signHi) & 1) hi = (hi | -(2 ** (signHi + 1))) >>> 0;
      writeHex8(u8, o, hi);
      writeHex8(u8, o + 8, lo);
    };
    let o = outPtr;
    let start = get64(st + A.MS_START);
    let last = dv.getUint32(st + A.MS_PROT, true);
    let cursor = get64(st + A.MS_CURSOR);
    const event = (end: number, prot: number) => {
      if (prot === last) return;
      if (start !== NONE) {
        put16(o, start);
        u8[o + 16] = 0x2d;
        put16(o + 17, end);
        u8[o + 33] = 0x20;
        put16(o + 34, end - start);
        u8[o + 50] = 0x20;
        u8[o + 51] = last & 4 ? 0x75 : 0x2d;
        u8[o + 52] = 0x72;
        u8[o + 53] = last & 2 ? 0x77 : 0x2d;
        u8[o + 54] = 0x0a;
        o += LINE;
      }
      start = prot !== 0 ? end : NONE;
      last = prot;
    };
    const save = () => {
      dv.setBigUint64(st + A.MS_START, start === NONE ? 2n ** 64n - 1n : BigInt(start), true);
      dv.setUint32(st + A.MS_PROT, last, true);
      dv.setBigUint64(st + A.MS_CURSOR, BigInt(cursor), true);
    };
    if (n === 0) {
      const top = 2 ** vaBits;
      if (cursor !== top) event(cursor, 0);
      event(top, 0);
      cursor = top;
      save();
      return o - outPtr;
    }
    const hiMask = 2 ** (vaBits - 32) - 1;
    for (let i = 0; i < n; i++) {
      const r = recPtr + i * A.MR_BYTES;
      const a = (dv.getUint32(r + A.MR_VA + 4, true) & hiMask) * W32 + dv.getUint32(r + A.MR_VA, true);
      const status = dv.getUint32(r + A.MR_STATUS, true);
      if (a < cursor) {
        save();
        return -1;
      }
      const rights = (status >>> A.ST_RIGHTS_SHIFT) & 0xf;
      const prot = 1 | (rights & A.R_WRITE ? 2 : 0) | (rights & A.R_USER ? 4 : 0);
      if (a !== cursor) event(cursor, 0);
      event(a, prot);
      cursor = a + 2 ** ((status >>> A.ST_PAGE_SHIFT) & 0xff);
    }
    save();
    return o - outPtr;
  }
}
