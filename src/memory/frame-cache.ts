/**
 * The frame cache: physical memory of an engine over a source (a dump file), held
 * as a bounded set of 4 KiB slots in the engine's WebAssembly memory, found through
 * a frame map that both backends read.
 *
 * The frame map is an open-addressing hash table in the engine's memory, keyed by
 * frame number. The kernels (wasm and TS alike) only look it up; on a miss they
 * call `fetch`, which reads the frame from the source into a slot (a free one, else
 * the one of the oldest clean frame), records it in the map and returns the slot's
 * address. Only this class writes the map, so the two backends see the same cache.
 *
 * Home slots: frame pfn's home is slot pfn & (P - 1), P the largest power of two
 * <= slots, and a tag per home slot says which frame sits there at home. A reader
 * whose frame has its tag set knows the slot's address from the frame number
 * alone, so the table entry load need not wait for a map lookup (the dependent
 * load that made walks over a source slower than resident ones). A frame goes
 * home when its home is free or holds a clean frame that is not at its own home
 * (that one moves to another slot: a 4 KiB copy, no source read); otherwise it
 * lives elsewhere, found through the map as before, so two frames with one home
 * never evict each other.
 *
 * Writes never reach the source: a frame about to be written is made private
 * (pinned in its slot, never evicted), so a write to a dump-backed engine is
 * copy-on-write in the engine. Frames the source does not have are remembered as
 * absent (address 0) so a walk that keeps hitting a hole does not keep asking.
 */
import { CapacityError } from '../errors.js';
import { hex, sizeName } from '../util/numbers.js';
import { FRAME_SIZE, FrameState, type PhysicalSource } from './source.js';
import {
  FM_ENTRY_BYTES, FM_KEY_LO, FM_KEY_HI, FM_ADDR, FM_FLAGS, FM_PRIVATE, FM_HASH_MULT, FM_HASH_MIX, FT_BYTES,
} from '../abi.js';

/** Where the cache lives in the engine's memory. */
export interface FrameCacheRegion {
  /** Byte offset of slot 0; slots are FRAME_SIZE apart. */
  readonly slotsBase: number;
  readonly slots: number;
  /** Byte offset of the frame map (a power of two of FM_ENTRY_BYTES entries). */
  readonly mapBase: number;
  /** log2 of the frame map's entries (at least log2(2 * slots): load stays <= 1/2). */
  readonly mapBits: number;
  /** Byte offset of the home tags (2^homeBits u32s). */
  readonly tagBase: number;
  /** log2 of the home slots: the largest power of two <= slots. */
  readonly homeBits: number;
}

export interface FrameCacheStats {
  /** Frames read from the source. */
  readonly reads: number;
  /** Clean frames dropped to make room. */
  readonly evictions: number;
  /** Clean frames copied out of the home slot of a frame coming in (no source read). */
  readonly moves: number;
  /** Frames made private by a write (pinned until the engine is dropped). */
  readonly privateFrames: number;
  /** Frames found absent from the source. */
  readonly absent: number;
  readonly slots: number;
}

/**
 * Home entry of `pfn` in a map of 2^mapBits entries: its group of 16 frames is
 * hashed (Fibonacci hashing of both halves) to a run of 16 entries, and the frame
 * takes its place in the run. Frames that follow each other (page tables are
 * allocated together) share map lines, so a walk touches few of them; the wasm
 * kernels (assembly/shared/frame-map.ts) compute the same.
 */
export function frameHash(pfn: number, mapBits: number): number {
  const group = Math.floor(pfn / 16);
  const lo = group >>> 0;
  const hi = Math.floor(group / 2 ** 32) >>> 0;
  return (((Math.imul(lo ^ Math.imul(hi, FM_HASH_MIX), FM_HASH_MULT) >>> (36 - mapBits)) << 4) | (pfn % 16)) >>> 0;
}

const NO_FRAME = -1;

