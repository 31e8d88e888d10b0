import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceFromBytes, openSource } from '../src/dumps/open.js';
import { UnsupportedFormatError } from '../src/errors.js';
import { bufferSource } from '../src/images/elf.js';
import { FrameState } from '../src/memory/source.js';
import { writeElfCore } from '../src/perf/dump-writers/elf.js';
import { writeLime } from '../src/perf/dump-writers/lime.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { ZERO, expectMalformed, frame, same } from './helpers/dump-writers/read.js';
import { patternFrame, tempDir } from '../src/perf/dump-writers/sparse.js';
import type { SparseFile } from '../src/perf/dump-writers/sparse.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const open = (f: SparseFile | Uint8Array, name: string, format?: 'raw' | 'elf-core' | 'lime') =>
  sourceFromBytes(bufferSource(f instanceof Uint8Array ? f : f.toBuffer(), name), format ? { format } : {});
const G = 1 << 30;

describe('raw images', () => {
  it('byte N is physical address N; one range; beyond it frames are Absent', () => {
    const bytes = new Uint8Array(2 * 4096 + 100);
    bytes.set(patternFrame(0), 0);
    bytes.set(patternFrame(1), 4096);
    bytes.fill(0x5a, 8192);
    const src = openSource(writeRaw(bytes));
    expect(src.description.format).toBe('raw');
    expect(src.ranges).toEqual([{ start: 0n, end: 0x3000n }]);
    expect(same(frame(src, 1).bytes, patternFrame(1))).toBe(true);
    const tail = frame(src, 2);
    expect(tail.state).toBe(FrameState.Present);
    expect([tail.bytes[99], tail.bytes[100], tail.bytes[4095]]).toEqual([0x5a, 0, 0]);
    expect(frame(src, 3)).toEqual({ state: FrameState.Absent, bytes: ZERO });
    src.close();
  });

  it('an empty file is refused, naming it', () => {
    expectMalformed(() => open(new Uint8Array(0), 'empty.img', 'raw'), 'empty.img', /raw image at offset 0x0: the file is empty/, 0);
  });
});

function writeRaw(bytes: Uint8Array): string {
  const path = tmp.path(`raw-${bytes.length}.img`);
  writeFileSync(path, bytes);
  return path;
}

