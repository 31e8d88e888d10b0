// QEMU's `info tlb` and `info mem` of the tables under a root, made from the
// enumerator's records without an object per leaf: the lines are written by a
// kernel (formatTlb, formatMem) into the I/O buffer beside the records. The output is the formatters' of qemu-format.ts, byte for byte (the
// tests compare both against real QEMU output).
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import type { PagingOptions } from '../paging/prepare.js';
import { RECORD_BATCH, selectedBatches, type RecordSelection, type SelectionCount } from '../paging/mapping-records.js';
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

/** Bytes of one `info mem` line; a record closes at most two ranges, and so does the end. */
const MEM_LINE = 55;
const MEM_PER_RECORD = 2 * MEM_LINE;

/**
 * `info mem` as byte chunks, each valid until the next is asked for: the formatMem
 * kernel writes the lines of each record batch into the I/O buffer beside the
 * records, the ranges' merge state in a block after them.
 */
export function* infoMemBytes(
  ctx: EngineContext, root: bigint, o: PagingOptions, la57: boolean, sel: RecordSelection = {}, counted: SelectionCount = { count: 0, truncated: false },
): Generator<Uint8Array> {
  const batch = Math.min(RECORD_BATCH, Math.floor((ctx.layout.ioBytes - A.MS_BYTES - MEM_PER_RECORD - 8) / (A.MR_BYTES + MEM_PER_RECORD)));
  const text = ctx.layout.ioBase + batch * A.MR_BYTES;
  const state = (text + (batch + 1) * MEM_PER_RECORD + 7) & ~7;
  const k = ctx.backend.paging;
  const bits = vaBits(la57);
  // No range open (all ones), nothing seen below address 0.
  ctx.big[state / 8 + A.MS_START / 8] = 2n ** 64n - 1n;
  ctx.big[state / 8 + A.MS_CURSOR / 8] = 0n;
  ctx.u32[(state + A.MS_PROT) / 4] = 0;
  for (const b of selectedBatches(ctx, root, o, sel, counted, batch)) {
    const n = k.formatMem(b.at, b.count, text, bits, state);
    if (n < 0) throw new RangeError(`qemu-listing: mappings are not in ascending VA order or overlap (batch from ${hexOf(ctx.big[b.at / 8]!)})`);
    if (n) yield new Uint8Array(ctx.memory.buffer, text, n);
  }
  const n = k.formatMem(0, 0, text, bits, state);
  if (n) yield new Uint8Array(ctx.memory.buffer, text, n);
}
