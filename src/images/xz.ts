/**
 * A one-shot decoder for .xz (LZMA2, optionally behind the x86 BCJ filter) and
 * legacy .lzma data, the two LZMA forms Linux can wrap a bzImage payload in.
 *
 * Why not an npm package: Linux builds its XZ payload with `--x86` (BCJ), and
 * the pure-JS/WASM decoders we tried (xz-decompress, @napi-rs/lzma 1.4) reject
 * that filter; the one that has it installs native modules at run time.
 *
 * Whole-buffer only: the output grows as chunks decode and matches copy from it,
 * so there is no separate dictionary. Data after the last stream (Linux appends
 * the uncompressed size) is ignored. Corrupt input throws MalformedFileError
 * naming `name` and the input offset.
 */
import { createHash } from 'node:crypto';
import { MalformedFileError } from '../errors.js';
import { hex } from '../util/numbers.js';

export const XZ_MAGIC = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);

class Corrupt extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/* ---------- checks ---------- */

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC32_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// CRC-64/XZ (ECMA-182 reflected), kept as two 32-bit halves to stay off BigInt.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
(() => {
  const polyLo = 0xd7870f42;
  const polyHi = 0xc96c5795;
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    CRC64_LO[i] = lo;
    CRC64_HI[i] = hi;
  }
})();

function crc64(data: Uint8Array): Uint8Array {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ CRC64_HI[idx]!) >>> 0;
  }
  lo = (lo ^ 0xffffffff) >>> 0;
  hi = (hi ^ 0xffffffff) >>> 0;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, lo, true);
  new DataView(out.buffer).setUint32(4, hi, true);
  return out;
}

/* ---------- growable output ---------- */

class Output {
  buf = new Uint8Array(1 << 20);
  pos = 0;
  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/* ---------- LZMA ---------- */

const PROB_INIT = 1024;
const NUM_STATES = 12;
const POS_STATES_MAX = 16;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const MATCH_MIN_LEN = 2;

class RangeDecoder {
  range = 0;
  code = 0;
  pos = 0;
  end = 0;
  constructor(private readonly input: Uint8Array) {}

  init(pos: number, end: number): void {
    if (end - pos < 5) throw new Corrupt(pos, 'LZMA data shorter than the 5-byte range coder header');
    if (this.input[pos] !== 0) throw new Corrupt(pos, 'LZMA range coder must start with a zero byte');
    this.code = ((this.input[pos + 1]! << 24) | (this.input[pos + 2]! << 16) | (this.input[pos + 3]! << 8) | this.input[pos + 4]!) >>> 0;
    this.range = 0xffffffff;
    this.pos = pos + 5;
    this.end = end;
  }

  private next(): number {
    if (this.pos >= this.end) throw new Corrupt(this.pos, 'LZMA data ended early');
    return this.input[this.pos++]!;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
    return b;
  }

  direct(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      result = ((result << 1) | b) >>> 0;
      if (this.range < 0x1000000) {
        this.range = (this.range << 8) >>> 0;
        this.code = ((this.code << 8) | this.next()) >>> 0;
      }
    }
    return result;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
}

class LengthDecoder {
  // [choice, choice2, low[16][8], mid[16][8], high[256]]
  readonly probs = new Uint16Array(2 + POS_STATES_MAX * 8 * 2 + 256);
  reset(): void {
    this.probs.fill(PROB_INIT);
  }
  decode(rc: RangeDecoder, posState: number): number {
    const p = this.probs;
    if (rc.bit(p, 0) === 0) return rc.tree(p, 2 + posState * 8, 3);
    if (rc.bit(p, 1) === 0) return 8 + rc.tree(p, 2 + POS_STATES_MAX * 8 + posState * 8, 3);
    return 16 + rc.tree(p, 2 + POS_STATES_MAX * 16, 8);
  }
}

/** LZMA decoder state that survives across LZMA2 chunks. */
class LzmaState {
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  reps = [0, 0, 0, 0];
  literal = new Uint16Array(0x300 << 4);
  isMatch = new Uint16Array(NUM_STATES << 4);
  isRep = new Uint16Array(NUM_STATES);
  isRepG0 = new Uint16Array(NUM_STATES);
  isRepG1 = new Uint16Array(NUM_STATES);
  isRepG2 = new Uint16Array(NUM_STATES);
  isRep0Long = new Uint16Array(NUM_STATES << 4);
  posSlot = new Uint16Array(4 << 6);
  posSpecial = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  align = new Uint16Array(16);
  len = new LengthDecoder();
  repLen = new LengthDecoder();

