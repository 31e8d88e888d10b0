// map, unmap and protect over tables that alias: roots that map themselves, entries
// that share a table, an allocator that hands out frames holding live tables. A
// request is either applied exactly as the independent oracle (test/helpers/
// oracle-map.ts) applies it, or refused with the memory and the allocator as they
// were, byte for byte, on both backends, whether the refusal comes from the dry run
// or midway through the real one.
import { afterAll, describe, test, expect } from 'vitest';
import fc from 'fast-check';
import {
  createEngine, x86_32, x86_pae, x86_64, aarch64_4k, BumpAllocator, MemwalkError, CapacityError, InvalidInputError, MappingConflictError, OutsideImageError,
  type Engine, type MapFlags, type PagingFormat,
} from '../src/index.js';
import { oracleFormat, type OracleFormat } from './helpers/oracle-formats.js';
import { OracleMemory } from './helpers/oracle-walk.js';
import { isRefusal, oracleMap, oracleProtect, oracleUnmap, type RefusalKind } from './helpers/oracle-map.js';

const FORMATS: PagingFormat[] = [x86_32, x86_pae, x86_64, aarch64_4k];
const FRAMES = 16;
const RAM = FRAMES * 4096;
const ROOT = 0x1000n;
/** Frames that hold tables (and that the allocator may be told to hand out again). */
const TABLE_FRAMES = 5;
const RUNS = 120;

interface Request {
  readonly op: 'map' | 'unmap' | 'protect';
  readonly va: bigint;
  readonly pa: bigint;
  readonly size: bigint;
  readonly flags: MapFlags;
}

/** Entry writes that make a small forest of tables in frames 1..TABLE_FRAMES, pointing at each other and at the root. */
function imageArb(f: OracleFormat): fc.Arbitrary<Array<readonly [bigint, bigint]>> {
  const last = f.levels.length - 1;
  const perTable = f.tableBytes / f.entryBytes;
  const leafLevels = f.levels.flatMap((l, i) => (l.leaf ? [i] : []));
  const r = f.resolve({});
  const entry = fc.oneof(
    { weight: 5, arbitrary: fc.record({ i: fc.integer({ min: 0, max: last - 1 }), to: fc.integer({ min: 1, max: TABLE_FRAMES }) }).map(({ i, to }) => f.newTable(i, BigInt(to) * 4096n)) },
    {
      weight: 2,
      arbitrary: fc.record({ i: fc.constantFrom(...leafLevels), frame: fc.integer({ min: 0, max: FRAMES - 1 }) }).map(({ i, frame }) => {
        const span = 1n << BigInt(f.levels[i]!.shift);
        return f.newLeaf(i, (BigInt(frame) * 4096n) & ~(span - 1n), f.leafBits({ write: true }), r) ?? 0n;
      }),
    },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << BigInt(8 * f.entryBytes)) - 1n }) },
  );
  const index = fc.oneof(fc.constantFrom(0, 1, 2, perTable - 2, perTable - 1), fc.integer({ min: 0, max: perTable - 1 }));
  const write = fc.record({ table: fc.integer({ min: 1, max: TABLE_FRAMES }), index, entry }).map(({ table, index: k, entry: e }) => [BigInt(table) * 4096n + BigInt(k * f.entryBytes), e] as const);
  return fc.array(write, { minLength: 1, maxLength: 14 });
}

/** The address whose index at level i is slots[i] (taken modulo the level's entries), `back` pages lower, in canonical form. */
function vaOf(f: OracleFormat, slots: readonly number[], back: number): bigint {
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  const raw = f.levels.reduce((va, l, i) => va | (BigInt(slots[i]! % 2 ** l.indexBits) << BigInt(l.shift)), 0n) - BigInt(back) * page;
  return f.canonical(BigInt.asUintN(64, raw));
}