describe('ELF cores', () => {
  const vcpus = [
    { cr0: 0x80050033n, cr3: 0x13702000n, cr4: 0x6f0n },
    { cr0: 0x80050033n, cr3: 0x101b96000n | 0x5n, cr4: 0x6f0n | (1n << 17n) | (1n << 12n) },
  ];
  it("QEMU's layout: RAM, the BIOS ROM below 4 GiB and RAM above it are ordinary segments; vCPUs come from the notes", () => {
    const L = writeElfCore({
      notes: qemuNotes(vcpus),
      segments: [
        { pa: 0, fileBytes: 8 * 4096, frames: [0, 1, 7] },
        { pa: 0xfffc0000, fileBytes: 4 * 4096, frames: [0xfffc0, 0xfffc3] },
        { pa: 4 * G, fileBytes: 8 * 4096, frames: [0x100000, 0x100007] },
      ],
    });
    const src = open(L.file, 'qemu.elf');
    expect(src.description.format).toBe('qemu-elf');
    expect(src.description.machine).toBe('x86_64');
    expect(src.ranges).toEqual([
      { start: 0n, end: 0x8000n },
      { start: 0xfffc0000n, end: 0xfffc4000n },
      { start: 0x100000000n, end: 0x100008000n },
    ]);
    expect(src.end).toBe(0x100008000n);
    for (const pfn of [0, 1, 7, 0xfffc0, 0xfffc3, 0x100000, 0x100007]) {
      const f = frame(src, pfn);
      expect([f.state, same(f.bytes, patternFrame(pfn))], `frame ${pfn}`).toEqual([FrameState.Present, true]);
    }
    expect(frame(src, 2)).toEqual({ state: FrameState.Present, bytes: ZERO });
    expect(frame(src, 8)).toEqual({ state: FrameState.Absent, bytes: ZERO });
    expect(frame(src, 0x100008)).toEqual({ state: FrameState.Absent, bytes: ZERO });
    // CR3 as stored; the root masks the PCID when CR4.PCIDE is set; LA57 gives 5-level paging.
    expect(src.description.vcpus.map((v) => [v.index, v.pid, v.cr3, v.root, v.pagingMode])).toEqual([
      [0, 1, 0x13702000n, 0x13702000n, '4-level'],
      [1, 2, 0x101b96005n, 0x101b96000n, '5-level'],
    ]);
  });

  it('a generic ELF core (no QEMU notes, another machine) opens with no vCPUs', () => {
    const L = writeElfCore({ machine: 183, segments: [{ pa: 0x40000000, fileBytes: 2 * 4096, frames: [0x40001] }] });
    const src = open(L.file, 'arm.core');
    expect([src.description.format, src.description.machine, src.description.vcpus]).toEqual(['elf-core', 'aarch64', []]);
    expect(same(frame(src, 0x40001).bytes, patternFrame(0x40001))).toBe(true);
  });

  it('the part of a segment past p_filesz reads as Excluded zeros; an unaligned segment fills part of a frame', () => {
    const L = writeElfCore({
      segments: [
        { pa: 0, fileBytes: 2 * 4096, memBytes: 5 * 4096, frames: [0, 1] },
        { pa: 0x10800, fileBytes: 0x1000, data: new Uint8Array(0x1000).fill(7) },
      ],
    });
    const src = open(L.file, 'tail.core');
    expect(src.ranges).toEqual([
      { start: 0n, end: 0x5000n },
      { start: 0x10000n, end: 0x12000n },
    ]);
    expect(same(frame(src, 1).bytes, patternFrame(1))).toBe(true);
    expect(frame(src, 2)).toEqual({ state: FrameState.Excluded, bytes: ZERO });
    expect(frame(src, 4).state).toBe(FrameState.Excluded);
    expect(frame(src, 5).state).toBe(FrameState.Absent);
    const a = frame(src, 0x10);
    expect([a.state, a.bytes[0x7ff], a.bytes[0x800], a.bytes[0xfff]]).toEqual([FrameState.Present, 0, 7, 7]);
    const b = frame(src, 0x11);
    expect([b.state, b.bytes[0x7ff], b.bytes[0x800]]).toEqual([FrameState.Present, 7, 0]);
  });

  it('every broken structure is a one-line error naming the file, the structure and its offset', () => {
    const good = writeElfCore({ notes: qemuNotes(vcpus), segments: [{ pa: 0, fileBytes: 4096 }, { pa: 0x2000, fileBytes: 4096 }] });
    const buf = good.file.toBuffer();
    const patched = (at: number, v: bigint, size = 8) => {
      const b = buf.slice();
      const dv = new DataView(b.buffer);
      if (size === 8) dv.setBigUint64(at, v, true);
      else if (size === 4) dv.setUint32(at, Number(v), true);
      else dv.setUint16(at, Number(v), true);
      return b;
    };
    const ph1 = good.loadHeaders[0]!;
    const ph2 = good.loadHeaders[1]!;
    expectMalformed(() => open(buf.subarray(0, 40), 'a.core', 'elf-core'), 'a.core', /ELF64 header .* needs 64 bytes/, 0);
    expectMalformed(() => open(buf.subarray(0, 100), 'b.core', 'elf-core'), 'b.core', /program header table/, 64);
    expectMalformed(() => open(patched(ph2 + 8, 0x10000000n), 'c.core'), 'c.core', /program header 2 \(PT_LOAD\).*run past the end of the file/, ph2);
    expectMalformed(() => open(patched(ph2 + 24, 0n), 'd.core'), 'd.core', /program header 2 \(PT_LOAD\).*overlaps program header 1/, ph2);
    expectMalformed(() => open(patched(ph1 + 40, 0x800n), 'e.core'), 'e.core', /program header 1 .*stores 0x1000 bytes for a 0x800-byte range/, ph1);
    expectMalformed(() => open(patched(ph2 + 24, 1n << 52n), 'f.core'), 'f.core', /program header 2 .*beyond the 52-bit physical address space/, ph2);
    expectMalformed(() => open(patched(64 + 32, 0x100000n), 'g.core'), 'g.core', /PT_NOTE segment .* data .*file ends/, good.noteOffset);
    expectMalformed(() => open(patched(good.noteOffset + 4, 0x10000n, 4), 'h.core'), 'h.core', /note 0 .*n_descsz 65536/, good.noteOffset);
    const qemuNote = good.noteOffset + 2 * 356;
    expectMalformed(() => open(patched(qemuNote + 20, 2n, 4), 'i.core'), 'i.core', /QEMU note of vCPU 0 .*version is 2/, qemuNote + 20);
  });

  it('an ELF file that is not a core is a known format, not a dump', () => {
    const L = writeElfCore({ type: 2, segments: [{ pa: 0, fileBytes: 4096 }] });
    expect(() => open(L.file, 'vmlinux')).toThrow(UnsupportedFormatError);
    expect(() => open(L.file, 'vmlinux')).toThrow(/^vmlinux: an ELF executable, not a memory dump/);
  });
});

