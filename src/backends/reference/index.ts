import type { Backend, BackendContext } from '../backend.js';
import { ReferencePaging } from './paging.js';

/** The pure-TypeScript kernels over the same memory as the wasm ones. */
export function createReferenceBackend(ctx: BackendContext): Backend {
  return { name: 'reference', paging: new ReferencePaging(ctx) };
}
