/**
 * Frames makedumpfile left out of a kdump (in the machine's RAM, not in the
 * dumpable bitmap): QEMU reads them as zero, so translations and listings treat
 * them as ordinary frames; a read of guest memory names them as holes.
 * The dump is written by hand: four table frames mapping three pages, the middle
 * one excluded; every expected value below is worked out from that layout.
 */
import { describe, expect, it } from 'vitest';
import { readPhysical, readVirtual } from '../src/address/virtual-memory.js';
import { sourceFromBytes } from '../src/dumps/open.js';
import { createEngine } from '../src/engine/engine.js';
import { bufferSource } from '../src/images/elf.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { writeKdump } from '../src/perf/dump-writers/kdump.js';
import { patternFrame } from '../src/perf/dump-writers/sparse.js';

const PAGE = 4096;
const VA = 0x400000n; // PML4 0, PDPT 0, PD 2, PT 0..2
const EXCLUDED = 5;
// PML4 in frame 1, PDPT 2, PD 3, PT 4; the pages at VA, VA+4K, VA+8K are frames 6, 5, 7.
function tables(pfn: number): Uint8Array | undefined {
  const out = new Uint8Array(PAGE);
  const dv = new DataView(out.buffer);
  const put = (i: number, frame: number) => dv.setBigUint64(i * 8, (BigInt(frame) << 12n) | 0x3n, true);
  if (pfn === 1) put(0, 2);
  else if (pfn === 2) put(0, 3);
  else if (pfn === 3) put(2, 4);
  else if (pfn === 4) [6, EXCLUDED, 7].forEach((f, i) => put(i, f));
  else return undefined;
  return out;
}

const dump = writeKdump({
  maxMapnr: 16,
  exists: [[0, 16]],
  dumped: Array.from({ length: 16 }, (_, i) => i).filter((p) => p !== EXCLUDED),
  content: (pfn) => tables(pfn) ?? patternFrame(pfn),
  compression: 'zlib',
}).file.toBuffer();

describe.each(['wasm', 'reference'] as const)('a kdump with an excluded frame (%s)', (backend) => {
  const engine = createEngine({ source: sourceFromBytes(bufferSource(dump, 'excluded.kdump')), backend, cacheBytes: 1 << 20 });
  const opts = { format: x86_64 };

  it('translates through it and lists it as QEMU does (it reads as zero there)', () => {
    const t = engine.translate(0x1000n, VA + 0x1234n, opts);
    expect(t.ok && t.pa).toBe(0x5234n);
    const list = engine.mappings(0x1000n, opts).mappings.map((m) => [m.va, m.pa]);
    expect(list).toEqual([[VA, 0x6000n], [VA + 0x1000n, 0x5000n], [VA + 0x2000n, 0x7000n]]);
    expect(engine.phys.read(0x5000n, 16)).toEqual(new Uint8Array(16));
  });

  it('a partial read lists the excluded page as a hole and reads around it', () => {
    const r = readVirtual(engine, 0x1000n, VA + 0x800n, 2 * PAGE, { ...opts, partial: true });
    expect(r.complete).toBe(false);
    expect(r.holes).toEqual([{ va: VA + 0x1000n, length: PAGE, pa: 0x5000n, excluded: true }]);
    expect(r.bytes.subarray(0, 0x800)).toEqual(patternFrame(6).subarray(0x800));
    expect(r.bytes.subarray(0x800, 0x800 + PAGE)).toEqual(new Uint8Array(PAGE));
    expect(r.bytes.subarray(0x800 + PAGE)).toEqual(patternFrame(7).subarray(0, 0x800));
  });

  it('a whole read stops where the excluded page starts and names it', () => {
    const r = readVirtual(engine, 0x1000n, VA + 0xff0n, 0x20, opts);
    expect(r.complete).toBe(false);
    expect(r.bytes).toEqual(patternFrame(6).subarray(0xff0));
    expect(r.holes).toEqual([{ va: VA + 0x1000n, length: 0x10, pa: 0x5000n, excluded: true }]);
  });

  it('a physical read names it too, and a reused buffer gets zeros in the hole', () => {
    const into = new Uint8Array(3 * PAGE).fill(0xee);
    const r = readPhysical(engine, 0x4000n, 3 * PAGE, { partial: true, into });
    expect(r.holes).toEqual([{ va: 0x5000n, length: PAGE, pa: 0x5000n, excluded: true }]);
    expect(r.bytes.buffer).toBe(into.buffer);
    expect(into.subarray(PAGE, 2 * PAGE)).toEqual(new Uint8Array(PAGE));
    expect(into.subarray(2 * PAGE)).toEqual(patternFrame(6));
  });

  it('a frame beyond the dump is a hole without the excluded mark', () => {
    const r = readPhysical(engine, 0xf000n, 2 * PAGE, { partial: true });
    expect(r.holes).toEqual([{ va: 0x10000n, length: PAGE, pa: 0x10000n }]);
  });
});