export class FrameCache {
  readonly region: FrameCacheRegion;
  private readonly source: PhysicalSource;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly mask: number;
  private readonly homeMask: number;
  /** Frame held by each slot (NO_FRAME: free). */
  private readonly slotFrame: Float64Array;
  private readonly slotPrivate: Uint8Array;
  /** Slots holding a frame the dump left out (zeros in the slot; a reader of guest memory names it). */
  private readonly slotExcluded: Uint8Array;
  private readonly scratch = new Uint8Array(FRAME_SIZE);
  /**
   * Slots freed since they were first used (a stack; `freeAt[slot]` is its place, -1
   * when not on it), so the home of a frame can be taken out of it. Slots never used
   * are not listed: `fresh` counts those handed out, in a fixed order (the slots that
   * are no frame's home first, slot P up: nothing will ask them to move; then the
   * homes from 0 up), skipping any taken meanwhile as a frame's home. So opening a
   * dump costs no loop over the slots.
   */
  private readonly free: Int32Array;
  private readonly freeAt: Int32Array;
  private freeCount = 0;
  private fresh = 0;
  /** Clean frames in the order they came in (a ring): the oldest is evicted first. Frames made private since are skipped. */
  private readonly fifo: Float64Array;
  private fifoHead = 0;
  private fifoCount = 0;
  private used = 0;
  private absentEntries = 0;
  private readonly absentLimit: number;
  /** Slots never pinned by writes, so reads always find room. */
  private readonly readSlots: number;
  private stats = { reads: 0, evictions: 0, moves: 0, privateFrames: 0, absent: 0 };

  /** The name (a path, for a dump file) the source was opened from. */
  get sourceName(): string {
    return this.source.description.name;
  }

  /** `memory` is new (the map region zero, as WebAssembly makes it); engine.ts makes one per cache. */
  constructor(memory: WebAssembly.Memory, region: FrameCacheRegion, source: PhysicalSource) {
    if (region.slots < 16) {
      throw new CapacityError(`frame cache: ${region.slots} slots is too few (at least 16 frames, 64 KiB)`, { slots: region.slots });
    }
    if (2 ** region.mapBits < 2 * region.slots || region.mapBits > 30) {
      throw new CapacityError(`frame cache: a map of 2^${region.mapBits} entries cannot index ${region.slots} slots`, { ...region });
    }
    if (2 ** region.homeBits > region.slots || 2 ** (region.homeBits + 1) <= region.slots) {
      throw new CapacityError(`frame cache: 2^${region.homeBits} home slots is not the largest power of two <= ${region.slots} slots`, { ...region });
    }
    this.region = region;
    this.source = source;
    this.u8 = new Uint8Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
    this.mask = 2 ** region.mapBits - 1;
    this.homeMask = 2 ** region.homeBits - 1;
    this.slotFrame = new Float64Array(region.slots).fill(NO_FRAME);
    this.free = new Int32Array(region.slots);
    this.freeAt = new Int32Array(region.slots).fill(-1);
    this.fifo = new Float64Array(region.slots);
    this.slotPrivate = new Uint8Array(region.slots);
    this.slotExcluded = new Uint8Array(region.slots);
    // Absent records share the map with the frames: at most a quarter of the slots'
    // worth (8 for the smallest caches), so the map always keeps an empty entry to end a probe.
    this.absentLimit = Math.max(8, region.slots >>> 2);
    this.readSlots = Math.max(4, region.slots >>> 4);
    // The map and the tags start empty (all zero) because the memory is new: WebAssembly zeroes it.
    // Clearing it again here would write every page of it (2 MiB for the default cache),
    // page faults that a one-address translate, which uses a few entries, never needs.
  }

  get statistics(): FrameCacheStats {
    return { ...this.stats, slots: this.region.slots };
  }

  /** Byte offset of the map entry holding `pfn`, or -1. */
  private find(pfn: number): number {
    const keyLo = (pfn + 1) >>> 0;
    const keyHi = Math.floor((pfn + 1) / 2 ** 32) >>> 0;
    for (let i = frameHash(pfn, this.region.mapBits); ; i = (i + 1) & this.mask) {
      const e = this.region.mapBase + i * FM_ENTRY_BYTES;
      const lo = this.u32[(e + FM_KEY_LO) >>> 2]!;
      const hi = this.u32[(e + FM_KEY_HI) >>> 2]!;
      if (lo === keyLo && hi === keyHi) return e;
      if (lo === 0 && hi === 0) return -1;
    }
  }

