import { expect, test } from 'vitest';
import { join } from 'node:path';
import { buildWalkScenario } from '../src/perf/scenario.js';
import { ensureNative, saveImage } from '../src/perf/native.js';
import { translateTurns } from '../src/perf/translate-turns.js';
import { testDir } from './helpers/temp-dir.js';

// The bench's WASM-against-C rounds on a small scenario: every round checks the C
// program's records against WASM's (translateTurns throws when they differ). Times are
// only checked to be times: timing never decides a test.
const native = ensureNative();

test.skipIf(!native.available)('every batch mode on both inputs, WASM and C in turns, with the same records', async () => {
  const scn = buildWalkScenario({ bytes: 64 * 2 ** 20 });
  const dir = testDir('memwalk-turns-');
  const image = join(dir, 'image.bin');
  await saveImage(scn.engine, image);
  const rows = await translateTurns(scn, 4096, native, image, dir, 2);
  expect(rows.map((r) => r.row)).toEqual([
    'random (naive)', 'random (cached)', 'random (interleaved)',
    'consecutive pages (naive)', 'consecutive pages (cached)', 'consecutive pages (interleaved)',
  ]);
  for (const r of rows) {
    expect(r.rounds).toBe(2);
    expect(r.wasmMs).toBeGreaterThan(0);
    expect(r.nativeMs).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(r.ratio)).toBe(true);
  }
});
