import { expect, test } from 'vitest';
import { buildWalkScenario } from '../src/perf/scenario.js';
import { pagedPairs } from '../src/perf/paged-pairs.js';

// The paired measurement of the bench's paged rows on a small scenario: three batches,
// every round's source records compared with the resident ones (it throws when they
// differ). Times are only checked to be times: timing never decides a test.
test('batches over a source and resident, run in turns, give the same records and one ratio each', async () => {
  const scn = buildWalkScenario({ bytes: 64 * 2 ** 20 });
  const pairs = await pagedPairs(scn, 4096, 3);
  expect(pairs.map((p) => p.row)).toEqual(['random (interleaved)', 'random (naive)', 'consecutive pages (cached)']);
  for (const p of pairs) {
    expect(p.rounds).toBe(3);
    expect(p.residentMs).toBeGreaterThan(0);
    expect(p.sourceMs).toBeGreaterThan(0);
    expect(Number.isFinite(p.ratio) && p.ratio > 0).toBe(true);
  }
});
