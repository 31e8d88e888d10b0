import { open } from 'node:fs/promises';
import { OutsideImageError, InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { startProgress, type ProgressCallback } from '../util/progress.js';
import type { Layout } from './layout.js';

const CHUNK = 8 * 2 ** 20;

/** Range-checked access to the RAM image: physical addresses [0, ramBytes). */
export class PhysicalMemory {
  readonly size: number;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private readonly base: number;

  constructor(memory: WebAssembly.Memory, layout: Layout) {
    this.base = layout.ramBase;
    this.size = layout.ramBytes;
    this.u8 = new Uint8Array(memory.buffer, layout.ramBase, layout.ramBytes);
    this.view = new DataView(memory.buffer, layout.ramBase, layout.ramBytes);
  }

  /** Offset of [pa, pa+len) in the image, or an OutsideImageError naming the access. */
  private at(pa: bigint | number, len: number, what: string): number {
    const a = BigInt(pa);
    if (a < 0n || len < 0 || a + BigInt(len) > BigInt(this.size)) {
      throw new OutsideImageError(
        `${what}: [${hex(a)}, ${hex(a + BigInt(len))}) is outside the RAM image [0x0, ${hex(this.size)})`,
        { address: a, length: len, ramBytes: this.size },
      );
    }
    return Number(a);
  }

  read(pa: bigint | number, len: number): Uint8Array {
    const o = this.at(pa, len, 'read');
    return this.u8.slice(o, o + len);
  }

  write(pa: bigint | number, bytes: Uint8Array): void {
    this.u8.set(bytes, this.at(pa, bytes.length, 'write'));
  }

  fill(pa: bigint | number, len: number, byte = 0): void {
    const o = this.at(pa, len, 'fill');
    this.u8.fill(byte, o, o + len);
  }

  read64(pa: bigint | number): bigint {
    return this.view.getBigUint64(this.at(pa, 8, 'read64'), true);
  }

  write64(pa: bigint | number, value: bigint): void {
    this.view.setBigUint64(this.at(pa, 8, 'write64'), BigInt.asUintN(64, value), true);
  }

  read32(pa: bigint | number): number {
    return this.view.getUint32(this.at(pa, 4, 'read32'), true);
  }

  write32(pa: bigint | number, value: number): void {
    this.view.setUint32(this.at(pa, 4, 'write32'), value >>> 0, true);
  }

  /** Offset of physical address 0 in the engine's memory (for kernels and workers). */
  get memoryOffset(): number {
    return this.base;
  }

  /**
   * Stream a raw image file (file offset = physical address + `fileOffset`) into
   * the image at `at`. A file larger than the image is refused before any copy.
   */
  async loadRaw(path: string, options: { at?: number; onProgress?: ProgressCallback } = {}): Promise<number> {
    const at = options.at ?? 0;
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (at + size > this.size) {
        throw new OutsideImageError(
          `${path}: image of ${size} bytes at ${hex(at)} does not fit the engine's RAM image of ${this.size} bytes`,
          { file: path, size, ramBytes: this.size },
        );
      }
      const bar = options.onProgress ? undefined : startProgress('loading image', size, 'bytes');
      let done = 0;
      while (done < size) {
        const n = Math.min(CHUNK, size - done);
        const { bytesRead } = await fh.read(this.u8, at + done, n, done);
        if (bytesRead === 0) break;
        done += bytesRead;
        options.onProgress?.(done, size);
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
    const start = options.start ?? 0;
    const length = options.length ?? this.size - start;
    this.at(start, length, 'save');
    if (!Number.isSafeInteger(length)) throw new InvalidInputError(`save: length ${length} is not a whole number`);
    const fh = await open(path, 'w');
    try {
      for (let done = 0; done < length; ) {
        const n = Math.min(CHUNK, length - done);
        // Copy out of the shared memory: fs writes from a private buffer.
        const { bytesWritten } = await fh.write(this.u8.slice(start + done, start + done + n));
        done += bytesWritten;
      }
    } finally {
      await fh.close();
    }
  }
}