/** Requests whose addresses go through the slots the image filled (so through its self-maps and shared tables) or next to them. */
function requestArb(f: OracleFormat, writes: ReadonlyArray<readonly [bigint, bigint]>): fc.Arbitrary<Request> {
  const perTable = f.tableBytes / f.entryBytes;
  const used = [...new Set(writes.map(([at]) => Number(at % 4096n) / f.entryBytes))];
  const slot = fc.oneof(fc.constantFrom(...used, 0, perTable - 1), fc.constantFrom(...used.map((k) => (k + 1) % perTable)));
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  const sizes = [page, 2n * page, 3n * page, 1n << BigInt(f.levels[f.levels.length - 2]!.shift)];
  return fc
    .record({
      op: fc.constantFrom('map', 'map', 'map', 'unmap', 'protect'),
      slots: fc.array(slot, { minLength: f.levels.length, maxLength: f.levels.length }),
      back: fc.integer({ min: 0, max: 2 }),
      size: fc.constantFrom(...sizes),
      pa: fc.integer({ min: 0, max: FRAMES - 1 }).map((k) => BigInt(k) * page),
      write: fc.boolean(),
      user: fc.boolean(),
    })
    .map(({ op, slots, back, size, pa, write, user }) => ({ op, va: vaOf(f, slots, back), pa, size, flags: { write, user } }) as Request);
}

/**
 * The shape that makes a real run read what it wrote: the root maps itself from
 * slot `s` (the levels above the last two) and from the second-last slot, so that
 * two pages at the end of the last slot's span put a leaf into the root's last entry
 * and then read that entry as a table pointer; `zero` also maps it from slot 0.
 */
function selfMapArb(f: OracleFormat): fc.Arbitrary<{ writes: Array<readonly [bigint, bigint]>; request: Request }> {
  const n = f.levels.length;
  const top = 2 ** f.levels[0]!.indexBits;
  const perTable = f.tableBytes / f.entryBytes;
  return fc.record({ s: fc.integer({ min: 0, max: top - 1 }), zero: fc.boolean(), write: fc.boolean() }).map(({ s, zero, write }) => {
    const self = (k: number) => [ROOT + BigInt(k * f.entryBytes), f.newTable(0, ROOT)] as const;
    const writes = [self(s % perTable), self(perTable - 2), ...(zero ? [self(0)] : [])];
    const slots = [...Array<number>(n - 2).fill(s), perTable - 2, perTable - 1];
    const page = 1n << BigInt(f.levels[n - 1]!.shift);
    return { writes, request: { op: 'map', va: vaOf(f, slots, 0), pa: ROOT, size: 2n * page, flags: { write } } as Request };
  });
}

const ERROR_OF: Record<RefusalKind, new (...a: never[]) => MemwalkError> = {
  'invalid-input': InvalidInputError,
  'already-mapped': MappingConflictError,
  'inside-leaf': MappingConflictError,
  'splits-leaf': MappingConflictError,
  'pa-unrepresentable': MappingConflictError,
  'bad-entry': MappingConflictError,
  'outside-image': OutsideImageError,
  capacity: CapacityError,
  'tables-changed': MappingConflictError,
};

function runOracle(mem: OracleMemory, f: OracleFormat, q: Request, alloc: BumpAllocator) {
  if (q.op === 'map') return oracleMap(mem, f, ROOT, q.va, q.pa, q.size, q.flags, alloc);
  if (q.op === 'unmap') return oracleUnmap(mem, f, ROOT, q.va, q.size);
  return oracleProtect(mem, f, ROOT, q.va, q.size, q.flags);
}

function runEngine(e: Engine, format: PagingFormat, q: Request, alloc: BumpAllocator): unknown {
  try {
    if (q.op === 'map') return e.map(ROOT, q.va, q.pa, q.size, q.flags, alloc, { format });
    if (q.op === 'unmap') return e.unmap(ROOT, q.va, q.size, { format });
    return e.protect(ROOT, q.va, q.size, q.flags, { format });
  } catch (err) {
    return err;
  }
}

const image = (e: Engine) => new Uint8Array(e.memory.buffer, e.phys.memoryOffset, e.phys.size).slice();
/** Everything a BumpAllocator holds (its fields are plain properties). */
const stateOf = (a: BumpAllocator) => JSON.stringify(a);

