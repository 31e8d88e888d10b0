// The public surface refuses what it cannot answer with a typed error naming the
// argument, bounds what it answers, and keeps per-call state per handle.
import { describe, test, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEngine, BumpAllocator, x86_64, x86_32, aarch64_4k, aarch64_64k, x86_64_la57, Engine, PhysicalMemory, computeLayout, openDumpBytes, memorySource, checkContiguous,
  MemwalkError, InvalidInputError, CapacityError, NotFoundError, OutsideImageError, type Engine,
} from '../src/index.js';
import { MAX_RANGE_PAGES } from '../src/paging/operations.js';
import { testDir } from './helpers/temp-dir.js';

const K4 = 4096n;
const dir = testDir('memwalk-rel-');

function engine(backend: 'wasm' | 'reference' = 'wasm'): Engine {
  return createEngine({ ramBytes: '8M', backend, ioBytes: 1 << 20 });
}

/** Run `f`; the error it throws, or a failure when it returns. */
function thrown(f: () => unknown): MemwalkError {
  try {
    f();
  } catch (e) {
    if (e instanceof MemwalkError) return e;
    throw new Error(`threw a ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  throw new Error('returned instead of throwing');
}

describe('library arguments: one typed error naming the argument', () => {
  const e = engine();
  const alloc = () => new BumpAllocator(2, 2048);
  // [call, error class, text the message must hold]
  const cases: Array<[string, () => unknown, typeof MemwalkError, RegExp]> = [
    ['createEngine()', () => createEngine(undefined as never), InvalidInputError, /^ramBytes: undefined /],
    ['createEngine(null)', () => createEngine(null as never), InvalidInputError, /^options: null must be an object/],
    ['ramBytes NaN', () => createEngine({ ramBytes: NaN }), InvalidInputError, /^ramBytes: the number NaN/],
    ['ramBytes object', () => createEngine({ ramBytes: {} as never }), InvalidInputError, /^ramBytes: an object/],
    ['backend symbol', () => createEngine({ ramBytes: '1M', backend: Symbol('x') as never }), InvalidInputError, /^backend: a symbol is not one of wasm, reference/],
    ['backend constructor', () => createEngine({ ramBytes: '1M', backend: 'constructor' as never }), InvalidInputError, /^backend: 'constructor'/],
    ['root as number', () => e.translate(4096 as never, 0n), InvalidInputError, /^root: the number 4096 is a number; pass a bigint \(4096n\)/],
    ['va at 2^200', () => e.translate(K4, 2n ** 200n), InvalidInputError, /^va: \d+n is outside \[0, 2\^64\)/],
    ['negative va', () => e.translate(K4, -1n), InvalidInputError, /^va: -1n is outside/],
    ['format by unknown name', () => e.translate(K4, 0n, { format: 'ia64' as never }), InvalidInputError, /^options.format: 'ia64' is not one of x86_64, x86_64_la57/],
    ['format object without params', () => e.translate(K4, 0n, { format: { name: 'x' } as never }), InvalidInputError, /^options.format: an object/],
    ['null options', () => e.translate(K4, 0n, null as never), InvalidInputError, /^options: null must be an object/],
    ['flag as string', () => e.translate(K4, 0n, { nxe: 'yes' as never }), InvalidInputError, /^options.nxe: 'yes' must be true or false/],
    ['bigint option', () => e.translate(K4, 0n, { maxPhyAddr: 52n as never }), InvalidInputError, /^options.maxPhyAddr: 52n must be a whole number/],
    ['batch of a number', () => e.translateBatch(K4, 12 as never), InvalidInputError, /^vas: the number 12 must be a BigUint64Array or an array of bigints/],
    ['batch element past 2^64', () => e.translateBatch(K4, [0n, (1n << 64n) + 5n]), InvalidInputError, /^vas\[1\]: 18446744073709551621n is outside/],
    ['batch element as number', () => e.translateBatch(K4, [0n, 5 as never]), InvalidInputError, /^vas\[1\]: the number 5 is a number/],
    ['strategy constructor', () => e.translateBatch(K4, [0n], { strategy: 'constructor' as never }), InvalidInputError, /^options.strategy: 'constructor' is not one of naive, cached, interleaved/],
    ['pages NaN', () => e.translateRange(K4, 0n, NaN), InvalidInputError, /^pages: the number NaN must be a whole number/],
    ['pages bigint', () => e.translateRuns(K4, 0n, 4n as never), InvalidInputError, /^pages: 4n must be a whole number/],
    ['range too large to hold', () => e.translateRange(K4, 0n, 2 ** 31), CapacityError, new RegExp(`${MAX_RANGE_PAGES} one answer holds`)],
    ['limit NaN', () => e.mappings(K4, { limit: NaN }), InvalidInputError, /^options.limit: the number NaN/],
    ['iterator root checked at the call', () => e.mappingsIter(-5n), InvalidInputError, /^root: -5n is outside/],
    ['map pa at 2^64', () => e.map(K4, 0n, 1n << 64n, K4, {}, alloc()), InvalidInputError, /^pa: 18446744073709551616n is outside/],
    ['map size as number', () => e.map(K4, 0n, 0n, 4096 as never, {}, alloc()), InvalidInputError, /^size: the number 4096 is a number/],
    ['allocator without allocate', () => e.map(K4, 0n, 0n, K4, {}, {} as never), InvalidInputError, /^allocator: an object \(Object\) is not a frame allocator/],
    ['raw bits as number', () => e.map(K4, 0n, 0n, K4, { raw: 1 as never }, alloc()), InvalidInputError, /^flags.raw: the number 1/],
    ['largestLeaf NaN', () => e.map(K4, 0n, 0n, K4, {}, alloc(), { largestLeaf: NaN }), InvalidInputError, /^options.largestLeaf: the number NaN/],
    ['write of a string', () => e.phys.write(0, 'abc' as never), InvalidInputError, /^write: bytes: 'abc' must be a Uint8Array/],
    ['write32 of 2^40', () => e.phys.write32(0, 2 ** 40), InvalidInputError, /^write32: value: the number 1099511627776/],
    ['write64 of 2^64', () => e.phys.write64(0, 2n ** 64n), InvalidInputError, /^write64: value: 18446744073709551616n is outside/],
    ['read at NaN', () => e.phys.read(NaN, 4), InvalidInputError, /^read: pa: the number NaN is not an address/],
    ['read of a negative length', () => e.phys.read(0, -1), InvalidInputError, /^read: length: the number -1/],
    ['Engine over a hand-made context', () => new Engine({ memory: e.memory } as never), InvalidInputError, /^ctx: an object \(Object\) is not an engine \(make one with createEngine\)/],
    ['PhysicalMemory over no memory', () => new PhysicalMemory({} as never, e.layout), InvalidInputError, /^memory: an object \(Object\) is not a WebAssembly.Memory/],
    ['PhysicalMemory past its memory', () => new PhysicalMemory(e.memory, { ...e.layout, ramBytes: 2 ** 40 }), InvalidInputError, /^layout.ramBytes: the number 1099511627776 must be a whole number from 0 to/],
    ['BumpAllocator from a bigint', () => new BumpAllocator(1n as never, 5), InvalidInputError, /^BumpAllocator: first: 1n must be a whole number/],
    ['allocate 0 frames', () => new BumpAllocator(1, 5).allocate(0), InvalidInputError, /^allocate: frames: the number 0 must be a whole number from 1/],
    ['computeLayout of an object', () => computeLayout({} as never, 1), InvalidInputError, /^ramBytes: an object \(Object\) must be a whole number/],
    ['openDumpBytes of a string', () => openDumpBytes('dump.raw' as never), InvalidInputError, /^bytes: 'dump.raw' is not a Uint8Array or a byte source/],
    ['openDumpBytes with a format object', () => openDumpBytes(new Uint8Array(4096), { format: {} as never }), InvalidInputError, /^image format an object \(Object\) is not one of raw/],
    ['memorySource named by a number', () => memorySource(new Uint8Array(8), 5 as never), InvalidInputError, /^name: the number 5 must be a string/],
    ['memorySource ranges out of order', () => memorySource(new Uint8Array(8192), 'm', [{ start: 4096n, end: 8192n }, { start: 0n, end: 4096n }]), InvalidInputError, /^ranges\[1\]: \[0x0, 0x1000\) must be frame-aligned, non-empty, above the range before it/],
    ['checkContiguous of no engine', () => checkContiguous({} as never, 0n), InvalidInputError, /^engine: an object \(Object\) is not an engine/],
    ['checkContiguous root as number', () => checkContiguous(e, 4096 as never), InvalidInputError, /^root: the number 4096 is a number/],
    ['checkContiguous maxEntries 0', () => checkContiguous(e, K4, { maxEntries: 0 }), InvalidInputError, /^options.maxEntries: the number 0 must be a whole number from 1/],
  ];
  test.each(cases)('%s', (_name, call, cls, text) => {
    const err = thrown(call);
    expect(err).toBeInstanceOf(cls);
    expect(err.message).toMatch(text);
    expect(err.message).not.toContain('\n');
  });

  test('a format may be given by name, and walks exactly as the object', () => {
    const a = engine();
    a.phys.write64(0x1000, 0x2003n); // PML4[0] -> 0x2000
    a.phys.write64(0x2000, 0x3003n); // PDPT[0] -> 0x3000
    a.phys.write64(0x3000, 0x200083n); // PD[0]: 2 MiB leaf at 0x200000
    for (const [name, f] of [['x86_64', x86_64], ['aarch64_4k', aarch64_4k], ['x86_32', x86_32], ['x86_64_la57', x86_64_la57]] as const) {
      expect(a.translate(0x1000n, 0x1234n, { format: name as never })).toEqual(a.translate(0x1000n, 0x1234n, { format: f }));
    }
    expect(a.translate(0x1000n, 0x1234n, { format: 'x86_64' as never })).toMatchObject({ ok: true, pa: 0x201234n });
  });
});

test('openDumpBytes reads a Uint8Array as the dump it holds', () => {
  const bytes = new Uint8Array(4 * 4096);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(0x1000, 0x2003n, true); // PML4[0] -> 0x2000
  dv.setBigUint64(0x2000, 0x83n, true); // PDPT[0]: a 1 GiB leaf at 0
  const dump = openDumpBytes(bytes, { cacheBytes: '64K' });
  expect(dump.description.format).toBe('raw');
  expect(dump.engine.translate(0x1000n, 0x3456n)).toMatchObject({ ok: true, pa: 0x3456n, pageSize: 2 ** 30 });
  dump.close();
});

describe('files: missing is NotFoundError, a directory is InvalidInputError', () => {
  const e = engine();
  test('loadRaw', async () => {
    await expect(e.phys.loadRaw(join(dir, 'nope.raw'))).rejects.toThrow(NotFoundError);
    await expect(e.phys.loadRaw(dir)).rejects.toThrow(/is a directory, not a file/);
    const empty = join(dir, 'empty.raw');
    writeFileSync(empty, '');
    await expect(e.phys.loadRaw(empty, { at: NaN })).rejects.toThrow(/^loadRaw: options.at: the number NaN/);
  });
  test('save', async () => {
    await expect(e.phys.save(dir)).rejects.toThrow(/^save: path: '.*' is a directory/);
    await expect(e.phys.save(join(dir, 'no', 'such', 'dir.raw'))).rejects.toThrow(NotFoundError);
  });
});

describe.each(['wasm', 'reference'] as const)('bounds on %s', (backend) => {
  test('translateRuns counts 2^32 pages and more (no 32-bit wrap)', () => {
    const e = engine(backend);
    const r = e.translateRuns(K4, 0n, 2 ** 32);
    expect(r.totalPages).toBe(2 ** 32);
    // An empty root: every page faults not-present at the root (PML4 entry 0 for all of the first 16 TiB).
    expect(r.get(0).result).toMatchObject({ ok: false, fault: { kind: 'not-present', level: 4 } });
  });

  test('translateRuns goes round the address space once at most', () => {
    const e = engine(backend);
    // 2^64 bytes are 2^52 pages of 4 KiB, 2^48 of 64 KiB: one more is refused before any walk.
    expect(e.translateRuns(K4, 0n, 2 ** 52).totalPages).toBe(2 ** 52);
    expect(e.translateRuns(K4, 0n, 2 ** 48, { format: aarch64_64k }).totalPages).toBe(2 ** 48);
    expect(() => e.translateRuns(K4, 0n, 2 ** 52 + 1)).toThrow(/^pages: 4503599627370497 is more than the 4503599627370496 pages of 4 KiB in the 64-bit address space/);
    expect(() => e.translateRuns(K4, 0n, 2 ** 48 + 1, { format: aarch64_64k })).toThrow(InvalidInputError);
  });

  test('translateRuns crosses the non-canonical hole as one run', () => {
    const e = engine(backend);
    // From the last page of the low half: 1 page, then the hole of 2^52 - 2^36 pages, then the high half.
    const va = (1n << 47n) - K4;
    const hole = 2 ** 52 - 2 ** 36;
    const r = e.translateRuns(K4, va, 1 + hole + 3);
    expect(r.totalPages).toBe(1 + hole + 3);
    const runs = r.runs;
    expect(runs[1]!.va).toBe(1n << 47n);
    expect(runs[1]!.pages).toBe(hole);
    expect(runs[1]!.result).toMatchObject({ ok: false, fault: { kind: 'non-canonical' } });
    expect(runs.at(-1)!.va + BigInt(runs.at(-1)!.pages) * K4).toBe((1n << 64n) - (1n << 47n) + 3n * K4);
  });

  test.each([
    ['x86_64 low edge', x86_64, (1n << 47n) - 8n * K4],
    ['x86_64 high edge', x86_64, (1n << 64n) - (1n << 47n) - 8n * K4],
    ['x86_32 top', x86_32, (1n << 32n) - 8n * K4],
    ['aarch64_4k low edge', aarch64_4k, (1n << 48n) - 8n * K4],
    ['aarch64_4k high edge', aarch64_4k, (1n << 64n) - (1n << 48n) - 8n * K4],
  ] as const)('runs across the hole (%s) equal the per-page walk', (_n, format, va) => {
    const e = engine(backend);
    e.phys.write64(0x1000, 0x2003n);
    const range = e.translateRange(K4, va, 16, { format });
    const runs = e.translateRuns(K4, va, 16, { format }).expand();
    expect([...runs.status]).toEqual([...range.status]);
    expect([...runs.addr]).toEqual([...range.addr]);
  });

  test('map stops counting at the first shortfall of a small allocator', () => {
    const e = createEngine({ ramBytes: '1M', backend });
    const alloc = new BumpAllocator(8, 16);
    // 2^46 bytes of 4 KiB leaves needs 2^25 page tables: far beyond 8 frames, found in the first piece.
    const err = thrown(() => e.map(K4, 0n, 0n, 1n << 46n, {}, alloc, { largestLeaf: 4096 }));
    expect(err).toBeInstanceOf(CapacityError);
    expect(err.message).toMatch(/^map: the range needs at least \d+ table pages and the allocator has 8 frames left; nothing was mapped$/);
    expect(Number(err.details.needed)).toBeLessThan(2 ** 16);
    expect(alloc.remaining).toBe(8);
    expect(e.mappings(K4).mappings).toEqual([]);
  });

  test('an allocator that says nothing of its capacity is bounded by the I/O buffer', () => {
    const e = createEngine({ ramBytes: '1M', backend, ioBytes: 1 << 16 });
    let next = 8;
    const err = thrown(() => e.map(K4, 0n, 0n, 1n << 46n, {}, { allocate: () => next++ }, { largestLeaf: 4096 }));
    expect(err).toBeInstanceOf(CapacityError);
    expect(err.message).toMatch(/more than the 8192 one call can take/);
    expect(next).toBe(8);
  });

  test('an allocator handing out garbage is refused', () => {
    const e = createEngine({ ramBytes: '1M', backend });
    expect(() => e.map(K4, 0n, 0n, K4, {}, { allocate: () => 'x' as never })).toThrow(OutsideImageError);
  });

  test('mappingsIter stops at its limit in the enumerator', () => {
    const e = engine(backend);
    e.map(K4, 0n, 0n, 64n * K4, { write: true }, new BumpAllocator(2, 2048), { largestLeaf: 4096 });
    expect([...e.mappingsIter(K4, { limit: 5 })].map((m) => m.va)).toEqual([0n, K4, 2n * K4, 3n * K4, 4n * K4]);
    expect(e.mappings(K4, { limit: 64 }).truncated).toBe(false);
    expect(e.mappings(K4, { limit: 63 }).truncated).toBe(true);
  });
});

describe.each(['wasm', 'reference'] as const)('interleaved use on %s', (backend) => {
  // Two roots of more mappings than one enumerator batch (4096), so iterators resume mid-walk.
  function twoRoots() {
    const e = createEngine({ ramBytes: '16M', backend });
    const alloc = new BumpAllocator(4, 4096);
    e.map(0x1000n, 0n, 0x100000n, 5000n * K4, {}, alloc, { largestLeaf: 4096 });
    e.map(0x2000n, 1n << 39n, 0x200000n, 6000n * K4, { write: true }, alloc, { largestLeaf: 4096 });
    return e;
  }

  test('two iterators advanced in turn give what each gives alone', () => {
    const e = twoRoots();
    const alone1 = [...e.mappingsIter(0x1000n)], alone2 = [...e.mappingsIter(0x2000n)];
    expect(alone1.length).toBe(5000);
    expect(alone2.length).toBe(6000);
    expect(alone2[5999]).toMatchObject({ va: (1n << 39n) + 5999n * K4, pa: 0x200000n + 5999n * K4 });
    const a = e.mappingsIter(0x1000n), b = e.mappingsIter(0x2000n);
    const gotA = [], gotB = [];
    for (;;) {
      const x = a.next(), y = b.next();
      if (!x.done) gotA.push(x.value);
      if (!y.done) gotB.push(y.value);
      if (x.done && y.done) break;
    }
    expect(gotA).toEqual(alone1);
    expect(gotB).toEqual(alone2);
  });

  test('batches, walks in another format and nested listings inside an iteration', () => {
    const e = twoRoots();
    const alone = [...e.mappingsIter(0x1000n)];
    const got = [];
    let i = 0;
    for (const m of e.mappingsIter(0x1000n)) {
      got.push(m);
      if (i++ % 997 === 0) {
        expect(e.translateBatch(0x2000n, [1n << 39n]).get(0)).toMatchObject({ ok: true, pa: 0x200000n });
        expect(e.translate(0x2000n, 0n, { format: x86_32 }).ok).toBe(false);
        expect(e.mappings(0x2000n, { limit: 4100 }).mappings.length).toBe(4100);
      }
    }
    expect(got).toEqual(alone);
  });

  test('two engines on one module keep their own memory and state', () => {
    const e1 = twoRoots(), e2 = createEngine({ ramBytes: '8M', backend });
    e2.map(0x1000n, 0n, 0x700000n, 4n * K4, {}, new BumpAllocator(2, 100), { largestLeaf: 4096 });
    const it1 = e1.mappingsIter(0x1000n), it2 = e2.mappingsIter(0x1000n);
    expect(it1.next().value).toMatchObject({ va: 0n, pa: 0x100000n });
    expect(it2.next().value).toMatchObject({ va: 0n, pa: 0x700000n });
    expect([...it2].length).toBe(3);
    expect([...it1].length).toBe(4999);
  });
});
