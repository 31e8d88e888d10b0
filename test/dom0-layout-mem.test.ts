import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { computeNrPages, memSizePages, parseDom0Mem, type Dom0MemKernel } from '../src/xen/dom0-mem.js';

const LONG_MAX = (1n << 63n) - 1n;

/** A kernel with INIT_P2M: no legacy clipping, so the clamps can be seen alone. */
const modern: Dom0MemKernel = { virtBase: 0xffffffff80000000n, kernelEnd: 0xffffffff83a2b000n, unmappedInitrd: true, hasInitP2m: true, compat: false, initrdLength: 0n };

const nr = (spec: string, avail: bigint, kernel = modern) => computeNrPages(parseDom0Mem(spec), avail, kernel).nrPages;

describe('parseDom0Mem', () => {
  it('reads sizes like parse_size_and_unit (no unit = KiB, B = bytes)', () => {
    expect(parseDom0Mem('1500M').amount).toEqual({ pages: 384000n, percent: 0, minus: false });
    expect(parseDom0Mem('1024').amount.pages).toBe(256n); // 1024 KiB
    expect(parseDom0Mem('8192B').amount.pages).toBe(2n);
    expect(parseDom0Mem('8191b').amount.pages).toBe(1n);
    expect(parseDom0Mem('0x100000').amount.pages).toBe(262144n); // 1 GiB in KiB
    expect(parseDom0Mem('010').amount.pages).toBe(2n); // octal 8 KiB
    expect(parseDom0Mem('2g').amount.pages).toBe(524288n);
    expect(parseDom0Mem('1T').amount.pages).toBe(1n << 28n);
  });

  it('reads percentages, sums and "avail minus"', () => {
    expect(parseDom0Mem('50%').amount).toEqual({ pages: 0n, percent: 50, minus: false });
    expect(parseDom0Mem('1G+10%').amount).toEqual({ pages: 262144n, percent: 10, minus: false });
    expect(parseDom0Mem('-1G').amount).toEqual({ pages: 262144n, percent: 0, minus: true });
    expect(parseDom0Mem('-512M+5%').amount).toEqual({ pages: 131072n, percent: 5, minus: true });
  });

  it('reads min: and max: in any order, leaving the defaults for the rest', () => {
    const s = parseDom0Mem('max:4G,min:512M,2G');
    expect(s.min.pages).toBe(131072n);
    expect(s.max.pages).toBe(1048576n);
    expect(s.amount.pages).toBe(524288n);
    const d = parseDom0Mem('min:1G');
    expect(d.amount).toEqual({ pages: 0n, percent: 0, minus: false });
    expect(d.max).toEqual({ pages: LONG_MAX, percent: 0, minus: false });
  });

  it.each([
    ['', /dom0_mem: the value is empty/],
    ['1G,', /ends with a comma/],
    ['10%+1G', /'10%\+1G' is not SIZE, PCT% or SIZE\+PCT%/],
    ['100%', /'100%' is not a percentage below 100/],
    ['1G+2G', /'1G\+2G' has a size after/],
    ['lots', /'lots' is not SIZE/],
    ['min:', /'min:' is not SIZE/],
    ['1Q', /'1Q' is not SIZE/],
    ['1G+', /'1G\+' is not SIZE/],
    ['1G,,2G', /'\(empty\)' is not SIZE/],
    ['99999999999999999999T', /does not fit in 64 bits/],
  ])('rejects %j', (spec, message) => {
    expect(() => parseDom0Mem(spec)).toThrow(InvalidInputError);
    expect(() => parseDom0Mem(spec)).toThrow(message);
  });
});