  /**
   * Address in the engine's memory of frame `pfn`'s slot, 0 when the source does
   * not have it. With `write`, the frame is made private first (an absent frame
   * becomes a private zero frame: writing creates it, in the engine only).
   * The kernels call this on a miss (or on a write to a clean frame).
   */
  fetch(pfn: number, write: boolean): number {
    // The kernels' fast path (assembly/shared/frame-map.ts), here for the TS callers.
    const home = this.homeOf(pfn);
    if (!write && this.tagged(home, pfn)) return this.region.slotsBase + home * FRAME_SIZE;
    let e = this.find(pfn);
    if (e >= 0) {
      const addr = this.u32[(e + FM_ADDR) >>> 2]!;
      if (!write || this.u32[(e + FM_FLAGS) >>> 2]! & FM_PRIVATE) return addr;
      if (addr !== 0) {
        this.makePrivate((addr - this.region.slotsBase) / FRAME_SIZE, e);
        return addr;
      }
      // An absent frame about to be written: drop the absent record, create it below.
      this.remove(e);
      this.absentEntries--;
    }
    // Read first, into a scratch frame: a frame the source does not have (or a
    // failed read) then takes no slot and evicts or moves nothing.
    const state = this.source.readFrame(pfn, this.scratch);
    this.stats.reads++;
    if (state === FrameState.Absent && !write) {
      this.absentFrame(pfn);
      return 0;
    }
    if (state === FrameState.Absent) this.scratch.fill(0);
    const slot = this.place(home, pfn);
    const addr = this.region.slotsBase + slot * FRAME_SIZE;
    this.u8.set(this.scratch, addr);
    e = this.insert(pfn, addr, 0);
    this.hold(slot, pfn);
    this.slotExcluded[slot] = state === FrameState.Excluded ? 1 : 0;
    this.used++;
    // In the fifo even when written: should makePrivate refuse, the frame stays clean and evictable.
    this.fifoPush(pfn);
    if (write) this.makePrivate(slot, e);
    return addr;
  }

  /** Home slot of `pfn`: its low bits (a frame number below 2^52 keeps them through >>> 0). */
  private homeOf(pfn: number): number {
    return (pfn >>> 0) & this.homeMask;
  }

  /** The tag of `pfn` at home: its bits above the home slot's, plus one; 0 when that does not fit in 32 bits (it never goes home). */
  private tagOf(pfn: number): number {
    const tag = Math.floor(pfn / 2 ** this.region.homeBits) + 1;
    return tag <= 0xffff_ffff ? tag : 0;
  }

  /** Whether `pfn` sits in `slot` at home (the slot's tag). */
  private tagged(slot: number, pfn: number): boolean {
    const tag = this.tagOf(pfn);
    return tag !== 0 && this.u32[(this.region.tagBase + slot * FT_BYTES) >>> 2] === tag;
  }

  /** Whether `slot` is the home of `pfn` and can hold it there. */
  private homeFor(slot: number, pfn: number): boolean {
    return this.homeOf(pfn) === slot && this.tagOf(pfn) !== 0;
  }

  private setTag(slot: number, tag: number): void {
    if (slot <= this.homeMask) this.u32[(this.region.tagBase + slot * FT_BYTES) >>> 2] = tag;
  }

  /** `slot` now holds `pfn` (its tag set when that is the frame's home). */
  private hold(slot: number, pfn: number): void {
    this.slotFrame[slot] = pfn;
    this.setTag(slot, this.homeFor(slot, pfn) ? this.tagOf(pfn) : 0);
  }

  /** `slot` holds nothing: back on the free stack. */
  private release(slot: number): void {
    this.slotFrame[slot] = NO_FRAME;
    this.setTag(slot, 0);
    this.freeAt[slot] = this.freeCount;
    this.free[this.freeCount++] = slot;
  }

