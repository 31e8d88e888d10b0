// Parallel scans over the shared memory: results equal the single-threaded ones.
import { describe, test, expect, afterAll } from 'vitest';
import { createScanPool, type ScanPool } from '../src/parallel/pool.js';
import { buildWalkScenario, randomAddresses, consecutivePages, GiB } from '../src/perf/scenario.js';
import { buildGuestScenario, L4_KEY } from '../src/perf/frame-workloads.js';
import { createEngine } from '../src/engine/engine.js';
import { InvalidInputError } from '../src/errors.js';

const pools: ScanPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

describe.each(['wasm', 'reference'] as const)('scan pool on %s', (backend) => {
  const scn = buildWalkScenario({ bytes: 1 * GiB, shared: true, spareBytes: 1 << 20 });
  const e = backend === 'wasm' ? scn.engine : scn.engine.withBackend('reference');

  test.each(['naive', 'cached', 'interleaved'] as const)('translateBatch (%s) over 2 workers equals one thread', async (strategy) => {
    const pool = await createScanPool(scn.engine, { workers: 2, backend });
    pools.push(pool);
    const vas = new BigUint64Array([...randomAddresses(scn.va, scn.bytes * 2, 3000), ...consecutivePages(scn.va + 12n * 4096n, 2000), 0x8000_0000_0000_0000n]);
    const one = e.translateBatch(scn.root, vas, { strategy });
    const par = await pool.translateBatch(scn.root, vas, { strategy, parts: 5 });
    expect(par.status).toEqual(one.status);
    expect(par.addr).toEqual(one.addr);
  });

  test('census split over workers equals the whole scan', async () => {
    const g = buildGuestScenario({ bytes: 256 * 2 ** 20, order: 'random', processes: 10, shared: true });
    const pool = await createScanPool(g.engine, { workers: 2, backend });
    pools.push(pool);
    const frames = g.engine.layout.frames;
    const whole = g.engine.backend.frames.census(L4_KEY, g.guest.domain, 0, frames);
    expect(whole).toBe(10);
    expect(await pool.census(L4_KEY, g.guest.domain, 0, frames, 7)).toBe(whole);
  });
});

test('workers need an engine over shared memory', async () => {
  const e = createEngine({ ramBytes: '1M' });
  await expect(createScanPool(e)).rejects.toThrow(InvalidInputError);
});
