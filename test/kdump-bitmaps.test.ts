// The dumpable bitmaps of a kdump: the ranges present (frames that exist or were
// dumped) and the descriptor of every dumped frame (its rank among them), over
// bitmaps of long runs with holes and single frames at every alignment the reader
// steps by (a bit, a 32-bit word, eight words, a 512-frame rank block), max_mapnr
// anywhere in a word, and bits set past max_mapnr. Expected ranges are the runs the
// test asked the writer for, merged by hand; a dumped frame must read back its own
// pattern, an existing one not dumped as excluded, any other as absent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sourceFromBytes } from '../src/dumps/open.js';
import { bufferSource } from '../src/images/elf.js';
import { FrameState } from '../src/memory/source.js';
import { writeKdump } from '../src/perf/dump-writers/kdump.js';
import { patternFrame } from '../src/perf/dump-writers/sparse.js';

/** [start, end) runs of the frames in `set` below `limit`, in order. */
function runsOf(set: Set<number>, limit: number): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  for (let p = 0; p < limit; p++) {
    if (!set.has(p)) continue;
    let q = p;
    while (q + 1 < limit && set.has(q + 1)) q++;
    out.push({ start: BigInt(p) * 4096n, end: BigInt(q + 1) * 4096n });
    p = q;
  }
  return out;
}

const span = (s: number, e: number) => Array.from({ length: Math.max(0, e - s) }, (_, i) => s + i);

describe('kdump bitmaps: ranges and descriptors', () => {
  it('match the runs and frames asked for, whatever their alignment', () => {
    const run = fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 1500 })).map(([s, n]) => [s, s + n] as const);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3100 }),
        fc.array(run, { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 3100 }), { maxLength: 40 }),
        fc.boolean(),
        (maxMapnr, runs, extra, padOnes) => {
          const exists = runs.map(([s, e]) => [Math.min(s, maxMapnr), Math.min(e, maxMapnr)] as [number, number]).filter(([s, e]) => s < e);
          const existing = new Set(exists.flatMap(([s, e]) => span(s, e)));
          // Dumped: every third existing frame, and some that the first bitmap leaves out.
          const dumped = [...new Set([...[...existing].filter((p) => p % 3 !== 1), ...extra.filter((p) => p < maxMapnr)])].sort((a, b) => a - b);
          const L = writeKdump({ maxMapnr, exists, dumped, compression: 'none' });
          const bytes = L.file.toBuffer();
          if (padOnes) {
            // Bits past max_mapnr set in both bitmaps (up to the bitmap block's end): not frames.
            for (const at of [L.bitmap1, L.bitmap2]) {
              for (let bit = maxMapnr; bit < (L.bitmap2 - L.bitmap1) * 8; bit++) bytes[at + (bit >> 3)]! |= 1 << (bit & 7);
            }
          }
          const src = sourceFromBytes(bufferSource(bytes, 'bitmaps.kdump'));
          const present = new Set([...existing, ...dumped]);
          expect(src.ranges).toEqual(runsOf(present, maxMapnr));
          const out = new Uint8Array(4096);
          const dumpedSet = new Set(dumped);
          for (const p of [...present, maxMapnr - 1, maxMapnr, maxMapnr + 40]) {
            const state = src.readFrame(p, out);
            if (dumpedSet.has(p)) {
              expect(state, `frame ${p}`).toBe(FrameState.Present);
              expect(Buffer.compare(out, patternFrame(p)), `frame ${p}`).toBe(0);
            } else {
              expect(state, `frame ${p}`).toBe(present.has(p) ? FrameState.Excluded : FrameState.Absent);
            }
          }
          src.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
