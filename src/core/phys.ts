import { OutsideImageError, InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import * as V from '../util/validate.js';
import type { ProgressCallback } from '../util/progress.js';
import type { Layout } from '../memory/layout.js';
import { FrameCache } from '../memory/frame-cache.js';

const PAGE = 4096;

const CHUNK = 8 * 2 ** 20;

/**
 * Range-checked access to physical memory by address. A resident engine holds
 * [0, ramBytes) in its RAM image; an engine over a source reads through its frame
 * cache, up to the source's end, and writes into private copies of the frames
 * (never the source).
 */
export class PhysicalMemory {
  /** One past the highest physical address that can hold contents. */
  readonly size: number;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private readonly base: number;
  private readonly cache: FrameCache | undefined;

  constructor(memory: WebAssembly.Memory, layout: Layout, cache?: FrameCache, end?: number) {
    if (!(memory instanceof WebAssembly.Memory)) V.fail('memory', memory, 'is not a WebAssembly.Memory');
    const l = V.options<Layout>(layout, 'layout');
    const bytes = memory.buffer.byteLength;
    V.wholeNumber(l.ramBase, 'layout.ramBase', 0, bytes);
    V.wholeNumber(l.ramBytes, 'layout.ramBytes', 0, bytes - l.ramBase!);
    if (cache !== undefined && !(cache instanceof FrameCache)) V.fail('cache', cache, 'is not a frame cache');
    if (end !== undefined) V.wholeNumber(end, 'end');
    this.cache = cache;
    if (cache) {
      this.base = 0;
      this.size = end ?? 0;
      this.u8 = new Uint8Array(memory.buffer);
      this.view = new DataView(memory.buffer);
      return;
    }
    this.base = layout.ramBase;
    this.size = layout.ramBytes;
    this.u8 = new Uint8Array(memory.buffer, layout.ramBase, layout.ramBytes);
    this.view = new DataView(memory.buffer, layout.ramBase, layout.ramBytes);
  }

  /** Offset of [pa, pa+len) in the image, or an OutsideImageError naming the access. */
  private at(pa: bigint | number, len: number, what: string): number {
    if (typeof pa !== 'bigint' && (typeof pa !== 'number' || !Number.isSafeInteger(pa))) {
      throw new InvalidInputError(`${what}: pa: ${V.describe(pa)} is not an address (a bigint or a whole number)`, { input: 'pa' });
    }
    V.wholeNumber(len, `${what}: length`);
    const a = BigInt(pa);
    if (a < 0n || len < 0 || a + BigInt(len) > BigInt(this.size)) {
      const where = this.cache ? 'the physical memory of the source' : 'the RAM image';
      throw new OutsideImageError(
        `${what}: [${hex(a)}, ${hex(a + BigInt(len))}) is outside ${where} [0x0, ${hex(this.size)})`,
        { address: a, length: len, ramBytes: this.size },
      );
    }
    return Number(a);
  }

  /**
   * Visit [pa, pa+len) frame by frame in the frame cache: `visit(offset in the
   * memory, bytes, done so far)`. A frame the source does not have is an error
   * naming its address (zero-filled reads would hide a hole).
   */
  private eachFrame(pa: number, len: number, write: boolean, what: string, visit: (at: number, n: number, done: number) => void): void {
    for (let done = 0; done < len; ) {
      const a = pa + done;
      const n = Math.min(len - done, PAGE - (a % PAGE));
      const slot = this.cache!.fetch(Math.floor(a / PAGE), write);
      if (slot === 0) {
        throw new OutsideImageError(`${what}: physical ${hex(a)} is in no range of the source (a hole)`, { address: BigInt(a) });
      }
      visit(slot + (a % PAGE), n, done);
      done += n;
    }
  }

  /** A small access (8 bytes at most, not crossing a frame) at its offset in the memory. */
  private small(pa: bigint | number, len: number, write: boolean, what: string): number {
    const o = this.at(pa, len, what);
    if (!this.cache) return o;
    if ((o % PAGE) + len > PAGE) throw new InvalidInputError(`${what}: ${hex(o)} crosses a frame boundary`, { address: BigInt(o) });
    let at = 0;
    this.eachFrame(o, len, write, what, (x) => (at = x));
    return at;
  }

  read(pa: bigint | number, len: number): Uint8Array {
    const o = this.at(pa, len, 'read');
    if (!this.cache) return this.u8.slice(o, o + len);
    const out = new Uint8Array(len);
    this.eachFrame(o, len, false, 'read', (at, n, done) => out.set(this.u8.subarray(at, at + n), done));
    return out;
  }

  /**
   * Copy [pa, pa+len) into `out` at `at`, straight from the image or the frame
   * cache, up to the first byte physical memory has no contents for (beyond the
   * image, or in no range of the source). Returns the bytes copied: `len` when all
   * of it has contents. Never throws for a hole (a reader of guest memory names it).
   */
  readInto(pa: bigint | number, out: Uint8Array, at = 0, len = out.length - at): number {
    if (at < 0 || len < 0 || at + len > out.length) throw new InvalidInputError(`readInto: [${at}, ${at + len}) is outside the output of ${out.length} bytes`);
    const a = BigInt(pa);
    if (a < 0n || a >= BigInt(this.size)) return 0;
    const o = Number(a);
    const n = Math.min(len, this.size - o);
    if (!this.cache) {
      out.set(this.u8.subarray(o, o + n), at);
      return n;
    }
    for (let done = 0; done < n; ) {
      const p = o + done;
      const k = Math.min(n - done, PAGE - (p % PAGE));
      const slot = this.cache.fetch(Math.floor(p / PAGE), false);
      if (slot === 0) return done;
      out.set(this.u8.subarray(slot + (p % PAGE), slot + (p % PAGE) + k), at + done);
      done += k;
    }
    return n;
  }

  write(pa: bigint | number, bytes: Uint8Array): void {
    V.byteArray(bytes, 'write: bytes');
    const o = this.at(pa, bytes.length, 'write');
    if (!this.cache) return this.u8.set(bytes, o);
    this.eachFrame(o, bytes.length, true, 'write', (at, n, done) => this.u8.set(bytes.subarray(done, done + n), at));
  }

  fill(pa: bigint | number, len: number, byte = 0): void {
    V.wholeNumber(byte, 'fill: byte', 0, 255);
    const o = this.at(pa, len, 'fill');
    if (!this.cache) return void this.u8.fill(byte, o, o + len);
    this.eachFrame(o, len, true, 'fill', (at, n) => this.u8.fill(byte, at, at + n));
  }

  read64(pa: bigint | number): bigint {
    return this.view.getBigUint64(this.small(pa, 8, false, 'read64'), true);
  }

  write64(pa: bigint | number, value: bigint): void {
    V.u64(value, 'write64: value');
    this.view.setBigUint64(this.small(pa, 8, true, 'write64'), value, true);
  }

  read32(pa: bigint | number): number {
    return this.view.getUint32(this.small(pa, 4, false, 'read32'), true);
  }

  write32(pa: bigint | number, value: number): void {
    const v = V.u32(value, 'write32: value');
    this.view.setUint32(this.small(pa, 4, true, 'write32'), v, true);
  }

  /** Offset of physical address 0 in the engine's memory (for kernels and workers). */
  /** [pa, pa+len) through the frame cache, holes as zeros (what a saved image holds there). */
  private copyOut(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let done = 0; done < len; ) {
      const a = pa + done;
      const n = Math.min(len - done, PAGE - (a % PAGE));
      const slot = this.cache!.fetch(Math.floor(a / PAGE), false);
      if (slot !== 0) out.set(this.u8.subarray(slot + (a % PAGE), slot + (a % PAGE) + n), done);
      done += n;
    }
    return out;
  }

  get memoryOffset(): number {
    return this.base;
  }

  /**
   * Stream a raw image file (file offset = physical address + `fileOffset`) into
   * the image at `at`. A file larger than the image is refused before any copy.
   */
  async loadRaw(path: string, options: { at?: number; onProgress?: ProgressCallback } = {}): Promise<number> {
    const o = V.options<{ at?: number; onProgress?: ProgressCallback }>(options, 'loadRaw: options');
    const at = o.at === undefined ? 0 : V.offset(o.at, 'loadRaw: options.at');
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
      throw new InvalidInputError(`loadRaw: options.onProgress: ${V.describe(o.onProgress)} must be a function`, { input: 'options.onProgress' });
    }
    V.pathText(path, 'loadRaw: path');
    if (this.cache) {
      throw new InvalidInputError(`loadRaw: ${path}: this engine reads its physical memory from a source; open the file as a dump instead`, { input: 'path' });
    }
    await V.existingFile(path, 'loadRaw: path');
    // Loaded when used, so a browser bundle of the engine needs no file system.
    const [{ open }, { startProgress }] = await Promise.all([import('node:fs/promises'), import('../util/progress.js')]);
    const fh = await open(path, 'r').catch((err: unknown) => V.fileError(err, path, 'loadRaw: path'));
    try {
      const { size } = await fh.stat();
      if (at + size > this.size) {
        throw new OutsideImageError(
          `${path}: image of ${size} bytes at ${hex(at)} does not fit the engine's RAM image of ${this.size} bytes`,
          { file: path, size, ramBytes: this.size },
        );
      }
      const bar = o.onProgress ? undefined : startProgress('loading image', size, 'bytes');
      let done = 0;
      while (done < size) {
        const n = Math.min(CHUNK, size - done);
        const { bytesRead } = await fh.read(this.u8, at + done, n, done);
        if (bytesRead === 0) break;
        done += bytesRead;
        o.onProgress?.(done, size);
        bar?.update(done);
      }
      bar?.stop();
      return done;
    } finally {
      await fh.close();
    }
  }

  /** Write [start, start+length) of the image to a file. */
  async save(path: string, options: { start?: number; length?: number } = {}): Promise<void> {
    const o = V.options<{ start?: number; length?: number }>(options, 'save: options');
    const start = o.start === undefined ? 0 : V.offset(o.start, 'save: options.start');
    const length = o.length === undefined ? Math.max(0, this.size - start) : V.offset(o.length, 'save: options.length');
    this.at(start, length, 'save');
    await V.writablePath(path, 'save: path', this.cache?.sourceName);
    const { open } = await import('node:fs/promises');
    const fh = await open(path, 'w').catch((err: unknown) => V.fileError(err, path, 'save: path'));
    try {
      for (let done = 0; done < length; ) {
        const n = Math.min(CHUNK, length - done);
        // Copy out of the shared memory: fs writes from a private buffer.
        const chunk = this.cache ? this.copyOut(start + done, n) : this.u8.slice(start + done, start + done + n);
        const { bytesWritten } = await fh.write(chunk);
        done += bytesWritten;
      }
    } finally {
      await fh.close();
    }
  }
}
