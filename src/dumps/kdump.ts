/**
 * kdump-compressed dumps ("diskdump"), plain (`KDUMP   `) or flattened (see
 * flattened.ts): what makedumpfile, `makedumpfile -R`, QEMU's
 * `dump-guest-memory -z/-l/-s` and libvirt's `--format=kdump-*` write.
 *
 * Layout, in blocks of `block_size` (4096) bytes: the main header; the sub-header
 * (with the ELF notes and vmcoreinfo it points at); two bitmaps (frames that exist,
 * frames dumped); one 24-byte descriptor per dumped frame, in frame order; the page
 * data. Frame p's descriptor is number rank(p), the count of dumped frames below
 * it, found from per-512-frame prefix counts built at open.
 *
 * At open: the headers, the notes and both bitmaps are read (the bitmaps in 1 MiB
 * chunks; the dumped-frames bitmap is kept, 1 bit a frame). Descriptors are read
 * on first use in chunks of 512 and kept in a small LRU; a frame then costs one
 * positioned read of its data plus its decompression.
 */
import { UnsupportedFormatError } from '../errors.js';
import { EM_386, EM_X86_64, readNotes } from '../images/elf.js';
import type { ElfNote } from '../images/elf.js';
import { vcpusFromNotes } from '../images/qemu-core.js';
import { FRAME_SIZE, FrameState } from '../memory/source.js';
import type { PhysRange, PhysicalSource, SourceDescription } from '../memory/source.js';
import { hex } from '../util/numbers.js';
import { ascii, field, hasBytes, malformedFile, requireInside } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { frameRanges } from './extents.js';
import { indexFlattened } from './flattened.js';
import type { FlatView } from './flattened.js';
import { decompressPage } from './page-codecs.js';
import type { PageCompression } from './page-codecs.js';
import { partitionPoint } from '../util/partition-point.js';

export const KDUMP_SIGNATURE = ascii('KDUMP   ');
const MAIN_HEADER = 464;
const SUB_HEADER = 104;
const DESC = 24;
const DESC_CHUNK = 512;
const DESC_CHUNKS_KEPT = 256;
const RANK_BITS = 512;
/** The largest dumped-frames bitmap kept in memory: 1 GiB, a machine of 32 TiB (frame numbers past 2^32 are handled: no 32-bit shifts on them). */
const MAX_BITMAP = 1 << 30;

/** Descriptor flags and header status bits (the same values). */
const COMPRESSION: readonly [number, PageCompression][] = [
  [0x1, 'zlib'],
  [0x2, 'lzo'],
  [0x4, 'snappy'],
  [0x20, 'zstd'],
];

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
});

export function openKdump(bytes: ByteSource, flattened: boolean): PhysicalSource {
  const plain = flattened ? indexFlattened(bytes) : bytes;
  try {
    return new KdumpSource(bytes, plain, flattened ? (plain as FlatView) : undefined);
  } catch (err) {
    bytes.close();
    throw err;
  }
}

class KdumpSource implements PhysicalSource {
  readonly description: SourceDescription;
  readonly ranges: readonly PhysRange[];
  readonly end: bigint;
  private readonly maxMapnr: number;
  private readonly dumped: Uint8Array;
  private readonly rank: Float64Array;
  private readonly rangeStarts: Float64Array;
  private readonly rangeEnds: Float64Array;
  private readonly descOffset: number;
  private readonly descCount: number;
  private readonly descChunks = new Map<number, Uint8Array>();
  private readonly data = new Uint8Array(FRAME_SIZE);

