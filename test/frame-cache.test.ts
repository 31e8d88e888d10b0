import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FrameCache, frameHash } from '../src/memory/frame-cache.js';
import { FrameState, type PhysicalSource } from '../src/memory/source.js';
import { memorySource } from '../src/memory/memory-source.js';
import { CapacityError } from '../src/errors.js';
import { FM_ENTRY_BYTES, FM_KEY_LO, FM_KEY_HI, FM_ADDR, FT_BYTES } from '../src/abi.js';

const PAGE = 4096;

/** A sparse source: frame pfn holds bytes derived from pfn; every third frame is absent. */
function patternSource(): PhysicalSource & { readsOf: Map<number, number> } {
  const readsOf = new Map<number, number>();
  return {
    description: { format: 'test', name: 'pattern', vcpus: [] },
    ranges: [],
    end: 2n ** 52n,
    readsOf,
    readFrame(pfn, out) {
      readsOf.set(pfn, (readsOf.get(pfn) ?? 0) + 1);
      if (pfn % 3 === 2) {
        out.fill(0);
        return FrameState.Absent;
      }
      for (let i = 0; i < PAGE; i += 4) new DataView(out.buffer, out.byteOffset).setUint32(i, (pfn * 7 + i) >>> 0, true);
      return FrameState.Present;
    },
    close() {},
  };
}

function setup(slots: number, source: PhysicalSource = patternSource()) {
  const mapBits = Math.ceil(Math.log2(slots * 2));
  const homeBits = Math.floor(Math.log2(slots));
  const mapBase = 0x10000;
  const tagBase = mapBase + 2 ** mapBits * FM_ENTRY_BYTES;
  const slotsBase = tagBase + 2 ** homeBits * FT_BYTES;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((slotsBase + slots * PAGE) / 65536) });
  const cache = new FrameCache(memory, { slotsBase, slots, mapBase, mapBits, tagBase, homeBits }, source);
  return { memory, cache, mapBase, mapBits, slotsBase, tagBase, homeBits };
}

/** Every frame the map holds, by scanning it (an oracle independent of find()). */
function mapContents(memory: WebAssembly.Memory, mapBase: number, mapBits: number): Map<number, number> {
  const u32 = new Uint32Array(memory.buffer);
  const out = new Map<number, number>();
  for (let i = 0; i < 2 ** mapBits; i++) {
    const e = mapBase + i * FM_ENTRY_BYTES;
    const key = u32[(e + FM_KEY_HI) / 4]! * 2 ** 32 + u32[(e + FM_KEY_LO) / 4]!;
    if (key !== 0) {
      expect(out.has(key - 1), `frame ${key - 1} twice in the map`).toBe(false);
      out.set(key - 1, u32[(e + FM_ADDR) / 4]!);
    }
  }
  return out;
}

