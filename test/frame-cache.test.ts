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

  it('remembers absent frames without filling the map or evicting a frame, however small the cache', () => {
    // 16 slots, a map of 32 entries: 100 absent frames (f mod 3 = 2) and 16 present ones.
    const src = patternSource();
    const { memory, cache, mapBase, mapBits } = setup(16, src);
    for (let k = 0; k < 16; k++) cache.fetch(k * 3, false);
    for (let k = 0; k < 100; k++) expect(cache.fetch(k * 3 + 2, false)).toBe(0);
    expect(cache.statistics.absent).toBe(100);
    expect(mapContents(memory, mapBase, mapBits).size).toBeLessThan(32);
    for (let k = 0; k < 16; k++) expect(cache.peek(k * 3)).toBeGreaterThan(0);
  });

  it('never holds more than its slots, and keeps contents right under churn (random frames, random writes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 40 }),
        fc.array(fc.record({ pfn: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 })), write: fc.boolean() }), { maxLength: 400, size: 'max' }),
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

  it('a failed source read takes no slot', () => {
    const src = patternSource();
    const failing: PhysicalSource = { ...src, readFrame: (pfn, out) => (pfn === 7 ? (() => { throw new Error('corrupt at 7'); })() : src.readFrame(pfn, out)) };
    const { cache } = setup(16, failing);
    expect(() => cache.fetch(7, false)).toThrow(/corrupt/);
    // All 16 slots are still there: 16 present frames (all homed at 0, so slot 7 is
    // only reached through the free list) fit without an eviction.
    for (let k = 0; k < 16; k++) expect(cache.fetch(k * 48, false)).toBeGreaterThan(0);
    expect(cache.statistics.evictions).toBe(0);
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

/** The home tag of slot `h` (0: no frame at home there). */
function tagOf(memory: WebAssembly.Memory, tagBase: number, h: number): number {
  expect(FT_BYTES).toBe(4);
  return new Uint32Array(memory.buffer)[(tagBase + h * FT_BYTES) / 4]!;
}

describe('frame cache home slots (16 slots: frame f is at home in slot f mod 16)', () => {
  // Present frames of patternSource (f mod 3 != 2): A and B share home 5. A frame's tag
  // is its number over 16, plus one: HIGH's fits in 32 bits, WIDE's (2^36 + 0x21) does not.
  const A = 0x105, B = 0x205, HIGH = 2 ** 34 + 0x20a; // HIGH: home 10, 2^34 mod 3 = 1 so HIGH mod 3 = 1
  const WIDE = 2 ** 40 + 0x20a; // home 10, 2^40 mod 3 = 1 so WIDE mod 3 = 0
  /** A present frame whose home is `slot`. */
  const homedAt = (slot: number) => [0x300, 0x310, 0x320].map((f) => f + slot).find((f) => f % 3 !== 2)!;
  const word = (memory: WebAssembly.Memory, a: number, off = 8) => new DataView(memory.buffer).getUint32(a + off, true);

  it('puts a frame in its home slot and tags it, also above 2^32', () => {
    const { memory, cache, slotsBase, tagBase } = setup(16);
    expect(cache.fetch(A, false)).toBe(slotsBase + 5 * PAGE);
    expect(tagOf(memory, tagBase, 5)).toBe(0x11);
    expect(cache.fetch(HIGH, false)).toBe(slotsBase + 10 * PAGE);
    expect(tagOf(memory, tagBase, 10)).toBe(2 ** 30 + 0x21);
    expect(word(memory, slotsBase + 10 * PAGE)).toBe((HIGH * 7 + 8) % 2 ** 32);
  });

  it('keeps a frame whose tag does not fit in 32 bits out of its free home, found through the map', () => {
    const src = patternSource();
    const { memory, cache, slotsBase, tagBase } = setup(16, src);
    const w = cache.fetch(WIDE, false);
    expect(w).not.toBe(slotsBase + 10 * PAGE);
    expect(tagOf(memory, tagBase, 10)).toBe(0);
    expect(tagOf(memory, tagBase, (w - slotsBase) / PAGE)).toBe(0);
    expect(cache.fetch(WIDE, false)).toBe(w);
    expect(cache.peek(WIDE)).toBe(w);
    expect(word(memory, w)).toBe((WIDE * 7 + 8) % 2 ** 32);
    // The frame at home in slot 10 afterwards is one whose tag fits; WIDE stays where it is.
    expect(cache.fetch(HIGH, false)).toBe(slotsBase + 10 * PAGE);
    expect(cache.fetch(WIDE, false)).toBe(w);
    expect(src.readsOf.get(WIDE)).toBe(1);
  });

  it('lets two frames with one home both stay, the second elsewhere, with no re-reads', () => {
    const src = patternSource();
    const { memory, cache, slotsBase, tagBase } = setup(16, src);
    const a = cache.fetch(A, false);
    const b = cache.fetch(B, false);
    expect(a).toBe(slotsBase + 5 * PAGE);
    expect(b).not.toBe(a);
    for (let i = 0; i < 50; i++) {
      expect(cache.fetch(A, false)).toBe(a);
      expect(cache.fetch(B, false)).toBe(b);
    }
    expect(src.readsOf.get(A)).toBe(1);
    expect(src.readsOf.get(B)).toBe(1);
    expect(cache.statistics.moves).toBe(0);
    expect(tagOf(memory, tagBase, 5)).toBe(Math.floor(A / 16) + 1);
    expect(tagOf(memory, tagBase, (b - slotsBase) / PAGE)).toBe(0);
    expect(word(memory, b)).toBe(B * 7 + 8);
  });

  it('moves a clean frame out of the home slot of a newcomer: contents and map entry follow, no source read', () => {
    const src = patternSource();
    const { memory, cache, slotsBase, tagBase } = setup(16, src);
    cache.fetch(A, false);
    const away = cache.fetch(B, false);
    const sb = (away - slotsBase) / PAGE;
    expect(sb).not.toBe(5);
    // C's home is where B lives.
    const C = homedAt(sb);
    expect(cache.fetch(C, false)).toBe(away);
    const b = cache.peek(B);
    expect(b).not.toBe(0);
    expect(b).not.toBe(away);
    expect(b).not.toBe(slotsBase + 5 * PAGE);
    expect(cache.fetch(B, false)).toBe(b);
    for (const off of [0, 8, 4092]) expect(word(memory, b, off)).toBe(B * 7 + off);
    expect(word(memory, away)).toBe(C * 7 + 8);
    expect(tagOf(memory, tagBase, sb)).toBe(Math.floor(C / 16) + 1);
    expect(src.readsOf.get(B)).toBe(1);
    expect(cache.statistics).toMatchObject({ reads: 3, moves: 1, evictions: 0 });
  });

  it('a moved frame the dump left out is still reported as left out', () => {
    const src = patternSource();
    const excluding: PhysicalSource = { ...src, readFrame: (pfn, out) => (pfn === B ? (out.fill(0), FrameState.Excluded) : src.readFrame(pfn, out)) };
    const { cache, slotsBase } = setup(16, excluding);
    cache.fetch(A, false);
    const away = cache.fetch(B, false);
    expect(cache.excluded(away)).toBe(true);
    const c = cache.fetch(homedAt((away - slotsBase) / PAGE), false);
    expect(c).toBe(away);
    expect(cache.excluded(c)).toBe(false);
    expect(cache.excluded(cache.peek(B))).toBe(true);
    expect(cache.statistics.moves).toBe(1);
  });

  it('never moves a private frame: a newcomer whose home it holds lives elsewhere', () => {
    const { memory, cache, slotsBase, tagBase } = setup(16);
    cache.fetch(A, false);
    const b = cache.fetch(B, true);
    const sb = (b - slotsBase) / PAGE;
    expect(sb).not.toBe(5);
    new DataView(memory.buffer).setUint32(b + 8, 0xfeedbeef, true);
    const C = homedAt(sb);
    const c = cache.fetch(C, false);
    expect(c).not.toBe(b);
    expect(cache.peek(B)).toBe(b);
    expect(word(memory, b)).toBe(0xfeedbeef);
    expect(word(memory, c)).toBe(C * 7 + 8);
    expect(tagOf(memory, tagBase, sb)).toBe(0);
    expect(cache.statistics.moves).toBe(0);
  });

  it('under pressure evicts the oldest clean frame, stays bounded and keeps answers right', () => {
    const src = patternSource();
    const { memory, cache, mapBase, mapBits } = setup(16, src);
    // 40 present frames over 4 homes (0, 3, 6, 9): each fetch past the 16th evicts the oldest.
    const frames = Array.from({ length: 40 }, (_, k) => 3 * (k % 4) + 48 * k);
    for (const f of frames) expect(f % 3).not.toBe(2);
    for (const f of frames) cache.fetch(f, false);
    const held = mapContents(memory, mapBase, mapBits);
    expect([...held.keys()].sort((x, y) => x - y)).toEqual(frames.slice(24).sort((x, y) => x - y));
    for (const f of frames.slice(24)) expect(word(memory, cache.fetch(f, false))).toBe(f * 7 + 8);
    for (const f of frames) expect(src.readsOf.get(f)).toBe(1);
    expect(cache.statistics.evictions).toBe(24);
  });
});

/**
 * A plain model of the cache's contents: which frames it holds (the oldest clean
 * one leaves when a frame read from the source needs a slot and none is free), which it knows
 * absent, which are private, what each frame's bytes are.
 */
class CacheModel {
  readonly held = new Map<number, { private: boolean }>();
  readonly absent = new Set<number>();
  readonly written = new Map<number, number>();
  private order: number[] = [];
  reads = 0;
  evictions = 0;
  evicted: number[] = [];
  constructor(private readonly slots: number) {}

  fetch(pfn: number, write: boolean): void {
    this.evicted = [];
    const h = this.held.get(pfn);
    if (h) {
      if (write) h.private = true;
      return;
    }
    if (this.absent.has(pfn)) {
      if (!write) return;
      this.absent.delete(pfn);
    }
    this.reads++;
    if (pfn % 3 === 2 && !write) {
      if (this.absent.size >= Math.max(8, this.slots >>> 2)) this.absent.clear();
      this.absent.add(pfn);
      return;
    }
    if (this.held.size === this.slots) {
      for (;;) {
        const old = this.order.shift()!;
        if (this.held.get(old)!.private) continue;
        this.held.delete(old);
        this.evicted.push(old);
        this.evictions++;
        break;
      }
    }
    this.held.set(pfn, { private: write });
    this.order.push(pfn);
  }

  /** The 32-bit word at `off` of frame `pfn` (patternSource's bytes, or what was written at 12). */
  word(pfn: number, off: number): number {
    if (off === 12 && this.written.has(pfn)) return this.written.get(pfn)!;
    return pfn % 3 === 2 ? 0 : (pfn * 7 + off) >>> 0;
  }
}

describe('frame cache against a plain model', () => {
  it('holds what the model holds; every slot holds its frame; a tag is set iff its frame sits at home; homes taken as the rule says', () => {
    const pfnArb = fc.oneof(
      fc.integer({ min: 0, max: 130 }),
      fc.integer({ min: 0, max: 40 }).map((k) => 2 ** 32 + k), // homes of frames above 2^32 are their low bits
      fc.integer({ min: 0, max: 2 ** 40 }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 40 }), fc.array(fc.record({ pfn: pfnArb, write: fc.boolean() }), { maxLength: 300, size: 'max' }), (slots, ops) => {
        const src = patternSource();
        const { memory, cache, mapBase, mapBits, slotsBase, tagBase, homeBits } = setup(slots, src);
        const u32 = new Uint32Array(memory.buffer);
        const view = new DataView(memory.buffer);
        const P = 2 ** homeBits;
        const model = new CacheModel(slots);
        const pinned = new Map<number, number>(); // private frame -> its address, which must never change
        /** Slot -> [frame, private] from a scan of the map. */
        const occupants = () => {
          const out = new Map<number, [number, boolean]>();
          for (let i = 0; i < 2 ** mapBits; i++) {
            const e = mapBase + i * FM_ENTRY_BYTES;
            const key = u32[(e + FM_KEY_HI) / 4]! * 2 ** 32 + u32[(e + FM_KEY_LO) / 4]!;
            const addr = u32[(e + FM_ADDR) / 4]!;
            if (key !== 0 && addr !== 0) out.set((addr - slotsBase) / PAGE, [key - 1, (u32[(e + 12) / 4]! & 1) === 1]);
          }
          return out;
        };
        for (const { pfn, write } of ops) {
          if (write && !model.written.has(pfn) && !model.held.get(pfn)?.private && [...model.held.values()].filter((h) => h.private).length >= slots - Math.max(4, slots >>> 4)) continue;
          const before = occupants();
          const home = pfn % P;
          const wasHeld = model.held.has(pfn);
          const a = cache.fetch(pfn, write);
          model.fetch(pfn, write);
          if (write) {
            const v = (pfn * 13 + model.reads) >>> 0;
            view.setUint32(a + 12, v, true);
            model.written.set(pfn, v);
          }
          const after = occupants();
          // The same frames as the model, and the same source reads.
          const held = new Map([...after.values()].map(([f, p]) => [f, p]));
          expect(held.size).toBe(after.size);
          expect([...held.keys()].sort((x, y) => x - y)).toEqual([...model.held.keys()].sort((x, y) => x - y));
          expect([...held].filter(([f, p]) => p !== model.held.get(f)!.private)).toEqual([]);
          expect(cache.statistics.reads).toBe(model.reads);
          expect(cache.statistics.evictions).toBe(model.evictions);
          const wrong: string[] = [];
          // Every slot holds its frame's bytes (a move copies all of them).
          for (const [slot, [f]] of after) {
            for (const off of [0, 12, 4092]) {
              if (view.getUint32(slotsBase + slot * PAGE + off, true) !== model.word(f, off)) wrong.push(`frame ${f} +${off}`);
            }
          }
          // A tag is set exactly for the frames at home.
          for (let h = 0; h < P; h++) {
            const o = after.get(h);
            const tag = o ? Math.floor(o[0] / P) + 1 : 0;
            if (tagOf(memory, tagBase, h) !== (o && o[0] % P === h && tag < 2 ** 32 ? tag : 0)) wrong.push(`tag of slot ${h}`);
          }
          for (const [f, p] of held) {
            const at = cache.peek(f);
            if (p && pinned.has(f) && at !== pinned.get(f)) wrong.push(`private frame ${f} moved`);
            if (p) pinned.set(f, at);
          }
          expect(wrong).toEqual([]);
          // A frame just read from the source went home when its home was free, held a clean
          // frame away from its own home, or held the frame this fetch evicted.
          if (!wasHeld && model.held.has(pfn)) {
            const o = before.get(home);
            const fits = (f: number) => Math.floor(f / P) + 1 < 2 ** 32;
            const expectHome = fits(pfn) && (!o || (!o[1] && !(o[0] % P === home && fits(o[0]))) || model.evicted.includes(o[0]));
            // (A frame whose tag does not fit may land in its home slot as any slot, untagged.)
            expect(a === slotsBase + home * PAGE && fits(pfn), `frame ${pfn} at home`).toBe(expectHome);
          }
        }
        expect(cache.statistics.moves).toBeLessThanOrEqual(cache.statistics.reads);
      }),
      { numRuns: 120 },
    );
  });
});