  constructor(
    private readonly file: ByteSource,
    private readonly plain: ByteSource,
    private readonly flat: FlatView | undefined,
  ) {
    const h = this.read('kdump main header', 0, MAIN_HEADER);
    if (!hasBytes(h, 0, KDUMP_SIGNATURE)) throw this.fail('kdump main header', 0, 'no "KDUMP   " signature');
    const version = field.i32(h, 8);
    const blockSize = field.i32(h, 428);
    if (blockSize !== FRAME_SIZE) {
      throw this.fail('kdump main header', 428, `block_size is ${blockSize}; only the 64-bit header layout with 4096-byte blocks is read`);
    }
    if (version < 1) throw this.fail('kdump main header', 8, `header_version is ${version}`);
    const status = field.u32(h, 424);
    const subHdrBlocks = field.i32(h, 432);
    const bitmapBlocks = field.u32(h, 436);
    if (subHdrBlocks < 1) throw this.fail('kdump main header', 432, `sub_hdr_size is ${subHdrBlocks} blocks, at least 1 is needed`);
    if (bitmapBlocks === 0 || bitmapBlocks % 2 !== 0) {
      throw this.fail('kdump main header', 436, `bitmap_blocks is ${bitmapBlocks}, not a positive even number (two bitmaps of equal size)`);
    }
    const uts = (i: number) => field.text(h, 12 + 65 * i, 65);

    // Sub-header (block 1): notes, vmcoreinfo, and the 64-bit frame count.
    const subOff = FRAME_SIZE;
    const sub = this.read('kdump sub-header', subOff, SUB_HEADER);
    const split = field.i32(sub, 12);
    if (split !== 0) {
      throw new UnsupportedFormatError(`${this.name}: one part of a split kdump (makedumpfile --split); reassemble it with makedumpfile --reassemble first`, {
        file: this.name,
        format: 'kdump-split',
      });
    }
    let maxMapnr = BigInt(field.u32(h, 440));
    if (version >= 6) maxMapnr = field.u64(sub, 96);
    if (maxMapnr > 1n << 40n) throw this.fail('kdump sub-header', subOff + 96, `max_mapnr_64 ${hex(maxMapnr)} is beyond 52-bit physical space`);
    this.maxMapnr = Number(maxMapnr);

    const notes: ElfNote[] = [];
    if (version >= 4) {
      const off = field.i64(sub, 48);
      const size = field.u64(sub, 56);
      if (size > 0n) {
        this.inside('ELF notes (sub-header offset_note, note_size)', off, size, subOff + 48);
        notes.push(...readNotes(this.plain, Number(off), Number(size), 4, 'kdump ELF notes'));
      }
    }
    let osrelease: string | undefined;
    if (version >= 3) {
      const off = field.i64(sub, 32);
      const size = field.u64(sub, 40);
      if (size > 0n) {
        this.inside('vmcoreinfo (sub-header offset_vmcoreinfo, size_vmcoreinfo)', off, size, subOff + 32);
        const text = String.fromCharCode(...this.plain.read(Number(off), Math.min(Number(size), 4096)));
        osrelease = /^OSRELEASE=(.*)$/m.exec(text)?.[1];
      }
    }

    // Bitmaps: ranges from "exists or dumped", the dumped one kept with prefix counts.
    const bitmapOff = (1 + subHdrBlocks) * FRAME_SIZE;
    const half = (bitmapBlocks / 2) * FRAME_SIZE;
    const bitmapBytes = Math.ceil(this.maxMapnr / 8);
    if (bitmapBytes > half) {
      throw this.fail('kdump main header', 436, `bitmap_blocks ${bitmapBlocks} holds ${half * 8} bits a bitmap, fewer than max_mapnr ${this.maxMapnr}`);
    }
    if (bitmapBytes > MAX_BITMAP) {
      throw new UnsupportedFormatError(`${this.name}: a kdump of ${hex(maxMapnr)} frames needs a ${bitmapBytes}-byte bitmap, more than the ${MAX_BITMAP} memwalk keeps`, { file: this.name });
    }
    this.inside('kdump bitmaps', bitmapOff, 2 * half, 436);
    // Rounded up to whole rank blocks (and so whole words), zero past the bitmap.
    this.dumped = new Uint8Array(Math.ceil(bitmapBytes / (RANK_BITS / 8)) * (RANK_BITS / 8));
    const existRuns = this.readBitmaps(bitmapOff, half, bitmapBytes);
    this.ranges = frameRanges(existRuns);
    this.end = this.ranges.length ? this.ranges[this.ranges.length - 1]!.end : 0n;
    this.rangeStarts = Float64Array.from(this.ranges, (r) => Number(r.start) / FRAME_SIZE);
    this.rangeEnds = Float64Array.from(this.ranges, (r) => Number(r.end) / FRAME_SIZE);
    this.rank = new Float64Array(Math.ceil(this.maxMapnr / RANK_BITS) + 1);
    let count = 0;
    const words = new Uint32Array(this.dumped.buffer);
    const rank = this.rank;
    // Bounds hoisted, and a block of no dumped frame (most of a machine whose memory is
    // free) decided in one test: this runs once per open, before V8 optimises anything.
    for (let j = 0, w = 0; j < rank.length; j++) {
      rank[j] = count;
      const end = Math.min(w + RANK_BITS / 32, words.length);
      if (end - w === 16 && (words[w]! | words[w + 1]! | words[w + 2]! | words[w + 3]! | words[w + 4]! | words[w + 5]! | words[w + 6]! | words[w + 7]! |
        words[w + 8]! | words[w + 9]! | words[w + 10]! | words[w + 11]! | words[w + 12]! | words[w + 13]! | words[w + 14]! | words[w + 15]!) === 0) {
        w = end;
        continue;
      }
      for (; w < end; w++) if (words[w] !== 0) count += popcount32(words[w]!);
    }
    this.descCount = count;
    this.descOffset = bitmapOff + 2 * half;
    this.inside(`page descriptor table (${count} descriptors)`, this.descOffset, count * DESC, 436);

    const machine = /^(i[3-6]86)$/.test(uts(4)) ? EM_386 : EM_X86_64;
    const x86 = uts(4) === '' || /^(x86_64|i[3-6]86)$/.test(uts(4));
    const vcpus = x86 ? vcpusFromNotes(notes, inferMachine(notes, machine), (s, o, p) => this.fail(s, o, p)) : [];
    const compression = COMPRESSION.filter(([bit]) => (status & bit) !== 0).map(([, name]) => name);
    this.description = {
      format: flat ? 'kdump-flat' : 'kdump',
      name: this.name,
      fileSize: BigInt(file.size),
      compression: ['none', ...compression],
      ...(uts(4) ? { machine: uts(4) } : x86 && vcpus.length ? { machine: machine === EM_386 ? 'i386' : 'x86_64' } : {}),
      vcpus,
      details: {
        headerVersion: version,
        status,
        maxMapnr: this.maxMapnr,
        dumpedFrames: count,
        nrCpus: field.i32(h, 460),
        ...(uts(1) ? { nodename: uts(1) } : {}),
        ...(uts(2) ? { release: uts(2) } : osrelease ? { release: osrelease } : {}),
        dumpLevel: field.i32(sub, 8),
        ...(flat ? { flattenedRecords: flat.records } : {}),
      },
    };
  }

