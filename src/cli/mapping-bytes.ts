// The `mappings` command's own formats (memwalk lines and JSON lines) written as
// bytes straight from the enumerator's records into the output block: no object,
// BigInt or string per leaf. The text is what describe() and JSON.stringify of a
// Mapping print (test/cli-mappings-bytes.test.ts compares them line by line).
import * as A from '../abi.js';
import type { EngineContext } from '../engine/context.js';
import type { RecordBatch } from '../paging/mapping-records.js';
import { sizeAndRights } from './output.js';
import type { ByteSink } from './output.js';

const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The longest line either format writes (a JSON line is about 190 bytes). */
const MAX_LINE = 256;

/** The two hex digits of each byte value, at 2b and 2b+1. */
const HEX2 = Uint8Array.from({ length: 512 }, (_, i) => HEX[(i & 1 ? i >> 1 : i >> 5) & 0xf]!);

/** Eight hex digits of `v` at `o` (a byte at a time: half the lookups of a digit at a time). */
function hex8(buf: Uint8Array, o: number, v: number): number {
  let t = (v >>> 23) & 0x1fe;
  buf[o] = HEX2[t]!;
  buf[o + 1] = HEX2[t + 1]!;
  t = (v >>> 15) & 0x1fe;
  buf[o + 2] = HEX2[t]!;
  buf[o + 3] = HEX2[t + 1]!;
  t = (v >>> 7) & 0x1fe;
  buf[o + 4] = HEX2[t]!;
  buf[o + 5] = HEX2[t + 1]!;
  t = (v << 1) & 0x1fe;
  buf[o + 6] = HEX2[t]!;
  buf[o + 7] = HEX2[t + 1]!;
  return o + 8;
}

/** Hex digits of the u64 hi:lo without leading zeros ("0" for zero). */
function hexTrim(buf: Uint8Array, o: number, hi: number, lo: number): number {
  let k = hi !== 0 ? 60 : 28;
  while (k > 0 && ((k >= 32 ? hi >>> (k - 32) : lo >>> k) & 0xf) === 0) k -= 4;
  for (; k >= 0; k -= 4) buf[o++] = HEX[(k >= 32 ? hi >>> (k - 32) : lo >>> k) & 0xf]!;
  return o;
}

/** `bytes` at `o`: a plain loop, as the pieces are a few bytes long (set() costs a call into the runtime each). */
function put(buf: Uint8Array, o: number, bytes: Uint8Array): number {
  for (let k = 0; k < bytes.length; k++) buf[o + k] = bytes[k]!;
  return o + bytes.length;
}

/** Per page shift and rights bits, the bytes after the PA: " 4K w- supervisor\n". */
const tails = new Map<number, Uint8Array>();
function tail(shift: number, r: number): Uint8Array {
  const key = shift * 16 + r;
  let t = tails.get(key);
  if (!t) {
    const rights = { write: (r & A.R_WRITE) !== 0, execute: (r & A.R_EXEC) !== 0, user: (r & A.R_USER) !== 0 };
    t = ascii(` ${sizeAndRights(2 ** shift, rights)}\n`);
    tails.set(key, t);
  }
  return t;
}

const ARROW = ascii(' -> ');

/** memwalk lines ("VA-END -> PA SIZE RIGHTS") of a batch of records. */
export function memwalkLines(ctx: EngineContext, b: RecordBatch, sink: ByteSink): void {
  const u32 = ctx.u32;
  for (let i = 0; i < b.count; i++) {
    const w = (b.at + i * A.MR_BYTES) >>> 2;
    const vlo = u32[w]!, vhi = u32[w + 1]!;
    const st = u32[w + (A.MR_STATUS >>> 2)]!;
    const shift = (st >>> A.ST_PAGE_SHIFT) & 0xff;
    // The end wraps at 2^64, as the VA plus the size does in u64.
    const low = vlo + (shift < 32 ? 2 ** shift : 0);
    const carry = low >= 2 ** 32 ? 1 : 0;
    const ehi = (vhi + carry + (shift >= 32 ? 2 ** (shift - 32) : 0)) >>> 0;
    sink.room(MAX_LINE);
    const buf = sink.buf;
    let o = sink.len;
    o = hex8(buf, hex8(buf, o, vhi), vlo);
    buf[o++] = 0x2d; // '-'
    o = hex8(buf, hex8(buf, o, ehi), low - carry * 2 ** 32);
    o = put(buf, o, ARROW);
    o = hex8(buf, hex8(buf, o, u32[w + (A.MR_PA >>> 2) + 1]!), u32[w + (A.MR_PA >>> 2)]!);
    sink.len = put(buf, o, tail(shift, (st >>> A.ST_RIGHTS_SHIFT) & 0xf));
  }
}

const J_VA = ascii('{"va":"0x');
const J_PA = ascii('","pa":"0x');
const J_SIZE = ascii('","size":');
const J_LEVEL = ascii(',"level":');
const J_ENTRY = ascii(',"entry":"0x');
const J_RIGHTS = ascii('","rights":{"write":');
const J_USER = ascii(',"user":');
const J_EXEC = ascii(',"execute":');
const J_END = ascii('}}\n');
const TRUE = ascii('true');
const FALSE = ascii('false');
const SIZES = Array.from({ length: 64 }, (_, s) => ascii(String(2 ** s)));

/**
 * JSON lines of a batch of records, each the JSON of one mapping; `first` is
 * whether the listing's first line is among them (the others start with a comma).
 */
export function jsonLines(ctx: EngineContext, b: RecordBatch, sink: ByteSink, first: boolean): void {
  const u32 = ctx.u32;
  const levels = b.params.levels.map((l) => ascii(String(l.archLevel)));
  for (let i = 0; i < b.count; i++) {
    const w = (b.at + i * A.MR_BYTES) >>> 2;
    const st = u32[w + (A.MR_STATUS >>> 2)]!;
    const r = (st >>> A.ST_RIGHTS_SHIFT) & 0xf;
    sink.room(MAX_LINE);
    const buf = sink.buf;
    let o = sink.len;
    if (!first || i > 0) buf[o++] = 0x2c; // ','
    o = put(buf, o, J_VA);
    o = hexTrim(buf, o, u32[w + 1]!, u32[w]!);
    o = put(buf, o, J_PA);
    o = hexTrim(buf, o, u32[w + (A.MR_PA >>> 2) + 1]!, u32[w + (A.MR_PA >>> 2)]!);
    o = put(buf, o, J_SIZE);
    o = put(buf, o, SIZES[(st >>> A.ST_PAGE_SHIFT) & 0x3f]!);
    o = put(buf, o, J_LEVEL);
    o = put(buf, o, levels[(st >>> A.ST_LEVEL_SHIFT) & 0xf]!);
    o = put(buf, o, J_ENTRY);
    o = hexTrim(buf, o, u32[w + (A.MR_ENTRY >>> 2) + 1]!, u32[w + (A.MR_ENTRY >>> 2)]!);
    o = put(buf, o, J_RIGHTS);
    o = put(buf, o, r & A.R_WRITE ? TRUE : FALSE);
    o = put(buf, o, J_USER);
    o = put(buf, o, r & A.R_USER ? TRUE : FALSE);
    o = put(buf, o, J_EXEC);
    o = put(buf, o, r & A.R_EXEC ? TRUE : FALSE);
    sink.len = put(buf, o, J_END);
  }
}
