/**
 * A file described as pieces at offsets in an otherwise zero file of `size`
 * bytes. Small ones become a buffer; large ones (64 GiB, 1 TiB) are written with
 * ftruncate and positioned writes, so the holes cost no disk.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Piece {
  offset: number;
  bytes: Uint8Array;
}

export class SparseFile {
  readonly pieces: Piece[] = [];
  constructor(public size = 0) {}

  put(offset: number, bytes: Uint8Array): this {
    this.pieces.push({ offset, bytes });
    this.size = Math.max(this.size, offset + bytes.length);
    return this;
  }

  toBuffer(): Uint8Array {
    const out = new Uint8Array(this.size);
    for (const p of this.pieces) out.set(p.bytes, p.offset);
    return out;
  }

  writeTo(path: string): string {
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, this.size);
      for (const p of this.pieces) writeSync(fd, p.bytes, 0, p.bytes.length, p.offset);
    } finally {
      closeSync(fd);
    }
    return path;
  }
}

/** A new temporary directory (`prefix` + random letters) for one test file or run; `cleanup` removes it. */
export function tempDir(prefix = 'memwalk-dumps-'): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Little-endian / big-endian field writers over a byte array. */
export class Bytes {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  u16(o: number, v: number) {
    this.dv.setUint16(o, v, true);
    return this;
  }
  u32(o: number, v: number) {
    this.dv.setUint32(o, v >>> 0, true);
    return this;
  }
  u64(o: number, v: bigint | number) {
    this.dv.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  i64be(o: number, v: bigint | number) {
    this.dv.setBigInt64(o, BigInt(v), false);
    return this;
  }
  text(o: number, s: string) {
    for (let i = 0; i < s.length; i++) this.buf[o + i] = s.charCodeAt(i);
    return this;
  }
}

/**
 * The bytes the writers put in frame `pfn` unless told otherwise: distinct for
 * every frame (the frame number appears in the first 8 bytes) and compressible.
 */
export function patternFrame(pfn: number): Uint8Array {
  const out = new Uint8Array(4096);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(pfn), true);
  for (let i = 8; i < 4096; i++) out[i] = ((i >> 4) * 13 + pfn * 7 + (i & 3)) & 0xff;
  return out;
}
