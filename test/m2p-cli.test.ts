import { test, expect } from 'vitest';
import { memwalk, expectUserError } from './helpers/cli.js';

// Guests of 4 MiB (1024 frames, three processes with one L1 each are frames 3, 7, 11)
// keep these fast; the arithmetic is the one of test/m2p-fixup.test.ts.
const small = ['--guest', '4M', '--processes', '3'];

test('scan --json: the faithful loop on an ascending guest', () => {
  const r = memwalk('scan', ...small, '--json');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout);
  // 16 user and 512 kernel pages need one L1 each: tables at 0..2 (kernel) then 4 per process.
  expect(j).toMatchObject({ strategy: 'faithful', framesVisited: 1028, l4Total: 3, l4Filled: 3, allFilled: true, continuations: 0 });
  expect(typeof j.elapsedMs).toBe('number');
  expect(j.guest).toMatchObject({ frames: 1024, processes: 3, order: 'ascending' });
});

test('scan --prefilled: faithful stops early, counted does not', () => {
  const f = JSON.parse(memwalk('scan', ...small, '--prefilled', '1', '--json').stdout);
  // Process 0's L4 (frame 3) is prefilled: the loop ends there, after 4 frames.
  expect(f).toMatchObject({ framesVisited: 4, l4Filled: 1, allFilled: false });
  const c = JSON.parse(memwalk('scan', ...small, '--prefilled', '1', '--strategy', 'counted', '--json').stdout);
  expect(c).toMatchObject({ framesVisited: 1024, l4Filled: 3, allFilled: true });
});

test('scan --preempt every:1 on the reference backend: restarts counted as continuations', () => {
  const r = JSON.parse(memwalk('scan', ...small, '--preempt', 'every:1', '--backend', 'reference', '--json').stdout);
  expect(r).toMatchObject({ framesVisited: 1028, continuations: 4, backend: 'reference', allFilled: true });
});

test('scan prints a readable summary', () => {
  const r = memwalk('scan', ...small, '--strategy', 'indexed');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^visited\s+3 frames$/m);
  expect(r.stdout).toMatch(/^L4 tables\s+3 of 3 have the slot set: 3 filled by this run, 0 set before it$/m);
  expect(r.stderr).toBe('');
});

test('bad input: one line naming the option', () => {
  expectUserError(memwalk('scan', '--guest', 'big'), /^memwalk: --guest: 'big' is not a number/);
  expectUserError(memwalk('scan', '--guest', '5000'), /^memwalk: --guest: '5000' must be a positive multiple of 4K$/);
  expectUserError(memwalk('scan', ...small, '--strategy', 'fast'), /^memwalk: --strategy: 'fast' is not one of faithful, counted, flat, indexed$/);
  expectUserError(memwalk('scan', ...small, '--order', 'up'), /^memwalk: --order: 'up' is not one of ascending, random, interleaved$/);
  expectUserError(memwalk('scan', ...small, '--preempt', 'often'), /^memwalk: --preempt: 'often' is not one of never/);
  expectUserError(memwalk('scan', ...small, '--backend', 'gpu'), /^memwalk: --backend: 'gpu' is not one of wasm, reference$/);
  expectUserError(memwalk('scan', ...small, '--prefilled', '4'), /^memwalk: --prefilled: '4' must be from 0 to 3$/);
  expectUserError(memwalk('scan', '--guest', '1T'), /^memwalk: memory: a guest of 1T needs 268435456 frames/);
  expect(memwalk('scan').code).toBe(1);
  expect(memwalk('scan', '--help').code).toBe(0);
});
