/**
 * Bounds-checked reads of the structures a dump format is made of. Every reader
 * in this folder goes through `readStructure` for headers and tables, so a
 * truncated file is always reported as the structure that does not fit, with its
 * offset, and never as a short read or a RangeError.
 */
import { malformedFile } from '../images/elf.js';
import type { ByteSource } from '../images/elf.js';
import { hex } from '../util/numbers.js';

export { malformedFile };
export type { ByteSource };

/** The end of 52-bit physical address space: every physical address is a safe JS number below it. */
export const PHYS_LIMIT = 2 ** 52;

/** Throw unless `length` bytes at `offset` lie inside `src`. */
export function requireInside(src: ByteSource, structure: string, offset: number | bigint, length: number | bigint): void {
  const off = BigInt(offset);
  const len = BigInt(length);
  const size = BigInt(src.size);
  if (off < 0n || len < 0n || off > size || len > size - off) {
    throw malformedFile(src.name, structure, off, `needs ${len} bytes (up to ${hex(off + len)}) but the file ends at ${hex(size)}`);
  }
}

/** Read `length` bytes of `structure` at `offset`, refusing what does not fit the file. */
export function readStructure(src: ByteSource, structure: string, offset: number | bigint, length: number): Uint8Array {
  requireInside(src, structure, offset, length);
  return src.read(Number(offset), length);
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Little- and big-endian field readers over a structure's bytes; 64-bit ones as bigint. */
export const field = {
  u16: (b: Uint8Array, o: number) => view(b).getUint16(o, true),
  u32: (b: Uint8Array, o: number) => view(b).getUint32(o, true),
  i32: (b: Uint8Array, o: number) => view(b).getInt32(o, true),
  u64: (b: Uint8Array, o: number) => view(b).getBigUint64(o, true),
  i64: (b: Uint8Array, o: number) => view(b).getBigInt64(o, true),
  i64be: (b: Uint8Array, o: number) => view(b).getBigInt64(o, false),
  /** A NUL-padded text field. */
  text: (b: Uint8Array, o: number, len: number) => {
    const s = b.subarray(o, o + len);
    const end = s.indexOf(0);
    return String.fromCharCode(...s.subarray(0, end < 0 ? s.length : end));
  },
};

/** ASCII bytes of `s`, for signature comparisons. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** True when `bytes` holds `sig` at `at`. */
export function hasBytes(bytes: Uint8Array, at: number, sig: Uint8Array): boolean {
  if (at + sig.length > bytes.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}
