// The batch modes and the range kernel must give exactly the naive walk's
// records, on both backends, over random tables with damaged entries and inputs
// that run through the same leaf tables (where the cached mode and the range
// kernel reuse the previous entry's status).
import { describe, test, expect } from 'vitest';
import { resolveScenario } from '../src/compare/compare.js';
import { Rng } from '../src/util/rng.js';
import { x86_64 } from '../src/paging/formats/x86.js';

describe.each(['wasm', 'reference'] as const)('batch modes on %s', (backend) => {
  const s = resolveScenario('walk', { seed: 11 });
  const base = s.build('wasm');
  const e = backend === 'wasm' ? base : base.withBackend('reference');
  const root = 0x10000n;
  const listing = e.mappings(root, { format: x86_64 }).mappings;
  const rng = new Rng(5);
  // Runs of consecutive pages through 4 KiB-leaf regions (from two pages before each region
  // to past its end), plus damaged entries inside those regions, so keys change mid-run.
  const regions = listing.filter((m) => m.size === 4096 && !listing.some((o) => o !== m && o.va === m.va));
  const vas: bigint[] = [];
  for (let r = 0; r < 80 && regions.length; r++) {
    const m = regions[rng.below(regions.length)]!;
    const start = m.va - 2n * 4096n + BigInt(rng.below(4096));
    for (let i = 0; i < 300; i++) vas.push(start + BigInt(i) * 4096n);
    const t = e.translate(root, m.va, { format: x86_64 });
    if (!t.ok) continue;
    for (let d = 0; d < 3; d++) {
      const ea = t.entryAddress + BigInt(1 + rng.below(40)) * 8n;
      const v = e.phys.read64(ea);
      e.phys.write64(ea, [v ^ 2n, v ^ 4n, v & ~1n, v | (1n << 63n), v ^ 0x1000n, v | (1n << 51n)][(r + d) % 6]!);
    }
  }
  const input = BigUint64Array.from(vas, (v) => BigInt.asUintN(64, v));

  test('cached and interleaved equal naive (consecutive runs and sorted addresses)', () => {
    for (const v of [input, input.slice().sort()]) {
      const naive = e.translateBatch(root, v, { format: x86_64, strategy: 'naive' });
      for (const strategy of ['cached', 'interleaved'] as const) {
        const r = e.translateBatch(root, v, { format: x86_64, strategy });
        expect(r.status).toEqual(naive.status);
        expect(r.addr).toEqual(naive.addr);
      }
    }
  });

  test('translateRange equals the naive batch over the same pages', () => {
    for (let r = 0; r < 20; r++) {
      const m = listing[rng.below(listing.length)]!;
      const start = (m.va - BigInt(rng.below(600)) * 4096n) & ~0xfffn;
      const range = e.translateRange(root, start, 1500, { format: x86_64 });
      const batch = e.translateBatch(root, range.vas, { format: x86_64, strategy: 'naive' });
      expect(range.status).toEqual(batch.status);
      expect(range.addr).toEqual(batch.addr);
    }
  });
});
