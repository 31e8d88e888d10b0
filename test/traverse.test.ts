// The depth-first traversal keeps its whole state in a DFS block of the control
// area, in the same records on both backends: a listing started by one backend
// and continued by the other, a few records per call, lists exactly the pages
// the test mapped (known by construction), in ascending address order.
import { describe, test, expect } from 'vitest';
import * as A from '../src/abi.js';
import { createEngine, x86_64, aarch64_4k, BumpAllocator, type PagingFormat } from '../src/index.js';

const RAM = 16 << 20;

describe.each([['x86-64', x86_64], ['aarch64 4K', aarch64_4k]] as Array<[string, PagingFormat]>)('%s: one traversal, resumed across backends', (_name, format) => {
  test('enumNext alternating wasm and reference, 3 records a call', () => {
    const wasm = createEngine({ ramBytes: RAM, ioBytes: 1 << 16 });
    const ref = wasm.withBackend('reference');
    const alloc = new BumpAllocator(1024, RAM / 4096);
    const root = BigInt(alloc.allocate()!) * 4096n;
    // 5 pages at 0x400000, 2 pages at 0x7f0000200000 (another top-level slot), 1 page at 0x1000.
    const want: Array<[bigint, bigint]> = [];
    for (const [va, pa, n] of [[0x400000n, 0x100000n, 5n], [0x7f0000200000n, 0x300000n, 2n], [0x1000n, 0x80000n, 1n]] as const) {
      wasm.map(root, va, pa, n * 4096n, { write: true }, alloc, { format, largestLeaf: 4096 });
      for (let k = 0n; k < n; k++) want.push([va + k * 4096n, pa + k * 4096n]);
    }
    want.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    wasm.prepare({ format });
    const out = wasm.layout.ioBase;
    const got: Array<[bigint, bigint]> = [];
    wasm.backend.paging.enumStart(root);
    for (let call = 0; call < 100; call++) {
      const k = (call % 2 === 0 ? wasm : ref).backend.paging;
      const m = k.enumNext(out, 3);
      expect(m).toBeLessThanOrEqual(3);
      if (m === 0) break;
      for (let i = 0; i < m; i++) {
        const r = out + i * A.MR_BYTES;
        got.push([wasm.view.getBigUint64(r + A.MR_VA, true), wasm.view.getBigUint64(r + A.MR_PA, true)]);
      }
    }
    expect(wasm.view.getInt32(A.EN + A.DFS_DEPTH, true)).toBe(-1);
    expect(got).toEqual(want);
  });
});