  /**
   * The slot for `pfn`, whose home is `home`: the home itself when it is free or
   * holds a clean frame away from its own home (moved out first), else any other
   * (always another for a frame whose tag does not fit in 32 bits).
   */
  private place(home: number, pfn: number): number {
    if (!this.homeFor(home, pfn)) return this.takeSlot();
    const there = this.slotFrame[home]!;
    if (there === NO_FRAME) {
      this.unfree(home);
      return home;
    }
    if (this.slotPrivate[home] || this.homeFor(home, there)) return this.takeSlot();
    const to = this.takeSlot();
    // The oldest clean frame may be the one at `home`: then it is gone, not moved.
    if (to !== home) this.move(home, to);
    return home;
  }

  /** Copy the clean frame in slot `from` to the taken slot `to`; its map entry follows, `from` is left taken and empty. */
  private move(from: number, to: number): void {
    const pfn = this.slotFrame[from]!;
    const src = this.region.slotsBase + from * FRAME_SIZE;
    const dst = this.region.slotsBase + to * FRAME_SIZE;
    this.u8.copyWithin(dst, src, src + FRAME_SIZE);
    this.u32[(this.find(pfn) + FM_ADDR) >>> 2] = dst;
    this.hold(to, pfn);
    this.slotExcluded[to] = this.slotExcluded[from]!;
    this.slotFrame[from] = NO_FRAME;
    this.setTag(from, 0);
    this.stats.moves++;
  }

  /** Take free slot `slot` out of the free stack (a never-used one needs nothing: the fresh slots skip it once it holds a frame). */
  private unfree(slot: number): void {
    const i = this.freeAt[slot]!;
    if (i < 0) return;
    const last = this.free[--this.freeCount]!;
    this.free[i] = last;
    this.freeAt[last] = i;
    this.freeAt[slot] = -1;
  }

  private fifoPush(pfn: number): void {
    const n = this.region.slots;
    this.fifo[(this.fifoHead + this.fifoCount) % n] = pfn;
    this.fifoCount++;
  }

  /**
   * Whether the frame in the slot at `addr` (as `fetch` returned it) is one the
   * dump left out (FrameState.Excluded: a kdump's dumpable bitmap): its slot holds
   * zeros, as QEMU reads it, but it has no contents from the dump. A frame written
   * in the engine has contents from then on.
   */
  excluded(addr: number): boolean {
    return this.slotExcluded[(addr - this.region.slotsBase) / FRAME_SIZE] === 1;
  }

  /** The slot address of `pfn` if it is cached (no source read), else 0. */
  peek(pfn: number): number {
    const e = this.find(pfn);
    return e < 0 ? 0 : this.u32[(e + FM_ADDR) >>> 2]!;
  }

  /**
   * Refuse, before a write operation starts, one that would need `n` more private
   * frames than the cache can pin (some slots always stay for reading).
   */
  reservePrivate(n: number): void {
    const room = this.region.slots - this.readSlots - this.stats.privateFrames;
    if (n > room) {
      throw new CapacityError(
        `frame cache: a write needs ${n} new private frames, ${Math.max(0, room)} are left in a cache of ` +
          `${sizeName(this.region.slots * FRAME_SIZE)}; open the dump with a larger cacheBytes`,
        { needed: n, room, slots: this.region.slots },
      );
    }
  }

  private makePrivate(slot: number, entry: number): void {
    if (this.slotPrivate[slot]) return;
    if (this.stats.privateFrames + this.readSlots >= this.region.slots) {
      throw new CapacityError(
        `frame cache: writes have made ${this.stats.privateFrames} frames private, the whole cache of ` +
          `${sizeName(this.region.slots * FRAME_SIZE)}; open the dump with a larger cacheBytes`,
        { privateFrames: this.stats.privateFrames, slots: this.region.slots },
      );
    }
    this.slotPrivate[slot] = 1;
    this.slotExcluded[slot] = 0;
    this.u32[(entry + FM_FLAGS) >>> 2] = FM_PRIVATE;
    this.stats.privateFrames++;
  }

  private absentFrame(pfn: number): void {
    // The slot taken for the read stays free.
    if (this.absentEntries >= this.absentLimit) this.forgetAbsent();
    this.insert(pfn, 0, 0);
    this.absentEntries++;
    this.stats.absent++;
  }

