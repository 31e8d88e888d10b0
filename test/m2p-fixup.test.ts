import { describe, test, expect } from 'vitest';
import { createEngine, type Engine, type BackendName } from '../src/index.js';
import {
  buildGuest, guestEngineOptions, m2pFixup, fixupCall, parsePreempt, restoreVcpuContext, setVcpuContext, type GuestOptions,
} from '../src/xen/index.js';
import * as A from '../src/abi.js';
import { BACKENDS, readEntry, frameState, expectSameState } from './helpers/frames-fixtures.js';

const RO_MPT = (BigInt(A.RO_MPT_HI) << 32n) | BigInt(A.RO_MPT_LO);

/**
 * A 4 MiB guest (1024 frames, ascending) with three processes, one user page and
 * one kernel page each. Pattern order puts the shared kernel L3, L2, L1 at frames
 * 0, 1, 2, then per process L4, L3, L2, L1: the L4s are frames 3, 7 and 11.
 */
const SMALL: GuestOptions = { memory: '4M', processes: 3, userPages: 1, kernelPages: 1 };

function guest(backend: BackendName, options: Partial<GuestOptions> = {}) {
  const o = { ...SMALL, ...options };
  const e = createEngine(guestEngineOptions({ ...o, backend }));
  const g = buildGuest(e, o);
  return { e, g };
}

const filled = (e: Engine, l4: number) => readEntry(e, l4, 256) === RO_MPT;

