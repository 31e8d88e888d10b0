/**
 * Dumps of 64 GiB and 1 TiB machines, made as sparse files (ftruncate plus a few
 * positioned writes: they cost no disk), with data at the top of physical memory.
 * Opening reads headers and indexes only, and a frame at the top reads back.
 */
import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../src/dumps/open.js';
import { FrameState } from '../src/memory/source.js';
import type { PhysicalSource } from '../src/memory/source.js';
import { writeElfCore } from '../src/perf/dump-writers/elf.js';
import { flatten, writeKdump } from '../src/perf/dump-writers/kdump.js';
import { writeLime } from '../src/perf/dump-writers/lime.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { ZERO, frame, same } from './helpers/dump-writers/read.js';
import { SparseFile, patternFrame, tempDir } from '../src/perf/dump-writers/sparse.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const GiB = 2 ** 30;
const TiB = 2 ** 40;

function expectFrames(src: PhysicalSource, present: number[], zero: number[] = []) {
  for (const pfn of present) {
    const f = frame(src, pfn);
    expect([f.state, same(f.bytes, patternFrame(pfn))], `frame 0x${pfn.toString(16)}`).toEqual([FrameState.Present, true]);
  }
  for (const pfn of zero) expect(same(frame(src, pfn).bytes, ZERO), `frame 0x${pfn.toString(16)}`).toBe(true);
}

describe.each([
  ['64 GiB', 64 * GiB],
  ['1 TiB', TiB],
])('a %s machine', (label, ram) => {
  const frames = ram / 4096;
  const top = frames - 1;
  const vcpus = [{ cr0: 0x80050033n, cr3: BigInt(top) * 4096n, cr4: 0x6f0n }];

  it('raw image', () => {
    const f = new SparseFile(ram).put(0, patternFrame(0)).put(top * 4096, patternFrame(top));
    const src = openSource(f.writeTo(tmp.path(`raw-${label}.img`)));
    expect(statSync(tmp.path(`raw-${label}.img`)).blocks * 512).toBeLessThan(1 << 20);
    expect(src.ranges).toEqual([{ start: 0n, end: BigInt(ram) }]);
    expectFrames(src, [0, top], [top - 1]);
    expect(frame(src, frames).state).toBe(FrameState.Absent);
    src.close();
  });

  it('QEMU ELF core: RAM up to the top, CR3 in the top frame, and a segment at the top of 52-bit space', () => {
    const high = 2 ** 40 - 2; // frame numbers: the last two frames below 2^52
    const L = writeElfCore({
      notes: qemuNotes(vcpus),
      segments: [
        { pa: 0, fileBytes: ram, frames: [0, top] },
        { pa: high * 4096, fileBytes: 2 * 4096, frames: [high, high + 1] },
      ],
    });
    const src = openSource(L.file.writeTo(tmp.path(`core-${label}.elf`)));
    expect(src.description.format).toBe('qemu-elf');
    expect(src.ranges).toEqual([
      { start: 0n, end: BigInt(ram) },
      { start: BigInt(high) * 4096n, end: 1n << 52n },
    ]);
    expect(src.end).toBe(1n << 52n);
    const root = Number(src.description.vcpus[0]!.root! / 4096n);
    expectFrames(src, [0, top, root, high, high + 1]);
    expect(frame(src, frames).state).toBe(FrameState.Absent);
    src.close();
  });

  it('kdump, plain and flattened: sparse bitmaps, pages at the top', () => {
    const dumped = [0, 1, top - 1, top];
    const L = writeKdump({
      maxMapnr: frames,
      exists: [
        [0, 16],
        [frames - 16, frames],
      ],
      dumped,
      compression: 'zlib',
      notes: qemuNotes(vcpus),
    });
    for (const [kind, file] of [
      ['plain', L.file],
      ['flat', flatten(L.file, { recordBytes: 1 << 20 }).file],
    ] as const) {
      const path = file.writeTo(tmp.path(`${kind}-${label}.kdump`));
      expect(statSync(path).blocks * 512).toBeLessThan(1 << 20);
      const src = openSource(path);
      expect(src.ranges).toEqual([
        { start: 0n, end: 0x10000n },
        { start: BigInt(ram - 16 * 4096), end: BigInt(ram) },
      ]);
      expect(src.description.vcpus[0]!.root).toBe(BigInt(top) * 4096n);
      expectFrames(src, dumped);
      expect(frame(src, top - 2).state).toBe(FrameState.Excluded);
      expect(frame(src, frames / 2).state).toBe(FrameState.Absent);
      src.close();
    }
  });

  it('LiME: one range of the whole RAM, pages at the top', () => {
    const L = writeLime([{ start: 0, size: ram, frames: [0, top] }]);
    const src = openSource(L.file.writeTo(tmp.path(`mem-${label}.lime`)));
    expect(src.ranges).toEqual([{ start: 0n, end: BigInt(ram) }]);
    expectFrames(src, [0, top], [top - 1]);
    src.close();
  });
});
