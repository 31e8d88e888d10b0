// Searching memory for a byte pattern: the spans of an address space (or of
// physical memory) go to the search kernel in batches through the I/O buffer, each
// batch followed by enough spans for a match to run on into them.
import { assertScratchFree } from '../core/scratch-lease.js';
import * as A from '../abi.js';
import type { Engine, PagingOptions } from '../engine/engine.js';
import { InvalidInputError } from '../errors.js';
import { clipToImage, physicalSpans, virtualSpans, type Span } from './spans.js';

export interface Match {
  /** Where the pattern starts: the virtual address (for a physical search, the physical one). */
  readonly va: bigint;
  /** Physical address of its first byte (the rest may lie in other frames). */
  readonly pa: bigint;
}

export interface SearchOptions {
  /** Stop after this many matches (default 10,000); `truncated` says there were more. */
  readonly limit?: number;
  /** Only matches starting in [from, to) (virtual, or physical for a physical search). */
  readonly from?: bigint;
  readonly to?: bigint;
}

export interface SearchResult {
  readonly matches: Match[];
  readonly truncated: boolean;
  /** Bytes scanned (mapped and with contents, or physical memory with contents). */
  readonly bytes: bigint;
}

function checkPattern(pattern: Uint8Array): void {
  if (pattern.length === 0 || pattern.length > A.SEARCH_MAX_PATTERN) {
    throw new InvalidInputError(`pattern: ${pattern.length} bytes; a pattern has 1 to ${A.SEARCH_MAX_PATTERN} bytes`, { input: 'pattern', length: pattern.length });
  }
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidInputError(`limit: ${limit} must be a whole number >= 0 (0: no limit)`, { input: 'limit' });
}

/** Every place `pattern` occurs in the memory `root` maps (matches across pages included), in address order. */
export function searchVirtual(engine: Engine, root: bigint, pattern: Uint8Array, options: SearchOptions & PagingOptions = {}): SearchResult {
  checkPattern(pattern);
  const { limit = 10_000, from, to, ...walk } = options;
  checkLimit(limit);
  // A match that starts before `to` may end after it: scan that far.
  const spans = clipToImage(engine, virtualSpans(engine, root, { ...walk, from, to: to === undefined ? undefined : to + BigInt(pattern.length - 1) }));
  return collect(engine, spans, pattern, limit, to);
}

/** Every place `pattern` occurs in physical memory (in the dump's ranges, or the RAM image). */
export function searchPhysical(engine: Engine, pattern: Uint8Array, options: SearchOptions = {}): SearchResult {
  checkPattern(pattern);
  const { limit = 10_000, from, to } = options;
  checkLimit(limit);
  const spans = physicalSpans(engine, { from, to: to === undefined ? undefined : to + BigInt(pattern.length - 1) });
  return collect(engine, spans, pattern, limit, to);
}

function collect(engine: Engine, spans: Span[], pattern: Uint8Array, limit: number, to: bigint | undefined): SearchResult {
  const matches: Match[] = [];
  let truncated = false;
  for (const m of scanSpans(engine, spans, pattern)) {
    if (to !== undefined && m.va >= to) continue;
    if (limit && matches.length === limit) {
      truncated = true;
      break;
    }
    matches.push(m);
  }
  return { matches, truncated, bytes: spans.reduce((a, s) => a + BigInt(s.length), 0n) };
}

/**
 * Run the search kernel over `spans` (in logical order) and yield every match.
 * Hits are decoded a kernel call at a time, so the caller may run other kernels
 * between matches.
 */
export function* scanSpans(engine: Engine, spans: readonly Span[], pattern: Uint8Array): Generator<Match> {
  checkPattern(pattern);
  const io = engine.layout.ioBase;
  const ioBytes = engine.layout.ioBytes;
  const patAt = io;
  const spansAt = io + A.SEARCH_MAX_PATTERN;
  const room = ioBytes - A.SEARCH_MAX_PATTERN;
  // Three quarters of the buffer for spans, the rest for hits.
  const spanCap = Math.max(2, Math.floor((room * 0.75) / A.SP_BYTES));
  const outAt = spansAt + spanCap * A.SP_BYTES;
  const maxHits = Math.floor((io + ioBytes - outAt) / A.HIT_BYTES);
  const u8 = new Uint8Array(engine.memory.buffer);
  const view = engine.view;
  const k = engine.backend.search;
  const need = pattern.length - 1;
  for (let b = 0; b < spans.length; ) {
    // Starts: as many spans as fit with room for the look-ahead a match may need.
    let starts = Math.min(spans.length - b, spanCap);
    let count = starts;
    for (let ahead = 0; b + count < spans.length && ahead < need; count++) ahead += spans[b + count]!.length;
    while (count > spanCap && starts > 1) {
      starts--;
      count = starts;
      for (let ahead = 0; b + count < spans.length && ahead < need; count++) ahead += spans[b + count]!.length;
    }
    const write = () => {
      assertScratchFree(engine, 'search');
      u8.set(pattern, patAt);
      for (let i = 0; i < count; i++) {
        const s = spans[b + i]!, r = spansAt + i * A.SP_BYTES;
        view.setBigUint64(r + A.SP_LOGICAL, BigInt.asUintN(64, s.logical), true);
        view.setBigUint64(r + A.SP_PA, s.pa, true);
        view.setBigUint64(r + A.SP_LENGTH, BigInt(s.length), true);
      }
    };
    let from = 0, fromOffset = 0n;
    for (;;) {
      write();
      const n = k.searchPattern(spansAt, count, starts, patAt, pattern.length, from, fromOffset, outAt, maxHits) >>> 0;
      const found: Match[] = [];
      for (let i = 0; i < n; i++) {
        const r = outAt + i * A.HIT_BYTES;
        const si = view.getUint32(r + A.HIT_SPAN, true), off = view.getUint32(r + A.HIT_OFFSET, true);
        const s = spans[b + si]!;
        found.push({ va: BigInt.asUintN(64, s.logical + BigInt(off)), pa: s.pa + BigInt(off) });
        if (i === n - 1) {
          from = si;
          fromOffset = BigInt(off) + 1n;
        }
      }
      yield* found;
      if (n < maxHits) break;
    }
    b += starts;
  }
}
