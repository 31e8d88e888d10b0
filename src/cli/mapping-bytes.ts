// The `mappings` command's own formats (memwalk lines and JSON lines) written as
// bytes straight from the enumerator's records: no object, BigInt or string per
// leaf; the memwalk lines by a kernel (formatLines) into the I/O buffer. The text
// is what describe() and JSON.stringify of a Mapping print
// (test/cli-mapping-bytes.test.ts compares them line by line).
import * as A from '../abi.js';
import type { EngineContext } from '../engine/context.js';
import { RECORD_BATCH, type RecordBatch } from '../paging/mapping-records.js';
import { sizeAndRights } from './output.js';
import type { ByteSink } from './output.js';

const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The longest line either format writes (a JSON line is about 190 bytes). */
const MAX_LINE = 256;

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

/** Bytes of one tail slot (its length, then the text) and of the table of them, by page shift * 16 + rights. */
const TAIL_SLOT = 32;
const TAILS_BYTES = 64 * 16 * TAIL_SLOT + 8;
/** Room a line takes in the text area (the formatLines kernel writes its tail slot whole). */
const LINE_ROOM = 53 + TAIL_SLOT;

let tailTable: Uint8Array | undefined;
/** The bytes after the PA (" 4K w- supervisor\n") for every page shift and rights value, in the kernel's slots. */
function tails(): Uint8Array {
  if (tailTable) return tailTable;
  tailTable = new Uint8Array(TAILS_BYTES);
  for (let shift = 0; shift < 64; shift++) {
    for (let r = 0; r < 16; r++) {
      const rights = { write: (r & A.R_WRITE) !== 0, execute: (r & A.R_EXEC) !== 0, user: (r & A.R_USER) !== 0 };
      const t = ascii(` ${sizeAndRights(2 ** shift, rights)}\n`);
      const at = (shift * 16 + r) * TAIL_SLOT;
      tailTable[at] = t.length;
      tailTable.set(t.subarray(0, TAIL_SLOT - 1), at + 1);
    }
  }
  return tailTable;
}

/**
 * Records a batch may hold so that memwalkLines has room after them in the I/O
 * buffer for the tail table and a line of text (pass it to selectedBatches).
 */
export function lineBatch(ctx: EngineContext): number {
  return Math.max(1, Math.min(RECORD_BATCH, Math.floor((ctx.layout.ioBytes - TAILS_BYTES - 8) / (A.MR_BYTES + LINE_ROOM))));
}

/**
 * memwalk lines ("VA-END -> PA SIZE RIGHTS") of a batch of records: the formatLines
 * kernel writes them into the I/O buffer after the records (the tail table first),
 * as many as there is room for at a time, and the sink copies them into its block.
 */
export function memwalkLines(ctx: EngineContext, b: RecordBatch, sink: ByteSink): void {
  const k = ctx.backend.paging;
  const table = (b.at + b.count * A.MR_BYTES + 7) & ~7;
  const text = table + TAILS_BYTES;
  const per = Math.floor((ctx.layout.ioBase + ctx.layout.ioBytes - text) / LINE_ROOM);
  if (per < 1) throw new RangeError(`mapping-bytes: no room after ${b.count} records in the I/O buffer (batch them by lineBatch)`);
  new Uint8Array(ctx.memory.buffer, table, TAILS_BYTES).set(tails());
  for (let i = 0; i < b.count; i += per) {
    const n = k.formatLines(b.at + i * A.MR_BYTES, Math.min(per, b.count - i), text, table);
    sink.bytes(new Uint8Array(ctx.memory.buffer, text, n));
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
