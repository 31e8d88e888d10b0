import { describe, test, expect } from 'vitest';
import { InvalidInputError, NotFoundError, FRAME_BYTES, computeLayout, createEngine } from '../src/index.js';
import * as A from '../src/abi.js';
import { BACKENDS, smallEngine } from './helpers/frames-fixtures.js';

test('a 512 GiB guest (128M frames) fits beside a 512 MiB image; 20 bytes a frame plus 8 per image frame', () => {
  expect(FRAME_BYTES).toBe(20);
  const l = computeLayout(512 * 2 ** 20, 2 ** 27);
  expect(l.totalBytes).toBeLessThanOrEqual(2 ** 32);
  // The L4-index links: one u32 each per image frame, between the domain records and the columns.
  expect(l.l4Prev - l.l4Next).toBe(((512 * 2 ** 20) / 4096) * 4);
  expect(l.colType - l.l4Prev).toBe(((512 * 2 ** 20) / 4096) * 4);
  expect(() => computeLayout(2 ** 31, 2 ** 27)).toThrow(/L4-index links/);
});

test('a fresh engine is an empty frame table: every frame free, type none', () => {
  const e = createEngine({ ramBytes: '64K', frames: 64 });
  expect(e.frames.info(5)).toMatchObject({ type: 'none', typeCount: 0, allocated: false, refCount: 0, owner: undefined });
  expect(e.frames.audit().ok).toBe(true);
});

