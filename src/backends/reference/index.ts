import type { Backend, BackendContext } from '../backend.js';
import { ReferencePaging } from './paging.js';
import { ReferenceFrames } from './frames.js';

/** The pure-TypeScript kernels over the same memory as the wasm ones. */
export function createReferenceBackend(ctx: BackendContext): Backend {
  return { name: 'reference', paging: new ReferencePaging(ctx), frames: new ReferenceFrames(ctx) };
}
