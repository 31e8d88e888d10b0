// The formatMem kernel on both backends, on records written by hand: QEMU's
// `info mem` merges neighbouring leaves of equal protection, a gap or a change of
// protection ends a range, the end of the walk closes the last one; the lines are
// "%016lx-%016lx %016lx %c%c%c\n" (start, end, size; u, r, w). The expected text is
// typed from that rule; the real QEMU captures are compared in qemu-engine-real.
import { describe, test, expect } from 'vitest';
import { createEngine } from '../src/index.js';
import * as A from '../src/abi.js';

/** A record: VA, page shift, rights (R_* bits). */
type Rec = [bigint, number, number];

describe.each(['wasm', 'reference'] as const)('formatMem on the %s backend', (backend) => {
  const e0 = createEngine({ ramBytes: 1 << 20, ioBytes: 1 << 20 });
  const e = backend === 'wasm' ? e0 : e0.withBackend('reference');
  const io = e.layout.ioBase;
  const text = io + 64 * A.MR_BYTES, state = io + 60000;
  const dv = new DataView(e.u32.buffer);

  /** The bytes formatMem writes for `recs` in batches of `per`, then the end. */
  function run(recs: Rec[], per: number, vaBits = 48): string {
    dv.setBigUint64(state + A.MS_START, 2n ** 64n - 1n, true);
    dv.setBigUint64(state + A.MS_CURSOR, 0n, true);
    dv.setUint32(state + A.MS_PROT, 0, true);
    let out = '';
    const take = (n: number) => {
      expect(n).toBeGreaterThanOrEqual(0);
      out += Buffer.from(e.u32.buffer, text, n).toString('latin1');
    };
    for (let i = 0; i < recs.length; i += per) {
      const part = recs.slice(i, i + per);
      part.forEach(([va, shift, rights], k) => {
        const r = io + k * A.MR_BYTES;
        dv.setBigUint64(r + A.MR_VA, va, true);
        dv.setUint32(r + A.MR_STATUS, (rights << A.ST_RIGHTS_SHIFT) | (shift << A.ST_PAGE_SHIFT), true);
      });
      take(e.backend.paging.formatMem(io, part.length, text, vaBits, state));
    }
    take(e.backend.paging.formatMem(0, 0, text, vaBits, state));
    return out;
  }

  const W = A.R_WRITE, U = A.R_USER;
  const recs: Rec[] = [
    [0x1000n, 12, W | U], // 0x1000..0x3000 urw (two leaves merged)
    [0x2000n, 12, W | U],
    [0x5000n, 12, U], // after a gap: ur-
    [0x6000n, 12, 0], // -r-
    [0xffff_8000_0020_0000n, 21, W], // a 2 MiB leaf in the upper half: printed sign-extended
  ];
  const want =
    '0000000000001000-0000000000003000 0000000000002000 urw\n' +
    '0000000000005000-0000000000006000 0000000000001000 ur-\n' +
    '0000000000006000-0000000000007000 0000000000001000 -r-\n' +
    'ffff800000200000-ffff800000400000 0000000000200000 -rw\n';

  test('ranges merged, split by gaps and protection, closed at the end; any batch size', () => {
    expect(run(recs, 64)).toBe(want);
    expect(run(recs, 1)).toBe(want);
    expect(run(recs, 2)).toBe(want);
  });

  test('a range reaching the top of the address space is closed there', () => {
    expect(run([[0xffff_ffff_ffe0_0000n, 21, W]], 4)).toBe('ffffffffffe00000-0001000000000000 0000000000200000 -rw\n');
  });

  test('a record below the end of the one before it is refused', () => {
    dv.setBigUint64(state + A.MS_START, 2n ** 64n - 1n, true);
    dv.setBigUint64(state + A.MS_CURSOR, 0n, true);
    dv.setUint32(state + A.MS_PROT, 0, true);
    const put = (k: number, va: bigint) => {
      dv.setBigUint64(io + k * A.MR_BYTES + A.MR_VA, va, true);
      dv.setUint32(io + k * A.MR_BYTES + A.MR_STATUS, 21 << A.ST_PAGE_SHIFT, true);
    };
    put(0, 0x20_0000n);
    put(1, 0x30_0000n); // inside the 2 MiB leaf before it
    expect(e.backend.paging.formatMem(io, 2, text, 48, state)).toBe(-1);
  });
});