describe('LiME', () => {
  it('ranges from the headers, anywhere in physical space; holes between them are Absent', () => {
    const L = writeLime([
      { start: 0, size: 0x9f000, frames: [0, 0x9e] },
      { start: 0x100000, size: 0x4000, frames: [0x103] },
      { start: 0xf_ffff_f000_0000, size: 0x2000, frames: [0xffffff0001] },
    ]);
    const src = open(L.file, 'mem.lime');
    expect(src.description.format).toBe('lime');
    expect(src.ranges).toEqual([
      { start: 0n, end: 0x9f000n },
      { start: 0x100000n, end: 0x104000n },
      { start: 0xffffff0000000n, end: 0xffffff0002000n },
    ]);
    for (const pfn of [0, 0x9e, 0x103, 0xffffff0001]) expect(same(frame(src, pfn).bytes, patternFrame(pfn)), `frame ${pfn}`).toBe(true);
    expect(frame(src, 0x9f).state).toBe(FrameState.Absent);
    expect(frame(src, 0x101)).toEqual({ state: FrameState.Present, bytes: ZERO });
  });

  it('every broken header is a one-line error with its offset', () => {
    const L = writeLime([
      { start: 0, size: 0x2000 },
      { start: 0x10000, size: 0x1000 },
    ]);
    const buf = L.file.toBuffer();
    const h2 = L.headers[1]!;
    const with32 = (at: number, v: number) => {
      const b = buf.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    };
    const with64 = (at: number, v: bigint) => {
      const b = buf.slice();
      new DataView(b.buffer).setBigUint64(at, v, true);
      return b;
    };
    expectMalformed(() => open(with32(h2, 0x12345678), 'a.lime', 'lime'), 'a.lime', /LiME range header 1 .*magic is 0x12345678/, h2);
    expectMalformed(() => open(with32(h2 + 4, 2), 'b.lime', 'lime'), 'b.lime', /LiME range header 1 .*version is 2/, h2 + 4);
    expectMalformed(() => open(buf.subarray(0, h2 + 20), 'c.lime', 'lime'), 'c.lime', /LiME range header 1 .*needs 32 bytes/, h2);
    expectMalformed(() => open(buf.subarray(0, buf.length - 1), 'd.lime', 'lime'), 'd.lime', /LiME range header 1 .*run past the end of the file/, h2);
    expectMalformed(() => open(with64(h2 + 16, 0xfffn), 'e.lime', 'lime'), 'e.lime', /LiME range header 1 .*below start address/, h2 + 8);
    const shifted = with64(h2 + 8, 0x1000n);
    new DataView(shifted.buffer).setBigUint64(h2 + 16, 0x1fffn, true);
    expectMalformed(() => open(shifted, 'f.lime', 'lime'), 'f.lime', /LiME range header 1 .*overlaps LiME range header 0/, h2);
  });
});
