import { describe, expect, it } from 'vitest';
import { sourceFromBytes } from '../src/dumps/open.js';
import { UnsupportedFormatError } from '../src/errors.js';
import { bufferSource } from '../src/images/elf.js';
import { FrameState } from '../src/memory/source.js';
import type { PhysicalSource } from '../src/memory/source.js';
import { CODEC_PAGES, fixtureCompressor } from './helpers/dump-writers/codec-pages.js';
import { flatten, writeKdump } from '../src/perf/dump-writers/kdump.js';
import type { Compression, KdumpLayout, KdumpSpec } from '../src/perf/dump-writers/kdump.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { ZERO, expectMalformed, frame, same } from './helpers/dump-writers/read.js';
import { patternFrame } from '../src/perf/dump-writers/sparse.js';

const KINDS: Compression[] = ['none', 'zlib', 'lzo', 'snappy', 'zstd'];
const fixtureNames = Object.keys(CODEC_PAGES).filter((n) => n !== 'random');
const zeroFrames = new Set([5, 6, 40]);
/** Frame contents: zero frames, fixture pages for LZO and zstd (real-tool output), patterns for the rest. */
const kindOf = (pfn: number): Compression => KINDS[pfn % 5]!;
function content(pfn: number): Uint8Array {
  if (zeroFrames.has(pfn)) return new Uint8Array(4096);
  const k = kindOf(pfn);
  return k === 'lzo' || k === 'zstd' ? CODEC_PAGES[fixtureNames[pfn % fixtureNames.length]!]! : patternFrame(pfn);
}
const VCPUS = [
  { cr0: 0x80050033n, cr3: 0x13702000n, cr4: 0x6f0n },
  { cr0: 0x80050033n, cr3: 0x2a000n, cr4: 0x6f0n },
];
// Frames 0..47 exist except 20..23; 48..63 exist too; 100..103 exist. Dumped: all that exist but 30..33 (excluded).
const exists: [number, number][] = [[0, 20], [24, 64], [100, 104]];
const dumped = exists.flatMap(([s, e]) => Array.from({ length: e - s }, (_, i) => s + i)).filter((p) => p < 30 || p > 33);
const spec: KdumpSpec = {
  maxMapnr: 110,
  exists,
  dumped,
  content,
  compression: kindOf,
  compressors: { lzo: fixtureCompressor('lzo1x_1'), zstd: fixtureCompressor('zstd1') },
  notes: qemuNotes(VCPUS),
  vmcoreinfo: 'OSRELEASE=6.1.0-test\nPAGESIZE=4096\n',
};

function checkAll(src: PhysicalSource) {
  expect(src.ranges).toEqual([
    { start: 0n, end: 0x14000n },
    { start: 0x18000n, end: 0x40000n },
    { start: 0x64000n, end: 0x68000n },
  ]);
  for (const pfn of dumped) {
    const f = frame(src, pfn);
    expect(f.state, `frame ${pfn}`).toBe(FrameState.Present);
    expect(same(f.bytes, content(pfn)), `frame ${pfn} (${kindOf(pfn)})`).toBe(true);
  }
  for (const pfn of [30, 31, 33]) expect(frame(src, pfn)).toEqual({ state: FrameState.Excluded, bytes: ZERO });
  for (const pfn of [20, 23, 64, 99, 104, 109, 110, 5000]) expect(frame(src, pfn)).toEqual({ state: FrameState.Absent, bytes: ZERO });
  expect(src.description.vcpus.map((v) => [v.index, v.pid, v.cr3, v.root, v.pagingMode])).toEqual([
    [0, 1, 0x13702000n, 0x13702000n, '4-level'],
    [1, 2, 0x2a000n, 0x2a000n, '4-level'],
  ]);
  expect(src.description.machine).toBe('x86_64');
  expect(src.description.compression).toEqual(['none', 'zlib', 'lzo', 'snappy', 'zstd']);
  expect(src.description.details?.['release']).toBe('6.1.0-test');
}

describe('kdump-compressed, plain', () => {
  const L = writeKdump(spec);
  const buf = L.file.toBuffer();
  it('every compression, the bitmaps, the shared zero page and the vCPUs in the sub-header notes', () => {
    const src = sourceFromBytes(bufferSource(buf, 'vm.kdump'));
    expect(src.description.format).toBe('kdump');
    // The zero frames share one raw page (the writer's layout, as QEMU writes it).
    expect(new Set([...zeroFrames].map((p) => L.desc.get(p)!.data))).toEqual(new Set([L.zeroPage]));
    // Every compression was used for real, not stored raw because it did not shrink the page.
    expect(new Set([...L.desc.values()].map((d) => d.flags))).toEqual(new Set([0, 1, 2, 4, 0x20]));
    checkAll(src);
  });
});

