import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, BumpAllocator, x86_64, x86_64_la57, MappingConflictError, CapacityError, InvalidInputError, type Engine } from '../src/index.js';

const G = 1n << 30n, M2 = 1n << 21n, K4 = 4096n;

function fresh(backend: 'wasm' | 'reference' = 'wasm') {
  const e = createEngine({ ramBytes: '8M', backend, ioBytes: 1 << 20 });
  const alloc = new BumpAllocator(2, 2048); // frame 1 is the root
  return { e, alloc, root: 0x1000n };
}

const snapshot = (e: Engine) => Buffer.from(e.phys.read(0, e.phys.size));

describe.each(['wasm', 'reference'] as const)('map / unmap / protect on %s', (backend) => {
  test('the superpage rule picks 1 GiB, then 2 MiB, then 4 KiB leaves', () => {
    const { e, alloc, root } = fresh(backend);
    const r = e.map(root, G, G, G + M2 + K4, { write: true }, alloc);
    // Leaves: [1G,2G) one 1 GiB; [2G, 2G+2M) one 2 MiB; one 4 KiB. Tables: a PDPT under
    // PML4[0], a PD under PDPT[2], a PT under PD[1]: 3 pages.
    expect(r.leaves).toBe(3);
    expect(r.tableFrames).toEqual([2, 3, 4]);
    expect(e.mappings(root).mappings.map((m) => [m.va, m.pa, m.size])).toEqual([
      [G, G, 2 ** 30],
      [2n * G, 2n * G, 2 ** 21],
      [2n * G + M2, 2n * G + M2, 4096],
    ]);
  });

  test('a physical address that is not aligned like the virtual one forces 4 KiB leaves', () => {
    const { e, alloc, root } = fresh(backend);
    const r = e.map(root, M2, M2 + K4, 2n * M2, {}, alloc);
    // 4 MiB of 4 KiB pages = 1024 leaves; PDPT + PD + two PTs.
    expect([r.leaves, r.tableFrames.length]).toEqual([1024, 4]);
    expect(e.translate(root, M2 + 0x123n)).toMatchObject({ ok: true, pa: M2 + K4 + 0x123n, pageSize: 4096 });
  });

  test('largestLeaf limits the leaf size', () => {
    const { e, alloc, root } = fresh(backend);
    expect(e.map(root, 0n, 0n, 2n * M2, {}, alloc, { largestLeaf: 4096 }).leaves).toBe(1024);
    expect(() => e.map(root, G, 0n, M2, {}, alloc, { largestLeaf: 12345 })).toThrow(/largestLeaf: 12345 is not a leaf size of this format \(1G, 2M, 4K\)/);
  });

  test('conflicts are found before anything is written or allocated', () => {
    const { e, alloc, root } = fresh(backend);
    e.map(root, 0n, 0n, M2, { write: true }, alloc);
    e.map(root, 4n * M2, 0n, K4, {}, alloc);
    const before = snapshot(e), left = alloc.remaining;
    expect(() => e.map(root, 3n * M2, 0n, 2n * M2, {}, alloc)).toThrow(MappingConflictError);
    expect(() => e.map(root, 3n * M2, 0n, 2n * M2, {}, alloc)).toThrow(/map: 0x800000 is already mapped \(entry 0x3020 = 0x4007\)/);
    expect(() => e.map(root, K4, 0n, K4, {}, alloc)).toThrow(/0x1000 lies inside an existing large leaf/);
    expect(snapshot(e).equals(before)).toBe(true);
    expect(alloc.remaining).toBe(left);
  });

  test('an exhausted allocator maps nothing and takes nothing', () => {
    const { e, root } = fresh(backend);
    const small = new BumpAllocator(2, 4); // 2 frames; mapping one 4 KiB page needs 3 tables
    const before = snapshot(e);
    expect(() => e.map(root, 0n, 0n, K4, {}, small)).toThrow(CapacityError);
    expect(() => e.map(root, 0n, 0n, K4, {}, small)).toThrow(/ran out after 2 of 3 table pages; nothing was mapped/);
    expect(snapshot(e).equals(before)).toBe(true);
    expect(small.remaining).toBe(2);
  });

  test('bad ranges are refused with the rule they break', () => {
    const { e, alloc, root } = fresh(backend);
    expect(() => e.map(root, 0x1001n, 0n, K4, {}, alloc)).toThrow(InvalidInputError);
    expect(() => e.map(root, 0n, 0n, 0n, {}, alloc)).toThrow(/size 0x0 must be positive/);
    expect(() => e.map(root, 0x7ffffffff000n, 0n, 2n * K4, {}, alloc)).toThrow(/not inside one canonical half/);
  });

  test('unmap clears whole leaves only', () => {
    const { e, alloc, root } = fresh(backend);
    e.map(root, 0n, 0n, 2n * M2, {}, alloc);
    expect(() => e.unmap(root, 0n, K4)).toThrow(/covers only part of the large leaf that maps 0x0/);
    expect(e.unmap(root, 0n, M2)).toBe(1);
    expect(e.translate(root, 0x1000n)).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 2 } });
    expect(e.translate(root, M2).ok).toBe(true);
  });

  test('protect rewrites the rights of every leaf in the range', () => {
    const { e, alloc, root } = fresh(backend);
    e.map(root, 0n, 0n, M2 + 2n * K4, { write: true, user: true }, alloc);
    expect(e.protect(root, 0n, M2 + 2n * K4, { write: false, user: true, execute: false })).toBe(3);
    expect(e.translate(root, M2, { access: 'write' })).toMatchObject({ fault: { kind: 'protection', errorCode: 3 } });
    expect(e.translate(root, M2, { access: 'execute' })).toMatchObject({ fault: { kind: 'protection' } });
    expect(e.translate(root, M2, { user: true })).toMatchObject({ ok: true });
  });

  test('LA57: a mapping in the upper half under a 5-level root', () => {
    const { e, alloc, root } = fresh(backend);
    const va = 0xff00000000000000n;
    e.map(root, va, 0x200000n, M2, { write: true }, alloc, { format: x86_64_la57 });
    expect(e.translate(root, va + 0x1234n, { format: x86_64_la57 })).toMatchObject({ ok: true, pa: 0x201234n, pageSize: 2 ** 21, level: 2 });
    expect(e.translate(root, va, { format: x86_64 }).ok).toBe(false);
  });
});

