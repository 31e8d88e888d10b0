// Small hand-built frame tables for the frames/m2p tests: an engine per backend,
// table-entry writers, and a comparison of two engines' frame state.
import { expect } from 'vitest';
import { createEngine, type Engine, type BackendName } from '../../src/index.js';
import * as A from '../../src/abi.js';

export const BACKENDS: readonly BackendName[] = ['wasm', 'reference'];

export const P = 1, RW = 2, US = 4, A_ = 0x20, D = 0x40, PS = 0x80, G = 0x100;
/** Flags of a table entry (P | RW | US | A) and of a writable user leaf. */
export const TBL = P | RW | US | A_;
export const LEAF_RW = P | RW | US | A_ | D;
export const LEAF_RO = P | US | A_;

/** An engine with `ramFrames` frames of image and `frames` frames of metadata. */
export function smallEngine(backend: BackendName, ramFrames = 64, frames = 128): Engine {
  return createEngine({ ramBytes: ramFrames * 4096, frames, backend, ioBytes: 1 << 16 });
}

/** Write entry `index` of table frame `table`: target frame `frame`, flags (low 12 bits and above). */
export function entry(e: Engine, table: number, index: number, frame: number, flags: number, high = 0): void {
  const pa = BigInt(table) * 4096n + BigInt(index) * 8n;
  e.phys.write64(pa, (BigInt(high) << 32n) | (BigInt(frame) << 12n) | BigInt(flags));
}

export function readEntry(e: Engine, table: number, index: number): bigint {
  return e.phys.read64(BigInt(table) * 4096n + BigInt(index) * 8n);
}

/** Everything the frame kernels may change: the five columns, the L4 index, domain records, the RAM image. */
export function frameState(e: Engine) {
  const l = e.layout;
  const b = e.memory.buffer;
  return {
    ...e.frames.snapshot(),
    l4Next: new Uint32Array(b, l.l4Next, Math.floor(l.ramBytes / 4096)).slice(),
    l4Prev: new Uint32Array(b, l.l4Prev, Math.floor(l.ramBytes / 4096)).slice(),
    domains: new Uint32Array(b, l.domains, (A.DOM_MAX * A.DOM_STRIDE) / 4).slice(),
    ram: new Uint8Array(b, l.ramBase, l.ramBytes).slice(),
  };
}

/** Require equal states, naming the first differing column and index. */
export function expectSameState(a: ReturnType<typeof frameState>, b: ReturnType<typeof frameState>): void {
  for (const k of Object.keys(a) as (keyof typeof a)[]) {
    const x = a[k], y = b[k];
    expect(y.length, k).toBe(x.length);
    if (!x.every((v, i) => v === y[i])) {
      const i = x.findIndex((v, j) => v !== y[j]);
      expect({ column: k, index: i, value: y[i] }).toEqual({ column: k, index: i, value: x[i] });
    }
  }
}