describe('computeNrPages', () => {
  it('an absolute amount is independent of the host', () => {
    expect(nr('1500M', 1n << 30n)).toBe(384000n);
  });

  it('defaults to avail minus 1/16, keeping back at most 128 MiB', () => {
    expect(nr('min:0', 160000n)).toBe(150000n); // 160000/16 = 10000 < 32768
    expect(nr('min:0', 1048576n)).toBe(1048576n - 32768n); // 65536 clamps to 32768
  });

  it('applies percentages and "avail minus"', () => {
    expect(nr('50%', 1000000n)).toBe(500000n);
    expect(nr('1G+10%', 1000000n)).toBe(262144n + 100000n);
    expect(nr('-1G', 1000000n)).toBe(1000000n - 262144n);
    // get_memsize(-X) wraps when X > avail, then avail caps it.
    expect(memSizePages({ pages: 10n, percent: 0, minus: true }, 4n)).toBe((1n << 64n) - 6n);
    expect(nr('-1G', 1000n)).toBe(1000n);
  });

  it('clamps by min, then max, then avail', () => {
    expect(nr('min:2G,1G', 1n << 30n)).toBe(524288n);
    expect(nr('max:1G', 1n << 30n)).toBe(262144n);
    expect(nr('min:2G,max:1G,4G', 1n << 30n)).toBe(262144n); // max wins over min
    expect(nr('8G', 100000n)).toBe(100000n);
  });

  it('caps max_pages at 2^32 - 1', () => {
    expect(computeNrPages(parseDom0Mem('1G'), 1n << 30n, modern).maxPages).toBe(0xffffffffn);
    expect(computeNrPages(parseDom0Mem('max:1G'), 1n << 30n, modern).maxPages).toBe(262144n);
  });

  describe('legacy-kernel clipping (no INIT_P2M)', () => {
    const legacy64: Dom0MemKernel = { virtBase: 0xffffffff80000000n, kernelEnd: 0xffffffff81000000n, unmappedInitrd: false, hasInitP2m: false, compat: false, initrdLength: 0n };

    it('clips a 64-bit dom0 whose p2m would wrap past 2^64', () => {
      // nr = 2^28 - 32768: end = 0xffffffff81000000 + 8 nr wraps to 0xfc0000 <= virt_base,
      // so nr = (2^64 - 0xffffffff81000000) / 16 = 0x7f000000 / 16.
      const r = computeNrPages(parseDom0Mem('min:0'), 1n << 28n, legacy64);
      expect(r.nrPages).toBe(0x7f00000n);
      expect(r.clipped).toBe(true);
      expect(r.messages).toEqual(['Dom0 memory clipped to 133169152 pages']);
    });

    it('leaves a small 64-bit dom0 alone', () => {
      const r = computeNrPages(parseDom0Mem('min:0'), 1n << 26n, legacy64);
      expect(r.clipped).toBe(false);
      expect(r.nrPages).toBe((1n << 26n) - 32768n);
    });

    it('does not clip a positive absolute amount, nor an INIT_P2M kernel', () => {
      expect(computeNrPages(parseDom0Mem('900G'), 1n << 28n, legacy64).clipped).toBe(false);
      expect(computeNrPages(parseDom0Mem('min:0'), 1n << 28n, { ...legacy64, hasInitP2m: true }).clipped).toBe(false);
      // A percentage alone is not "positive" for this rule: it is clipped.
      expect(computeNrPages(parseDom0Mem('99%'), 1n << 28n, legacy64).clipped).toBe(true);
    });

    it('raises a clipped amount back to a positive min', () => {
      const r = computeNrPages(parseDom0Mem('min:600G'), 1n << 28n, legacy64);
      // 600G = 157286400 pages; the default 268402688 is above it, so the rule applies,
      // clips to 133169152 and then raises that back to min.
      expect(r.clipped).toBe(true);
      expect(r.nrPages).toBe(157286400n);
      expect(r.messages).toEqual(['Dom0 memory clipped to 157286400 pages']);
      // A min above the default makes nr = min, and nr > min is false: no clipping.
      expect(computeNrPages(parseDom0Mem('min:1100G'), 1n << 28n, legacy64).clipped).toBe(false);
      const s = computeNrPages(parseDom0Mem('min:100G'), 1n << 28n, legacy64);
      // nr (default 268402688) > min (26214400): clipped to 133169152, above min.
      expect(s.nrPages).toBe(133169152n);
    });

    it('clips compat dom0s at 4 GiB', () => {
      // vend = pup(0xc0a5f123) + pup(0x123456) = 0xc0b84000; nr = 2^28 - 32768 gives
      // end = 0x100b64000, doubled past virt_base to 0x1416c8000 > 4 GiB:
      // nr = (2^32 - 0xc0b84000) / 8 = 132708352.
      const compat: Dom0MemKernel = { virtBase: 0xc0000000n, kernelEnd: 0xc0a5f123n, unmappedInitrd: false, hasInitP2m: false, compat: true, initrdLength: 0x123456n };
      const r = computeNrPages(parseDom0Mem('min:0'), 1n << 28n, compat);
      expect(r.nrPages).toBe(132708352n);
      expect(r.messages).toEqual(['Dom0 memory clipped to 132708352 pages']);
      // 4 GiB host: end = 0xc0b84000 + 4 * 1015808 = 0xc0f64000, doubled: 0xc1ec8000 < 4 GiB.
      expect(computeNrPages(parseDom0Mem('min:0'), 1n << 20n, compat).clipped).toBe(false);
    });
  });
});
