/**
 * makedumpfile's flattened format, what QEMU and libvirt write to a pipe: a
 * 4096-byte header ("makedumpfile", type 1, version 1, big-endian), then records
 * `{offset i64 BE, size i64 BE, size bytes}` that each belong at `offset` of the
 * plain kdump file, in any order, later ones overwriting earlier ones, until an
 * offset of -1.
 *
 * `indexFlattened` reads only the record headers and builds the map from plain
 * offsets to file offsets; the result is a ByteSource over the plain layout, so
 * the kdump reader reads either form the same way. Plain bytes no record wrote
 * read as zero, as in the file `makedumpfile -R` would write.
 */
import { hex } from '../util/numbers.js';
import { ascii, field, hasBytes, malformedFile, readStructure, requireInside } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { partitionPoint } from '../util/partition-point.js';

export const FLAT_SIGNATURE = ascii('makedumpfile');
const FLAT_HEADER = 4096;
const RECORD_HEADER = 16;
const WINDOW = 64 << 10;

export interface FlatView extends ByteSource {
  /** The flattened file itself. */
  readonly file: ByteSource;
  /** File offset holding plain offset `plain`, or undefined when no record wrote it. */
  fileOffsetOf(plain: number): number | undefined;
  /** True when records wrote every byte of [plain, plain + length). */
  covers(plain: number, length: number): boolean;
  readonly records: number;
}

interface Piece {
  start: number;
  end: number;
  file: number;
}

export function indexFlattened(file: ByteSource): FlatView {
  const h = readStructure(file, 'flattened header', 0, FLAT_HEADER);
  if (!hasBytes(h, 0, FLAT_SIGNATURE)) throw malformedFile(file.name, 'flattened header', 0, 'no "makedumpfile" signature');
  const type = field.i64be(h, 16);
  const version = field.i64be(h, 24);
  if (type !== 1n) throw malformedFile(file.name, 'flattened header', 16, `type is ${type}, only 1 is known`);
  if (version !== 1n) throw malformedFile(file.name, 'flattened header', 24, `version is ${version}, only 1 is known`);

  // Records: plain start, length, file offset of the data, in write order.
  const starts: number[] = [];
  const sizes: number[] = [];
  const datas: number[] = [];
  // Headers are read through a 64 KiB window while records are small (a page or a
  // few each, as QEMU writes them): one read then yields several headers.
  const windowBuf = new Uint8Array(WINDOW);
  let win: Uint8Array = windowBuf.subarray(0, 0);
  let winAt = 0;
  let lastSize = 0;
  const headerAt = (pos: number, what: string): Uint8Array => {
    if (pos < winAt || pos + RECORD_HEADER > winAt + win.length) {
      requireInside(file, what, pos, RECORD_HEADER);
      win = file.read(pos, Math.min(lastSize < WINDOW / 4 ? WINDOW : RECORD_HEADER, file.size - pos), windowBuf);
      winAt = pos;
    }
    return win.subarray(pos - winAt, pos - winAt + RECORD_HEADER);
  };
  let pos = FLAT_HEADER;
  for (let k = 0; ; k++) {
    const what = `flattened record ${k}`;
    const r = headerAt(pos, `${what} header (no end record: the stream was cut short)`);
    const offset = field.i64be(r, 0);
    const size = field.i64be(r, 8);
    if (offset === -1n) break;
    if (offset < 0n || offset >= 1n << 53n) throw malformedFile(file.name, what, pos, `plain-file offset ${offset} is not a file offset`);
    if (size < 0n || size > BigInt(file.size)) throw malformedFile(file.name, what, pos, `size ${size} is not possible in a ${hex(file.size)}-byte file`);
    const data = pos + RECORD_HEADER;
    requireRecordData(file, what, pos, data, Number(size));
    if (size > 0n) {
      starts.push(Number(offset));
      sizes.push(Number(size));
      datas.push(data);
    }
    lastSize = Number(size);
    pos = data + lastSize;
  }
  const pieces = resolveOverlaps(starts, sizes, datas);
  return makeView(file, pieces, starts.length);
}

