// Cases where the engine and the independent oracle (test/helpers/oracle-*.ts)
// disagreed. Each is the smallest image that showed it; the oracle's side runs so
// that the expected answer stays checked, the engine's so that it stays fixed.
import { describe, test, expect } from 'vitest';
import { createEngine, x86_32, BumpAllocator, MappingConflictError } from '../src/index.js';
import { oracleFormat } from './helpers/oracle-formats.js';
import { OracleMemory } from './helpers/oracle-walk.js';
import { oracleMap } from './helpers/oracle-map.js';
import { memorySource } from '../src/memory/memory-source.js';

/**
 * A map that goes through a self-map is refused halfway. With 32-bit paging, the
 * root R (0x1000) points at itself from slot 1022 and from slot 0. Mapping the two
 * pages 0xffbff000..0xffc00fff onto 0x1000:
 * - 0xffbff000 is PD slot 1022 (R itself, used as the PT), PT slot 1023: the leaf
 *   goes into R[1023] = 0x1003;
 * - 0xffc00000 is PD slot 1023, which that leaf has just made a table pointer to R;
 *   PT slot 0 of R is R[0], valid: already mapped.
 * The dry run read R[1023] before the first leaf was written, found it empty and
 * planned a new table, so it passed; the real run then stops at the conflict. The
 * contract ("conflicts are found by a dry run before anything is written or
 * allocated ... an operation happens whole or not at all") wants the refusal with
 * nothing written and no table page kept; the engine wrote R[1023] and kept
 * the page it took from the allocator, until the real run kept an undo journal.
 */
const RAM = 16 * 4096;
const ROOT = 0x1000n;
const SELF = ROOT | 0x7n; // P, R/W, U/S
const request = { va: 0xffbff000n, pa: 0x1000n, size: 0x2000n } as const;

function image(): OracleMemory {
  const m = new OracleMemory(RAM);
  m.write(ROOT, 4, SELF);
  m.write(ROOT + 1022n * 4n, 4, SELF);
  return m;
}

describe('map through a self-map that the same map turns into a table pointer', () => {
  test('the oracle refuses it whole: nothing written, the table page given back', () => {
    const mem = image();
    const before = mem.bytes.slice();
    const alloc = new BumpAllocator(8, 16);
    const r = oracleMap(mem, oracleFormat('x86_32'), ROOT, request.va, request.pa, request.size, { write: true }, alloc);
    // By hand: the conflict is at 0xffc00000, entry R[0] (0x1000) = 0x1007.
    expect(r).toEqual({ refused: 'already-mapped', va: 0xffc00000n, entryAddress: 0x1000n, entryValue: 0x1007n, midway: true });
    expect(Buffer.compare(mem.bytes, before)).toBe(0);
    expect(alloc.remaining).toBe(8);
  });

  test.each(['wasm', 'reference'] as const)('%s: the engine refuses it whole too', (backend) => {
    const e = createEngine({ ramBytes: RAM, backend });
    e.phys.write(0, image().bytes);
    const before = e.phys.read(0, RAM);
    const alloc = new BumpAllocator(8, 16);
    expect(() => e.map(ROOT, request.va, request.pa, request.size, { write: true }, alloc, { format: x86_32 })).toThrow(MappingConflictError);
    expect(e.phys.read32(ROOT + 1023n * 4n)).toBe(0);
    expect(Buffer.compare(e.phys.read(0, RAM), before)).toBe(0);
    expect(alloc.remaining).toBe(8);
  });

  // The same over a source (physical memory a frame cache): the undo writes the private copies back, the source is never written.
  test.each(['wasm', 'reference'] as const)('%s, engine over a source: refused whole as well', (backend) => {
    const bytes = image().bytes;
    const source = bytes.slice();
    const e = createEngine({ source: memorySource(source), cacheBytes: 65536, backend, ioBytes: 1 << 20 });
    const alloc = new BumpAllocator(8, 16);
    expect(() => e.map(ROOT, request.va, request.pa, request.size, { write: true }, alloc, { format: x86_32 })).toThrow(MappingConflictError);
    expect(Buffer.compare(e.phys.read(0, RAM), bytes)).toBe(0);
    expect(Buffer.compare(source, bytes)).toBe(0);
    expect(alloc.remaining).toBe(8);
  });
});
