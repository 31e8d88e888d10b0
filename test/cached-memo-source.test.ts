// The cached batch's leaf memo keeps the wasm address of the leaf table it read
// last. Over a source that address is only good while no frame has been fetched:
// a fetch may evict the table's frame and put another table there. Here walks of
// other regions between two uses of one leaf table evict every frame, so a memo
// that kept the old address would read another region's leaf (same flags, so the
// same key) and answer with that region's address.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64 } from '../src/index.js';
import { memorySource } from '../src/memory/memory-source.js';
import { regionPa as pa, regionTables, regionVa as va } from './helpers/region-tables.js';

const REGIONS = 12;

describe('cached batch over a source: the leaf memo after evictions', () => {
  // Region j's 2 MiB at VA + j GiB, mapped to PA + j * 2 MiB (test/helpers/region-tables.ts).
  const { root, bytes } = regionTables(REGIONS);

  test.each(['wasm', 'reference'] as const)('every address gets its own region\'s answer (%s)', (backend) => {
    const cached = createEngine({ source: memorySource(bytes.slice()), cacheBytes: 65536, backend, ioBytes: 1 << 20 });
    // Region 0 twice (the second from the memo), regions 1-9 (18 tables: every one of
    // the 16 frames evicted), then region 0 again, walked and then from the memo.
    const seq: Array<[number, number]> = [[0, 5], [0, 6], ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((j) => [j, 5] as [number, number]), [0, 7], [0, 8], [0, 9]];
    for (let round = 0; round < 3; round++) {
      const r = cached.translateBatch(root, seq.map(([j, p]) => va(j, p)), { format: x86_64, strategy: 'cached' });
      seq.forEach(([j, p], i) => {
        expect(r.status[i]! & 0xf, `${j}/${p}`).toBe(0);
        expect(r.addr[i], `${j}/${p}`).toBe(pa(j, p));
      });
    }
    expect(cached.backing!.cache.statistics.evictions).toBeGreaterThan(16);
  });
});
