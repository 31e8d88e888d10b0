// The reference twin of assembly/frames/index.ts: the frame kernels of one backend
// object, each from the file that pairs with its assembly file (state.ts,
// page-list.ts, domain.ts, permutation.ts, allocation.ts, type-system.ts,
// ro-mpt.ts, m2p-fixup.ts), stacked so each may use the ones below it.
import type { FrameKernels } from '../backend.js';
import { ReferenceM2pFixup } from './m2p-fixup.js';

export class ReferenceFrames extends ReferenceM2pFixup implements FrameKernels {}