describe.each(BACKENDS)('the m2p-strict fix-up on %s', (backend) => {
  test('the guest: three L4s at frames 3, 7, 11, pinned with m2p-strict clear, so their RO_MPT slots are empty', () => {
    const { e, g } = guest(backend);
    expect(g.l4s).toEqual([3, 7, 11]);
    expect(e.domains.get(1).nrL4Pages).toBe(3);
    expect(g.l4s.map((f) => readEntry(e, f, 256))).toEqual([0n, 0n, 0n]);
    expect([...e.frames.list(1).frames()]).toEqual(Array.from({ length: 1024 }, (_, i) => i));
  });

  test('faithful: one full rotation fills every L4, then stops at the first slot already set', () => {
    const { e, g } = guest(backend);
    const r = m2pFixup(e, g.domain, { strategy: 'faithful' });
    // 1024 frames (fills 3, 7, 11), then 0, 1, 2, 3: frame 3 is already set -> done.
    expect(r).toMatchObject({ framesVisited: 1028, l4FilledByRun: 3, l4AlreadySet: 1, l4Total: 3, l4Filled: 3, allFilled: true, continuations: 0, stuck: false });
    expect(g.l4s.every((f) => filled(e, f))).toBe(true);
    // The rotation is the cursor: the list now starts at frame 4.
    expect(e.frames.list(1).head).toBe(4);
    expect(e.frames.list(1).tail).toBe(3);
    expect(e.frames.audit({ references: true }).ok).toBe(true);
  });

  test('preemption every K checks: restart, and the next call continues with no cursor', () => {
    const ref = guest(backend);
    m2pFixup(ref.e, 1, { strategy: 'faithful' });
    for (const [k, continuations] of [[1, 4], [2, 2], [4, 1], [5, 0]] as const) {
      const { e } = guest(backend);
      // 1028 frames in calls of 256 * K frames.
      const r = m2pFixup(e, 1, { strategy: 'faithful', preempt: parsePreempt(`every:${k}`) });
      expect(r).toMatchObject({ framesVisited: 1028, continuations, calls: continuations + 1, allFilled: true });
      expectSameState(frameState(ref.e), frameState(e));
    }
  });

  test('one call returns restart at the K-th check; calling again continues where it stopped', () => {
    const { e } = guest(backend);
    const c1 = fixupCall(e, 1, { strategy: 'faithful', preempt: { kind: 'every', checks: 2 } });
    expect(c1).toMatchObject({ result: 'restart', framesVisited: 512, filled: 3, preemptionChecks: 2 });
    expect(e.frames.list(1).head).toBe(512);
    const c2 = fixupCall(e, 1, { strategy: 'faithful', preempt: { kind: 'every', checks: 2 } });
    expect(c2).toMatchObject({ result: 'restart', framesVisited: 512, filled: 0 });
    const c3 = fixupCall(e, 1, { strategy: 'faithful', preempt: { kind: 'every', checks: 2 } });
    expect(c3).toMatchObject({ result: 'done', framesVisited: 4, alreadySet: 1 });
  });

  test('a time budget preempts between slices of 256 frames and ends in the same state', () => {
    const ref = guest(backend);
    m2pFixup(ref.e, 1, { strategy: 'faithful' });
    const { e } = guest(backend);
    const r = m2pFixup(e, 1, { strategy: 'faithful', preempt: parsePreempt('budget:0.001') });
    expect(r.framesVisited).toBe(1028);
    expect(r.allFilled).toBe(true);
    expect(r.kernelCalls).toBe(5); // ceil(1028 / 256): one kernel call per check
    expectSameState(frameState(ref.e), frameState(e));
  });

  test('the fragile assumption: with one L4 already filled the faithful loop stops early; the variants fill all', () => {
    const strategies = ['faithful', 'counted', 'flat', 'indexed'] as const;
    const out = strategies.map((strategy) => {
      const { e, g } = guest(backend);
      expect(e.frames.fillRoMpt(7)).toBe(true); // process 1's L4, as an earlier call left it
      const r = m2pFixup(e, g.domain, { strategy });
      return { strategy, r, unfilled: g.l4s.filter((f) => !filled(e, f)) };
    });
    // Faithful: fills 3, meets 7 already set after 8 frames, and never reaches 11.
    expect(out[0]!.r).toMatchObject({ framesVisited: 8, l4FilledByRun: 1, l4AlreadySet: 1, l4Filled: 2, l4Total: 3, allFilled: false });
    expect(out[0]!.unfilled).toEqual([11]);
    // Counted: exactly one round of 1024; flat: the 1024-frame table; indexed: the 3 L4s.
    expect(out[1]!.r).toMatchObject({ framesVisited: 1024, l4FilledByRun: 2, l4AlreadySet: 1, allFilled: true });
    expect(out[2]!.r).toMatchObject({ framesVisited: 1024, l4FilledByRun: 2, allFilled: true });
    expect(out[3]!.r).toMatchObject({ framesVisited: 3, l4FilledByRun: 2, allFilled: true });
    for (const o of out.slice(1)) expect(o.unfilled).toEqual([]);
  });

  test('the fragile assumption after a second set-context call: a re-pinned L4 is missed', () => {
    const { e, g } = guest(backend);
    // Restore: the toolstack sets vCPU 0's context with m2p-strict.
    expect(restoreVcpuContext(e, 1, { m2pStrict: true, gate: 'v1' })).toMatchObject({ entered: true, allFilled: true, framesVisited: 1028 });
    // The vCPU is reset with the assist clear (existing L4s keep their slot), and the
    // guest re-pins process 2's L4, which is promoted without the slot.
    setVcpuContext(e, 1, { m2pStrict: false, gate: 'v1' });
    e.frames.unpin(11);
    e.frames.pin(11, 'L4');
    expect(filled(e, 11)).toBe(false);
    // Set again: the list starts at frame 4, so frame 7 (already set) ends the loop after 4 frames.
    const again = restoreVcpuContext(e, 1, { m2pStrict: true, gate: 'v1' });
    expect(again).toMatchObject({ entered: true, framesVisited: 4, l4AlreadySet: 1, allFilled: false, l4Filled: 2 });
    expect(filled(e, 11)).toBe(false);
    // The count-based rotation does not stop early.
    const fixed = m2pFixup(e, 1, { strategy: 'counted' });
    expect(fixed).toMatchObject({ framesVisited: 1024, l4FilledByRun: 1, allFilled: true });
  });

  test('frames that cannot be locked are skipped, and picked up by a later round (v1) or never (v2)', () => {
    for (const gate of ['v1', 'v2'] as const) {
      const { e } = guest(backend);
      expect(e.frames.lock(7)).toBe(true); // someone holds process 1's L4
      const first = restoreVcpuContext(e, 1, { m2pStrict: true, gate });
      expect(first).toMatchObject({ entered: true, framesVisited: 1028, l4FilledByRun: 2, l4LockFailed: 1, l4Filled: 2, allFilled: false });
      e.frames.unlock(7);
      const later = restoreVcpuContext(e, 1, { m2pStrict: true, gate });
      if (gate === 'v1') {
        // The list starts at 4: 4, 5, 6, 7 (filled now), 8, 9, 10, 11 (already set): done.
        expect(later).toMatchObject({ entered: true, framesVisited: 8, l4FilledByRun: 1, allFilled: true });
      } else {
        // The flag does not change, so v2 never enters the loop again: frame 7 stays empty.
        expect(later).toMatchObject({ entered: false, framesVisited: 0, allFilled: false });
        expect(filled(e, 7)).toBe(false);
      }
    }
  });

  test('the v2 gate: only a clear -> set change of the flag, by the toolstack, with L4s, enters the loop', () => {
    // Flag already set: v1 runs the loop again (Andrew's objection), v2 does not.
    const { e } = guest(backend);
    restoreVcpuContext(e, 1, { m2pStrict: true, gate: 'v2' });
    expect(e.domains.get(1).m2pStrict).toBe(true);
    expect(setVcpuContext(e, 1, { m2pStrict: true, gate: 'v2' })).toMatchObject({ rc: 'ok', entered: false });
    const v1 = setVcpuContext(e, 1, { m2pStrict: true, gate: 'v1' });
    expect(v1).toMatchObject({ rc: 'ok', entered: true });
    expect(v1.call!.framesVisited).toBe(4); // from frame 4 to the first set L4, frame 7
    // Not the toolstack, not vCPU 0, or m2p-strict off: no loop.
    const { e: e2 } = guest(backend);
    expect(setVcpuContext(e2, 1, { m2pStrict: true, byToolstack: false }).entered).toBe(false);
    expect(setVcpuContext(e2, 1, { m2pStrict: true, vcpu: 1 }).entered).toBe(false);
    expect(setVcpuContext(e2, 1, { m2pStrict: false }).entered).toBe(false);
  });

  test('v2 keeps the flag clear until the loop is done, so a restart re-enters it', () => {
    const { e } = guest(backend);
    const r1 = setVcpuContext(e, 1, { m2pStrict: true, gate: 'v2', preempt: { kind: 'every', checks: 1 } });
    expect(r1).toMatchObject({ rc: 'restart', entered: true });
    expect(e.domains.get(1).m2pStrict).toBe(false);
    const all = restoreVcpuContext(e, 1, { m2pStrict: true, gate: 'v2', preempt: { kind: 'every', checks: 1 } });
    // 1028 - 256 frames left: 772 -> 4 calls, 3 of them restarts.
    expect(all).toMatchObject({ framesVisited: 772, continuations: 3, allFilled: true });
    expect(e.domains.get(1).m2pStrict).toBe(true);
  });

  test('migration v2 order: context first (no L4s yet, no loop), then pinning fills the slot at promotion', () => {
    const e = createEngine(guestEngineOptions({ ...SMALL, backend }));
    const d = e.domains.create(1);
    e.frames.allocate(1, { first: 0, count: 1024 });
    expect(setVcpuContext(e, 1, { m2pStrict: true })).toMatchObject({ rc: 'ok', entered: false });
    expect(d.m2pStrict).toBe(true);
    e.frames.pin(3, 'L4'); // an empty L4 still gets the hypervisor slots
    expect(filled(e, 3)).toBe(true);
  });

  test('variants continue across restarts from the domain record', () => {
    const cases = [
      ['counted', { framesVisited: 1024, continuations: 3 }],
      ['flat', { framesVisited: 1024, continuations: 3 }],
      ['indexed', { framesVisited: 3, continuations: 0 }],
    ] as const;
    for (const [strategy, want] of cases) {
      const { e } = guest(backend);
      const r = m2pFixup(e, 1, { strategy, preempt: { kind: 'every', checks: 1 } });
      expect(r).toMatchObject({ ...want, allFilled: true, l4FilledByRun: 3 });
      expect(e.domains.get(1).record().fixupInProgress).toBeUndefined();
      // Counted rotates exactly once round: the list is back in its first order.
      if (strategy === 'counted') expect(e.frames.list(1).head).toBe(0);
    }
  });

  test('indexed: 300 L4s, preempted after 256; a demoted L4 at the cursor is skipped', () => {
    const o: Partial<GuestOptions> = { memory: '16M', processes: 300, userPages: 0, kernelPages: 0 };
    const { e, g } = guest(backend, o);
    const c1 = fixupCall(e, 1, { strategy: 'indexed', preempt: { kind: 'every', checks: 1 } });
    expect(c1).toMatchObject({ result: 'restart', framesVisited: 256 });
    expect(e.domains.get(1).record().fixupInProgress).toBe('indexed');
    e.frames.unpin(g.l4s[256]!); // the cursor's frame leaves the index
    const c2 = fixupCall(e, 1, { strategy: 'indexed', preempt: { kind: 'every', checks: 1 } });
    expect(c2).toMatchObject({ result: 'done', framesVisited: 43 });
    expect(e.domains.get(1).nrL4Pages).toBe(299);
    expect(m2pFixup(e, 1, { strategy: 'flat' }).allFilled).toBe(true);
  });

  test('page_lock refuses exactly the frames its rule names, within runs of ordinary frames and across checks', () => {
    const V = A.PGT_VALIDATED, L = A.PGT_LOCKED, M = A.PGT_COUNT_MASK, W = A.PGT_WRITABLE << A.PGT_TYPE_SHIFT;
    // Hand-made type words on data frames of the list, around the first check (after frame 255)
    // and at its last frame; lockable: validated, not locked, count from 1 to M - 1.
    const words: [number, number, boolean][] = [
      [254, W | V | 1, true],
      [255, W | V, false], // count 0
      [256, W | V | M, false], // count at its maximum
      [257, W | V | (M - 1), true],
      [258, W | V | L | 1, false], // already locked
      [259, W | 5, false], // not validated
      [1023, (A.PGT_L1 << A.PGT_TYPE_SHIFT) | V | 7, true],
    ];
    // The rule as the spec states it, applied to the untouched guest's words.
    const lockable = (x: number) => (x & (L | V)) === V && (x & M) !== 0 && (x & M) !== M;
    for (const strategy of ['counted', 'faithful'] as const) {
      const { e } = guest(backend);
      const col = new Uint32Array(e.memory.buffer, e.layout.colType, e.layout.frames);
      for (const [f, x] of words) {
        expect(col[f]).toBe(0); // a data frame nobody typed
        col[f] = x >>> 0;
      }
      const before = col.slice();
      // Counted visits frames 0..1023 once; faithful then 0, 1, 2 and 3 (the first L4, already set).
      const order = strategy === 'counted' ? [...before.keys()] : [...before.keys(), 0, 1, 2, 3];
      const refused = order.filter((f) => !lockable(before[f]!)).length;
      expect(words.filter(([, , ok]) => ok).every(([f]) => lockable(before[f]!))).toBe(true);
      expect(words.filter(([, , ok]) => !ok).some(([f]) => lockable(before[f]!))).toBe(false);
      const r = m2pFixup(e, 1, { strategy, preempt: { kind: 'every', checks: 1 } });
      expect(r).toMatchObject({ framesVisited: order.length, lockFailed: refused, l4LockFailed: 0, l4FilledByRun: 3, allFilled: true });
      // Lock then unlock: every word as it was (the L4s' too: their slot is in the table, not here).
      expect([...col]).toEqual([...before]);
    }
  });

  test('a faithful loop that can never meet a lockable L4 is reported stuck, not run forever', () => {
    const { e } = guest(backend);
    for (const f of [3, 7, 11]) expect(e.frames.lock(f)).toBe(true);
    const r = m2pFixup(e, 1, { strategy: 'faithful' });
    expect(r.stuck).toBe(true);
    expect(r.l4Filled).toBe(0);
    const v = m2pFixup(e, 1, { strategy: 'faithful', preempt: { kind: 'every', checks: 1 } });
    expect(v.stuck).toBe(true);
  });
});

test('both backends leave identical state after every strategy, on a random-order guest', () => {
  for (const strategy of ['faithful', 'counted', 'flat', 'indexed'] as const) {
    const states = BACKENDS.map((backend) => {
      const { e } = guest(backend, { memory: '8M', processes: 20, order: 'random', seed: 99, prefilledL4s: 3 });
      const r = m2pFixup(e, 1, { strategy, preempt: { kind: 'every', checks: 1 } });
      return { r: { ...r, elapsedMs: 0 }, s: frameState(e) };
    });
    expect(states[1]!.r).toEqual(states[0]!.r);
    expectSameState(states[0]!.s, states[1]!.s);
  }
});

test('preemption policies parse; bad ones are named', () => {
  expect(parsePreempt('never')).toEqual({ kind: 'never' });
  expect(parsePreempt('every:3')).toEqual({ kind: 'every', checks: 3 });
  expect(parsePreempt('budget:2.5')).toEqual({ kind: 'budget', ms: 2.5 });
  for (const bad of ['every:0', 'every:x', 'budget:0', 'sometimes']) {
    expect(() => parsePreempt(bad)).toThrow(`--preempt: '${bad}' is not one of never, every:K (K >= 1), budget:MS (MS > 0)`);
  }
});
