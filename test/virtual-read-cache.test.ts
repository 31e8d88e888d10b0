/**
 * Virtual reads over a frame cache much smaller than the read: frames are copied
 * straight from their slots, adjacent slots as one piece, and a frame faulted in
 * mid-read evicts slots the read has already copied, never ones it still needs.
 * The expected bytes are the source's own, sliced by hand.
 */
import { describe, expect, it } from 'vitest';
import { readVirtual } from '../src/address/virtual-memory.js';
import { createEngine } from '../src/engine/engine.js';
import { memorySource } from '../src/memory/memory-source.js';
import { x86_64 } from '../src/paging/formats/x86.js';

const PAGE = 4096;
const PAGES = 40; // more than the 16 slots of a 64 KiB cache
// PML4 in frame 1, PDPT 2, PD 3, PT 4; VA page i maps frame 16 + (i * 7) % PAGES (scattered, some adjacent).
const frameOf = (i: number) => 16 + ((i * 7) % PAGES);
const image = new Uint8Array((16 + PAGES) * PAGE);
const dv = new DataView(image.buffer);
const put = (table: number, i: number, frame: number) => dv.setBigUint64(table * PAGE + i * 8, (BigInt(frame) << 12n) | 0x3n, true);
put(1, 0, 2);
put(2, 0, 3);
put(3, 0, 4);
for (let i = 0; i < PAGES; i++) put(4, i, frameOf(i));
for (let b = 16 * PAGE; b < image.length; b++) image[b] = (b * 31 + (b >> 12)) & 0xff;

function expected(va: number, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let k = 0; k < len; k++) {
    const v = va + k;
    out[k] = image[frameOf(Math.floor(v / PAGE)) * PAGE + (v % PAGE)]!;
  }
  return out;
}

describe.each(['wasm', 'reference'] as const)('a read larger than the frame cache (%s)', (backend) => {
  const engine = createEngine({ source: memorySource(image), cacheBytes: 16 * PAGE, backend });

  it('reads every byte, twice over (the second time through a cache the first filled)', () => {
    for (let pass = 0; pass < 2; pass++) {
      const r = readVirtual(engine, 0x1000n, 0x123n, PAGES * PAGE - 0x200, { format: x86_64 });
      expect(r.complete).toBe(true);
      expect(Buffer.from(r.bytes).equals(expected(0x123, PAGES * PAGE - 0x200))).toBe(true);
    }
  });

  it('reads pages that follow each other in memory into a reused buffer', () => {
    const into = new Uint8Array(8 * PAGE);
    const r = readVirtual(engine, 0x1000n, 5n * 4096n, 8 * PAGE, { format: x86_64, into });
    expect(r.bytes.buffer).toBe(into.buffer);
    expect(Buffer.from(into).equals(expected(5 * PAGE, 8 * PAGE))).toBe(true);
  });
});
