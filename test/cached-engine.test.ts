// An engine whose physical memory is a frame cache over a source must answer
// exactly as a resident engine holding the same bytes (the resident engine is
// itself checked against independent oracles), on both backends, however small
// the cache; it must read from the source only the frames a question needs, and
// never write to it.
import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { createEngine, x86_64, x86_64_la57, BumpAllocator, type Engine } from '../src/index.js';
import { memorySource } from '../src/memory/memory-source.js';
import { FrameState, type PhysicalSource } from '../src/memory/source.js';
import { tableImageArb, RAM_BYTES } from './helpers/random-tables.js';
import { CapacityError } from '../src/errors.js';

const BACKENDS = ['wasm', 'reference'] as const;
const P = 1n, RW = 2n, US = 4n, PS = 0x80n;
const TABLE = P | RW | US;

function resident(writes: Array<[bigint, bigint]>): Engine {
  const e = createEngine({ ramBytes: RAM_BYTES, ioBytes: 1 << 20 });
  for (const [pa, v] of writes) e.phys.write64(pa, v);
  return e;
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));

describe('an engine over a source answers as a resident engine with the same bytes', () => {
  test.each(BACKENDS)('random x86-64 tables, 4- and 5-level, a 16-frame cache that keeps evicting (%s)', (backend) => {
    fc.assert(
      fc.property(fc.oneof(tableImageArb(4), tableImageArb(5)), (img) => {
        const res = resident(img.writes).withBackend(backend);
        const bytes = res.phys.read(0, RAM_BYTES);
        const cached = createEngine({ source: memorySource(bytes.slice()), cacheBytes: 65536, backend, ioBytes: 1 << 20 });
        const format = img.depth === 5 ? x86_64_la57 : x86_64;
        for (const va of img.vas) {
          expect(json(cached.translate(img.cr3, va, { format }))).toBe(json(res.translate(img.cr3, va, { format })));
        }
        for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
          const a = cached.translateBatch(img.cr3, img.vas, { format, strategy });
          const b = res.translateBatch(img.cr3, img.vas, { format, strategy });
          expect([...a.status]).toEqual([...b.status]);
          expect([...a.addr]).toEqual([...b.addr]);
        }
        const va0 = img.vas[0]! & ~0xfffn;
        const ra = cached.translateRange(img.cr3, va0, 600, { format });
        const rb = res.translateRange(img.cr3, va0, 600, { format });
        expect([...ra.status]).toEqual([...rb.status]);
        expect([...ra.addr]).toEqual([...rb.addr]);
        const ma = cached.mappings(img.cr3, { format, limit: 3000 });
        const mb = res.mappings(img.cr3, { format, limit: 3000 });
        expect(json(ma)).toBe(json(mb));
        // The frame cache never held more than its 16 frames.
        expect(cached.backing!.cache.statistics.slots).toBe(16);
      }),
      { numRuns: 60 },
    );
  });

  test.each(BACKENDS)('map, protect and unmap write private copies: same tables as resident, source untouched (%s)', (backend) => {
    const res = createEngine({ ramBytes: '4M', backend, ioBytes: 1 << 20 });
    const original = new Uint8Array(4 << 20);
    const cached = createEngine({ source: memorySource(original), cacheBytes: '1M', backend, ioBytes: 1 << 20 });
    const snapshot = original.slice();
    for (const e of [res, cached]) {
      const frames = new BumpAllocator(1, 1024);
      const root = BigInt(frames.allocate() * 4096);
      e.map(root, 0xffff800000000000n, 0x200000n, 0x600000n, { write: true }, frames);
      e.map(root, 0x400000n, 0x100000n, 0x3000n, { write: true, user: true }, frames);
      e.protect(root, 0x401000n, 0x2000n, { write: false, user: true });
      e.unmap(root, 0x403000n, 0x1000n);
    }
    const used = 12 * 4096;
    expect(Buffer.from(cached.phys.read(0, used)).equals(res.phys.read(0, used))).toBe(true);
    expect(res.phys.read(0x1000, 8)).not.toEqual(new Uint8Array(8));
    expect(json(cached.mappings(0x1000n))).toBe(json(res.mappings(0x1000n)));
    // The source's bytes are what they were: writes went to private frames only.
    expect(Buffer.from(original).equals(snapshot)).toBe(true);
    expect(cached.backing!.cache.statistics.privateFrames).toBeGreaterThan(0);
  });

  test('a write that needs more private frames than the cache can pin is refused before anything is written', () => {
    const original = new Uint8Array(1 << 20);
    const cached = createEngine({ source: memorySource(original), cacheBytes: 65536, ioBytes: 1 << 20 });
    const frames = new BumpAllocator(1, 255);
    const root = BigInt(frames.allocate() * 4096);
    // 64 MiB of 4 KiB pages needs 32 page tables (+2): more than 16 - 4 slots.
    expect(() => cached.map(root, 0x40000000n, 0n, 64n << 20n, { write: true }, frames, { largestLeaf: 4096 })).toThrow(CapacityError);
    expect(cached.mappings(root).mappings.length).toBe(0);
    expect(original.every((b) => b === 0)).toBe(true);
  });
});