describe.each(BACKENDS)('page lists and allocation on %s', (backend) => {
  test('add at head and tail, remove head, remove a given frame, iterate', () => {
    const e = smallEngine(backend);
    const d = e.domains.create(3);
    const l = d.list;
    expect(l.head).toBeUndefined();
    expect(l.removeHead()).toBeUndefined();
    l.addTail(10);
    l.addTail(11);
    l.addHead(9);
    l.addTail(12);
    expect([...l.frames()]).toEqual([9, 10, 11, 12]);
    expect([l.head, l.tail, l.length]).toEqual([9, 12, 4]);
    expect(l.removeHead()).toBe(9);
    l.remove(11);
    expect([...l.frames()]).toEqual([10, 12]);
    expect(e.frames.info(10)).toMatchObject({ prev: undefined, next: 12 });
    expect(e.frames.info(12)).toMatchObject({ prev: 10, next: undefined });
    l.remove(12);
    l.remove(10);
    expect([l.head, l.tail, l.length]).toEqual([undefined, undefined, 0]);
    // A frame that is not on the list: refused, nothing changed.
    l.addTail(20);
    expect(() => l.remove(21)).toThrow(/not-on-list/);
    expect([...l.frames()]).toEqual([20]);
    expect(() => l.addTail(128)).toThrow(InvalidInputError);
    expect(() => e.frames.list(7).addTail(1)).toThrow(NotFoundError);
  });

  test('chase follows the next column only: steps and the sum of the frames', () => {
    const e = smallEngine(backend);
    e.domains.create(1);
    e.frames.allocateFrames(1, [5, 3, 60, 7]);
    expect(e.frames.list(1).chase()).toEqual({ steps: 4, checksum: 5 + 3 + 60 + 7 });
    expect(e.frames.list(1).chase(2)).toEqual({ steps: 2, checksum: 8 });
  });

  test('allocation in ascending, random and interleaved order', () => {
    const e = smallEngine(backend, 64, 256);
    e.domains.create(1);
    e.frames.allocate(1, { first: 100, count: 10 });
    expect([...e.frames.list(1).frames()]).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(e.frames.info(104)).toMatchObject({ owner: 1, allocated: true, refCount: 1, type: 'none' });
    e.domains.create(2);
    e.frames.allocate(2, { first: 0, count: 50, order: 'random', seed: 7 });
    const r = [...e.frames.list(2).frames()];
    expect([...r].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(r).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Interleaved with another domain: chunks of 2, every other chunk each.
    e.domains.create(3);
    e.domains.create(4);
    e.frames.allocate(3, { first: 200, count: 6, chunk: 2, stride: 4 });
    e.frames.allocate(4, { first: 202, count: 6, chunk: 2, stride: 4 });
    expect([...e.frames.list(3).frames()]).toEqual([200, 201, 204, 205, 208, 209]);
    expect([...e.frames.list(4).frames()]).toEqual([202, 203, 206, 207, 210, 211]);
    expect(e.domains.get(3).totPages).toBe(6);
    expect(e.frames.audit().ok).toBe(true);
  });

  test('allocation is all or nothing; free needs a frame holding only its allocation', () => {
    const e = smallEngine(backend);
    e.domains.create(1);
    e.domains.create(2);
    e.frames.allocate(1, { first: 10, count: 5 });
    const before = e.frames.snapshot();
    expect(() => e.frames.allocate(2, { first: 8, count: 5 })).toThrow(/frame 0xa of the pattern is not free/);
    expect(() => e.frames.allocateFrames(2, [40, 41, 12])).toThrow(/not-free/);
    expect(() => e.frames.allocateFrames(2, [40, 41, 40])).toThrow(/not-free/);
    expect(e.frames.snapshot()).toEqual(before);
    expect(e.domains.get(2).list.length).toBe(0);
    e.frames.free(12);
    expect([...e.frames.list(1).frames()]).toEqual([10, 11, 13, 14]);
    expect(e.frames.info(12)).toMatchObject({ owner: undefined, allocated: false, refCount: 0 });
    expect(() => e.frames.free(12)).toThrow(/not-allocated/);
    e.frames.getType(13, 'writable');
    expect(() => e.frames.free(13)).toThrow(/in-use/);
    expect(e.frames.audit().ok).toBe(true);
  });

  test('destroying a domain frees all it owns, large or small', () => {
    const e = smallEngine(backend, 64, 256);
    e.domains.create(1);
    e.domains.create(2);
    e.frames.allocate(1, { first: 0, count: 200, order: 'random', seed: 3 });
    e.frames.allocate(2, { first: 200, count: 10 });
    expect(e.domains.destroy(2)).toBe(10);
    expect(e.domains.destroy(1)).toBe(200);
    expect(e.domains.has(1)).toBe(false);
    expect(e.frames.census('none', { domain: undefined }).count).toBe(256);
    const c = e.frames.columns();
    expect(c.owner.every((o) => o === A.OWNER_NONE)).toBe(true);
    expect(c.countInfo.every((x) => x === 0)).toBe(true);
    expect(e.frames.audit().ok).toBe(true);
  });

  test('census: by type, validated flag and owner, over 8-frame steps and the tail', () => {
    const e = smallEngine(backend, 64, 128);
    e.domains.create(1);
    e.domains.create(2);
    e.frames.allocate(1, { first: 0, count: 40 });
    e.frames.allocate(2, { first: 40, count: 10 });
    const col = e.frames.columns().typeInfo;
    const l4 = ((A.PGT_L4 << 29) | A.PGT_VALIDATED | 1) >>> 0;
    for (const f of [0, 7, 8, 35, 41]) col[f] = l4;
    col[12] = (A.PGT_L4 << 29) >>> 0; // a demoted L4: type kept, not validated
    e.phys.write64(8n * 4096n + 256n * 8n, 1n); // frame 8's RO_MPT slot is set
    expect(e.frames.census('L4')).toEqual({ count: 5, filled: 1, scanned: 128 });
    expect(e.frames.census('L4', { domain: 1 })).toMatchObject({ count: 4, filled: 1 });
    expect(e.frames.census('L4', { domain: 1, from: 3, to: 36 })).toEqual({ count: 3, filled: 1, scanned: 33 });
    expect(e.frames.census('L4', { domain: 2 }).count).toBe(1);
    expect(e.frames.census('L4', { validated: false }).count).toBe(1);
    expect(e.frames.census('none', { from: 50 }).count).toBe(78);
    expect(e.frames.census('L4', { from: 100, to: 20 })).toEqual({ count: 0, filled: 0, scanned: 0 });
  });

  test('the audit names each broken link and count', () => {
    const e = smallEngine(backend);
    e.domains.create(1);
    e.frames.allocate(1, { first: 0, count: 4 });
    e.frames.list(1).remove(2); // still owned, but now on no list
    expect(e.frames.audit().violations).toEqual([
      { frame: 2, domain: 1, field: 'list', expected: "on domain 1's list", found: 'on no list of its owner' },
    ]);
    // A broken prev link, and a frame of domain 2 linked into domain 1's list.
    const e2 = smallEngine(backend);
    e2.domains.create(1);
    e2.domains.create(2);
    e2.frames.allocate(1, { first: 0, count: 3 });
    e2.frames.allocate(2, { first: 10, count: 1 });
    e2.frames.columns().prev[2] = 0;
    e2.frames.list(1).addTail(10);
    expect(e2.frames.audit().violations).toEqual([
      { frame: 2, domain: 1, field: 'prev', expected: 1, found: 0 },
      { frame: 10, domain: 1, field: 'owner', expected: 1, found: 2 },
      { frame: 10, domain: 2, field: 'list', expected: 'on one list once', found: "met again on domain 2's list after 0 frames" },
      { frame: undefined, domain: 2, field: 'tail', expected: 'none', found: 10 },
      { frame: undefined, domain: 2, field: 'count', expected: 0, found: 1 },
    ]);
  });
});
