// The reference twin of assembly/paging/memwalk-json.ts: memwalk's JSON lines made
// from mapping records straight into bytes, the trimmed hex here, the rest copied
// from the slots the TS layer fills.
import * as A from '../../abi.js';
import type { BackendContext } from '../backend.js';
import { HEX_DIGITS } from './hex-bytes.js';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const VA = ascii('{"va":"0x');
const PA = ascii('","pa":"0x');
const SIZES = 0, LEVELS = 64 * 48, RIGHTS = LEVELS + 16 * 16;

export class ReferenceMemwalkJson {
  private readonly memory: WebAssembly.Memory;

  constructor(ctx: BackendContext) {
    this.memory = ctx.memory;
  }

  formatJson(recPtr: number, n: number, outPtr: number, tables: number, first: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    const u32 = new Uint32Array(this.memory.buffer);
    // The u64 hi:lo's hex digits without leading zeros ("0" for zero).
    const hexTrim = (o: number, hi: number, lo: number): number => {
      let k = hi !== 0 ? 60 : 28;
      while (k > 0 && ((k >= 32 ? hi >>> (k - 32) : lo >>> k) & 0xf) === 0) k -= 4;
      for (; k >= 0; k -= 4) u8[o++] = HEX_DIGITS[(k >= 32 ? hi >>> (k - 32) : lo >>> k) & 0xf]!;
      return o;
    };
    const put = (o: number, bytes: number[]): number => {
      for (const b of bytes) u8[o++] = b;
      return o;
    };
    const slot = (o: number, t: number): number => {
      const len = u8[t]!;
      for (let k = 0; k < len; k++) u8[o + k] = u8[t + 1 + k]!;
      return o + len;
    };
    let o = outPtr;
    for (let i = 0; i < n; i++) {
      const w = (recPtr + i * A.MR_BYTES) >>> 2;
      const st = u32[w + (A.MR_STATUS >>> 2)]!;
      if (i > 0 || first === 0) u8[o++] = 0x2c; // ','
      o = put(o, VA);
      o = hexTrim(o, u32[w + (A.MR_VA >>> 2) + 1]!, u32[w + (A.MR_VA >>> 2)]!);
      o = put(o, PA);
      o = hexTrim(o, u32[w + (A.MR_PA >>> 2) + 1]!, u32[w + (A.MR_PA >>> 2)]!);
      o = slot(o, tables + SIZES + ((st >>> A.ST_PAGE_SHIFT) & 0x3f) * 48);
      o = slot(o, tables + LEVELS + ((st >>> A.ST_LEVEL_SHIFT) & 0xf) * 16);
      o = hexTrim(o, u32[w + (A.MR_ENTRY >>> 2) + 1]!, u32[w + (A.MR_ENTRY >>> 2)]!);
      o = slot(o, tables + RIGHTS + ((st >>> A.ST_RIGHTS_SHIFT) & 0xf) * 64);
    }
    return o - outPtr;
  }
}
