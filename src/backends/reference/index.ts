import type { Backend, BackendContext } from '../backend.js';
import { ReferencePaging } from './paging.js';
import { ReferenceFrames } from './frames.js';
import { ReferenceSearch } from './search.js';
import { writeLayoutRecord } from '../layout-record.js';

/** The pure-TypeScript kernels over the same memory as the wasm ones. */
export function createReferenceBackend(ctx: BackendContext): Backend {
  // Written for wasm kernels instantiated later over the same memory (scan workers).
  writeLayoutRecord(ctx.memory, ctx.layout);
  return { name: 'reference', paging: new ReferencePaging(ctx), frames: new ReferenceFrames(ctx), search: new ReferenceSearch(ctx) };
}