describe('kdump-compressed: bitmap edges', () => {
  it('bits past max_mapnr in the last bitmap byte are not frames', () => {
    const L = writeKdump(spec);
    const buf = L.file.toBuffer();
    // max_mapnr is 110: byte 13 holds frames 104..111; set frame 111 in both bitmaps.
    buf[L.bitmap1 + 13]! |= 0x80;
    buf[L.bitmap2 + 13]! |= 0x80;
    const src = sourceFromBytes(bufferSource(buf, 'edge.kdump'));
    expect(src.ranges[src.ranges.length - 1]).toEqual({ start: 0x64000n, end: 0x68000n });
    expect(frame(src, 111)).toEqual({ state: FrameState.Absent, bytes: ZERO });
    expect(src.description.details?.['dumpedFrames']).toBe(dumped.length);
    expect(same(frame(src, 103).bytes, content(103))).toBe(true);
  });
});

describe('kdump-compressed, flattened', () => {
  const L = writeKdump(spec);
  it('records in file order, in reverse, split small and overwritten read the same as plain', () => {
    for (const options of [{}, { reverse: true }, { recordBytes: 1000, overwritten: [{ offset: 0, length: 400 }, { offset: L.descOffset, length: 100 }, { offset: L.bitmap2, length: 4096 }] }]) {
      const F = flatten(L.file, options);
      const src = sourceFromBytes(bufferSource(F.file.toBuffer(), 'vm.flat'));
      expect(src.description.format).toBe('kdump-flat');
      checkAll(src);
    }
  });

  it('broken flattened structures name the record and its file offset', () => {
    const F = flatten(L.file, { recordBytes: 4096 });
    const buf = F.file.toBuffer();
    const be64 = (at: number, v: bigint) => {
      const b = buf.slice();
      new DataView(b.buffer).setBigInt64(at, v, false);
      return b;
    };
    const open = (b: Uint8Array, name: string) => sourceFromBytes(bufferSource(b, name));
    expectMalformed(() => open(be64(16, 2n), 'a.flat'), 'a.flat', /flattened header at offset 0x10: type is 2/, 16);
    expectMalformed(() => open(be64(24, 3n), 'b.flat'), 'b.flat', /flattened header .*version is 3/, 24);
    const r3 = F.records[3]!;
    expectMalformed(() => open(be64(r3.at, -5n), 'c.flat'), 'c.flat', /flattened record 3 .*offset -5/, r3.at);
    expectMalformed(() => open(be64(r3.at + 8, 1n << 40n), 'd.flat'), 'd.flat', /flattened record 3 .*size/, r3.at);
    const last = F.records[F.records.length - 1]!;
    expectMalformed(() => open(buf.subarray(0, last.at + 10), 'e.flat'), 'e.flat', /flattened record .* header \(no end record/, last.at);
    expectMalformed(() => open(buf.subarray(0, last.at + 16 + last.size - 1), 'f.flat'), 'f.flat', /flattened record .*run past the end of the file/, last.at);
    // A record of page data left out: the page reads as no record's, not as zeros.
    const p = L.desc.get(1)!;
    const G = flatten(L.file, { recordBytes: 4096 });
    const rec = G.records.find((r) => r.offset <= p.data && p.data < r.offset + r.size)!;
    const gap = G.file.toBuffer();
    new DataView(gap.buffer).setBigInt64(rec.at, BigInt(rec.offset + 0x100000), false);
    const src = open(gap, 'g.flat');
    expectMalformed(() => src.readFrame(1, new Uint8Array(4096)), 'g.flat', /page data of frame 0x1 \(plain-layout offset .*written by no record\)/, p.data);
  });
});

describe('kdump-compressed: broken structures', () => {
  const L: KdumpLayout = writeKdump(spec);
  const buf = L.file.toBuffer();
  const open = (b: Uint8Array, name: string) => sourceFromBytes(bufferSource(b, name));
  const patch = (at: number, v: bigint | number, size: 4 | 8 = 4) => {
    const b = buf.slice();
    const dv = new DataView(b.buffer);
    if (size === 8) dv.setBigUint64(at, BigInt(v), true);
    else dv.setUint32(at, Number(v), true);
    return b;
  };

  it('headers, sub-header, notes, bitmaps and descriptor table', () => {
    expectMalformed(() => open(buf.subarray(0, 300), 'a.kdump'), 'a.kdump', /kdump main header at offset 0x0: 464 bytes at 0x0 run past the end of the file \(0x12c\)/, 0);
    expectMalformed(() => open(patch(428, 8192), 'b.kdump'), 'b.kdump', /kdump main header at offset 0x1ac: block_size is 8192/, 428);
    expectMalformed(() => open(patch(436, 3), 'c.kdump'), 'c.kdump', /bitmap_blocks is 3/, 436);
    expectMalformed(() => open(buf.subarray(0, 4096 + 50), 'd.kdump'), 'd.kdump', /kdump sub-header at offset 0x1000: 104 bytes/, 4096);
    expectMalformed(() => open(patch(L.subHeader + 56, 1 << 20, 8), 'e.kdump'), 'e.kdump', /ELF notes \(sub-header offset_note, note_size\)/, L.subHeader + 48);
    expectMalformed(() => open(patch(L.noteOffset + 4, 0x7000), 'f.kdump'), 'f.kdump', /note 0 at offset .*n_descsz 28672/, L.noteOffset);
    expectMalformed(() => open(patch(L.subHeader + 96, 1 << 20, 8), 'g.kdump'), 'g.kdump', /bitmap_blocks 2 holds 32768 bits a bitmap, fewer than max_mapnr 1048576/, 436);
    expectMalformed(() => open(buf.subarray(0, L.bitmap2 + 100), 'h.kdump'), 'h.kdump', /kdump bitmaps/, 436);
    expectMalformed(() => open(buf.subarray(0, L.descOffset + 100), 'i.kdump'), 'i.kdump', /page descriptor table \(\d+ descriptors\)/, 436);
    expect(() => open(patch(L.subHeader + 12, 1), 'j.kdump')).toThrow(UnsupportedFormatError);
    expect(() => open(patch(L.subHeader + 12, 1), 'j.kdump')).toThrow(/^j\.kdump: one part of a split kdump/);
  });

  it('descriptors and page data: reported when the frame is read, naming the frame', () => {
    const d = L.desc.get(1)!; // frame 1 is zlib
    const read = (b: Uint8Array, name: string, pfn = 1) => open(b, name).readFrame(pfn, new Uint8Array(4096));
    expectMalformed(() => read(patch(d.at + 12, 8), 'k.kdump'), 'k.kdump', /page descriptor \d+ \(frame 0x1\) .*flags 0x8 name no known compression/, d.at + 12);
    expectMalformed(() => read(patch(d.at + 8, 0), 'l.kdump'), 'l.kdump', /page descriptor \d+ \(frame 0x1\) .*size 0/, d.at + 8);
    expectMalformed(() => read(patch(d.at + 8, 5000), 'm.kdump'), 'm.kdump', /size 5000 is not possible/, d.at + 8);
    expectMalformed(() => read(patch(d.at, 10, 8), 'n.kdump'), 'n.kdump', /page data offset 0xa .*outside the page data area/, d.at);
    const raw = L.desc.get(0)!; // frame 0 is stored raw
    expectMalformed(() => read(patch(raw.at + 8, 100), 'o.kdump', 0), 'o.kdump', /size 100 is not possible for a raw 4096-byte page/, raw.at + 8);
    const corrupt = buf.slice();
    corrupt[d.data + (d.size >> 1)]! ^= 0xff;
    expectMalformed(() => read(corrupt, 'p.kdump'), 'p.kdump', /page data of frame 0x1 at offset .*: zlib/, d.data);
    const last = Math.max(...dumped);
    const ld = L.desc.get(last)!;
    expectMalformed(() => read(buf.subarray(0, ld.data + ld.size - 1), 'q.kdump', last), 'q.kdump', /outside the page data area/, ld.at);
    for (const [pfn, kind] of [[2, 'lzo'], [3, 'snappy'], [4, 'zstd']] as const) {
      const x = L.desc.get(pfn)!;
      expect(x.flags).not.toBe(0);
      const b = buf.slice();
      // Cut the stream short by one byte: its size field says one less.
      new DataView(b.buffer).setUint32(x.at + 8, x.size - 1, true);
      expectMalformed(() => read(b, `${kind}.kdump`, pfn), `${kind}.kdump`, new RegExp(`page data of frame 0x${pfn} .*${kind}`), x.data);
    }
  });
});
