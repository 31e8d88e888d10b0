// The formatTlb kernel on both backends, on records written by hand: one
// "%016lx: %016lx %s\n" line a record (canonical VA, frame bits 12..49 above the
// page offset, flags X G P D A C T U W). The expected lines are typed from QEMU 7.2's
// rules (the same cases as qemu-format.test.ts); the real captures are compared in
// qemu-engine-real. The cases change the upper halves of the VA and of the frame
// from line to line, which the kernel keeps between lines, and set every flag alone.
import { describe, test, expect } from 'vitest';
import { createEngine } from '../src/index.js';
import * as A from '../src/abi.js';

const P = 1n, W = 2n, U = 4n, PWT = 8n, PCD = 0x10n, AC = 0x20n, D = 0x40n, PS = 0x80n, G = 0x100n;
const PAT_LARGE = 0x1000n;
const NX = 1n << 63n;

/** A record: VA as the enumerator writes it (canonical), raw entry, page shift. */
type Rec = [bigint, bigint, number];

const cases: [Rec, string][] = [
  [[0x400000n, 0x1fe21000n | NX | AC | U | P, 12], '0000000000400000: 000000001fe21000 X---A--U-'],
  // Bit 7 of a 4 KiB PTE is PAT: never shown as P.
  [[0xffffffff81000000n, 0x1056000n | G | PS | D | AC | W | P, 12], 'ffffffff81000000: 0000000001056000 -G-DA---W'],
  // A 2 MiB frame: bits 50/51, the large PAT bit 12 and the offset cleared.
  [[0xffff888040000000n, (3n << 50n) | 0x40000000n | PAT_LARGE | NX | PS | D | AC | W | P, 21], 'ffff888040000000: 0000000040000000 X-PDA---W'],
  // A 1 GiB frame with bit 49 (the frame's upper half changes) and every letter.
  [[0xffff888080000000n, NX | (1n << 49n) | 0x80000000n | PAT_LARGE | G | PS | D | AC | PCD | PWT | U | W | P, 30], 'ffff888080000000: 0002000080000000 XGPDACTUW'],
  [[0x40000000n, 0x40000000n | PS | P, 30], '0000000040000000: 0000000040000000 --P------'],
  [[0x7fffffffe000n, 0xfedcba9876000n | G, 12], '00007fffffffe000: 0003edcba9876000 -G-------'],
  [[0x1000n, 0xabcdef000n | D, 12], '0000000000001000: 0000000abcdef000 ---D-----'],
  [[0x2000n, 0x5000n | PCD, 12], '0000000000002000: 0000000000005000 -----C---'],
  [[0x3000n, 0x6000n | PWT, 12], '0000000000003000: 0000000000006000 ------T--'],
  [[0xffffffffffe00000n, 0x3ffffffe00000n | PS | NX, 21], 'ffffffffffe00000: 0003ffffffe00000 X-P------'],
];

describe.each(['wasm', 'reference'] as const)('formatTlb on the %s backend', (backend) => {
  const e0 = createEngine({ ramBytes: 1 << 20, ioBytes: 1 << 20 });
  const e = backend === 'wasm' ? e0 : e0.withBackend('reference');
  const io = e.layout.ioBase;
  const text = io + 64 * A.MR_BYTES;
  const dv = new DataView(e.u32.buffer);

  function run(recs: Rec[], vaBits = 48): string {
    recs.forEach(([va, entry, shift], k) => {
      const r = io + k * A.MR_BYTES;
      dv.setBigUint64(r + A.MR_VA, va, true);
      dv.setBigUint64(r + A.MR_ENTRY, entry, true);
      dv.setUint32(r + A.MR_STATUS, shift << A.ST_PAGE_SHIFT, true);
    });
    const n = e.backend.paging.formatTlb(io, recs.length, text, vaBits);
    expect(n).toBe(45 * recs.length);
    return Buffer.from(e.u32.buffer, text, n).toString('latin1');
  }

  test('one line a record, each as QEMU prints it, the upper halves changing between lines', () => {
    expect(run(cases.map((c) => c[0]))).toBe(cases.map((c) => c[1] + '\n').join(''));
  });

  test('the same lines in reverse order (every upper half met after a different one)', () => {
    const rev = [...cases].reverse();
    expect(run(rev.map((c) => c[0]))).toBe(rev.map((c) => c[1] + '\n').join(''));
  });

  test('under LA57 the VA is sign-extended from bit 56', () => {
    expect(run([[0x00ff000000001000n, 0x3000n | U | P, 12], [0x0100000000000000n, 0x200000n | PS | AC | W | P, 21]], 57)).toBe(
      '00ff000000001000: 0000000000003000 -------U-\n' + 'ff00000000000000: 0000000000200000 --P-A---W\n',
    );
  });

  test('no records, no bytes', () => {
    expect(run([])).toBe('');
  });
});