  setProps(props: number, at: number, lzma2: boolean): void {
    if (props >= 9 * 5 * 5) throw new Corrupt(at, `LZMA properties byte ${props} is out of range`);
    this.lc = props % 9;
    this.lp = Math.floor(props / 9) % 5;
    this.pb = Math.floor(props / 45);
    if (lzma2 && this.lc + this.lp > 4) throw new Corrupt(at, `LZMA2 requires lc + lp <= 4 (got lc ${this.lc}, lp ${this.lp})`);
    if (this.literal.length < 0x300 << (this.lc + this.lp)) this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  reset(): void {
    this.state = 0;
    this.reps = [0, 0, 0, 0];
    for (const a of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posSpecial, this.align]) a.fill(PROB_INIT);
    this.len.reset();
    this.repLen.reset();
  }

  /**
   * Decode until `limit` output bytes exist (LZMA2 chunks, known-size .lzma) or
   * the end marker (unknown-size .lzma). `dictStart` is where the dictionary was
   * last reset: matches may not reach before it and positions count from it.
   */
  decode(rc: RangeDecoder, out: Output, dictStart: number, limit: number, allowEndMarker: boolean): void {
    out.ensure(limit - out.pos);
    const buf = out.buf;
    let pos = out.pos;
    let { state } = this;
    let [rep0, rep1, rep2, rep3] = this.reps as [number, number, number, number];
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    while (pos < limit) {
      const posState = (pos - dictStart) & pbMask;
      if (rc.bit(this.isMatch, (state << 4) + posState) === 0) {
        const prev = pos > dictStart ? buf[pos - 1]! : 0;
        const base = 0x300 * ((((pos - dictStart) & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (rep0 >= pos - dictStart) throw new Corrupt(rc.pos, 'LZMA match distance reaches before the dictionary');
          let matchByte = buf[pos - rep0 - 1]!;
          while (sym < 0x100) {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        buf[pos++] = sym & 0xff;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, state) === 0) {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = this.len.decode(rc, posState);
        state = state < 7 ? 7 : 10;
        rep0 = this.distance(rc, len);
        if (rep0 === 0xffffffff) {
          if (allowEndMarker) break;
          throw new Corrupt(rc.pos, 'LZMA end marker inside an LZMA2 chunk');
        }
      } else {
        if (rc.bit(this.isRepG0, state) === 0) {
          if (rc.bit(this.isRep0Long, (state << 4) + posState) === 0) {
            if (rep0 >= pos - dictStart) throw new Corrupt(rc.pos, 'LZMA match distance reaches before the dictionary');
            state = state < 7 ? 9 : 11;
            buf[pos] = buf[pos - rep0 - 1]!;
            pos++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, state) === 0) {
            dist = rep1;
          } else {
            if (rc.bit(this.isRepG2, state) === 0) {
              dist = rep2;
            } else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = this.repLen.decode(rc, posState);
        state = state < 7 ? 8 : 11;
      }
      len += MATCH_MIN_LEN;
      if (rep0 >= pos - dictStart) throw new Corrupt(rc.pos, 'LZMA match distance reaches before the dictionary');
      if (pos + len > limit) throw new Corrupt(rc.pos, 'LZMA match runs past the end of the chunk');
      let from = pos - rep0 - 1;
      for (let i = 0; i < len; i++) buf[pos++] = buf[from++]!;
    }
    out.pos = pos;
    this.state = state;
    this.reps = [rep0, rep1, rep2, rep3];
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = len < 3 ? len : 3;
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < END_POS_MODEL_INDEX) {
      dist += rc.reverseTree(this.posSpecial, dist - slot, direct);
    } else {
      dist = (dist + rc.direct(direct - 4) * 16) >>> 0;
      dist = (dist + rc.reverseTree(this.align, 0, 4)) >>> 0;
    }
    return dist >>> 0;
  }
}

/* ---------- LZMA2 ---------- */

function decodeLzma2(input: Uint8Array, start: number, end: number, out: Output): number {
  const lzma = new LzmaState();
  const rc = new RangeDecoder(input);
  let pos = start;
  let dictStart = -1;
  let needProps = true;
  for (;;) {
    if (pos >= end) throw new Corrupt(pos, 'LZMA2 data ended without its end marker');
    const control = input[pos]!;
    if (control === 0) return pos + 1;
    if (control === 1 || control === 2) {
      if (pos + 3 > end) throw new Corrupt(pos, 'LZMA2 chunk header is truncated');
      const size = ((input[pos + 1]! << 8) | input[pos + 2]!) + 1;
      if (control === 1) dictStart = out.pos;
      else if (dictStart < 0) throw new Corrupt(pos, 'LZMA2 stream must start with a dictionary reset');
      if (pos + 3 + size > end) throw new Corrupt(pos, 'LZMA2 uncompressed chunk runs past the block');
      out.ensure(size);
      out.buf.set(input.subarray(pos + 3, pos + 3 + size), out.pos);
      out.pos += size;
      pos += 3 + size;
      continue;
    }
    if (control < 0x80) throw new Corrupt(pos, `LZMA2 control byte ${hex(control)} is invalid`);
    if (pos + 5 > end) throw new Corrupt(pos, 'LZMA2 chunk header is truncated');
    const unpacked = ((control & 0x1f) << 16) + (input[pos + 1]! << 8) + input[pos + 2]! + 1;
    const packed = (input[pos + 3]! << 8) + input[pos + 4]! + 1;
    const reset = (control >>> 5) & 3;
    let hdr = pos + 5;
    if (reset === 3) dictStart = out.pos;
    else if (dictStart < 0) throw new Corrupt(pos, 'LZMA2 stream must start with a dictionary reset');
    if (reset >= 2) {
      if (hdr >= end) throw new Corrupt(pos, 'LZMA2 chunk header is truncated');
      lzma.setProps(input[hdr]!, hdr, true);
      hdr++;
      needProps = false;
    } else if (needProps) {
      throw new Corrupt(pos, 'LZMA2 chunk without properties before any were set');
    }
    if (reset >= 1) lzma.reset();
    if (hdr + packed > end) throw new Corrupt(pos, 'LZMA2 compressed chunk runs past the block');
    rc.init(hdr, hdr + packed);
    lzma.decode(rc, out, dictStart, out.pos + unpacked, false);
    pos = hdr + packed;
  }
}

/* ---------- BCJ x86 ---------- */

/** Undo the x86 branch converter in place: absolute CALL/JMP targets back to relative. */
export function bcjX86Decode(buf: Uint8Array, startOffset = 0): void {
  const allowed = [true, true, true, false, true, false, false, false];
  const bitNum = [0, 1, 2, 2, 3, 3, 3, 3];
  const msByte = (b: number) => b === 0x00 || b === 0xff;
  if (buf.length <= 4) return;
  const size = buf.length - 4;
  let prevPos = -1;
  let prevMask = 0;
  for (let i = 0; i < size; i++) {
    if ((buf[i]! & 0xfe) !== 0xe8) continue;
    const gap = i - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0) {
        const b = buf[i + 4 - bitNum[prevMask]!]!;
        if (!allowed[prevMask] || msByte(b)) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    if (msByte(buf[i + 4]!)) {
      let src = (buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24)) >>> 0;
      let dest: number;
      for (;;) {
        dest = (src - (startOffset + i + 5)) >>> 0;
        if (prevMask === 0) break;
        const j = bitNum[prevMask]! * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (!msByte(b)) break;
        src = (dest ^ ((2 ** (32 - j)) - 1)) >>> 0;
      }
      dest &= 0x01ffffff;
      if (dest & 0x01000000) dest |= 0xfe000000;
      buf[i + 1] = dest & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 4] = (dest >>> 24) & 0xff;
      i += 4;
    } else {
      prevMask = (prevMask << 1) | 1;
    }
  }
}

/* ---------- XZ container ---------- */

function varint(input: Uint8Array, pos: number, end: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 9; i++) {
    if (pos >= end) throw new Corrupt(pos, 'variable-length integer runs past its field');
    const b = input[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) {
      if (b === 0 && i > 0) throw new Corrupt(pos - 1, 'variable-length integer is not minimally encoded');
      return { value, next: pos };
    }
    shift += 7;
  }
  throw new Corrupt(pos, 'variable-length integer is longer than 9 bytes');
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

interface Filter {
  id: number;
  props: Uint8Array;
  at: number;
}

function decodeBlock(input: Uint8Array, pos: number, checkType: number, out: Output): { next: number; unpaddedSize: number; uncompressedSize: number } {
  const blockStart = pos;
  const headerSize = (input[pos]! + 1) * 4;
  if (pos + headerSize > input.length) throw new Corrupt(pos, 'block header runs past the end of the data');
  const stored = new DataView(input.buffer, input.byteOffset).getUint32(pos + headerSize - 4, true);
  if (crc32(input, pos, pos + headerSize - 4) !== stored) throw new Corrupt(pos, 'block header CRC32 does not match');
  const flags = input[pos + 1]!;
  if (flags & 0x3c) throw new Corrupt(pos + 1, 'block flags use reserved bits');
  const hdrEnd = pos + headerSize - 4;
  let p = pos + 2;
  let compressedSize: number | null = null;
  let uncompressedSize: number | null = null;
  if (flags & 0x40) ({ value: compressedSize, next: p } = varint(input, p, hdrEnd));
  if (flags & 0x80) ({ value: uncompressedSize, next: p } = varint(input, p, hdrEnd));
  const filters: Filter[] = [];
  for (let i = 0; i <= (flags & 3); i++) {
    const at = p;
    const id = varint(input, p, hdrEnd);
    const size = varint(input, id.next, hdrEnd);
    if (size.next + size.value > hdrEnd) throw new Corrupt(at, 'filter properties run past the block header');
    filters.push({ id: id.value, props: input.subarray(size.next, size.next + size.value), at });
    p = size.next + size.value;
  }
  for (; p < hdrEnd; p++) if (input[p] !== 0) throw new Corrupt(p, 'block header padding is not zero');

  const last = filters[filters.length - 1]!;
  if (last.id !== 0x21) throw new Corrupt(last.at, `xz filter chain must end with LZMA2 (0x21), found ${hex(last.id)}`);
  for (const f of filters.slice(0, -1)) {
    if (f.id !== 0x04) throw new Corrupt(f.at, `unsupported xz filter ${hex(f.id)} (supported: LZMA2, x86 BCJ)`);
    if (f.props.length !== 0 && f.props.length !== 4) throw new Corrupt(f.at, 'x86 BCJ filter properties must be 0 or 4 bytes');
  }
  if (last.props.length !== 1 || last.props[0]! > 40) throw new Corrupt(last.at, 'LZMA2 filter properties must be one byte <= 40');

  const dataStart = blockStart + headerSize;
  const outStart = out.pos;
  const dataEnd = compressedSize !== null ? dataStart + compressedSize : input.length;
  if (dataEnd > input.length) throw new Corrupt(dataStart, 'block data runs past the end of the input');
  const lzEnd = decodeLzma2(input, dataStart, dataEnd, out);
  if (compressedSize !== null && lzEnd !== dataEnd) throw new Corrupt(lzEnd, 'block compressed size does not match its header');
  const produced = out.pos - outStart;
  if (uncompressedSize !== null && produced !== uncompressedSize) throw new Corrupt(blockStart, 'block uncompressed size does not match its header');
  // Filters listed first were applied first when compressing, so undo them last.
  for (const f of filters.slice(0, -1).reverse()) {
    const startOffset = f.props.length === 4 ? new DataView(f.props.buffer, f.props.byteOffset).getUint32(0, true) : 0;
    bcjX86Decode(out.buf.subarray(outStart, out.pos), startOffset);
  }
  let q = lzEnd;
  while ((q - blockStart) % 4) {
    if (input[q] !== 0) throw new Corrupt(q, 'block padding is not zero');
    q++;
  }
  const checkSize = CHECK_SIZES[checkType]!;
  if (q + checkSize > input.length) throw new Corrupt(q, 'block check runs past the end of the input');
  const check = input.subarray(q, q + checkSize);
  const data = out.buf.subarray(outStart, out.pos);
  let ok = true;
  if (checkType === 1) ok = crc32(data) === new DataView(check.buffer, check.byteOffset).getUint32(0, true);
  else if (checkType === 4) ok = crc64(data).every((b, i) => b === check[i]);
  else if (checkType === 10) ok = createHash('sha256').update(data).digest().equals(Buffer.from(check));
  if (!ok) throw new Corrupt(q, 'block check does not match the decompressed data');
  return { next: q + checkSize, unpaddedSize: lzEnd - blockStart + checkSize, uncompressedSize: produced };
}

function decodeStream(input: Uint8Array, pos: number, out: Output): number {
  const streamStart = pos;
  if (input.length - pos < 12) throw new Corrupt(pos, 'xz stream header is truncated');
  for (let i = 0; i < 6; i++) if (input[pos + i] !== XZ_MAGIC[i]) throw new Corrupt(pos, 'not an xz stream (bad magic)');
  const flags = input.subarray(pos + 6, pos + 8);
  const dv = new DataView(input.buffer, input.byteOffset);
  if (crc32(input, pos + 6, pos + 8) !== dv.getUint32(pos + 8, true)) throw new Corrupt(pos + 6, 'xz stream flags CRC32 does not match');
  if (flags[0] !== 0 || flags[1]! > 0x0f) throw new Corrupt(pos + 6, 'xz stream flags are invalid');
  const checkType = flags[1]!;
  if (![0, 1, 4, 10].includes(checkType)) throw new Corrupt(pos + 7, `unsupported xz check type ${checkType}`);
  pos += 12;
  const records: { unpadded: number; size: number }[] = [];
  while (pos < input.length && input[pos] !== 0) {
    const b = decodeBlock(input, pos, checkType, out);
    records.push({ unpadded: b.unpaddedSize, size: b.uncompressedSize });
    pos = b.next;
  }
  if (pos >= input.length) throw new Corrupt(pos, 'xz stream ended before its index');
  // Index: must list exactly the blocks we decoded.
  const indexStart = pos;
  let p = pos + 1;
  const count = varint(input, p, input.length);
  p = count.next;
  if (count.value !== records.length) throw new Corrupt(indexStart, `xz index lists ${count.value} blocks, the stream has ${records.length}`);
  for (const r of records) {
    const u = varint(input, p, input.length);
    const s = varint(input, u.next, input.length);
    if (u.value !== r.unpadded || s.value !== r.size) throw new Corrupt(p, 'xz index does not match the blocks');
    p = s.next;
  }
  while ((p - indexStart) % 4) {
    if (input[p] !== 0) throw new Corrupt(p, 'xz index padding is not zero');
    p++;
  }
  if (p + 4 > input.length || crc32(input, indexStart, p) !== dv.getUint32(p, true)) throw new Corrupt(p, 'xz index CRC32 does not match');
  p += 4;
  // Footer.
  if (p + 12 > input.length) throw new Corrupt(p, 'xz stream footer is truncated');
  if (crc32(input, p + 4, p + 10) !== dv.getUint32(p, true)) throw new Corrupt(p, 'xz stream footer CRC32 does not match');
  const backward = (dv.getUint32(p + 4, true) + 1) * 4;
  if (backward !== p - indexStart) throw new Corrupt(p + 4, 'xz footer backward size does not match the index');
  if (input[p + 8] !== flags[0] || input[p + 9] !== flags[1]) throw new Corrupt(p + 8, 'xz footer flags differ from the header');
  if (input[p + 10] !== 0x59 || input[p + 11] !== 0x5a) throw new Corrupt(p + 10, 'xz footer magic is not "YZ"');
  void streamStart;
  return p + 12;
}

function wrapError(err: unknown, name: string, base: number, what: string): never {
  if (err instanceof Corrupt) {
    throw new MalformedFileError(`${name}: ${what} at offset ${hex(base + err.offset)}: ${err.message}`, { file: name, offset: base + err.offset });
  }
  throw err;
}

/**
 * Decode every .xz stream at the start of `input` (concatenated streams and
 * stream padding are allowed); anything after the last stream is ignored.
 * `name` and `baseOffset` place error offsets in the enclosing file.
 */
export function decodeXz(input: Uint8Array, name = 'xz data', baseOffset = 0): Uint8Array {
  const out = new Output();
  try {
    let pos = decodeStream(input, 0, out);
    for (;;) {
      let q = pos;
      while (q + 4 <= input.length && input[q] === 0 && input[q + 1] === 0 && input[q + 2] === 0 && input[q + 3] === 0) q += 4;
      if (q + 6 <= input.length && XZ_MAGIC.every((b, i) => input[q + i] === b)) pos = decodeStream(input, q, out);
      else break;
    }
  } catch (err) {
    wrapError(err, name, baseOffset, 'xz payload');
  }
  return out.result();
}

/**
 * Decode legacy .lzma ("LZMA alone": 5 property bytes, 8-byte size, raw LZMA).
 * An unknown size (all ones) means the data ends with an end marker.
 */
export function decodeLzmaAlone(input: Uint8Array, name = 'lzma data', baseOffset = 0): Uint8Array {
  const out = new Output();
  try {
    if (input.length < 13) throw new Corrupt(0, '.lzma header is truncated');
    const lzma = new LzmaState();
    lzma.setProps(input[0]!, 0, false);
    lzma.reset();
    const dv = new DataView(input.buffer, input.byteOffset);
    const lo = dv.getUint32(5, true);
    const hi = dv.getUint32(9, true);
    const unknown = lo === 0xffffffff && hi === 0xffffffff;
    // A kernel is tens of MiB; refuse sizes that would only exhaust memory.
    if (!unknown && (hi !== 0 || lo > 1 << 30)) throw new Corrupt(5, '.lzma uncompressed size is larger than 1 GiB');
    const size = unknown ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + lo;
    const rc = new RangeDecoder(input);
    rc.init(13, input.length);
    if (unknown) {
      // Decode in bounded steps so the output buffer can grow; the end marker stops it.
      for (;;) {
        const before = out.pos;
        lzma.decode(rc, out, 0, out.pos + (1 << 20), true);
        if (out.pos - before < 1 << 20) break;
      }
    } else {
      lzma.decode(rc, out, 0, size, true);
    }
  } catch (err) {
    wrapError(err, name, baseOffset, 'lzma payload');
  }
  return out.result();
}
