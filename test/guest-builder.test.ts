import { describe, test, expect } from 'vitest';
import { createEngine, computeLayout, CapacityError, InvalidInputError } from '../src/index.js';
import { buildGuest, guestEngineOptions, USER_VA, KERNEL_VA, m2pFixup } from '../src/xen/index.js';
import { BACKENDS, frameState, expectSameState } from './helpers/frames-fixtures.js';

// 1 GiB guest, 8 processes, 16 user pages each, 512 kernel pages. Pattern order:
// kernel L3 0, L2 1, L1 2; process p: L4 3+4p, L3 4+4p, L2 5+4p, L1 6+4p (35 tables);
// kernel data frames 35..546; process p's user pages 547+16p .. 562+16p.
const G4 = { memory: '1G', processes: 8, userPages: 16, kernelPages: 512 } as const;
const FRAMES_4G = 1 << 18;

describe.each(BACKENDS)('guest builder on %s', (backend) => {
  test('ascending: every frame on the list in order, validated trees, translations through every process', () => {
    const e = createEngine(guestEngineOptions({ ...G4, backend }));
    const g = buildGuest(e, G4);
    expect(g).toMatchObject({ domain: 1, frames: FRAMES_4G, tableFrames: 35 });
    expect(g.l4s).toEqual([3, 7, 11, 15, 19, 23, 27, 31]);
    const list = e.frames.list(1).frames();
    expect(list.length).toBe(FRAMES_4G);
    expect(list.every((f, i) => f === i)).toBe(true);
    const d = e.domains.get(1);
    expect([d.totPages, d.nrL4Pages, d.m2pStrict]).toEqual([FRAMES_4G, 8, false]);
    expect(d.l4Frames()).toEqual(g.l4s);
    expect(e.frames.census('L4', { domain: 1 })).toMatchObject({ count: 8, filled: 0 });
    expect(e.frames.info(3)).toMatchObject({ type: 'L4', pinned: true, validated: true, typeCount: 1, refCount: 2 });
    // The shared kernel L3 is referenced by all eight L4s.
    expect(e.frames.info(0)).toMatchObject({ type: 'L3', typeCount: 8, refCount: 9 });
    expect(e.frames.info(547 + 16 * 5 + 3)).toMatchObject({ type: 'writable', typeCount: 1, refCount: 2 });
    expect(e.frames.info(100_000)).toMatchObject({ type: 'none', owner: 1, refCount: 1 });
    for (const [p, proc] of g.processes.entries()) {
      const t = e.translate(proc.cr3, USER_VA + 3n * 4096n, { access: 'write', user: true });
      expect(t.ok && t.pa).toBe(BigInt(547 + 16 * p + 3) * 4096n);
      const k = e.translate(proc.cr3, KERNEL_VA + 7n * 4096n);
      expect(k.ok && k.pa).toBe(BigInt(35 + 7) * 4096n);
    }
    expect(e.frames.audit({ references: true })).toMatchObject({ ok: true, total: 0 });
  });

  test('random: the same frames, in a seeded permutation; the L4s land anywhere on the list', () => {
    const o = { ...G4, order: 'random', seed: 42 } as const;
    const e = createEngine(guestEngineOptions({ ...o, backend }));
    const g = buildGuest(e, o);
    expect(g.l4s).toEqual([3, 7, 11, 15, 19, 23, 27, 31]);
    const list = e.frames.list(1).frames();
    const seen = new Uint8Array(FRAMES_4G);
    for (const f of list) seen[f]!++;
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(list.slice(0, 8).every((f, i) => f === i)).toBe(false);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('interleaved: every other frame, the rest owned by a companion domain', () => {
    const o = { ...G4, order: 'interleaved' } as const;
    const opts = guestEngineOptions({ ...o, backend });
    expect(opts.frames).toBe(2 * FRAMES_4G);
    const e = createEngine(opts);
    const g = buildGuest(e, o);
    expect(g.companions).toEqual([2]);
    expect(g.l4s).toEqual([6, 14, 22, 30, 38, 46, 54, 62]);
    const list = e.frames.list(1).frames();
    expect(list.length).toBe(FRAMES_4G);
    expect(list.every((f, i) => f === 2 * i)).toBe(true);
    expect(e.frames.list(2).frames().every((f, i) => f === 2 * i + 1)).toBe(true);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('prefilled L4s: evenly spread over the processes', () => {
    const o = { ...G4, prefilledL4s: 2 } as const;
    const e = createEngine(guestEngineOptions({ ...o, backend }));
    const g = buildGuest(e, o);
    expect(g.prefilled).toEqual([0, 4]);
    expect(e.frames.census('L4', { domain: 1 })).toMatchObject({ count: 8, filled: 2 });
    expect(e.frames.roMpt(3)).not.toBe(0n);
    expect(e.frames.roMpt(7)).toBe(0n);
  });
});

test('both backends build the same guest, byte for byte', () => {
  const o = { memory: '16M', processes: 5, order: 'random', seed: 5, prefilledL4s: 1 } as const;
  const [a, b] = BACKENDS.map((backend) => {
    const e = createEngine(guestEngineOptions({ ...o, backend }));
    buildGuest(e, o);
    return e;
  });
  expectSameState(frameState(a!), frameState(b!));
});

test('progress is reported up to the total', () => {
  const e = createEngine(guestEngineOptions({ memory: '64M' }));
  const seen: [number, number][] = [];
  buildGuest(e, { memory: '64M', onProgress: (d, t) => seen.push([d, t]) });
  const total = seen[0]![1];
  expect(seen.at(-1)).toEqual([total, total]);
  expect(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0])).toBe(true);
});

test('sizes and capacities are checked before anything is built', () => {
  // 512 GiB: 2^27 frames beside a 512 MiB image fits in one engine.
  const big = guestEngineOptions({ memory: '512G' });
  expect(big).toMatchObject({ frames: 2 ** 27, ramBytes: 512 * 2 ** 20 });
  expect(computeLayout(big.ramBytes as number, big.frames!).totalBytes).toBeLessThanOrEqual(2 ** 32);
  // Interleaved with a companion it needs 2^28 frames: too many.
  expect(() => guestEngineOptions({ memory: '512G', order: 'interleaved' })).toThrow(CapacityError);
  expect(() => guestEngineOptions({ memory: '1T' })).toThrow(/a guest of 1T needs 268435456 frames of metadata/);
  const small = createEngine({ ramBytes: '1M', frames: 1024 });
  expect(() => buildGuest(small, { memory: '8M' })).toThrow(/needs frames up to 0x7ff but the engine has 1024 frames/);
  expect(() => buildGuest(small, { memory: '4M', processes: 1000 })).toThrow(/processes: 1000 processes need 4003 table frames/);
  expect(() => buildGuest(small, { memory: '5000' })).toThrow(InvalidInputError);
  expect(() => buildGuest(small, { memory: '4M', order: 'sideways' as never })).toThrow(/order: 'sideways' is not one of ascending, random, interleaved/);
  // The tables must fit in the image.
  const noRam = createEngine({ ramBytes: '64K', frames: 1024 });
  expect(() => buildGuest(noRam, { memory: '4M', processes: 8 })).toThrow(/beyond the RAM image/);
});

test('a built guest scans: the faithful loop visits the whole list once plus the way to the first L4', () => {
  const e = createEngine(guestEngineOptions(G4));
  buildGuest(e, G4);
  const r = m2pFixup(e, 1, { strategy: 'faithful' });
  expect(r).toMatchObject({ framesVisited: FRAMES_4G + 4, allFilled: true, l4Total: 8 });
  expect(m2pFixup(e, 1, { strategy: 'indexed' })).toMatchObject({ framesVisited: 8, l4FilledByRun: 0, l4AlreadySet: 8 });
});
