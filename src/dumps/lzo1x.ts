/**
 * LZO1X decompression (what lzo1x_1_compress writes, as makedumpfile does for
 * `-l`), written from the format's public description because no maintained,
 * synchronous, pure-JS decoder is on npm. It is the "safe" kind: every input
 * byte, output byte and back-reference is bounds-checked, and a stream that does
 * not end with the end marker exactly at the end of the input is refused.
 *
 * The stream is a sequence of instructions. Each match instruction ends with a
 * 2-bit count S of literals that follow it directly; `state` remembers that count
 * (or 4 after a long literal run) because it changes the meaning of the next
 * instruction when that is below 16.
 */

export class Lzo1xError extends Error {
  constructor(
    message: string,
    /** Input position where the problem was found. */
    readonly at: number,
  ) {
    super(message);
  }
}

/** Decompress `input` into `out`; returns the number of bytes written. */
export function lzo1xDecompress(input: Uint8Array, out: Uint8Array): number {
  const n = input.length;
  let ip = 0;
  let op = 0;

  const need = (count: number) => {
    if (ip + count > n) throw new Lzo1xError(`input ends at ${n} inside an instruction`, ip);
  };
  const literals = (count: number) => {
    need(count);
    if (op + count > out.length) throw new Lzo1xError(`output would exceed ${out.length} bytes`, ip);
    out.set(input.subarray(ip, ip + count), op);
    ip += count;
    op += count;
  };
  const copyMatch = (distance: number, length: number) => {
    if (distance > op) throw new Lzo1xError(`match reaches back ${distance} bytes with only ${op} written`, ip);
    if (op + length > out.length) throw new Lzo1xError(`output would exceed ${out.length} bytes`, ip);
    // Byte by byte: a match may overlap its own output (a run).
    for (let i = 0; i < length; i++, op++) out[op] = out[op - distance]!;
  };
  /** A length field of `bits` zero: 255 for each following zero byte, plus the first non-zero byte. */
  const extendedLength = (base: number) => {
    let len = base;
    for (;;) {
      need(1);
      const b = input[ip++]!;
      if (b !== 0) return len + b;
      len += 255;
      if (len > out.length + 255) throw new Lzo1xError('length run longer than the output', ip);
    }
  };

  let state = 0;
  need(1);
  if (input[0]! > 17) {
    // A first byte above 17 is a literal run of byte - 17.
    const count = input[ip++]! - 17;
    literals(count);
    state = count < 4 ? count : 4;
  }
  for (;;) {
    need(1);
    const t = input[ip++]!;
    let distance: number;
    let length: number;
    let s: number;
    if (t < 16) {
      if (state === 0) {
        // A literal run of at least 4 bytes.
        const count = t === 0 ? extendedLength(15) + 3 : t + 3;
        literals(count);
        state = 4;
        continue;
      }
      need(1);
      const h = input[ip++]!;
      s = t & 3;
      if (state === 4) {
        // 3 bytes from 2..3 KiB back, after a long literal run.
        distance = (h << 2) + (t >> 2) + 2049;
        length = 3;
      } else {
        // 2 bytes from up to 1 KiB back, after 1..3 literals.
        distance = (h << 2) + (t >> 2) + 1;
        length = 2;
      }
    } else if (t < 32) {
      // 16 KiB .. 48 KiB back; distance 16384 is the end marker.
      length = (t & 7) === 0 ? extendedLength(7) + 2 : (t & 7) + 2;
      need(2);
      const d = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      distance = 16384 + ((t & 8) << 11) + (d >> 2);
      s = d & 3;
      if (distance === 16384) {
        if (ip !== n) throw new Lzo1xError(`end marker at ${ip - 3} but the input goes on to ${n}`, ip);
        return op;
      }
    } else if (t < 64) {
      // Up to 16 KiB back.
      length = (t & 31) === 0 ? extendedLength(31) + 2 : (t & 31) + 2;
      need(2);
      const d = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      distance = (d >> 2) + 1;
      s = d & 3;
    } else {
      // Up to 2 KiB back: 3..4 bytes (64..127) or 5..8 bytes (128..255).
      need(1);
      const h = input[ip++]!;
      length = t < 128 ? 3 + ((t >> 5) & 1) : 5 + ((t >> 5) & 3);
      distance = (h << 3) + ((t >> 2) & 7) + 1;
      s = t & 3;
    }
    copyMatch(distance, length);
    literals(s);
    state = s;
  }
}
