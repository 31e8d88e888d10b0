import { describe, expect, it } from 'vitest';
import { addrCanonical, formatGva2gpa, formatInfoMem, formatInfoTlb, infoMemLines, infoTlbLine } from '../src/images/qemu-format.js';
import type { Mapping, TranslateResult } from '../src/paging/types.js';

const K4 = 0x1000;
const M2 = 0x200000;
const G1 = 0x40000000;

const P = 1n;
const W = 2n;
const U = 4n;
const PWT = 8n;
const PCD = 0x10n;
const A = 0x20n;
const D = 0x40n;
const PS = 0x80n;
const G = 0x100n;
const PAT_LARGE = 0x1000n;
const NX = 1n << 63n;

/**
 * A hand-built leaf. `rights` defaults to the leaf's own U/W bits (upper levels
 * allowing everything); pass it to model an upper level that takes U or W away.
 */
function leaf(va: bigint, entry: bigint, size: number, rights?: { user: boolean; write: boolean }): Mapping {
  const level = size === G1 ? 3 : size === M2 ? 2 : 1;
  const user = rights ? rights.user : (entry & U) !== 0n;
  const write = rights ? rights.write : (entry & W) !== 0n;
  const exec = (entry & NX) === 0n;
  return {
    va,
    pa: entry & 0xffffffffff000n & ~BigInt(size - 1),
    size,
    level,
    entry,
    rights: { user, write, execute: exec, userExecute: exec },
  };
}

describe('addr_canonical', () => {
  it('copies bit 47 (bit 56 under LA57) upwards and never clears bits', () => {
    expect(addrCanonical(0x7fffffffffffn, false)).toBe(0x7fffffffffffn);
    expect(addrCanonical(1n << 47n, false)).toBe(0xffff800000000000n);
    expect(addrCanonical(1n << 48n, false)).toBe(0x0001000000000000n);
    expect(addrCanonical(1n << 56n, true)).toBe(0xff00000000000000n);
    expect(addrCanonical(1n << 57n, true)).toBe(0x0200000000000000n);
    expect(addrCanonical(0xffff800000000000n, false)).toBe(0xffff800000000000n);
  });
});

describe('info tlb', () => {
  it('prints a 4 KiB user page as QEMU does (a real line)', () => {
    expect(infoTlbLine(leaf(0x400000n, 0x1fe21000n | NX | A | U | P, K4), false)).toBe('0000000000400000: 000000001fe21000 X---A--U-');
  });

  it('clears the PAT bit (7) of a 4 KiB PTE before printing, so P never shows on 4K lines', () => {
    const e = 0x1056000n | G | PS | D | A | W | P; // bit 7 here is PAT
    expect(infoTlbLine(leaf(0xffffffff81000000n, e, K4), false)).toBe('ffffffff81000000: 0000000001056000 -G-DA---W');
  });

  it('masks a 2 MiB frame: no PAT bit 12, no bits 50/51, no page offset', () => {
    const e = (3n << 50n) | 0x40000000n | PAT_LARGE | NX | PS | D | A | W | P;
    expect(infoTlbLine(leaf(0xffff888040000000n, e, M2), false)).toBe('ffff888040000000: 0000000040000000 X-PDA---W');
  });

  it('masks a 1 GiB frame and shows every flag letter in order X G P D A C T U W', () => {
    const e = NX | (1n << 49n) | 0x80000000n | PAT_LARGE | G | PS | D | A | PCD | PWT | U | W | P;
    expect(infoTlbLine(leaf(0xffff888080000000n, e, G1), false)).toBe('ffff888080000000: 0002000080000000 XGPDACTUW');
    expect(infoTlbLine(leaf(0x40000000n, 0x40000000n | PS | P, G1), false)).toBe('0000000040000000: 0000000040000000 --P------');
  });

  it('prints LA57 addresses with 57 significant bits', () => {
    expect(infoTlbLine(leaf(0xff11000000000000n, 0x200000n | PS | A | W | P, M2), true)).toBe('ff11000000000000: 0000000000200000 --P-A---W');
    expect(infoTlbLine(leaf(0x00ff000000001000n, 0x3000n | U | P, K4), true)).toBe('00ff000000001000: 0000000000003000 -------U-');
  });

  it('lists every leaf, aliases included, one line each, in the order given', () => {
    const frame = 0x1056000n | A | D | W | P | G | NX;
    const maps = [leaf(0xffffff0000000000n, frame, K4), leaf(0xffffff0000010000n, frame, K4), leaf(0xffffff0040000000n, frame, K4)];
    expect(formatInfoTlb(maps, false)).toBe(
      'ffffff0000000000: 0000000001056000 XG-DA---W\n' +
        'ffffff0000010000: 0000000001056000 XG-DA---W\n' +
        'ffffff0040000000: 0000000001056000 XG-DA---W\n',
    );
    expect(formatInfoTlb([], false)).toBe('');
  });
});

