// A checksum of output records, computed the same way by the TS layer and the
// native C baseline (bench/native/memwalk-native.c: sum_words), so the three
// backends can be shown to have produced the same bytes before any time is
// reported. Two 32-bit lanes over the little-endian u32 words: FNV-1a, and a
// multiply-rotate sum. Not cryptographic; it catches any realistic divergence.

export class Checksum {
  private a = 2166136261 | 0;
  private b = 0x9747b28c | 0;

  /** Add `bytes` bytes (a multiple of 4) starting at byte offset `offset` of `u32`'s buffer. */
  words(u32: Uint32Array, offset: number, bytes: number): this {
    let a = this.a, b = this.b;
    const start = offset >>> 2, end = start + (bytes >>> 2);
    for (let i = start; i < end; i++) {
      const w = u32[i]! | 0;
      a = Math.imul(a ^ w, 16777619);
      b = Math.imul((b + w) | 0, 0x85ebca6b | 0);
      b = (b << 13) | (b >>> 19);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** Add a whole typed array's bytes. */
  array(view: ArrayBufferView): this {
    if (view.byteOffset % 4 || view.byteLength % 4) throw new Error('checksum: views must be 4-byte aligned');
    return this.words(new Uint32Array(view.buffer, view.byteOffset, view.byteLength >>> 2), 0, view.byteLength);
  }

  /** 16 hex digits: lane a, then lane b. */
  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Checksum of `bytes` bytes of memory at `offset` (4-byte aligned). */
export function checksumOf(u32: Uint32Array, offset: number, bytes: number): string {
  return new Checksum().words(u32, offset, bytes).hex();
}
