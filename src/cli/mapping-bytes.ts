// The `mappings` command's own formats (memwalk lines and JSON lines) written as
// bytes straight from the enumerator's records: no object, BigInt or string per
// leaf; the lines by a kernel (formatLines, formatJson) into the I/O buffer. The text
// is what describe() and JSON.stringify of a Mapping print
// (test/cli-mapping-bytes.test.ts compares them line by line).
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { RECORD_BATCH, type RecordBatch } from '../paging/mapping-records.js';
import { sizeAndRights } from './output.js';
import type { ByteSink } from './output.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

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

/** The JSON slot tables (formatJson's): sizes by page shift, levels by index, rights; 8 bytes of slack. */
const J_SIZES = 0, J_LEVELS = 64 * 48, J_RIGHTS = J_LEVELS + 16 * 16, J_TABLES = J_RIGHTS + 16 * 64 + 8;
/** Room a JSON line takes in the text area, and what the last may write past it. */
const J_LINE_ROOM = 192, J_SLACK = 64;

/** `text` as a slot (its length, then the text) at `at`. */
function slot(to: Uint8Array, at: number, text: string): void {
  to[at] = text.length;
  to.set(ascii(text), at + 1);
}

let jsonTable: Uint8Array | undefined;
/** The size and rights slots: JSON.stringify's text for each page shift and rights value. */
function jsonTables(): Uint8Array {
  if (jsonTable) return jsonTable;
  jsonTable = new Uint8Array(J_TABLES);
  for (let s = 0; s < 64; s++) slot(jsonTable, J_SIZES + s * 48, `","size":${JSON.stringify(2 ** s)},"level":`);
  for (let r = 0; r < 16; r++) {
    const rights = { write: (r & A.R_WRITE) !== 0, user: (r & A.R_USER) !== 0, execute: (r & A.R_EXEC) !== 0 };
    slot(jsonTable, J_RIGHTS + r * 64, `","rights":${JSON.stringify(rights)}}\n`);
  }
  return jsonTable;
}

/**
 * Records a batch may hold so that jsonLines has room after them in the I/O
 * buffer for its slot tables and the lines (pass it to selectedBatches).
 */
export function jsonBatch(ctx: EngineContext): number {
  return Math.max(1, Math.min(RECORD_BATCH, Math.floor((ctx.layout.ioBytes - J_TABLES - 8 - J_SLACK) / (A.MR_BYTES + J_LINE_ROOM))));
}

/**
 * JSON lines of a batch of records, each the JSON of one mapping; `first` is
 * whether the listing's first line is among them (the others start with a comma).
 * The formatJson kernel writes them into the I/O buffer after the records (the
 * slot tables first, the levels' from the batch's walk parameters).
 */
export function jsonLines(ctx: EngineContext, b: RecordBatch, sink: ByteSink, first: boolean): void {
  const k = ctx.backend.paging;
  const table = (b.at + b.count * A.MR_BYTES + 7) & ~7;
  const text = table + J_TABLES;
  const per = Math.floor((ctx.layout.ioBase + ctx.layout.ioBytes - J_SLACK - text) / J_LINE_ROOM);
  if (per < 1) throw new RangeError(`mapping-bytes: no room after ${b.count} records in the I/O buffer (batch them by jsonBatch)`);
  const mem = new Uint8Array(ctx.memory.buffer);
  mem.set(jsonTables(), table);
  b.params.levels.forEach((l, i) => slot(mem, table + J_LEVELS + i * 16, `${JSON.stringify(l.archLevel)},"entry":"0x`));
  for (let i = 0; i < b.count; i += per) {
    const n = k.formatJson(b.at + i * A.MR_BYTES, Math.min(per, b.count - i), text, table, first && i === 0 ? 1 : 0);
    sink.bytes(new Uint8Array(ctx.memory.buffer, text, n));
  }
}
