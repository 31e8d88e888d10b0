// memwalk's own listing lines, "VA-END -> PA SIZE RIGHTS\n", made from mapping
// records straight into bytes, as qemu-tlb.ts makes QEMU's. The part after the PA
// (" 4K w- supervisor\n") depends only on the page size and the rights, and its
// words are the CLI's (src/cli/output.ts, sizeAndRights): the TS layer writes one
// 32-byte slot per page shift and rights value (the length, then the text) at
// `tails`, and the kernel copies the slot without knowing the words.
import { MR_BYTES, MR_VA, MR_PA, MR_STATUS, ST_PAGE_SHIFT, ST_RIGHTS_SHIFT } from '../../src/abi';
import { hex8 } from './qemu-tlb';

/** Bytes of a line before its tail. */
const HEAD: u32 = 53;

/**
 * `n` records at `recPtr` as memwalk lines at `outPtr`; returns the bytes written.
 * A line is at most 84 bytes, but each writes 85 (its tail slot whole; the next
 * line overwrites the rest). `tails`: 64 * 16 slots of 32 bytes, indexed by page
 * shift * 16 + rights, plus 8 bytes of slack.
 */
export function formatLines(recPtr: usize, n: u32, outPtr: usize, tails: usize): u32 {
  let o = outPtr;
  for (let i: u32 = 0; i < n; i++) {
    const r = recPtr + <usize>i * MR_BYTES;
    const va = load<u64>(r, MR_VA);
    const pa = load<u64>(r, MR_PA);
    const st = load<u32>(r, MR_STATUS);
    const shift = (st >> ST_PAGE_SHIFT) & 0x3f;
    // The end wraps at 2^64, as the VA plus the size does in u64.
    const end = va + (<u64>1 << <u64>shift);
    store<u64>(o, hex8(<u32>(va >> 32)));
    store<u64>(o, hex8(<u32>va), 8);
    store<u8>(o, 0x2d, 16); // '-'
    store<u64>(o, hex8(<u32>(end >> 32)), 17);
    store<u64>(o, hex8(<u32>end), 25);
    store<u32>(o, 0x203e2d20, 33); // " -> "
    store<u64>(o, hex8(<u32>(pa >> 32)), 37);
    store<u64>(o, hex8(<u32>pa), 45);
    const t = tails + <usize>((shift << 4) | ((st >> ST_RIGHTS_SHIFT) & 0xf)) * 32;
    store<u64>(o, load<u64>(t, 1), HEAD);
    store<u64>(o, load<u64>(t, 9), HEAD + 8);
    store<u64>(o, load<u64>(t, 17), HEAD + 16);
    store<u64>(o, load<u64>(t, 25), HEAD + 24);
    o += HEAD + <u32>load<u8>(t);
  }
  return <u32>(o - outPtr);
}