const tally = new Map<string, number>();
afterAll(() => {
  console.log(`map-undo outcomes: ${[...tally].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
});

describe.each(FORMATS.map((format) => [format.name, format] as const))('%s', (name, format) => {
  const f = oracleFormat(name);
  const engines = (['wasm', 'reference'] as const).map((backend) => createEngine({ ramBytes: RAM, backend, ioBytes: 1 << 20 }));

  test(`random requests over aliasing tables: applied as the oracle does, or refused leaving memory and allocator untouched (${RUNS} images)`, async () => {
    let midway = 0;
    const random = imageArb(f).chain((writes) => fc.record({ writes: fc.constant(writes), requests: fc.array(requestArb(f, writes), { minLength: 1, maxLength: 4 }) }));
    const selfMapped = fc
      .tuple(selfMapArb(f), imageArb(f), fc.boolean())
      .chain(([sm, more, extra]) => {
        const writes = [...sm.writes, ...(extra ? more : [])];
        return fc.record({ writes: fc.constant(writes), requests: fc.array(requestArb(f, writes), { maxLength: 2 }).map((rest) => [sm.request, ...rest]) });
      });
    const scenario = fc.record({
      image: fc.oneof(random, selfMapped),
      // The allocator starts among the live tables as often as above them.
      first: fc.integer({ min: 1, max: FRAMES - 2 }),
      room: fc.integer({ min: 0, max: 12 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ image: { writes, requests }, first, room }) => {
        await new Promise((resolve) => setImmediate(resolve));
        const mem = OracleMemory.fromWrites(RAM, f.entryBytes, writes);
        const end = Math.min(FRAMES, first + room);
        const oracleAlloc = new BumpAllocator(first, end);
        const allocs = engines.map(() => new BumpAllocator(first, end));
        for (const e of engines) e.phys.write(0, mem.bytes);
        for (const q of requests) {
          const before = mem.bytes.slice();
          const want = runOracle(mem, f, q, oracleAlloc);
          const refused = isRefusal(want);
          if (refused && want.midway) midway++;
          const key = `${name} ${q.op} ${refused ? `refused ${want.refused}${want.midway ? ' midway' : ''}` : 'applied'}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          engines.forEach((e, k) => {
            const allocBefore = stateOf(allocs[k]!);
            const got = runEngine(e, format, q, allocs[k]!);
            if (refused) {
              expect(got).toBeInstanceOf(ERROR_OF[want.refused]);
              // Byte for byte as before the request (the oracle's memory is the before-image, taken independently).
              expect(Buffer.compare(image(e), before)).toBe(0);
              expect(stateOf(allocs[k]!)).toBe(allocBefore);
            } else {
              expect(got).not.toBeInstanceOf(Error);
              const n = typeof want === 'number' ? want : want.leaves;
              expect(typeof got === 'number' ? got : (got as { leaves: number }).leaves).toBe(n);
              if (typeof want !== 'number') expect((got as { tableFrames: number[] }).tableFrames).toEqual(want.tableFrames);
            }
            // Applied or refused, the engine's image is the oracle's, and so is the allocator.
            expect(Buffer.compare(image(e), mem.bytes)).toBe(0);
            expect(stateOf(allocs[k]!)).toBe(stateOf(oracleAlloc));
          });
        }
      }),
      { numRuns: RUNS },
    );
    // The images must reach the case this test is for: some request refused midway.
    expect(midway).toBeGreaterThan(0);
  });
});

