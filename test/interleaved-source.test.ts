// The interleaved batch over a source finds every group member's entry address in
// a lookup pass before it reads the entries. A lookup that faults a frame in may
// evict the frame an earlier member's address points into (the cache evicts in
// fetch order); the kernel must then redo the level without those addresses.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64 } from '../src/index.js';
import { memorySource } from '../src/memory/memory-source.js';
import { regionPa as pa, regionTables, regionVa as va } from './helpers/region-tables.js';

const BACKENDS = ['wasm', 'reference'] as const;
const REGIONS = 12;

describe('interleaved batch over a source whose lookups evict each other', () => {
  // Region j's 2 MiB at VA + j GiB, mapped to PA + j * 2 MiB (test/helpers/region-tables.ts).
  const { resident, root, bytes } = regionTables(REGIONS);

  test.each(BACKENDS)('a member whose table frame a later member evicted gets its own answer (%s)', (backend) => {
    // 16 frames: region 0's walk fetches the root, the level-3 table and region 0's
    // two tables; regions 1-6 bring 12 more. In the group below, region 0's level-2
    // table is found, then regions 7, 8 and 9 miss and evict the three oldest frames
    // (the root, the level-3 table and region 0's level-2 table): the frame region 0's
    // lookup found is gone before its read.
    const cached = createEngine({ source: memorySource(bytes.slice()), cacheBytes: 65536, backend, ioBytes: 1 << 20 });
    const opts = { format: x86_64, strategy: 'interleaved' } as const;
    cached.translateBatch(root, [va(0, 5)], opts);
    cached.translateBatch(root, [1, 2, 3, 4, 5, 6].map((j) => va(j, 5)), opts);
    expect(cached.backing!.cache.statistics.evictions).toBe(0);
    const group = [[0, 7], [7, 9], [8, 11], [9, 13], [0, 17], [10, 19]] as const;
    const r = cached.translateBatch(root, group.map(([j, p]) => va(j, p)), opts);
    expect(cached.backing!.cache.statistics.evictions).toBeGreaterThan(2);
    group.forEach(([j, p], i) => {
      expect(r.status[i]! & 0xf).toBe(0);
      expect(r.addr[i]).toBe(pa(j, p));
    });
    // And a whole batch of such groups, round after round, as on resident tables; the
    // other strategies too (their walkers keep a per-level table memo over a source).
    const vas = Array.from({ length: 600 }, (_, k) => va((k * 5 + (k >> 4)) % (REGIONS + 2), (k * 131) % 512));
    for (const strategy of ['interleaved', 'naive', 'cached'] as const) {
      const b = resident.withBackend(backend).translateBatch(root, vas, { format: x86_64, strategy });
      for (let round = 0; round < 2; round++) {
        const a = cached.translateBatch(root, vas, { format: x86_64, strategy });
        expect([...a.status]).toEqual([...b.status]);
        expect([...a.addr]).toEqual([...b.addr]);
      }
    }
  });
});
