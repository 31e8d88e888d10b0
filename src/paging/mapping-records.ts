// The mapping enumerator's records in batches, as the kernel writes them (MR_*, in
// the I/O buffer): what the decoded listing (mappingsIter) is made from, and what
// listings read directly to turn leaves into bytes without an object per leaf.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { prepareWalk, type PagingOptions } from './prepare.js';
import type { WalkParams } from './format.js';
import * as V from './arguments.js';

/** Records per enumNext call. */
export const RECORD_BATCH = 4096;

/** One batch of records; valid until the generator is resumed. */
export interface RecordBatch {
  /** Byte address in the engine's memory of the first record (A.MR_BYTES each). */
  readonly at: number;
  readonly count: number;
  /** The walk parameters the records were made under (level index -> architecture level). */
  readonly params: WalkParams;
}

/**
 * Every leaf's record in ascending canonical VA order, at most `left` in all, at
 * most `batch` at a time, from the start of the I/O buffer. The enumerator's state
 * belongs to the generator: it is kept aside between batches and put back before
 * the next, so generators, batches and other calls may interleave freely. Arguments
 * are the caller's to check (mappingsIter does).
 */
export function* recordBatches(ctx: EngineContext, root: bigint, o: PagingOptions, left: number, batch = RECORD_BATCH): Generator<RecordBatch> {
  prepareWalk(ctx, o);
  const k = ctx.backend.paging;
  const at = ctx.layout.ioBase;
  const max = Math.min(batch, Math.floor(ctx.layout.ioBytes / A.MR_BYTES));
  const state = new Uint8Array(A.EN_BYTES);
  const block = new Uint8Array(ctx.memory.buffer, A.EN, A.EN_BYTES);
  k.enumStart(root);
  state.set(block);
  while (left > 0) {
    const params = prepareWalk(ctx, o);
    block.set(state);
    const count = k.enumNext(at, Math.min(max, left));
    state.set(block);
    if (count === 0) return;
    left -= count;
    yield { at, count, params };
  }
}

/** What a listing keeps of the leaves: those overlapping [start, end), the first `limit` of them. */
export interface RecordSelection {
  /** 0 or absent: no limit. */
  readonly limit?: number;
  readonly range?: { readonly start: bigint; readonly end: bigint };
}

/** How a selection went: records kept, and whether the limit cut the listing short. */
export interface SelectionCount {
  count: number;
  truncated: boolean;
}

/**
 * The records of recordBatches that `sel` keeps, as batches (slices of the
 * kernel's). Leaves come in ascending VA order: those before the range are
 * skipped, the first at or past its end ends the listing. Without a range the
 * limit is the enumerator's (one record more tells whether the listing was cut).
 */
export function selectedBatches(
  ctx: EngineContext, root: bigint, options: PagingOptions, sel: RecordSelection, counted: SelectionCount, batch = RECORD_BATCH,
): Generator<RecordBatch> {
  // Checked here, not on the first next(): a bad argument fails the call that passed it.
  const o = V.pagingOptions(options);
  const r = V.u64(root, 'root');
  const limit = sel.limit ? V.wholeNumber(sel.limit, 'limit') : Infinity;
  prepareWalk(ctx, o);
  return select(ctx, r, o, limit, sel.range, counted, batch);
}

function* select(
  ctx: EngineContext, root: bigint, o: PagingOptions, limit: number, range: RecordSelection['range'], counted: SelectionCount, batch: number,
): Generator<RecordBatch> {
  for (const b of recordBatches(ctx, root, o, range ? Infinity : limit + 1, batch)) {
    let from = 0, to = b.count;
    if (range) {
      const big = ctx.big, u32 = ctx.u32;
      const vaOf = (i: number) => big[(b.at + i * A.MR_BYTES) / 8]!;
      const endOf = (i: number) => vaOf(i) + 2n ** BigInt((u32[(b.at + i * A.MR_BYTES + A.MR_STATUS) / 4]! >>> A.ST_PAGE_SHIFT) & 0xff);
      while (from < to && endOf(from) <= range.start) from++;
      let i = from;
      while (i < to && vaOf(i) < range.end) i++;
      to = i;
    }
    const left = limit - counted.count;
    const cut = to - from > left;
    if (cut) to = from + left;
    counted.count += to - from;
    if (to > from) yield { at: b.at + from * A.MR_BYTES, count: to - from, params: b.params };
    if (cut) {
      counted.truncated = true;
      return;
    }
    if (to < b.count) return;
  }
}
