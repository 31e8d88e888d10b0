// QEMU's `info tlb` and `info mem` of the tables under a root, made from the
// enumerator's records without an object per leaf: `info tlb` lines are written by
// a kernel into the I/O buffer beside the records, `info mem` reads the records'
// numbers. The output is the formatters' of qemu-format.ts, byte for byte (the
// tests compare both against real QEMU output).
import * as A from '../abi.js';
import type { EngineContext } from '../engine/context.js';
import type { PagingOptions } from '../paging/prepare.js';
import { RECORD_BATCH, selectedBatches, type RecordSelection, type SelectionCount } from '../paging/mapping-records.js';
import { InfoMemPrinter } from './qemu-format.js';
import { hex16 as hexOf } from '../util/numbers.js';

/** Bytes of one `info tlb` line (the formatTlb kernel's). */
const TLB_LINE = 45;

/** The bit QEMU sign-extends a linear address from, plus one. */
const vaBits = (la57: boolean) => (la57 ? 57 : 48);

/**
 * `info tlb` as byte chunks, each valid until the next is asked for. `o` is the
 * monitor's walk (reserved bits ignored, maxPhyAddr 50); `counted` says how the
 * selection went.
 */
export function* infoTlbBytes(
  ctx: EngineContext, root: bigint, o: PagingOptions, la57: boolean, sel: RecordSelection = {}, counted: SelectionCount = { count: 0, truncated: false },
): Generator<Uint8Array> {
  // Records, then their lines, in the I/O buffer.
  const batch = Math.min(RECORD_BATCH, Math.floor(ctx.layout.ioBytes / (A.MR_BYTES + TLB_LINE)));
  const text = ctx.layout.ioBase + batch * A.MR_BYTES;
  const k = ctx.backend.paging;
  for (const b of selectedBatches(ctx, root, o, sel, counted, batch)) {
    const n = k.formatTlb(b.at, b.count, text, vaBits(la57));
    yield new Uint8Array(ctx.memory.buffer, text, n);
  }
}

/** Bytes of one `info mem` line. */
const MEM_LINE = 55;
const HEX = new TextEncoder().encode('0123456789abcdef');

/**
 * `info mem` as byte chunks, each valid until the next is asked for (a chunk per
 * record batch; a leaf closes at most two ranges).
 */
export function* infoMemBytes(
  ctx: EngineContext, root: bigint, o: PagingOptions, la57: boolean, sel: RecordSelection = {}, counted: SelectionCount = { count: 0, truncated: false },
): Generator<Uint8Array> {
  const buf = new Uint8Array((2 * RECORD_BATCH + 2) * MEM_LINE);
  let len = 0;
  const bits = vaBits(la57);
  // %016lx of addr_canonical(x): bit bits-1 copied into every bit above.
  const signHi = bits - 1 - 32;
  const ext = -(2 ** (signHi + 1));
  const hex16 = (o: number, x: number) => {
    let hi = (x / 2 ** 32) >>> 0;
    const lo = (x - hi * 2 ** 32) >>> 0;
    if ((hi >>> signHi) & 1) hi = (hi | ext) >>> 0;
    for (let k = 28; k >= 0; k -= 4) buf[o++] = HEX[(hi >>> k) & 0xf]!;
    for (let k = 28; k >= 0; k -= 4) buf[o++] = HEX[(lo >>> k) & 0xf]!;
  };
  const mem = new InfoMemPrinter(la57, (start, end, prot) => {
    const o = len;
    hex16(o, start);
    buf[o + 16] = 0x2d; // '-'
    hex16(o + 17, end);
    buf[o + 33] = 0x20;
    hex16(o + 34, end - start);
    buf[o + 50] = 0x20;
    buf[o + 51] = prot & 4 ? 0x75 : 0x2d; // 'u'
    buf[o + 52] = 0x72; // 'r'
    buf[o + 53] = prot & 2 ? 0x77 : 0x2d; // 'w'
    buf[o + 54] = 0x0a;
    len += MEM_LINE;
  });
  // The monitor's internal address: the VA's low 48 (57) bits, as a double.
  const hiMask = 2 ** (bits - 32) - 1;
  for (const b of selectedBatches(ctx, root, o, sel, counted)) {
    const u32 = ctx.u32;
    len = 0;
    for (let i = 0; i < b.count; i++) {
      const w = (b.at + i * A.MR_BYTES) >>> 2;
      const st = u32[w + (A.MR_STATUS >>> 2)]!;
      const r = (st >>> A.ST_RIGHTS_SHIFT) & 0xf;
      const a = (u32[w + 1]! & hiMask) * 2 ** 32 + u32[w]!;
      if (!mem.leaf(a, 2 ** ((st >>> A.ST_PAGE_SHIFT) & 0xff), 1 | (r & A.R_WRITE ? 2 : 0) | (r & A.R_USER ? 4 : 0))) {
        throw new RangeError(`qemu-listing: mappings are not in ascending VA order or overlap at ${hexOf(ctx.big[w >>> 1]!)}`);
      }
    }
    if (len) yield buf.subarray(0, len);
  }
  len = 0;
  mem.end();
  if (len) yield buf.subarray(0, len);
}