describe('info mem', () => {
  it('merges equal effective U/W across page sizes, frames and NX; a prot change or a gap closes a range', () => {
    const maps = [
      leaf(0x3ff000n, 0x5000n | NX | U | W | P, K4),
      leaf(0x400000n, 0x40000000n | PS | U | W | P, M2), // no NX: still merges
      leaf(0x600000n, 0x9000n | U | W | P, K4), // unrelated frame: still merges
      leaf(0x601000n, 0xa000n | U | P, K4), // read-only: new range
      // gap
      leaf(0x40000000n, 0x80000000n | PS | W | P, G1),
      leaf(0x80000000n, 0x123000n | U | W | P, K4, { user: false, write: true }), // U taken away above: same prot, merges
    ];
    expect(formatInfoMem(maps, false)).toBe(
      '00000000003ff000-0000000000601000 0000000000202000 urw\n' +
        '0000000000601000-0000000000602000 0000000000001000 ur-\n' +
        '0000000040000000-0000000080001000 0000000040001000 -rw\n',
    );
  });

  it('uses the AND over levels: a W leaf under a read-only table is read-only', () => {
    const maps = [leaf(0x1000n, 0x1000n | U | W | P, K4), leaf(0x2000n, 0x2000n | U | W | P, K4, { user: true, write: false })];
    expect(formatInfoMem(maps, false)).toBe(
      '0000000000001000-0000000000002000 0000000000001000 urw\n' + '0000000000002000-0000000000003000 0000000000001000 ur-\n',
    );
  });

  it('prints the end of a range that stops exactly at 2^47 as ffff800000000000', () => {
    const maps = [
      leaf(0x7ffffffff000n, 0x1000n | U | P, K4),
      leaf(0xffff800000000000n, 0x200000n | PS | W | P, M2), // kernel half, other prot
    ];
    expect(formatInfoMem(maps, false)).toBe(
      '00007ffffffff000-ffff800000000000 0000000000001000 ur-\n' + 'ffff800000000000-ffff800000200000 0000000000200000 -rw\n',
    );
  });

  it('merges across the halves when the prot is the same (internally contiguous at 1<<47)', () => {
    const maps = [leaf(0x7ffffffff000n, 0x1000n | W | P, K4), leaf(0xffff800000000000n, 0x2000n | W | P, K4)];
    expect(formatInfoMem(maps, false)).toBe('00007ffffffff000-ffff800000001000 0000000000002000 -rw\n');
  });

  it('closes a range reaching the top at 1<<48, printed 0001000000000000', () => {
    const maps = [leaf(0xffffffffff5fc000n, 0xfec00000n | W | P, K4), leaf(0xfffffffffffff000n, 0x3000n | W | P, K4)];
    expect(formatInfoMem(maps, false)).toBe(
      'ffffffffff5fc000-ffffffffff5fd000 0000000000001000 -rw\n' + 'fffffffffffff000-0001000000000000 0000000000001000 -rw\n',
    );
  });

  it('closes the last range at its own end when it does not reach the top (a real case)', () => {
    const maps = [leaf(0xffffffffff5fc000n, 0xfec00000n | NX | G | D | A | PCD | PWT | W | P, K4), leaf(0xffffffffff5fd000n, 0xfee00000n | NX | G | D | A | PCD | PWT | W | P, K4)];
    expect(formatInfoMem(maps, false)).toBe('ffffffffff5fc000-ffffffffff5fe000 0000000000002000 -rw\n');
  });

  it('passes the size through addr_canonical too: the whole kernel half is size ffff800000000000', () => {
    const maps: Mapping[] = [];
    for (let i = 0n; i < 1n << 17n; i++) maps.push(leaf(0xffff800000000000n + i * BigInt(G1), (i << 30n) | PS | W | P, G1));
    expect(formatInfoMem(maps, false)).toBe('ffff800000000000-0001000000000000 ffff800000000000 -rw\n');
  });

  it('under LA57 uses 57 bits: 2^56 prints as ff00000000000000, the final close is 1<<57', () => {
    const maps = [
      leaf(0x00fffffffffff000n, 0x1000n | U | P, K4),
      leaf(0xff11000000000000n, 0x200000n | PS | W | P, M2),
      leaf(0xfffffffffffff000n, 0x3000n | W | P, K4),
    ];
    expect(formatInfoMem(maps, true)).toBe(
      '00fffffffffff000-ff00000000000000 0000000000001000 ur-\n' +
        'ff11000000000000-ff11000000200000 0000000000200000 -rw\n' +
        'fffffffffffff000-0200000000000000 0000000000001000 -rw\n',
    );
  });

  it('prints nothing for nothing, and refuses leaves out of order', () => {
    expect(formatInfoMem([], false)).toBe('');
    const maps = [leaf(0x2000n, 0x1000n | P, K4), leaf(0x1000n, 0x1000n | P, K4)];
    expect(() => [...infoMemLines(maps, false)]).toThrow(/not in ascending VA order/);
  });
});

describe('gva2gpa', () => {
  const ok = (pa: bigint): TranslateResult => ({
    ok: true,
    va: 0xffff888000000000n,
    pa,
    pageSize: 4096,
    level: 1,
    rights: { user: false, write: true, execute: false, userExecute: false },
    entryAddress: 0n,
    entryValue: 0n,
  });
  it("prints 'gpa: %#x', 'gpa: 0' for zero, and 'Unmapped'", () => {
    expect(formatGva2gpa(ok(0x1057123n))).toBe('gpa: 0x1057123');
    expect(formatGva2gpa(ok(0n))).toBe('gpa: 0');
    expect(formatGva2gpa(ok(0x10n))).toBe('gpa: 0x10');
    expect(
      formatGva2gpa({ ok: false, va: 0x800000000000n, fault: { kind: 'non-canonical', level: 4, entryAddress: 0n, entryValue: 0n, errorCode: 0 } }),
    ).toBe('Unmapped');
    expect(
      formatGva2gpa({ ok: false, va: 0x1000n, fault: { kind: 'not-present', level: 2, entryAddress: 0x5008n, entryValue: 0n, errorCode: 0 } }),
    ).toBe('Unmapped');
  });
});
