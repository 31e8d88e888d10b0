// Measurements in turns (src/perf/turns.ts) without timing deciding anything: the
// rounds' order and the ratio's arithmetic on made-up times, a workload against the
// real C program on a small scenario (when a compiler is present), and outputs that
// disagree in a round reported with the row's name.
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { buildWalkScenario } from '../src/perf/scenario.js';
import { pagingWorkloads } from '../src/perf/paging-workloads.js';
import { ensureNative, saveImage } from '../src/perf/native.js';
import { BackendMismatchError } from '../src/compare/mismatch.js';
import { inTurns, measureTurns, nativeTurns, pairTurns, runsPerRound, workloadSide, type Side, type TurnsOut } from '../src/perf/turns.js';
import type { Workload } from '../src/perf/workload.js';
import { testDir } from './helpers/temp-dir.js';

const native = ensureNative();
const quickWarm = { minCalls: 3, maxMs: 50 };

/** A side that returns the given times in order and logs each round. */
const fake = (label: string, times: number[], log: string[]): Side => {
  let i = 0;
  return { label, round: () => (log.push(label), times[i++]!) };
};

/** A small in-process workload: sums the first `words` words of RAM; its checksum is the sum unless `lie` says otherwise. */
function summing(name: string, words: number, lie?: (run: number) => string | undefined): Workload {
  let sum = 0, runs = 0;
  const run = (e: Engine) => {
    let s = 0;
    for (let i = 0; i < words; i++) s = (s + e.u32[e.layout.ramBase / 4 + i]!) | 0;
    runs++;
    return (sum = s);
  };
  return {
    name, family: 'test', items: words, unit: 'words',
    prepare: (e) => { for (let i = 0; i < words; i++) e.u32[e.layout.ramBase / 4 + i] = i * 7; },
    warm: run, run,
    checksum: () => lie?.(runs) ?? String(sum),
  };
}

describe('two sides in turns', () => {
  test('a then b every round, the first round untimed, the ratio the median of the rounds\' b/a', async () => {
    const log: string[] = [];
    // Untimed: a 100, b 1. Rounds: b/a = 2/1 = 2, 2/2 = 1, 2/4 = 0.5; median 1. Medians: a 2, b 2.
    const r = await inTurns('row', fake('a', [100, 1, 2, 4], log), fake('b', [1, 2, 2, 2], log), 3);
    expect(log).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(r).toEqual({ row: 'row', a: 'a', b: 'b', aMs: 2, bMs: 2, ratio: 1, ratios: [2, 1, 0.5], rounds: 3, aRuns: 1, bRuns: 1 });
    // Two rounds: b/a = 3/1 = 3 and 1/1 = 1, median 2 (the medians' ratio would be 2/1 = 2 as well; a's are 1, 1).
    const two = await inTurns('row', fake('a', [5, 1, 1], []), fake('b', [5, 3, 1], []), 2);
    expect(two.ratio).toBe(2);
  });

  test('runs a round: enough to add up to about the round\'s ms, at least 1, at most 100', () => {
    expect(runsPerRound(0.013, 0.5)).toBe(39); // a relocation of ~13 µs: 0.5 / 0.013 = 38.5, rounded up
    expect(runsPerRound(0.004, 0.5)).toBe(100); // 125, capped
    expect(runsPerRound(0.3, 2)).toBe(7); // 6.67 rounded up
    expect(runsPerRound(50, 10)).toBe(1);
  });

  test('a workload against another on one engine: each side checks every run\'s output', async () => {
    const e = createEngine({ ramBytes: '4M' });
    const r = await pairTurns(summing('short', 1000), summing('long', 4000), e, { rounds: 3, warm: quickWarm });
    expect([r.row, r.a, r.b, r.rounds]).toEqual(['long', 'short', 'long', 3]);
    expect(r.aRuns).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(r.ratio) && r.ratio > 0).toBe(true);
  });

  test('an output that changes in a later round is an error naming the row', async () => {
    const e = createEngine({ ramBytes: '4M' });
    let broken = false;
    const s = await workloadSide(summing('flaky sum', 64, () => (broken ? 'changed' : undefined)), e, 'wasm', { warm: quickWarm });
    expect(s.expected).toBe(String(7 * ((63 * 64) / 2))); // the words are 7i: 7 * (0 + 1 + ... + 63)
    // The other side breaks the workload's output in its third round (the second timed one).
    let n = 0;
    const other: Side = { label: 'other', round: () => ((broken ||= ++n === 3), 1) };
    const err = await inTurns('flaky sum', s, other, 5).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BackendMismatchError);
    expect((err as Error).message).toBe('flaky sum: wasm run output changed between rounds (14112 then changed)');
    expect(n).toBe(3);
    // measureTurns keeps the run going: the mismatch becomes a line for the report.
    const out: TurnsOut = { turns: [], mismatches: [] };
    await measureTurns(out, () => Promise.reject(err));
    expect(out).toEqual({ turns: [], mismatches: ['in turns: flaky sum: wasm run output changed between rounds (14112 then changed)'] });
    // Anything else is not a mismatch and still stops the run.
    await expect(measureTurns(out, () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });
});

describe.skipIf(!native.available)('a workload against the C program', () => {
  const scn = buildWalkScenario({ bytes: 64 * 2 ** 20, spareBytes: 8 * 2 ** 20 });
  const dir = testDir('memwalk-turns-');
  const [map] = pagingWorkloads(scn, { n: 4096, fileDir: dir, mapBytes: 16 * 2 ** 20, families: ['map'] });
  const image = join(dir, 'image.bin');

  test('map+unmap: WASM, then a new C process, every round, with the same output', async () => {
    await saveImage(scn.engine, image);
    const r = await nativeTurns(map!, scn.engine, { status: native, imagePath: image, root: scn.root }, { rounds: 2, warm: quickWarm });
    expect([r.row, r.a, r.b, r.rounds]).toEqual([map!.name, 'wasm', 'native', 2]);
    expect(r.bRuns).toBe(r.aRuns);
    expect(r.aMs).toBeGreaterThan(0);
    expect(Number.isFinite(r.ratio) && r.ratio > 0).toBe(true);
  });

  test('C\'s output differing from WASM\'s in a round is an error naming the row', async () => {
    await saveImage(scn.engine, image);
    const wrong: Workload = { ...map!, verify: () => 'not the tables' };
    await expect(nativeTurns(wrong, scn.engine, { status: native, imagePath: image, root: scn.root }, { rounds: 1, warm: quickWarm }))
      .rejects.toThrow(new RegExp(`^${map!.name.replace(/[+()]/g, '\\$&')}: C's output \\([0-9a-f:]+\\) differs from WASM's \\(not the tables\\)$`));
  });
});
