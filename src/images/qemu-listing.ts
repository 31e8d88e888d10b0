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
import { hex16 } from '../util/numbers.js';

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

/** `info mem` as lines (a few per region, not per leaf), the same selection. */
export function* infoMemText(
  ctx: EngineContext, root: bigint, o: PagingOptions, la57: boolean, sel: RecordSelection = {}, counted: SelectionCount = { count: 0, truncated: false },
): Generator<string> {
  const mem = new InfoMemPrinter(la57);
  // The monitor's internal address: the VA's low 48 (57) bits, as a double.
  const hiMask = 2 ** (vaBits(la57) - 32) - 1;
  for (const b of selectedBatches(ctx, root, o, sel, counted)) {
    const u32 = ctx.u32;
    for (let i = 0; i < b.count; i++) {
      const w = (b.at + i * A.MR_BYTES) >>> 2;
      const st = u32[w + (A.MR_STATUS >>> 2)]!;
      const r = (st >>> A.ST_RIGHTS_SHIFT) & 0xf;
      const a = (u32[w + 1]! & hiMask) * 2 ** 32 + u32[w]!;
      if (!mem.leaf(a, 2 ** ((st >>> A.ST_PAGE_SHIFT) & 0xff), 1 | (r & A.R_WRITE ? 2 : 0) | (r & A.R_USER ? 4 : 0))) {
        throw new RangeError(`qemu-listing: mappings are not in ascending VA order or overlap at ${hex16(ctx.big[w >>> 1]!)}`);
      }
    }
    yield* mem.take();
  }
  mem.end();
  yield* mem.take();
}
