// The x86 entry bits against the bit positions of the Intel SDM (vol. 3,
// table 4-19: a 4 KiB page's PTE), typed here by hand.
import { test, expect } from 'vitest';
import * as X86 from '../src/paging/formats/x86-bits.js';

test('each entry bit sits at its SDM position', () => {
  const positions: Record<string, number> = { P: 0, RW: 1, US: 2, PWT: 3, PCD: 4, A: 5, D: 6, PS: 7, G: 8, XD: 63, NX: 63 };
  for (const [name, position] of Object.entries(positions)) {
    expect([name, (X86 as unknown as Record<string, bigint>)[name]]).toEqual([name, 2n ** BigInt(position)]);
  }
});

test('the address masks cover bits 51 down to 12, 21 and 30', () => {
  expect(X86.ADDR_4K).toBe(0x000f_ffff_ffff_f000n);
  expect(X86.ADDR_2M).toBe(0x000f_ffff_ffe0_0000n);
  expect(X86.ADDR_1G).toBe(0x000f_ffff_c000_0000n);
});

test('Linux-style entries spell as in the hex written by hand: 0x27, 0x67 (_PAGE_TABLE), 0x63 (_KERNPG_TABLE)', () => {
  expect(X86.P | X86.RW | X86.US | X86.A).toBe(0x27n);
  expect(X86.P | X86.RW | X86.US | X86.A | X86.D).toBe(0x67n);
  expect(X86.P | X86.RW | X86.A | X86.D).toBe(0x63n);
});