  get name(): string {
    return this.file.name;
  }

  readFrame(pfn: number, out: Uint8Array): FrameState {
    if (!(pfn >= 0 && pfn < this.maxMapnr) || (this.dumped[Math.floor(pfn / 8)]! & (1 << (pfn & 7))) === 0) {
      out.fill(0, 0, FRAME_SIZE);
      return this.inRange(pfn) ? FrameState.Excluded : FrameState.Absent;
    }
    const k = this.rankOf(pfn);
    const d = this.descriptor(k);
    const at = this.descOffset + k * DESC;
    const what = `page descriptor ${k} (frame ${hex(pfn)})`;
    const offset = field.i64(d, 0);
    const size = field.u32(d, 8);
    const flags = field.u32(d, 12);
    const kind = COMPRESSION.find(([bit]) => bit === flags)?.[1];
    if (flags !== 0 && !kind) throw this.fail(what, at + 12, `flags ${hex(flags)} name no known compression (1 zlib, 2 lzo, 4 snappy, 0x20 zstd)`);
    if (size === 0 || size > FRAME_SIZE || (flags === 0 && size !== FRAME_SIZE)) {
      throw this.fail(what, at + 8, `size ${size} is not possible for a ${kind ?? 'raw'} ${FRAME_SIZE}-byte page`);
    }
    if (offset < BigInt(this.descOffset + this.descCount * DESC) || offset + BigInt(size) > BigInt(this.plain.size)) {
      throw this.fail(what, at, `page data offset ${hex(offset)} (+${size}) is outside the page data area (${hex(this.descOffset + this.descCount * DESC)}..${hex(this.plain.size)})`);
    }
    const dataAt = Number(offset);
    if (this.flat && !this.flat.covers(dataAt, size)) throw this.fail(`page data of frame ${hex(pfn)}`, dataAt, 'no flattened record holds these bytes');
    if (!kind) {
      this.plain.read(dataAt, FRAME_SIZE, out);
      return FrameState.Present;
    }
    const data = this.plain.read(dataAt, size, this.data);
    const problem = decompressPage(kind, data, out.subarray(0, FRAME_SIZE));
    if (problem) throw this.fail(`page data of frame ${hex(pfn)}`, dataAt, problem);
    return FrameState.Present;
  }

