import { describe, expect, it } from 'vitest';
import { sourceFromBytes } from '../src/dumps/open.js';
import { UnsupportedFormatError } from '../src/errors.js';
import { bufferSource } from '../src/images/elf.js';
import { FrameState } from '../src/memory/source.js';
import { CONTEXT_BYTES, writeXenDumpCore } from '../src/perf/dump-writers/xen.js';
import type { XenSpec } from '../src/perf/dump-writers/xen.js';
import { ZERO, expectMalformed, frame, same } from './helpers/dump-writers/read.js';
import { patternFrame } from '../src/perf/dump-writers/sparse.js';

const INVALID = 0xffffffffffffffffn;
// A PV guest: pages in no particular order, machine frames scattered, one unused entry.
const pv: XenSpec = {
  pages: [
    { pfn: 2, mfn: 0x3f002 },
    { pfn: 0, mfn: 0x1234 },
    { pfn: INVALID, mfn: INVALID },
    { pfn: 1, mfn: 0x1233 },
    { pfn: 0x100, mfn: 0x2000 },
  ],
  vcpus: [
    { cr0: 0x8005003bn, cr3: 0x1234n << 12n, cr4: 0x2660n },
    { cr0: 0x8005003bn, cr3: 0x1233n << 12n, cr4: 0x2660n },
  ],
};
const open = (spec: XenSpec | Uint8Array, name: string, xenFrames?: 'guest' | 'machine') =>
  sourceFromBytes(bufferSource(spec instanceof Uint8Array ? spec : writeXenDumpCore(spec).file.toBuffer(), name), xenFrames ? { xenFrames } : {});

describe('Xen dump-core', () => {
  it('PV: guest frames by pfn; ranges are runs of pfns; unused entries are skipped', () => {
    const src = open(pv, 'pv.core');
    expect(src.description.format).toBe('xen-dump-core');
    expect(src.description.details).toMatchObject({ guest: 'pv', frames: 'guest', pages: 5 });
    expect(src.ranges).toEqual([
      { start: 0n, end: 0x3000n },
      { start: 0x100000n, end: 0x101000n },
    ]);
    for (const pfn of [0, 1, 2, 0x100]) expect(same(frame(src, pfn).bytes, patternFrame(pfn)), `pfn ${pfn}`).toBe(true);
    expect(frame(src, 3)).toEqual({ state: FrameState.Absent, bytes: ZERO });
  });

  it('PV: the machine view numbers the same pages by machine frame, which is what CR3 holds', () => {
    const src = open(pv, 'pv.core', 'machine');
    expect(src.ranges).toEqual([
      { start: 0x1233000n, end: 0x1235000n },
      { start: 0x2000000n, end: 0x2001000n },
      { start: 0x3f002000n, end: 0x3f003000n },
    ]);
    expect(same(frame(src, 0x1234).bytes, patternFrame(0))).toBe(true);
    expect(same(frame(src, 0x3f002).bytes, patternFrame(2))).toBe(true);
    expect(frame(src, 0).state).toBe(FrameState.Absent);
    // vCPU 0's root is machine frame 0x1234, which holds guest pfn 0.
    const v = src.description.vcpus;
    expect(v.map((x) => [x.index, x.cr3, x.root, x.pagingMode, x.longMode])).toEqual([
      [0, 0x1234000n, 0x1234000n, '4-level', true],
      [1, 0x1233000n, 0x1233000n, '4-level', true],
    ]);
    expect(same(frame(src, Number(v[0]!.root! >> 12n)).bytes, patternFrame(0))).toBe(true);
    expect(v[1]!.noteOffset - v[0]!.noteOffset).toBe(CONTEXT_BYTES);
  });

  it('HVM: .xen_pfn numbers pages by guest frame; there is no machine view', () => {
    const hvm: XenSpec = { hvm: true, pages: [{ pfn: 0x10 }, { pfn: 0x11 }, { pfn: 0xfee00 }], vcpus: [{ cr0: 0x80050033n, cr3: 0x11000n, cr4: 0x1000n | 0x20n }] };
    const src = open(hvm, 'hvm.core');
    expect(src.description.details).toMatchObject({ guest: 'hvm' });
    expect(same(frame(src, 0xfee00).bytes, patternFrame(0xfee00))).toBe(true);
    expect(src.description.vcpus.map((x) => [x.root, x.pagingMode])).toEqual([[0x11000n, '5-level']]);
    expect(() => open(hvm, 'hvm.core', 'machine')).toThrow(UnsupportedFormatError);
  });

  it('broken structures: missing sections, bad magic, short tables, duplicate frames, pages past the end', () => {
    const L = writeXenDumpCore(pv);
    const buf = L.file.toBuffer();
    const p64 = (at: number, v: bigint) => {
      const b = buf.slice();
      new DataView(b.buffer).setBigUint64(at, v, true);
      return b;
    };
    const [noteSec, , , p2mSec, pagesSec] = L.sectionOffsets as [number, number, number, number, number];
    const headerDesc = noteSec + 12 + 4 + 12 + 4; // after the empty "none" note: header 12, name 4, then this note's header and name
    expectMalformed(() => open(p64(headerDesc, 0x1234n), 'a.core'), 'a.core', /Xen dump-core header note .*xch_magic is 0x1234/, headerDesc);
    expectMalformed(() => open(p64(headerDesc + 16, 6n), 'b.core'), 'b.core', /section header \d+ \(\.xen_pages\).*do not hold 6 pages/, L.sectionHeaders[4]!);
    expectMalformed(() => open(p64(headerDesc + 24, 8192n), 'c.core'), 'c.core', /xch_page_size is 8192/, headerDesc + 24);
    expectMalformed(() => open(p64(p2mSec + 16 * 3, 2n), 'd.core'), 'd.core', /\.xen_p2m entry 3 .*guest frame 0x2 is also entry/, p2mSec + 48);
    // Rename .xen_pages to .xen_pagez: the section is missing.
    const renamed = buf.slice();
    const at = Buffer.from(renamed).indexOf('.xen_pages');
    renamed[at + 9] = 0x7a;
    expectMalformed(() => open(renamed, 'e.core'), 'e.core', /no \.xen_pages section/, L.shoff);
    expectMalformed(() => open(p64(L.sectionHeaders[4]! + 24, BigInt(pagesSec + 4096)), 'f.core'), 'f.core', /\(\.xen_pages\).*inside the 0x[0-9a-f]+-byte file/, L.sectionHeaders[4]!);
    const shortTable = p64(L.sectionHeaders[3]! + 32, 16n);
    expectMalformed(() => open(shortTable, 'g.core'), 'g.core', /\.xen_p2m.* fewer than the 5 entries/, L.sectionHeaders[3]!);
    expectMalformed(() => open(p64(L.sectionHeaders[1]! + 32, 100n), 'h.core'), 'h.core', /\.xen_prstatus.*5168-byte/, L.sectionHeaders[1]!);
  });
});
