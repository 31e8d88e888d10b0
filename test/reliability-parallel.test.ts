// Workers over one shared memory: parallel calls on one engine (from one pool or
// two) take turns and each gets its own answer; a synchronous call that would use
// the engine's I/O buffer or walk parameters while worker threads do is refused
// with an EngineBusyError; calls that do not (physical reads) go on.
import { afterAll, describe, expect, test } from 'vitest';
import { createScanPool, type ScanPool } from '../src/parallel/index.js';
import { createEngine, BumpAllocator, aarch64_4k, x86_64, EngineBusyError, InvalidInputError } from '../src/index.js';

const K4 = 4096n;
const pools: ScanPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

// Two roots in two formats. By construction (the oracle):
//   root A (x86_64):     VA i*4K          -> 0x100000 + i*4K, i < 3000
//   root B (aarch64_4k): VA 2^39 + i*4K   -> 0x500000 + i*4K, i < 3000
const A = 0x1000n, B = 0x2000n, N = 3000;
function twoRootEngine(backend: 'wasm' | 'reference') {
  const e = createEngine({ ramBytes: '16M', backend, shared: true, ioBytes: 1 << 16 });
  const alloc = new BumpAllocator(4, 1024);
  e.map(A, 0n, 0x100000n, BigInt(N) * K4, {}, alloc, { largestLeaf: 4096 });
  e.map(B, 1n << 39n, 0x500000n, BigInt(N) * K4, {}, alloc, { largestLeaf: 4096, format: aarch64_4k });
  return e;
}
// More addresses than one I/O buffer holds (65536 / 24 = 2730), so a call goes round in chunks.
const vasA = BigUint64Array.from({ length: 2 * N }, (_, i) => BigInt(i % (N + 7)) * K4 + 0x123n);
const vasB = BigUint64Array.from({ length: 2 * N }, (_, i) => (1n << 39n) + BigInt(i % (N + 11)) * K4 + 0x45n);
const expected = (vas: BigUint64Array, base: bigint, pa: bigint) =>
  Array.from(vas, (va) => {
    const page = (va - base) / K4;
    return page < BigInt(N) ? pa + page * K4 + (va % K4) : 'fault';
  });
const answers = (r: { length: number; ok(i: number): boolean; addr: BigUint64Array }) =>
  Array.from({ length: r.length }, (_, i) => (r.ok(i) ? r.addr[i] : 'fault'));

/** Run microtasks only (worker replies arrive as tasks, so none can come in) until `check` says so. */
async function untilMicrotasks(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (check()) return true;
    await null;
  }
  return check();
}

describe.each(['wasm', 'reference'] as const)('workers over one shared memory on %s', (backend) => {
  test('two pools on one engine, called at once in two formats: each call gets its own answer', async () => {
    const e = twoRootEngine(backend);
    const p1 = await createScanPool(e, { workers: 2 });
    const p2 = await createScanPool(e, { workers: 1 });
    pools.push(p1, p2);
    const [a1, b2, b1, a2] = await Promise.all([
      p1.translateBatch(A, vasA, { format: x86_64 }),
      p2.translateBatch(B, vasB, { format: aarch64_4k, strategy: 'cached' }),
      p1.translateBatch(B, vasB, { format: aarch64_4k, parts: 3 }),
      p2.translateBatch(A, vasA),
    ]);
    const wantA = expected(vasA, 0n, 0x100000n), wantB = expected(vasB, 1n << 39n, 0x500000n);
    expect(wantA.filter((x) => x === 'fault').length).toBe(7); // pages 3000..3006: the oracle has holes too
    expect(answers(a1)).toEqual(wantA);
    expect(answers(a2)).toEqual(wantA);
    expect(answers(b1)).toEqual(wantB);
    expect(answers(b2)).toEqual(wantB);
  });

  test('a synchronous call while the workers use the scratch is refused; physical reads go on', async () => {
    const e = twoRootEngine(backend);
    const pool = await createScanPool(e, { workers: 2 });
    pools.push(pool);
    const busy = () => {
      try {
        e.translate(A, 0n);
        return false;
      } catch (err) {
        if (err instanceof EngineBusyError) return true;
        throw err;
      }
    };
    const running = pool.translateBatch(B, vasB, { format: aarch64_4k });
    expect(await untilMicrotasks(busy)).toBe(true);
    expect(() => e.translateBatch(A, [0n])).toThrow(/^paging call: refused while a parallel translateBatch runs on worker threads/);
    expect(() => e.mappings(A, { limit: 1 })).toThrow(EngineBusyError);
    expect(() => e.frames.census('L4')).toThrow(EngineBusyError);
    expect(e.phys.read64(0x1000)).not.toBe(0n); // no scratch: answered
    expect(answers(await running)).toEqual(expected(vasB, 1n << 39n, 0x500000n));
    // Done: the engine is free again, and walks as before.
    expect(e.translate(A, 5n * K4 + 1n)).toMatchObject({ ok: true, pa: 0x105001n });
  });

  test('a parallel census waits its turn behind a batch on the same engine', async () => {
    const e = twoRootEngine(backend);
    const pool = await createScanPool(e, { workers: 2 });
    pools.push(pool);
    const frames = e.layout.frames;
    const [batch, none] = await Promise.all([pool.translateBatch(A, vasA), pool.census(0xffffffff, 0xffffffff, 0, frames)]);
    expect(answers(batch)).toEqual(expected(vasA, 0n, 0x100000n));
    expect(none).toBe(0); // no frame has the census key 0xffffffff
  });
});

test('a pool checks its arguments as the engine does', async () => {
  const e = twoRootEngine('wasm');
  const pool = await createScanPool(e, { workers: 1 });
  pools.push(pool);
  await expect(pool.translateBatch(4096 as never, [0n])).rejects.toThrow(/^root: the number 4096 is a number/);
  await expect(pool.translateBatch(A, [0n, (1n << 64n) + 5n])).rejects.toThrow(/^vas\[1\]: 18446744073709551621n is outside/);
  await expect(pool.translateBatch(A, [0n], { strategy: 'constructor' as never })).rejects.toThrow(InvalidInputError);
  await expect(pool.census(0, 0, 5, 2)).rejects.toThrow(/^to: the number 2 must be a whole number from 5/);
  await expect(createScanPool({} as never)).rejects.toThrow(/^engine: an object \(Object\) is not an engine/);
  await expect(createScanPool(e, { workers: 0 })).rejects.toThrow(/^workers: the number 0/);
});