describe('frame cache', () => {
  it('hashes groups of 16 frames, both halves of a 40-bit frame number, into the map', () => {
    expect(frameHash(0, 10)).toBe(0);
    // Group 0 is home at run 0: frames 0..15 take entries 0..15.
    expect(frameHash(1, 32)).toBe(1);
    expect(frameHash(15, 10)).toBe(15);
    // Group 1: 0x9e3779b1 (the multiplier itself), its top 28 bits as the run, then the place in it.
    expect(frameHash(16, 32)).toBe(0x9e3779b0);
    expect(frameHash(19, 32)).toBe(0x9e3779b3);
    expect(frameHash(16, 12)).toBe((0x9e3779b1 >>> 24) << 4);
    // Groups 2^32 apart differ only in the high half: they must not collide.
    expect(frameHash(5, 16)).not.toBe(frameHash(5 + 2 ** 36, 16));
  });

  it('reads a frame once, then serves it from its slot', () => {
    const src = patternSource();
    const { memory, cache } = setup(16, src);
    const a = cache.fetch(0x123456789, false);
    expect(a).toBeGreaterThan(0);
    expect(new DataView(memory.buffer).getUint32(a + 8, true)).toBe((0x123456789 * 7 + 8) >>> 0);
    expect(cache.fetch(0x123456789, false)).toBe(a);
    expect(cache.peek(0x123456789)).toBe(a);
    expect(src.readsOf.get(0x123456789)).toBe(1);
  });

  it('answers 0 for an absent frame and remembers it', () => {
    const src = patternSource();
    const { cache } = setup(16, src);
    expect(cache.fetch(2, false)).toBe(0);
    expect(cache.fetch(2, false)).toBe(0);
    expect(src.readsOf.get(2)).toBe(1);
    expect(cache.statistics.absent).toBe(1);
  });

  it('never holds more than its slots, and keeps contents right under churn (random frames, random writes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 40 }),
        fc.array(fc.record({ pfn: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 })), write: fc.boolean() }), { maxLength: 400 }),
        (slots, ops) => {
          const { memory, cache, mapBase, mapBits, slotsBase } = setup(slots);
          const view = new DataView(memory.buffer);
          const written = new Map<number, number>();
          for (const { pfn, write } of ops) {
            if (write && !written.has(pfn) && written.size >= slots - Math.max(4, slots >>> 4)) continue;
            const a = cache.fetch(pfn, write);
            if (pfn % 3 === 2 && !write && !written.has(pfn)) {
              expect(a).toBe(0);
              continue;
            }
            expect(a).toBeGreaterThanOrEqual(slotsBase);
            expect(a).toBeLessThan(slotsBase + slots * PAGE);
            const expected = written.has(pfn) ? written.get(pfn)! : pfn % 3 === 2 ? 0 : (pfn * 7 + 12) >>> 0;
            expect(view.getUint32(a + 12, true)).toBe(expected);
            if (write) {
              const v = (Math.random() * 2 ** 32) >>> 0;
              view.setUint32(a + 12, v, true);
              written.set(pfn, v);
            }
          }
          const held = mapContents(memory, mapBase, mapBits);
          const slotsHeld = [...held.values()].filter((a) => a !== 0);
          expect(new Set(slotsHeld).size).toBe(slotsHeld.length);
          expect(slotsHeld.length).toBeLessThanOrEqual(slots);
          // Every written frame is still there with what was written: never evicted.
          for (const [pfn, v] of written) {
            const a = held.get(pfn);
            expect(a, `written frame ${pfn} was evicted`).toBeGreaterThan(0);
            expect(view.getUint32(a! + 12, true)).toBe(v);
            expect(cache.peek(pfn)).toBe(a);
          }
          // Everything in the map is findable through the probe sequence.
          for (const [pfn, a] of held) expect(cache.peek(pfn)).toBe(a);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps frames that share a home slot findable when one of them is evicted', () => {
    // 16 slots, a map of 32 entries: pick present frames whose home is map entry 7.
    const colliding: number[] = [];
    for (let pfn = 0; colliding.length < 20; pfn++) if (pfn % 3 !== 2 && frameHash(pfn, 5) === 7) colliding.push(pfn);
    const { memory, cache, mapBase, mapBits } = setup(16);
    for (const pfn of colliding.slice(0, 16)) expect(cache.fetch(pfn, false)).toBeGreaterThan(0);
    // A 17th frame, homed elsewhere, evicts the oldest: the head of the probe run.
    let other = 0;
    while (other % 3 === 2 || frameHash(other, 5) <= 23) other++;
    cache.fetch(other, false);
    expect(cache.peek(colliding[0]!)).toBe(0);
    for (const pfn of colliding.slice(1, 16)) expect(cache.peek(pfn), `frame ${pfn}`).toBeGreaterThan(0);
    expect(mapContents(memory, mapBase, mapBits).size).toBe(16);
  });

  it('refuses, with a typed error, writes that would pin the whole cache', () => {
    // 16 slots: 4 always stay for reads, so 12 frames can be private.
    const { cache } = setup(16);
    for (let pfn = 0; pfn < 12; pfn++) cache.fetch(pfn * 3, true);
    expect(() => cache.fetch(1000 * 3, true)).toThrow(CapacityError);
    expect(() => cache.fetch(1000 * 3, true)).toThrow(/private/);
  });

  it('a memory source reads what it holds and calls the rest absent', () => {
    const bytes = new Uint8Array(3 * PAGE).map((_, i) => i & 0xff);
    const src = memorySource(bytes, 'img', [{ start: 0n, end: 4096n }, { start: 8192n, end: 12288n }]);
    const out = new Uint8Array(PAGE);
    expect(src.readFrame(0, out)).toBe(FrameState.Present);
    expect(out[5]).toBe(5);
    expect(src.readFrame(1, out)).toBe(FrameState.Absent);
    expect(src.readFrame(2, out)).toBe(FrameState.Present);
    expect(out[1]).toBe((8192 + 1) & 0xff);
    expect(src.readFrame(3, out)).toBe(FrameState.Absent);
  });
});
