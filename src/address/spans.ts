// Spans: stretches of physical memory in the order of a logical address (virtual
// or physical), the input of the search kernels. A virtual address space becomes
// spans by merging its leaf mappings where both addresses follow on.
import * as A from '../abi.js';
import type { Engine, PagingOptions } from '../engine/engine.js';

export interface Span {
  /** Logical start: the virtual address, or the physical one for a scan of physical memory. */
  readonly logical: bigint;
  readonly pa: bigint;
  readonly length: number;
}

/** Longest span handed to a kernel (its hit records hold 32-bit offsets). */
export const MAX_SPAN = 2 ** 30;

/**
 * The mapped memory of `root` as spans, in ascending virtual order, optionally
 * only [from, to). Leaves that continue each other in both addresses are merged.
 * The address space is walked as runs of pages (translateRuns: an unmapped table
 * entry is skipped whole, a run of leaves over consecutive frames is one record),
 * so the cost follows the runs, not the leaves.
 */
export function virtualSpans(engine: Engine, root: bigint, options: PagingOptions & { from?: bigint; to?: bigint } = {}): Span[] {
  const { from = 0n, to = 1n << 64n, ...walk } = options;
  const out: Span[] = [];
  if (to <= from) return out;
  const p = engine.prepare(walk);
  const page = 1n << BigInt(p.levels[p.levels.length - 1]!.shift);
  const first = from & ~(page - 1n);
  const runs = engine.translateRuns(root, first, Number((to - first + page - 1n) / page), walk);
  let cur: { logical: bigint; pa: bigint; length: bigint } | undefined;
  for (let i = 0; i < runs.length; i++) {
    if ((runs.status[i]! & A.ST_KIND_MASK) !== A.K_OK) continue;
    let va = runs.va[i]!, pa = runs.addr[i]!, size = BigInt(runs.pages[i]!) * page;
    if (va < from) {
      pa += from - va;
      size -= from - va;
      va = from;
    }
    if (va + size > to) size = to - va;
    if (size <= 0n) continue;
    if (cur && cur.logical + cur.length === va && cur.pa + cur.length === pa) cur.length += size;
    else {
      if (cur) pushSplit(out, cur.logical, cur.pa, cur.length);
      cur = { logical: va, pa, length: size };
    }
  }
  if (cur) pushSplit(out, cur.logical, cur.pa, cur.length);
  return out;
}

/** Physical memory with contents, as spans (logical = physical address). */
export function physicalSpans(engine: Engine, options: { from?: bigint; to?: bigint } = {}): Span[] {
  const { from = 0n, to = 1n << 64n } = options;
  const ranges = engine.source ? engine.source.ranges : [{ start: 0n, end: BigInt(engine.phys.size) }];
  const out: Span[] = [];
  for (const r of ranges) {
    const s = r.start > from ? r.start : from;
    const e = r.end < to ? r.end : to;
    if (e > s) pushSplit(out, s, s, e - s);
  }
  return out;
}

/**
 * Keep only the parts of spans physical memory has contents for (a resident
 * image ends at its size; the kernels skip a dump's missing frames themselves).
 */
export function clipToImage(engine: Engine, spans: readonly Span[]): Span[] {
  if (engine.source) return [...spans];
  const end = BigInt(engine.phys.size);
  const out: Span[] = [];
  for (const s of spans) {
    if (s.pa >= end) continue;
    const length = s.pa + BigInt(s.length) > end ? Number(end - s.pa) : s.length;
    out.push({ ...s, length });
  }
  return out;
}

function pushSplit(out: Span[], logical: bigint, pa: bigint, length: bigint): void {
  for (let done = 0n; done < length; ) {
    const n = length - done > BigInt(MAX_SPAN) ? BigInt(MAX_SPAN) : length - done;
    out.push({ logical: logical + done, pa: pa + done, length: Number(n) });
    done += n;
  }
}