  /**
   * A slot to fill, taken: a free one, else that of the oldest clean frame, evicted.
   * The fifo holds every clean frame once (each came in once and leaves only here),
   * so it never overflows.
   */
  private takeSlot(): number {
    if (this.freeCount > 0) {
      const slot = this.free[--this.freeCount]!;
      this.freeAt[slot] = -1;
      return slot;
    }
    const n = this.region.slots;
    while (this.fresh < n) {
      const slot = (this.homeMask + 1 + this.fresh++) % n;
      // Taken as a frame's home since: holding one, or freed again and on the stack.
      if (this.slotFrame[slot] === NO_FRAME && this.freeAt[slot] < 0) return slot;
    }
    while (this.fifoCount > 0) {
      const pfn = this.fifo[this.fifoHead]!;
      this.fifoHead = (this.fifoHead + 1) % n;
      this.fifoCount--;
      const e = this.find(pfn);
      const slot = (this.u32[(e + FM_ADDR) >>> 2]! - this.region.slotsBase) / FRAME_SIZE;
      if (this.slotPrivate[slot]) continue; // written since it came in: pinned
      this.remove(e);
      this.slotFrame[slot] = NO_FRAME;
      this.setTag(slot, 0);
      this.used--;
      this.stats.evictions++;
      return slot;
    }
    throw new CapacityError(`frame cache: every one of ${n} slots holds a private (written) frame`, { slots: n });
  }

  private insert(pfn: number, addr: number, flags: number): number {
    const key = pfn + 1;
    for (let i = frameHash(pfn, this.region.mapBits); ; i = (i + 1) & this.mask) {
      const e = this.region.mapBase + i * FM_ENTRY_BYTES;
      if (this.u32[(e + FM_KEY_LO) >>> 2] === 0 && this.u32[(e + FM_KEY_HI) >>> 2] === 0) {
        this.u32[(e + FM_ADDR) >>> 2] = addr;
        this.u32[(e + FM_FLAGS) >>> 2] = flags;
        this.u32[(e + FM_KEY_HI) >>> 2] = Math.floor(key / 2 ** 32);
        this.u32[(e + FM_KEY_LO) >>> 2] = key >>> 0;
        return e;
      }
    }
  }

  /** Remove the entry at byte offset `e`, shifting later entries of its probe run back. */
  private remove(e: number): void {
    const base = this.region.mapBase;
    let hole = (e - base) / FM_ENTRY_BYTES;
    for (let j = (hole + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const je = base + j * FM_ENTRY_BYTES;
      const lo = this.u32[(je + FM_KEY_LO) >>> 2]!;
      const hi = this.u32[(je + FM_KEY_HI) >>> 2]!;
      if (lo === 0 && hi === 0) break;
      const home = frameHash(hi * 2 ** 32 + lo - 1, this.region.mapBits);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      this.u8.copyWithin(base + hole * FM_ENTRY_BYTES, je, je + FM_ENTRY_BYTES);
      hole = j;
    }
    const he = base + hole * FM_ENTRY_BYTES;
    this.u8.fill(0, he, he + FM_ENTRY_BYTES);
  }

  /** Drop every absent-frame record (they are cheap to learn again). */
  private forgetAbsent(): void {
    const base = this.region.mapBase;
    for (let i = 0; i <= this.mask; ) {
      const e = base + i * FM_ENTRY_BYTES;
      const key = this.u32[(e + FM_KEY_LO) >>> 2]! | this.u32[(e + FM_KEY_HI) >>> 2]!;
      if (key !== 0 && this.u32[(e + FM_ADDR) >>> 2] === 0) {
        this.remove(e); // an entry may have shifted into i: look at it again
        continue;
      }
      i++;
    }
    this.absentEntries = 0;
  }

  /** Describe the cache for messages ("12 MiB of 256 MiB used"). */
  describe(): string {
    return `${sizeName(this.used * FRAME_SIZE)} of ${sizeName(this.region.slots * FRAME_SIZE)} cached, ${this.stats.privateFrames} private frames, map at ${hex(this.region.mapBase)}`;
  }
}