  close(): void {
    this.file.close();
  }

  private rankOf(pfn: number): number {
    const block = Math.floor(pfn / RANK_BITS);
    let k = this.rank[block]!;
    for (let b = block * (RANK_BITS / 8); b < Math.floor(pfn / 8); b++) k += POPCOUNT[this.dumped[b]!]!;
    return k + POPCOUNT[this.dumped[Math.floor(pfn / 8)]! & ((1 << (pfn & 7)) - 1)]!;
  }

  private descriptor(k: number): Uint8Array {
    const chunk = Math.floor(k / DESC_CHUNK);
    let bytes = this.descChunks.get(chunk);
    if (bytes) {
      // Most recently used last.
      this.descChunks.delete(chunk);
    } else {
      const first = chunk * DESC_CHUNK;
      const n = Math.min(DESC_CHUNK, this.descCount - first);
      bytes = this.plain.read(this.descOffset + first * DESC, n * DESC);
      if (this.descChunks.size >= DESC_CHUNKS_KEPT) this.descChunks.delete(this.descChunks.keys().next().value!);
    }
    this.descChunks.set(chunk, bytes);
    const o = (k % DESC_CHUNK) * DESC;
    return bytes.subarray(o, o + DESC);
  }

  private inRange(pfn: number): boolean {
    const lo = partitionPoint(this.rangeEnds.length, (i) => this.rangeEnds[i]! <= pfn);
    return lo < this.rangeStarts.length && this.rangeStarts[lo]! <= pfn;
  }