// The allocator hands out frame 1, the PAE root itself: the real run zeroes the root
// to make its new directory, so its second pass meets tables its dry run never saw.
describe.each(['wasm', 'reference'] as const)('%s: an allocator that hands out a live table', (backend) => {
  test('the run is refused as needing more tables than counted, and nothing changes', () => {
    const e = createEngine({ ramBytes: RAM, backend, ioBytes: 1 << 20 });
    // A shrunk random image: PDPT[1] -> 0x5000, tables in frames 1..6 pointing at each other, two garbage entries;
    // 2 MiB of 4 KiB pages from 0x3fe87000 cross from PDPT[0] (empty: a new directory, in frame 1) into PDPT[1].
    const writes: Array<[bigint, bigint]> = [
      [0x2438n, 0xa9958edb5eba289cn], [0x38f0n, 0x6003n], [0x2ff8n, 0x3001n], [0x5f58n, 0x1007n], [0x4fd0n, 0xdb809f6645a690den],
      [0x18b0n, 0x1001n], [0x1008n, 0x5001n], [0x2010n, 0x2007n], [0x4010n, 0x4007n],
    ];
    for (const [at, v] of writes) e.phys.write64(at, v);
    const before = image(e);
    const alloc = new BumpAllocator(1, 4);
    const allocBefore = stateOf(alloc);
    expect(() => e.map(ROOT, 0x3fe87000n, 0n, 0x200000n, { write: false, user: false }, alloc, { format: x86_pae })).toThrow(/^map: the run needed more new tables than its dry run counted at 0x[0-9a-f]+: .*nothing was changed$/);
    expect(Buffer.compare(image(e), before)).toBe(0);
    expect(stateOf(alloc)).toBe(allocBefore);
  });
});

// When what a run overwrites does not fit the undo journal (the I/O buffer after
// map's table pool), the run is undone and refused: shown with 4096 leaves whose
// old contents all differ, against a 64 KiB buffer (2730 notes of 24 bytes).
describe.each(['wasm', 'reference'] as const)('%s: a journal that runs out of room', (backend) => {
  const P = 1n, US = 4n;
  /** x86-64 tables by hand: root 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> 8 PTs from 0x4000, their 4096 entries `leaf(i)`. */
  function engineWith(leaf: (i: number) => bigint) {
    const e = createEngine({ ramBytes: 64 * 4096, backend, ioBytes: 1 << 16 });
    e.phys.write64(0x1000n, 0x2000n | 7n);
    e.phys.write64(0x2000n, 0x3000n | 7n);
    for (let t = 0; t < 8; t++) e.phys.write64(0x3000n + BigInt(t * 8), BigInt(0x4000 + t * 0x1000) | 7n);
    for (let i = 0; i < 4096; i++) e.phys.write64(0x4000n + BigInt(i * 8), leaf(i));
    return e;
  }

  test('protect: leaves whose rights alternate, undone and refused', () => {
    const e = engineWith((i) => (BigInt(i) << 12n) | P | (i % 2 ? US : 0n));
    const before = image(e);
    expect(() => e.protect(ROOT, 0n, 4096n * 4096n, { write: true, user: true })).toThrow(CapacityError);
    expect(() => e.protect(ROOT, 0n, 4096n * 4096n, { write: true, user: true })).toThrow(/protect: what the run overwrites needs more than the 65536 bytes of I\/O buffer left for its undo journal; nothing was changed/);
    expect(Buffer.compare(image(e), before)).toBe(0);
    // Half the range fits (2048 notes): it is applied, every leaf writable and user.
    expect(e.protect(ROOT, 0n, 2048n * 4096n, { write: true, user: true })).toBe(2048);
    expect(e.phys.read64(0x4000n + 8n * 2047n)).toBe((2047n << 12n) | P | 2n | US);
  });

  test('map: entries that are invalid but not zero, each different, undone and refused', () => {
    const e = engineWith((i) => BigInt(i + 1) << 12n);
    const before = image(e);
    const alloc = new BumpAllocator(20, 64), allocBefore = stateOf(alloc);
    expect(() => e.map(ROOT, 0n, 0n, 4096n * 4096n, {}, alloc, { format: x86_64, largestLeaf: 4096 })).toThrow(CapacityError);
    expect(() => e.map(ROOT, 0n, 0n, 4096n * 4096n, {}, alloc, { format: x86_64, largestLeaf: 4096 })).toThrow(/map: what the run overwrites needs more than the 65536 bytes/);
    expect(Buffer.compare(image(e), before)).toBe(0);
    expect(stateOf(alloc)).toBe(allocBefore);
  });
});
