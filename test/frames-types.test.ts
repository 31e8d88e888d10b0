import { describe, test, expect } from 'vitest';
import { TypeViolationError, InvalidInputError, type Engine } from '../src/index.js';
import { encodeTypeInfo } from '../src/frames/index.js';
import * as A from '../src/abi.js';
import { BACKENDS, smallEngine, entry, readEntry, frameState, expectSameState, TBL, LEAF_RW, LEAF_RO, PS, D, G } from './helpers/frames-fixtures.js';

const RO_MPT = (BigInt(A.RO_MPT_HI) << 32n) | BigInt(A.RO_MPT_LO);
const ALLOC = A.PGC_ALLOCATED;

/**
 * Domain 1 owns frames 0..47 (in the image) and 100..103 (beyond it); domain 2
 * owns 48..55. A tree: L4 1 -> L3 2 -> L2 3 -> L1 4 -> data 10 (writable), 11 (read-only).
 */
function setup(backend: (typeof BACKENDS)[number], m2pStrict = false): Engine {
  const e = smallEngine(backend, 64, 128);
  e.domains.create(1, { m2pStrict });
  e.domains.create(2);
  e.frames.allocate(1, { first: 0, count: 48 });
  e.frames.allocate(1, { first: 100, count: 4 });
  e.frames.allocate(2, { first: 48, count: 8 });
  entry(e, 1, 0, 2, TBL);
  entry(e, 2, 0, 3, TBL);
  entry(e, 3, 0, 4, TBL);
  entry(e, 4, 0, 10, LEAF_RW);
  entry(e, 4, 1, 11, LEAF_RO);
  return e;
}

/** Expect `fn` to be refused with `rule`, naming `frame`, and to leave every byte of state as it was. */
function refused(e: Engine, fn: () => void, rule: string, frame?: number): TypeViolationError {
  const before = frameState(e);
  let err: unknown;
  try {
    fn();
  } catch (x) {
    err = x;
  }
  expect(err).toBeInstanceOf(TypeViolationError);
  const t = err as TypeViolationError;
  expect(t.details.rule).toBe(rule);
  expect(t.message).toContain(`[${rule}]`);
  if (frame !== undefined) expect(t.details.frame).toBe(frame);
  expectSameState(before, frameState(e));
  return t;
}

