/**
 * The readers checked against Debian's makedumpfile (1.7.2): an ELF core written
 * by the tests is converted by makedumpfile to kdump-compressed files (zlib, LZO,
 * plain and flattened, zero pages kept or excluded), and a flattened file is
 * reassembled by `makedumpfile -R`. Every frame the kdump readers give must be
 * the ELF reader's, and the vCPUs makedumpfile copied into the sub-header must be
 * the ones written. Skipped, with the reason, when makedumpfile is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../src/dumps/open.js';
import { FrameState } from '../src/memory/source.js';
import { writeElfCore } from '../src/perf/dump-writers/elf.js';
import { flatten, writeKdump } from '../src/perf/dump-writers/kdump.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { frame, same, ZERO } from './helpers/dump-writers/read.js';
import { patternFrame, tempDir } from '../src/perf/dump-writers/sparse.js';

const hasTool = spawnSync('makedumpfile', ['-v']).status === 0;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const VCPUS = [
  { cr0: 0x80050033n, cr3: 0x1f3a000n, cr4: 0x3606f0n },
  { cr0: 0x80050033n, cr3: 0x2b77000n, cr4: 0x3606f0n },
];
// RAM in two segments with a hole, some frames all zero (to be shared or excluded).
const LOW = 96;
const HIGH_START = 0x100;
const HIGH = 40;
const zeroFrames = new Set([3, 4, 50, HIGH_START + 7]);
const framesIn = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i).filter((p) => !zeroFrames.has(p));

function makeElf(): string {
  const L = writeElfCore({
    notes: qemuNotes(VCPUS),
    segments: [
      { pa: 0, fileBytes: LOW * 4096, frames: framesIn(0, LOW) },
      { pa: HIGH_START * 4096, fileBytes: HIGH * 4096, frames: framesIn(HIGH_START, HIGH) },
    ],
  });
  return L.file.writeTo(tmp.path('core.elf'));
}

function makedumpfile(args: string[]): void {
  execFileSync('makedumpfile', args, { stdio: 'pipe' });
}

const allFrames = [...Array.from({ length: LOW }, (_, i) => i), ...Array.from({ length: HIGH }, (_, i) => HIGH_START + i)];

describe.skipIf(!hasTool)('kdump files made by makedumpfile', () => {
  const elf = hasTool ? makeElf() : '';

  for (const [flag, compression] of [['-c', 'zlib'], ['-l', 'lzo']] as const) {
    it(`plain ${compression} kdump (makedumpfile ${flag} -d 0) reads as the ELF core it came from`, () => {
      const out = tmp.path(`plain-${compression}.kdump`);
      makedumpfile([flag, '-d', '0', elf, out]);
      const src = openSource(out);
      const ref = openSource(elf);
      try {
        expect(src.description.format).toBe('kdump');
        expect(src.description.compression).toContain(compression);
        expect(src.ranges).toEqual(ref.ranges);
        for (const pfn of allFrames) {
          const a = frame(src, pfn);
          expect(a.state, `frame ${pfn}`).toBe(FrameState.Present);
          expect(same(a.bytes, zeroFrames.has(pfn) ? ZERO : patternFrame(pfn)), `frame ${pfn}`).toBe(true);
        }
        expect(frame(src, LOW + 5).state).toBe(FrameState.Absent);
        expect(src.description.vcpus.map((v) => [v.cr3, v.root, v.pagingMode])).toEqual(VCPUS.map((v) => [v.cr3, v.cr3, '4-level']));
      } finally {
        src.close();
        ref.close();
      }
    });
  }

  it('all-zero frames point at one shared zero page stored raw, and read as Present zeros', () => {
    // With -d 1 and no vmcoreinfo to exclude pages by, makedumpfile 1.7.2 keeps zero frames but shares one zero page.
    const out = tmp.path('zero.kdump');
    makedumpfile(['-c', '-d', '1', elf, out]);
    const src = openSource(out);
    try {
      for (const pfn of zeroFrames) {
        const a = frame(src, pfn);
        expect([a.state, same(a.bytes, ZERO)]).toEqual([FrameState.Present, true]);
      }
      // The descriptors of the zero frames (rank = frame index, every frame dumped) hold one offset, size 4096, flags 0.
      const b = readFileSync(out);
      const subBlocks = b.readUInt32LE(432);
      const descAt = 4096 * (1 + subBlocks + b.readUInt32LE(436));
      const rankOf = (pfn: number) => allFrames.indexOf(pfn);
      const descs = [...zeroFrames].map((p) => [b.readBigInt64LE(descAt + 24 * rankOf(p)), b.readUInt32LE(descAt + 24 * rankOf(p) + 8), b.readUInt32LE(descAt + 24 * rankOf(p) + 12)]);
      expect(new Set(descs.map((d) => d[0])).size).toBe(1);
      expect(descs.every((d) => d[1] === 4096 && d[2] === 0)).toBe(true);
    } finally {
      src.close();
    }
  });

  it('flattened output (-F) reads as the same frames, and makedumpfile -R reassembles it into a plain file that does too', () => {
    const flat = tmp.path('flat.kdump');
    const fd = openSync(flat, 'w');
    try {
      execFileSync('makedumpfile', ['-F', '-c', '-d', '0', elf], { stdio: ['ignore', fd, 'pipe'] });
    } finally {
      closeSync(fd);
    }
    const plain = tmp.path('reassembled.kdump');
    execFileSync('makedumpfile', ['-R', plain], { input: readFileSync(flat), stdio: ['pipe', 'pipe', 'pipe'] });
    const a = openSource(flat);
    const b = openSource(plain);
    try {
      expect(a.description.format).toBe('kdump-flat');
      expect(b.description.format).toBe('kdump');
      expect(a.ranges).toEqual(b.ranges);
      for (const pfn of allFrames) {
        const fa = frame(a, pfn);
        const fb = frame(b, pfn);
        expect([fa.state, fb.state]).toEqual([FrameState.Present, FrameState.Present]);
        expect(same(fa.bytes, fb.bytes) && same(fa.bytes, zeroFrames.has(pfn) ? ZERO : patternFrame(pfn)), `frame ${pfn}`).toBe(true);
      }
      expect(a.description.vcpus.map((v) => v.cr3)).toEqual(VCPUS.map((v) => v.cr3));
    } finally {
      a.close();
      b.close();
    }
  });

  it("the tests' own flattened writer is accepted by makedumpfile -R, which gives back the writer's plain file", () => {
    const L = writeKdump({ maxMapnr: 32, exists: [[0, 32]], dumped: [0, 1, 2, 5, 31], compression: 'zlib', notes: qemuNotes(VCPUS) });
    const flat = flatten(L.file, { recordBytes: 1000, reverse: true, overwritten: [{ offset: 0, length: 400 }, { offset: L.descOffset, length: 48 }] });
    const flatPath = flat.file.writeTo(tmp.path('writer-flat.kdump'));
    const plain = tmp.path('writer-plain.kdump');
    execFileSync('makedumpfile', ['-R', plain], { input: readFileSync(flatPath), stdio: ['pipe', 'pipe', 'pipe'] });
    expect(same(new Uint8Array(readFileSync(plain)), L.file.toBuffer())).toBe(true);
  });
});

describe.skipIf(hasTool)('kdump files made by makedumpfile', () => {
  it.skip('skipped: makedumpfile is not installed (apt-get install makedumpfile)', () => {});
});