  /**
   * Read both bitmaps chunk by chunk; keep the dumped one; return runs of frames
   * that exist or were dumped. Zeros outside a run and ones inside one are skipped
   * eight 32-bit words at a time, then word by word: a sparse or a full machine's
   * bitmap is made of them. Only the bytes holding max_mapnr bits are read, and a
   * run still open at the end is cut at max_mapnr.
   */
  private readBitmaps(at: number, half: number, bytes: number): { start: number; end: number }[] {
    const runs: { start: number; end: number }[] = [];
    let runStart = -1;
    const chunk = 1 << 20;
    const exists = new Uint8Array(chunk);
    const existWords = new Int32Array(exists.buffer);
    const dumpedWords = new Int32Array(this.dumped.buffer);
    for (let base = 0; base < bytes; base += chunk) {
      const n = Math.min(chunk, bytes - base);
      exists.fill(0);
      this.plain.read(at + base, n, exists);
      this.plain.read(at + half + base, n, this.dumped.subarray(base, base + n));
      const w0 = base / 4;
      // Words as int32 (all ones is -1): a uint32 above 2^31 is a heap number, allocated
      // per word until the loop is optimised, and this loop runs once per 32 frames.
      for (let i = 0, words = Math.ceil(n / 4); i < words; i++) {
        // Eight words that change nothing (no run and no frame, or a run and every frame) in one test.
        if ((i & 7) === 0 && i + 8 <= words) {
          const d = w0 + i;
          const e = existWords, b = dumpedWords;
          if (runStart < 0
            ? (e[i]! | e[i + 1]! | e[i + 2]! | e[i + 3]! | e[i + 4]! | e[i + 5]! | e[i + 6]! | e[i + 7]! |
               b[d]! | b[d + 1]! | b[d + 2]! | b[d + 3]! | b[d + 4]! | b[d + 5]! | b[d + 6]! | b[d + 7]!) === 0
            : ((e[i]! | b[d]!) & (e[i + 1]! | b[d + 1]!) & (e[i + 2]! | b[d + 2]!) & (e[i + 3]! | b[d + 3]!) &
               (e[i + 4]! | b[d + 4]!) & (e[i + 5]! | b[d + 5]!) & (e[i + 6]! | b[d + 6]!) & (e[i + 7]! | b[d + 7]!)) === -1) {
            i += 7;
            continue;
          }
        }
        const word = existWords[i]! | dumpedWords[w0 + i]!;
        if (word === 0 ? runStart < 0 : word === -1 && runStart >= 0) continue;
        for (let bit = 0; bit < 32; bit++) {
          const pfn = (w0 + i) * 32 + bit;
          const set = ((word >>> bit) & 1) === 1 && pfn < this.maxMapnr;
          if (set && runStart < 0) runStart = pfn;
          else if (!set && runStart >= 0) {
            runs.push({ start: runStart * FRAME_SIZE, end: pfn * FRAME_SIZE });
            runStart = -1;
          }
        }
      }
    }
    if (runStart >= 0) runs.push({ start: runStart * FRAME_SIZE, end: this.maxMapnr * FRAME_SIZE });
    // Bits past max_mapnr are not frames.
    const last = Math.floor(this.maxMapnr / 8);
    if (last < this.dumped.length) {
      this.dumped[last]! &= (1 << (this.maxMapnr & 7)) - 1;
      this.dumped.fill(0, last + 1);
    }
    return runs;
  }

  private read(structure: string, offset: number, length: number): Uint8Array {
    this.inside(structure, offset, length);
    return this.plain.read(offset, length);
  }

  private inside(structure: string, offset: number | bigint, length: number | bigint, declaredAt?: number): void {
    try {
      requireInside(this.plain, structure, offset, length);
    } catch {
      const where = declaredAt ?? Number(offset);
      throw this.fail(structure, where, `${length} bytes at ${hex(offset)} run past the end of the ${this.flat ? 'plain layout the records make' : 'file'} (${hex(this.plain.size)})`);
    }
  }

  /** One-line error; in a flattened file the offset is the file's, the plain-layout offset is named too. */
  fail(structure: string, plainOffset: number, problem: string) {
    if (!this.flat) return malformedFile(this.name, structure, plainOffset, problem);
    const fileOffset = this.flat.fileOffsetOf(plainOffset);
    return malformedFile(
      this.name,
      `${structure} (plain-layout offset ${hex(plainOffset)}${fileOffset === undefined ? ', written by no record' : ''})`,
      fileOffset ?? plainOffset,
      problem,
    );
  }
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** QEMU's kdump has an empty utsname: tell i386 from x86-64 by the NT_PRSTATUS size (144 vs 336). */
function inferMachine(notes: readonly ElfNote[], fallback: number): number {
  const pr = notes.find((n) => n.name === 'CORE' && n.type === 1);
  if (pr?.desc.length === 144) return EM_386;
  if (pr?.desc.length === 336) return EM_X86_64;
  return fallback;
}