describe.each(BACKENDS)('type system on %s', (backend) => {
  test('pinning an L4 validates the whole tree: each level one type and one general reference', () => {
    const e = setup(backend);
    e.frames.pin(1, 'L4');
    const f = (n: number) => e.frames.info(n);
    expect(f(1)).toMatchObject({ type: 'L4', validated: true, pinned: true, typeCount: 1, refCount: 2 });
    for (const [n, t] of [[2, 'L3'], [3, 'L2'], [4, 'L1']] as const) expect(f(n)).toMatchObject({ type: t, validated: true, pinned: false, typeCount: 1, refCount: 2 });
    expect(f(10)).toMatchObject({ type: 'writable', validated: true, typeCount: 1, refCount: 2 });
    expect(f(11)).toMatchObject({ type: 'none', typeCount: 0, refCount: 2 });
    expect(e.domains.get(1).nrL4Pages).toBe(1);
    expect(e.domains.get(1).l4Frames()).toEqual([1]);
    // Not m2p-strict: the RO_MPT slot is left empty.
    expect(readEntry(e, 1, 256)).toBe(0n);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('unpin demotes the tree: references dropped, validated cleared, nr_l4_pages back to 0', () => {
    const e = setup(backend);
    e.frames.pin(1, 'L4');
    e.frames.unpin(1);
    for (const n of [1, 2, 3, 4]) expect(e.frames.info(n)).toMatchObject({ validated: false, typeCount: 0, refCount: 1, pinned: false });
    expect(e.frames.info(1).type).toBe('L4');
    // A writable frame keeps its validated type at count 0 (Xen only demotes tables).
    expect(e.frames.info(10)).toMatchObject({ type: 'writable', validated: true, typeCount: 0, refCount: 1 });
    expect(e.domains.get(1).nrL4Pages).toBe(0);
    expect(e.domains.get(1).l4Frames()).toEqual([]);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('promotion writes RO_MPT per the m2p-strict flag; a shared L3 is referenced twice', () => {
    const e = setup(backend, true);
    entry(e, 5, 0, 2, TBL); // second L4 sharing the L3
    e.frames.pin(1, 'L4');
    e.frames.pin(5, 'L4');
    expect(readEntry(e, 1, 256)).toBe(RO_MPT);
    expect(readEntry(e, 5, 256)).toBe(RO_MPT);
    expect(e.frames.info(2)).toMatchObject({ type: 'L3', typeCount: 2, refCount: 3 });
    expect(e.domains.get(1).nrL4Pages).toBe(2);
    expect(e.domains.get(1).l4Frames()).toEqual([1, 5]);
    // A guest value in slot 256 is the hypervisor's to write: never validated, overwritten.
    e.frames.unpin(5);
    entry(e, 5, 256, 40, TBL);
    e.domains.get(1).m2pStrict = false;
    e.frames.pin(5, 'L4');
    expect(readEntry(e, 5, 256)).toBe(0n);
    expect(e.frames.info(40).refCount).toBe(1);
    expect(e.domains.get(1).l4Frames()).toEqual([1, 5]);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('getType / putType: same type adds a reference; the last put of a table demotes it', () => {
    const e = setup(backend);
    e.frames.getType(4, 'L1');
    e.frames.getType(4, 'L1');
    expect(e.frames.info(4)).toMatchObject({ type: 'L1', typeCount: 2, validated: true });
    expect(e.frames.info(10)).toMatchObject({ type: 'writable', typeCount: 1 });
    e.frames.putType(4);
    e.frames.putType(4);
    expect(e.frames.info(4)).toMatchObject({ type: 'L1', typeCount: 0, validated: false });
    expect(e.frames.info(10)).toMatchObject({ type: 'writable', typeCount: 0, refCount: 1 });
    // With no references the type may change: the old L1 becomes writable.
    e.frames.getType(4, 'writable');
    expect(e.frames.info(4)).toMatchObject({ type: 'writable', typeCount: 1, validated: true });
  });

  test('page_lock: only a validated frame with a type reference; the lock holds one', () => {
    const e = setup(backend);
    expect(e.frames.lock(4)).toBe(false); // type none, no reference
    e.frames.pin(4, 'L1');
    expect(e.frames.lock(4)).toBe(true);
    expect(e.frames.info(4)).toMatchObject({ locked: true, typeCount: 2 });
    expect(e.frames.lock(4)).toBe(false); // already locked
    e.frames.unlock(4);
    expect(e.frames.info(4)).toMatchObject({ locked: false, typeCount: 1 });
  });

  describe('refusals: each rule, named, with nothing changed', () => {
    test('type-mismatch: a frame with references holds one type', () => {
      const e = setup(backend);
      e.frames.pin(4, 'L1');
      const t = refused(e, () => e.frames.getType(4, 'L2'), 'type-mismatch', 4);
      expect(t.message).toMatch(/frame 0x4 \(holds L1 validated pinned, type count 1\), asked for type L2/);
      // Deep in a tree: the L2 points at the L1 as if it were an L2 of an L3.
      entry(e, 2, 1, 4, TBL);
      const d = refused(e, () => e.frames.pin(1, 'L4'), 'type-mismatch', 4);
      expect(d.details).toMatchObject({ table: 2, entry: 1, type: 'L2' });
    });

    test('writable-pagetable: an L1 may not map a page-table frame writable (read-only is fine)', () => {
      const e = setup(backend);
      e.frames.pin(3, 'L2'); // 3 (L2) -> 4 (L1): 4 now holds L1
      entry(e, 20, 0, 4, LEAF_RW);
      const t = refused(e, () => e.frames.pin(20, 'L1'), 'writable-pagetable', 4);
      expect(t.details).toMatchObject({ table: 20, entry: 0 });
      expect(t.message).toMatch(/entry 0 = 0x4067 of L1 table 0x14/);
      entry(e, 20, 0, 4, LEAF_RO);
      e.frames.pin(20, 'L1');
      expect(e.frames.info(4)).toMatchObject({ type: 'L1', typeCount: 1, refCount: 3 });
    });

    test('a table cannot be promoted while it is mapped writable', () => {
      const e = setup(backend);
      e.frames.pin(4, 'L1'); // 10 is now writable with a reference
      entry(e, 3, 1, 10, TBL);
      refused(e, () => e.frames.pin(3, 'L2'), 'type-mismatch', 10);
    });

    test('disallowed-flags and superpage', () => {
      const e = setup(backend);
      entry(e, 3, 5, 30, TBL | D);
      refused(e, () => e.frames.pin(3, 'L2'), 'disallowed-flags');
      entry(e, 3, 5, 30, TBL | G);
      refused(e, () => e.frames.pin(3, 'L2'), 'disallowed-flags');
      entry(e, 3, 5, 30, TBL | PS);
      refused(e, () => e.frames.pin(3, 'L2'), 'superpage');
      entry(e, 3, 5, 0, 0);
      entry(e, 2, 5, 30, TBL | PS);
      refused(e, () => e.frames.pin(2, 'L3'), 'superpage');
      entry(e, 2, 5, 0, 0);
      entry(e, 1, 5, 30, TBL | PS);
      refused(e, () => e.frames.pin(1, 'L4'), 'disallowed-flags');
      entry(e, 4, 5, 30, LEAF_RW, 1 << 20); // bit 52
      refused(e, () => e.frames.pin(4, 'L1'), 'disallowed-flags');
    });

    test('frame-range, not-allocated, foreign-frame, outside-image', () => {
      const e = setup(backend);
      entry(e, 4, 9, 500, LEAF_RO);
      refused(e, () => e.frames.pin(4, 'L1'), 'frame-range', 500);
      entry(e, 4, 9, 60, LEAF_RO); // free
      refused(e, () => e.frames.pin(4, 'L1'), 'not-allocated', 60);
      entry(e, 4, 9, 50, LEAF_RO); // domain 2's
      const t = refused(e, () => e.frames.pin(4, 'L1'), 'foreign-frame', 50);
      expect(t.message).toMatch(/owned by domain 2/);
      entry(e, 4, 9, 100, LEAF_RW); // data beyond the image: fine as a leaf
      e.frames.pin(4, 'L1');
      expect(e.frames.info(100)).toMatchObject({ type: 'writable', typeCount: 1 });
      entry(e, 3, 9, 101, TBL); // ...but not as a table
      refused(e, () => e.frames.pin(3, 'L2'), 'outside-image', 101);
      refused(e, () => e.frames.getType(102, 'L1'), 'outside-image', 102);
    });

    test('count-overflow, not-validated, partial', () => {
      const e = setup(backend);
      const col = e.frames.columns().typeInfo;
      col[10] = encodeTypeInfo({ type: 'writable', validated: true, typeCount: A.PGT_COUNT_MASK });
      refused(e, () => e.frames.pin(4, 'L1'), 'count-overflow', 10);
      col[10] = 0;
      col[20] = encodeTypeInfo({ type: 'L1', typeCount: 1 });
      refused(e, () => e.frames.getType(20, 'L1'), 'not-validated', 20);
      col[21] = encodeTypeInfo({ type: 'L1', partial: true });
      refused(e, () => e.frames.getType(21, 'L1'), 'partial', 21);
    });

    test('no-type-reference, pinned, not-pinned, locked, not-locked', () => {
      const e = setup(backend);
      refused(e, () => e.frames.putType(4), 'no-type-reference', 4);
      e.frames.pin(4, 'L1');
      refused(e, () => e.frames.pin(4, 'L1'), 'pinned', 4);
      refused(e, () => e.frames.putType(4), 'pinned', 4);
      refused(e, () => e.frames.unpin(10), 'not-pinned', 10);
      refused(e, () => e.frames.unlock(4), 'not-locked', 4);
      e.frames.getType(10, 'writable'); // 10: writable, 2 references (the L1's and this one)
      expect(e.frames.lock(10)).toBe(true);
      e.frames.putType(10);
      e.frames.putType(10);
      refused(e, () => e.frames.putType(10), 'locked', 10);
    });

    test('bad-type from the kernels; bad input from the API', () => {
      const e = setup(backend);
      expect(e.backend.frames.getType(4, 7)).toBe(A.TE_BAD_TYPE);
      expect(e.backend.frames.pin(4, A.PGT_WRITABLE)).toBe(A.TE_BAD_TYPE);
      expect(() => e.frames.pin(4, 'writable' as never)).toThrow(InvalidInputError);
      expect(() => e.frames.getType(4, 'none')).toThrow(InvalidInputError);
      expect(() => e.frames.getType(4, 'L5' as never)).toThrow(/type: 'L5' is not one of none, L1, L2, L3, L4, seg-desc, writable/);
      expect(() => e.frames.getType(128, 'L1')).toThrow(/frame: 128 is not a frame of the frame table \[0, 128\)/);
    });

    test('a deep failure undoes everything: counts, types, undo bits, nr_l4_pages, the index, slot 256', () => {
      const e = setup(backend, true);
      // L3 2 -> L2 3 (valid, -> L1 4 -> 10 rw, 11 ro) and L2 6 (-> L1 7 -> L1 4 writable: refused).
      entry(e, 2, 1, 6, TBL);
      entry(e, 6, 0, 7, TBL);
      entry(e, 7, 0, 12, LEAF_RW);
      entry(e, 7, 1, 4, LEAF_RW);
      // Give 12 an earlier life as a writable frame whose references are gone.
      e.frames.getType(12, 'writable');
      e.frames.putType(12);
      e.phys.write64(4096n + 256n * 8n, 0x1234n);
      const t = refused(e, () => e.frames.pin(1, 'L4'), 'writable-pagetable', 4);
      expect(t.details).toMatchObject({ table: 7, entry: 1 });
      expect(e.domains.get(1).nrL4Pages).toBe(0);
      expect(readEntry(e, 1, 256)).toBe(0x1234n);
      expect(e.frames.audit({ references: true }).ok).toBe(true);
    });
  });
});