/** A sparse source: frames given by number, every other frame absent; counts reads. */
function sparseSource(frames: Map<number, Uint8Array>): PhysicalSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    description: { format: 'test', name: 'sparse', vcpus: [] },
    ranges: [...frames.keys()].sort((a, b) => a - b).map((f) => ({ start: BigInt(f) * 4096n, end: BigInt(f + 1) * 4096n })),
    end: 2n ** 40n,
    reads,
    readFrame(pfn, out) {
      reads.push(pfn);
      const f = frames.get(pfn);
      if (!f) {
        out.fill(0);
        return FrameState.Absent;
      }
      out.set(f);
      return FrameState.Present;
    },
    close() {},
  };
}

describe('page tables at the top of a 1 TiB physical space', () => {
  // Tables in the last frames below 1 TiB; data pages far below them.
  const TOP = 2 ** 28; // frames in 1 TiB
  const pml4 = TOP - 1, pdpt = TOP - 2, pd = TOP - 3, pt = TOP - 4;
  const entry = (frame: number, bits: bigint) => (BigInt(frame) * 4096n) | bits;
  function source() {
    const page = (entries: Array<[number, bigint]>) => {
      const b = new Uint8Array(4096);
      const v = new DataView(b.buffer);
      for (const [i, e] of entries) v.setBigUint64(i * 8, e, true);
      return b;
    };
    return sparseSource(
      new Map([
        [pml4, page([[1, entry(pdpt, TABLE)], [2, entry(TOP + 5, TABLE)]])], // slot 2: a table beyond the source
        [pdpt, page([[0, entry(pd, TABLE)], [3, 0xc0000000n | PS | P]])], // slot 3: a 1 GiB leaf
        [pd, page([[4, entry(pt, TABLE)], [5, 0x200000n * 7n | PS | P | RW]])], // slot 5: a 2 MiB leaf
        [pt, page([[6, 0xabcdef000n | P | RW | US]])],
        [0xabcdef, new Uint8Array(4096).fill(0x5a)],
      ]),
    );
  }
  const cr3 = BigInt(pml4) * 4096n;

  test.each(BACKENDS)('walks end where worked out by hand, reading only the frames on the way (%s)', (backend) => {
    const src = source();
    const e = createEngine({ source: src, cacheBytes: 65536, backend });
    // VA: PML4[1] PDPT[0] PD[4] PT[6] + 0x123 = 1<<39 | 4<<21 | 6<<12 | 0x123.
    const va = (1n << 39n) | (4n << 21n) | (6n << 12n) | 0x123n;
    const r = e.translate(cr3, va);
    expect(r.ok && [r.pa, r.pageSize, r.level]).toEqual([0xabcdef123n, 4096, 1]);
    expect(src.reads).toEqual([pml4, pdpt, pd, pt]);
    expect(e.phys.read(0xabcdef123n, 4)).toEqual(Uint8Array.of(0x5a, 0x5a, 0x5a, 0x5a));
    const big = e.translate(cr3, (1n << 39n) | (3n << 30n) | 0x1234n);
    expect(big.ok && [big.pa, big.pageSize]).toEqual([0xc0001234n, 2 ** 30]);
    const two = e.translate(cr3, (1n << 39n) | (5n << 21n) | 0x1234n);
    expect(two.ok && [two.pa, two.pageSize]).toEqual([0xe01234n, 2 ** 21]);
    // PML4[2] points past the source: the walk reports it, it does not read zeros.
    const out = e.translate(cr3, 2n << 39n);
    expect(!out.ok && [out.fault.kind, out.fault.level, out.fault.entryAddress]).toEqual(['outside-image', 3, (BigInt(TOP + 5) * 4096n)]);
    const list = e.mappings(cr3).mappings;
    expect(list.map((m) => [m.va, m.pa, m.size])).toEqual([
      [(1n << 39n) | (3n << 30n), 0xc0000000n, 2 ** 30],
      [(1n << 39n) | (4n << 21n) | (6n << 12n), 0xabcdef000n, 4096],
      [(1n << 39n) | (5n << 21n), 0xe00000n, 2 ** 21],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
  });
});