// Async, with a turn of the event loop between runs: a long synchronous property
// would starve the test runner's own messages on a loaded machine.
test('random map/unmap/protect sequences leave identical memory on both backends', async () => {
  const op = fc.record({
    kind: fc.constantFrom('map', 'map', 'unmap', 'protect'),
    va: fc.bigInt({ min: 0n, max: 2047n }).map((v) => v * K4 * 64n),
    pa: fc.bigInt({ min: 0n, max: 1023n }).map((v) => v * K4 * 8n),
    pages: fc.constantFrom(1n, 3n, 512n, 513n, 1024n),
    write: fc.boolean(),
    user: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      await new Promise((resolve) => setImmediate(resolve));
      const a = fresh('wasm'), b = fresh('reference');
      for (const o of ops) {
        const outcome = [a, b].map(({ e, alloc, root }) => {
          try {
            if (o.kind === 'map') return e.map(root, o.va, o.pa, o.pages * K4, { write: o.write, user: o.user }, alloc).leaves;
            if (o.kind === 'unmap') return e.unmap(root, o.va, o.pages * K4);
            return e.protect(root, o.va, o.pages * K4, { write: o.write, user: o.user });
          } catch (err) {
            return (err as Error).message;
          }
        });
        expect(outcome[1]).toEqual(outcome[0]);
      }
      expect(snapshot(b.e).equals(snapshot(a.e))).toBe(true);
    }),
    { numRuns: 60 },
  );
});