function requireRecordData(file: ByteSource, what: string, header: number, data: number, size: number): void {
  if (data + size > file.size) {
    throw malformedFile(file.name, what, header, `its ${size} bytes at ${hex(data)} run past the end of the file (size ${hex(file.size)})`);
  }
}

/**
 * Non-overlapping pieces in plain order where, at every plain offset, the last
 * record that wrote it wins: a sweep over the records sorted by start, with a
 * heap of the records covering the current position keyed by write order.
 */
function resolveOverlaps(starts: number[], sizes: number[], datas: number[]): Piece[] {
  const n = starts.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => starts[a]! - starts[b]! || a - b);
  // Fast path: records that do not overlap (what QEMU writes) map one to one.
  let overlapping = false;
  for (let k = 1; k < n && !overlapping; k++) {
    const p = order[k - 1]!;
    if (starts[order[k]!]! < starts[p]! + sizes[p]!) overlapping = true;
  }
  if (!overlapping) return order.map((i) => ({ start: starts[i]!, end: starts[i]! + sizes[i]!, file: datas[i]! }));

  const heap: number[] = []; // max-heap of record indices (later write = higher index)
  const push = (v: number) => {
    heap.push(v);
    for (let c = heap.length - 1; c > 0; ) {
      const p = (c - 1) >> 1;
      if (heap[p]! >= heap[c]!) break;
      [heap[p], heap[c]] = [heap[c]!, heap[p]!];
      c = p;
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let p = 0; ; ) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && heap[l]! > heap[m]!) m = l;
        if (r < heap.length && heap[r]! > heap[m]!) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m]!, heap[p]!];
        p = m;
      }
    }
    return top;
  };
  const endOf = (i: number) => starts[i]! + sizes[i]!;
  const bounds = [...new Set(starts.flatMap((s, i) => [s, s + sizes[i]!]))].sort((a, b) => a - b);
  const out: Piece[] = [];
  let k = 0;
  for (let b = 0; b + 1 < bounds.length; b++) {
    const lo = bounds[b]!;
    const hi = bounds[b + 1]!;
    while (k < n && starts[order[k]!]! <= lo) push(order[k++]!);
    while (heap.length > 0 && endOf(heap[0]!) <= lo) pop();
    if (heap.length === 0) continue;
    // The newest record may end before hi only at a bound, so it covers [lo, hi).
    const i = heap[0]!;
    const file = datas[i]! + (lo - starts[i]!);
    const last = out[out.length - 1];
    if (last && last.end === lo && last.file + (last.end - last.start) === file) last.end = hi;
    else out.push({ start: lo, end: hi, file });
  }
  return out;
}

function makeView(file: ByteSource, pieces: Piece[], records: number): FlatView {
  const starts = Float64Array.from(pieces, (p) => p.start);
  const ends = Float64Array.from(pieces, (p) => p.end);
  const files = Float64Array.from(pieces, (p) => p.file);
  const size = pieces.length ? ends[ends.length - 1]! : 0;
  /** Index of the first piece ending after `plain`. */
  const firstAfter = (plain: number) => partitionPoint(ends.length, (i) => ends[i]! <= plain);
  return {
    name: file.name,
    size,
    file,
    records,
    read(offset, length, into) {
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      let i = firstAfter(offset);
      // Fast path: one piece holds it all (a page, a descriptor chunk).
      if (i < starts.length && starts[i]! <= offset && ends[i]! >= offset + length) {
        return file.read(files[i]! + (offset - starts[i]!), length, out);
      }
      out.fill(0);
      for (; i < starts.length && starts[i]! < offset + length; i++) {
        const from = Math.max(offset, starts[i]!);
        const to = Math.min(offset + length, ends[i]!);
        file.read(files[i]! + (from - starts[i]!), to - from, out.subarray(from - offset, to - offset));
      }
      return out;
    },
    fileOffsetOf(plain) {
      const i = firstAfter(plain);
      return i < starts.length && starts[i]! <= plain ? files[i]! + (plain - starts[i]!) : undefined;
    },
    covers(plain, length) {
      let at = plain;
      for (let i = firstAfter(plain); at < plain + length; i++) {
        if (i >= starts.length || starts[i]! > at) return false;
        at = ends[i]!;
      }
      return true;
    },
    close() {
      file.close();
    },
  };
}
