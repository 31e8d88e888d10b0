// The walk parameters a paging call runs with: resolved from the call's options
// and written to the control block, where both backends read them.
import type { EngineContext } from '../core/context.js';
import { writeWalkParams, type PagingFormat, type WalkParams } from './format.js';
import { x86_64 } from './formats/x86.js';
import type { WalkOptions } from './types.js';
import * as A from '../abi.js';
import { assertScratchFree } from '../core/scratch-lease.js';

/** Options of a paging call: the walk options plus the table format (default x86_64). */
export interface PagingOptions extends WalkOptions {
  readonly format?: PagingFormat;
}

interface Written {
  readonly key: string;
  readonly params: WalkParams;
}

// What was last written, per memory: the control block belongs to the memory, so
// every context over it (one per backend) shares what is there.
const written = new WeakMap<WebAssembly.Memory, Written>();

/** Resolve and, if changed, write the walk parameters; returns them. */
export function prepareWalk(ctx: EngineContext, options: PagingOptions = {}, maxLeafIndex = 0): WalkParams {
  assertScratchFree(ctx, 'paging call');
  const format = options.format ?? x86_64;
  const { format: _f, ...walk } = options;
  const key = `${format.name}|${JSON.stringify(walk)}`;
  // The largest leaf map may use is one word of its own, and only map reads it: map
  // and unmap in turn must not cost a rewrite of the whole block each.
  ctx.view.setUint32(A.WP + A.WP_MAX_LEAF, maxLeafIndex, true);
  const last = written.get(ctx.memory);
  if (last?.key === key) return last.params;
  const params = format.params(walk);
  writeWalkParams(ctx.view, params, maxLeafIndex);
  written.set(ctx.memory, { key, params });
  return params;
}
