// Walks over a source whose page tables share home slots in the frame cache: the
// kernels find a frame at home from its number and the others through the frame
// map, on both backends, and a warm cache answers without reading the source again
// (two tables with one home never evict each other). Tables sit above 2^32 frames
// too, where a frame's home is its low bits, and high enough that a frame's tag does
// not fit and it never goes home. Expected answers follow from how the
// tables are built below.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_64 } from '../src/index.js';
import { FrameState, type PhysicalSource } from '../src/memory/source.js';

const BACKENDS = ['wasm', 'reference'] as const;
const PAGE = 4096;
const P = 1n, RW = 2n;
// 40 slots: the home slots are 0..31 (frame f's home is f mod 32).
const SLOTS = 40;
const ROOT = 2 ** 32 + 16; // home 16
const PDPT = 48; // home 16
const PD = 80; // home 16
const TABLES = 16;
// Leaf tables 0-9 are all homed at 16 too; 10-13 sit above 2^33, homed at 0..3; 14-15
// at 2^39, where a frame's tag (its bits above the home's 5, plus one) needs more than
// 32 bits: they never go home and are found through the map.
const pt = (j: number) => (j < 10 ? 112 + 32 * j : j < 14 ? 2 ** 33 + (j - 10) : 2 ** 39 + (j - 14));
const DATA = 0x1_0000_0000n;
const va = (j: number, i: number) => (BigInt(j) << 21n) | (BigInt(i) << 12n) | 0x123n;
const pa = (j: number, i: number) => DATA + BigInt(j * 512 + i) * 4096n + 0x123n;

/** A source holding only the frames written here; counts its reads. */
function tableSource() {
  const frames = new Map<number, DataView>();
  const entry = (pfn: number, index: number, value: bigint) => {
    if (!frames.has(pfn)) frames.set(pfn, new DataView(new ArrayBuffer(PAGE)));
    frames.get(pfn)!.setBigUint64(index * 8, value, true);
  };
  entry(ROOT, 0, BigInt(PDPT * PAGE) | P | RW);
  entry(PDPT, 0, BigInt(PD * PAGE) | P | RW);
  for (let j = 0; j < TABLES; j++) {
    entry(PD, j, BigInt(pt(j)) * 4096n | P | RW);
    for (let i = 0; i < 512; i++) entry(pt(j), i, (pa(j, i) & ~0xfffn) | P | RW);
  }
  let reads = 0;
  const source: PhysicalSource = {
    description: { format: 'test', name: 'tables', vcpus: [] },
    ranges: [...frames.keys()].sort((a, b) => a - b).map((f) => ({ start: BigInt(f * PAGE), end: BigInt((f + 1) * PAGE) })),
    end: BigInt((2 ** 39 + 16) * PAGE),
    readFrame(pfn, out) {
      reads++;
      const f = frames.get(pfn);
      if (!f) {
        out.fill(0);
        return FrameState.Absent;
      }
      out.set(new Uint8Array(f.buffer));
      return FrameState.Present;
    },
    close() {},
  };
  return { source, reads: () => reads };
}

describe('walks over a source whose tables share home slots', () => {
  const vas: bigint[] = [];
  for (let j = 0; j < TABLES; j++) for (const i of [0, 1, 200, 511]) vas.push(va(j, i));
  const expected = vas.map((v) => pa(Number(v >> 21n), Number((v >> 12n) & 511n)));

  test.each(BACKENDS)('answers every walk, and a warm cache reads nothing again (%s)', (backend) => {
    const { source, reads } = tableSource();
    const e = createEngine({ source, cacheBytes: SLOTS * PAGE, backend, ioBytes: 1 << 20 });
    const root = BigInt(ROOT * PAGE);
    const opts = { format: x86_64 };
    for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
      for (let pass = 0; pass < 2; pass++) {
        const r = e.translateBatch(root, vas, { ...opts, strategy });
        expect([...r.status].map((s) => s & 0xf)).toEqual(vas.map(() => 0));
        expect([...r.addr]).toEqual(expected);
      }
    }
    // The root, the two upper tables and 16 leaf tables, each read once.
    expect(reads()).toBe(3 + TABLES);
    const t = e.translate(root, va(12, 300), opts);
    expect(t.ok && t.pa).toBe(pa(12, 300));
    const range = e.translateRange(root, va(9, 510) & ~0xfffn, 4, opts);
    expect([...range.addr]).toEqual([pa(9, 510), pa(9, 511), pa(10, 0), pa(10, 1)].map((a) => a & ~0xfffn));
    const stats = e.backing!.cache.statistics;
    expect(reads()).toBe(3 + TABLES);
    expect(stats.evictions).toBe(0);
    // Leaf tables 10-15 came home to slots that tables homed at 16 had taken.
    expect(stats.moves).toBeGreaterThan(0);
  });
});
