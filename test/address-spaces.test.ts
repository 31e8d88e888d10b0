// Virtual reads, reverse lookups, searches and root discovery over hand-built
// x86-64 tables whose answers are worked out below, on both backends.
import { describe, test, expect } from 'vitest';
import { createEngine, BumpAllocator, memorySource, InvalidInputError, type Engine } from '../src/index.js';
import { CapacityError } from '../src/errors.js';
import { readVirtual, writeVirtual, readPhysical, reverseLookup, searchVirtual, searchPhysical, discoverRoots } from '../src/address/index.js';

const K4 = 0x1000n, M2 = 0x200000n, G = 0x40000000n;
const P = 1n, W = 2n, U = 4n, PS = 0x80n, NX = 1n << 63n;
const ascii = (s: string) => new TextEncoder().encode(s);

/**
 * 16 MiB of RAM, root at 0x1000 (tables from frame 2 on), mapped by hand:
 *   VA 1G   -> PA 0        one 1 GiB leaf (PDPT[1]); RAM ends at 16 MiB, so most of it has no contents
 *   VA 2G   -> PA 0x400000 one 2 MiB leaf (PDPT[2] -> PD[0]); PD[1] (VA 2G+2M) is empty
 *   VA 0x10000000 -> PA 0xa00000, VA 0x10001000 -> PA 0x203000: two 4 KiB pages far apart
 *   PDPT[3] and PDPT[4] both point at the PD at 0xf00000, whose entries 0 and 1
 *   both point at the PT at 0xf01000, whose entry 5 maps PA 0x300000: four aliases
 *   (3G+0x5000, 3G+2M+0x5000, 4G+0x5000, 4G+2M+0x5000), plus 1G+0x300000 through the 1 GiB leaf.
 */
function build(backend: 'wasm' | 'reference'): { e: Engine; root: bigint; pdOf2G: bigint } {
  const e = createEngine({ ramBytes: '16M', backend, ioBytes: 1 << 20 });
  const alloc = new BumpAllocator(2, 64);
  const root = 0x1000n;
  e.map(root, G, 0n, G, { write: true }, alloc);
  e.map(root, 2n * G, 0x400000n, M2, { write: true }, alloc);
  e.map(root, 0x10000000n, 0xa00000n, K4, { write: true, user: true }, alloc);
  e.map(root, 0x10001000n, 0x203000n, K4, { write: true, user: true }, alloc);
  const pdpt = e.phys.read64(root) & 0xffffffffff000n;
  const pdOf2G = e.phys.read64(pdpt + 2n * 8n) & 0xffffffffff000n;
  const PD = 0xf00000n, PT = 0xf01000n;
  e.phys.write64(pdpt + 3n * 8n, PD | P | W);
  e.phys.write64(pdpt + 4n * 8n, PD | P | W);
  e.phys.write64(PD, PT | P | W);
  e.phys.write64(PD + 8n, PT | P | W);
  e.phys.write64(PT + 5n * 8n, 0x300000n | P | NX);
  // HELLO ends the first 4 KiB page, WORLD starts the second; a lone HELLO elsewhere.
  e.phys.write(0xa00ffbn, ascii('HELLO'));
  e.phys.write(0x203000n, ascii('WORLD'));
  e.phys.write(0x600100n, ascii('HELLO!'));
  return { e, root, pdOf2G };
}

describe.each(['wasm', 'reference'] as const)('address spaces on %s', (backend) => {
  test('a read crossing a 2 MiB leaf into an unmapped page stops at it and names the fault', () => {
    const { e, root, pdOf2G } = build(backend);
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    e.phys.write(0x600000n - 8n, bytes.subarray(0, 8)); // the last 8 bytes of the 2 MiB leaf's frame
    const va = 2n * G + M2 - 8n;
    const r = readVirtual(e, root, va, 16);
    expect(r.complete).toBe(false);
    expect([...r.bytes]).toEqual([...bytes.subarray(0, 8)]);
    // PD[1] is empty: not-present at level 2, entry at PD + 8, error code 0 (read, supervisor).
    expect(r.holes).toEqual([{ va: 2n * G + M2, length: 8, fault: { kind: 'not-present', level: 2, entryAddress: pdOf2G + 8n, entryValue: 0n, errorCode: 0 } }]);
    const p = readVirtual(e, root, va, 16, { partial: true });
    expect([...p.bytes]).toEqual([...bytes.subarray(0, 8), 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(p.holes).toHaveLength(1);
    expect(p.holes[0]).toMatchObject({ va: 2n * G + M2, length: 8 });
  });

  test('a read through the 1 GiB leaf past the end of RAM names the physical address without contents', () => {
    const { e, root } = build(backend);
    const r = readVirtual(e, root, G + 0xfff000n, 0x2000, { partial: true });
    expect(r.bytes.subarray(0, 0x1000)).toEqual(e.phys.read(0xfff000n, 0x1000));
    expect(r.holes).toEqual([{ va: G + 0x1000000n, length: 0x1000, pa: 0x1000000n }]);
  });

  test('a read over two 4 KiB pages whose frames are far apart joins them', () => {
    const { e, root } = build(backend);
    const r = readVirtual(e, root, 0x10000ffbn, 10);
    expect(new TextDecoder().decode(r.bytes)).toBe('HELLOWORLD');
    expect(r.complete).toBe(true);
  });

  test('writes fault the same way and write nothing; a write through a read-only alias is refused', () => {
    const { e, root } = build(backend);
    const before = e.phys.read(0x5ffff8n, 8);
    const w = writeVirtual(e, root, 2n * G + M2 - 8n, new Uint8Array(16).fill(0x55));
    expect(w.written).toBe(0);
    expect(w.hole).toMatchObject({ va: 2n * G + M2, length: 8, fault: { kind: 'not-present', level: 2 } });
    expect(e.phys.read(0x5ffff8n, 8)).toEqual(before);
    // The PT entry for 0x300000 has no R/W bit: a supervisor write faults with WP=1 (P|W = 3).
    const ro = writeVirtual(e, root, 3n * G + 0x5000n, new Uint8Array(4));
    expect(ro.hole?.fault).toMatchObject({ kind: 'protection', level: 1, errorCode: 3 });
    const ok = writeVirtual(e, root, 0x10000ffen, ascii('XYZW'));
    expect(ok.written).toBe(4);
    expect(new TextDecoder().decode(e.phys.read(0xa00ffen, 2)) + new TextDecoder().decode(e.phys.read(0x203000n, 2))).toBe('XYZW');
  });

  test('a frame mapped by five virtual addresses through a shared table', () => {
    const { e, root } = build(backend);
    const { results } = reverseLookup(e, [root], [0x300123n, 0x7777000n]);
    expect(results[0]!.hits.map((h) => [h.va, h.size])).toEqual([
      [G + 0x300123n, 2 ** 30],
      [3n * G + 0x5123n, 4096],
      [3n * G + M2 + 0x5123n, 4096],
      [4n * G + 0x5123n, 4096],
      [4n * G + M2 + 0x5123n, 4096],
    ]);
    expect(results[0]!.hits[1]!.rights).toEqual({ write: false, user: false, execute: false, userExecute: false });
    expect(results[0]!.hits.every((h) => h.roots.length === 1 && h.roots[0] === root)).toBe(true);
    // The 1 GiB leaf maps every PA below 1 GiB, and nothing else maps 0x7777000.
    expect(results[1]!.hits.map((h) => h.va)).toEqual([G + 0x7777000n]);
  });

  test('an answer larger than maxHits in all is refused with the bound, not built', () => {
    const { e, root } = build(backend);
    // 0x300123 has five aliases (above), 0x7777000 one: six in all.
    expect(reverseLookup(e, [root], [0x300123n, 0x7777000n], { maxHits: 6 }).results.flatMap((r) => r.hits)).toHaveLength(6);
    expect(() => reverseLookup(e, [root], [0x300123n, 0x7777000n], { maxHits: 5 })).toThrow(CapacityError);
    expect(() => reverseLookup(e, [root], [0x300123n, 0x7777000n], { maxHits: 5 })).toThrow(/more than 5 virtual addresses in all for the 2 physical addresses/);
  });

  test('a pattern split over two pages whose frames are far apart is found once, at its VA and PA', () => {
    const { e, root } = build(backend);
    const r = searchVirtual(e, root, ascii('HELLOWORLD'));
    expect(r.matches).toEqual([{ va: 0x10000ffbn, pa: 0xa00ffbn }]);
    // WORLD: through the 4 KiB page and through the 1 GiB leaf.
    expect(searchVirtual(e, root, ascii('WORLD')).matches).toEqual([
      { va: 0x10001000n, pa: 0x203000n },
      { va: G + 0x203000n, pa: 0x203000n },
    ]);
    // HELLO: the 4 KiB page, then the 1 GiB leaf twice (the 2 MiB leaf ends at PA 0x600000, before 0x600100).
    expect(searchVirtual(e, root, ascii('HELLO')).matches).toEqual([
      { va: 0x10000ffbn, pa: 0xa00ffbn },
      { va: G + 0x600100n, pa: 0x600100n },
      { va: G + 0xa00ffbn, pa: 0xa00ffbn },
    ]);
    // Physically the halves are 8 MiB apart.
    expect(searchPhysical(e, ascii('HELLOWORLD')).matches).toEqual([]);
    expect(searchPhysical(e, ascii('HELLO')).matches.map((m) => m.pa)).toEqual([0x600100n, 0xa00ffbn]);
    expect(searchVirtual(e, root, ascii('HELLO'), { from: G, to: G + 0xa00ffbn }).matches.map((m) => m.va)).toEqual([G + 0x600100n]);
    expect(searchVirtual(e, root, ascii('HELLO'), { limit: 1 })).toMatchObject({ truncated: true, matches: [{ va: 0x10000ffbn }] });
  });

  test('bad input is a typed error', () => {
    const { e, root } = build(backend);
    expect(() => searchVirtual(e, root, new Uint8Array(0))).toThrow(InvalidInputError);
    expect(() => readVirtual(e, root, 0xfffffffffffffff0n, 0x20)).toThrow(/runs past the top/);
    expect(() => readVirtual(e, root, 0n, -1)).toThrow(InvalidInputError);
  });
});

describe('the search kernel against a plain scan', () => {
  test('a pattern planted at frame boundaries and at random places is found where indexOf finds it, on both backends', () => {
    const e = createEngine({ ramBytes: '4M', ioBytes: 1 << 20 });
    const pat = ascii('\x01\x02\x03q\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10z');
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % (e.phys.size - pat.length));
    const places = [4096 - 1, 8192 - 8, 3 * 4096 - 16, 5 * 4096, ...Array.from({ length: 40 }, rnd)];
    for (const at of places) e.phys.write(at, pat);
    const all = Buffer.from(e.phys.read(0, e.phys.size));
    const want: bigint[] = [];
    for (let i = all.indexOf(pat); i >= 0; i = all.indexOf(pat, i + 1)) want.push(BigInt(i));
    expect(want.length).toBeGreaterThanOrEqual(40);
    for (const b of ['wasm', 'reference'] as const) {
      expect(searchPhysical(e.withBackend(b), pat, { limit: 0 }).matches.map((m) => m.pa)).toEqual(want);
    }
  });

  test('over a dump with a hole and a cache of 16 frames, a match across frames is found and the hole is skipped', () => {
    const bytes = new Uint8Array(64 * 4096);
    const pat = ascii('across-the-frame-boundary');
    bytes.set(pat, 10 * 4096 - 7);
    bytes.set(pat, 30 * 4096 + 5); // in the hole: the dump does not hold frames 28..35
    bytes.set(pat, 50 * 4096 - 20);
    const source = memorySource(bytes, 'holey', [{ start: 0n, end: 28n * 4096n }, { start: 36n * 4096n, end: 64n * 4096n }]);
    for (const backend of ['wasm', 'reference'] as const) {
      const e = createEngine({ source, cacheBytes: '1M', backend });
      expect(searchPhysical(e, pat).matches.map((m) => m.pa)).toEqual([10n * 4096n - 7n, 50n * 4096n - 20n]);
      const r = readPhysical(e, 27n * 4096n, 2 * 4096, { partial: true });
      expect(r.holes).toEqual([{ va: 28n * 4096n, length: 4096, pa: 28n * 4096n }]);
    }
  });
});

/**
 * Root discovery: a kernel half of three entries (PML4[256] -> 1 GiB direct map,
 * [300] -> a 4 KiB page, [511] -> a 2 MiB kernel image), and these top tables:
 *   0x10000 + 0x11000  a PTI pair: user half maps 2 MiB (the kernel copy with NX), user copy's kernel half only [510]
 *   0x20000 + 0x21000  a PTI pair mapping 4 KiB of user memory
 *   0x30000            the kernel half alone (0x31000 is empty: no pair)
 *   0x40000            [300] differs (one entry of its own) and it maps 8 KiB there
 *   0x50000            the kernel half, but its user half holds an entry with the PS bit: not a table
 */
describe.each(['wasm', 'reference'] as const)('root discovery on %s', (backend) => {
  function pti() {
    const e = createEngine({ ramBytes: '8M', backend, ioBytes: 1 << 20 });
    const t = (pa: bigint, i: number, v: bigint) => e.phys.write64(pa + BigInt(i) * 8n, v);
    // Kernel tables.
    t(0x60000n, 0, 0n | P | W | PS); // PDPT: 1 GiB leaf at PA 0
    t(0x61000n, 0, 0x62000n | P | W); // PDPT -> PD -> PT -> one 4 KiB page
    t(0x62000n, 0, 0x63000n | P | W);
    t(0x63000n, 0, 0x100000n | P | W);
    t(0x64000n, 511, 0x65000n | P | W); // PDPT[511] -> PD, PD[0]: 2 MiB
    t(0x65000n, 0, 0x200000n | P | PS);
    t(0x66000n, 0, 0x67000n | P); // trampoline: one 4 KiB page
    t(0x67000n, 0, 0x68000n | P);
    t(0x68000n, 0, 0x101000n | P);
    t(0x69000n, 0, 0x6a000n | P | W); // LDT-like: two 4 KiB pages
    t(0x6a000n, 0, 0x6b000n | P | W);
    t(0x6b000n, 0, 0x102000n | P | W);
    t(0x6b000n, 1, 0x103000n | P | W);
    // User tables: 2 MiB for the first process, 4 KiB for the second.
    t(0x70000n, 0, 0x71000n | P | W | U);
    t(0x71000n, 0, 0x400000n | P | W | U | PS);
    t(0x72000n, 0, 0x73000n | P | W | U);
    t(0x73000n, 0, 0x74000n | P | W | U);
    t(0x74000n, 0, 0x104000n | P | W | U);
    const kernelHalf = (top: bigint, ldt = false) => {
      t(top, 256, 0x60000n | P | W);
      t(top, 300, (ldt ? 0x69000n : 0x61000n) | P | W);
      t(top, 511, 0x64000n | P | W);
    };
    for (const [k, user] of [[0x10000n, 0x70000n], [0x20000n, 0x72000n]] as const) {
      kernelHalf(k);
      t(k, 0, user | P | W | U | NX);
      t(k + K4, 0, user | P | W | U);
      t(k + K4, 510, 0x66000n | P);
    }
    kernelHalf(0x30000n);
    kernelHalf(0x40000n, true);
    kernelHalf(0x50000n);
    t(0x50000n, 3, 0x123000n | P | PS);
    return e;
  }

  test('finds every root sharing the kernel half, pairs PTI copies, and counts what each maps', () => {
    const e = pti();
    // The vCPU was in user mode: its CR3 is the user copy (with a PCID in the low bits).
    const d = discoverRoots(e, [0x11000n | 5n]);
    expect(d.references.get(0x11005n)).toBe(0x10000n);
    const kernel = G + M2 + K4;
    expect(d.spaces.map((s) => [s.root, s.userRoot, s.known, s.differing, s.userBytes, s.kernelBytes])).toEqual([
      [0x10000n, 0x11000n, [0x11005n], 0, M2, kernel],
      [0x20000n, 0x21000n, [], 0, K4, kernel],
      [0x30000n, undefined, [], 0, 0n, kernel],
      [0x40000n, undefined, [], 1, 0n, G + 2n * K4 + M2],
    ]);
    expect(discoverRoots(e, [0x10000n], { misses: 0 }).spaces.map((s) => s.root)).toEqual([0x10000n, 0x20000n, 0x30000n]);
  });

  test('reverse lookup over the discovered roots walks the shared kernel half once and names every root', () => {
    const e = pti();
    const roots = discoverRoots(e, [0x10000n]).spaces.map((s) => s.root);
    const { results } = reverseLookup(e, roots, [0x100010n, 0x104000n]);
    // 0x100010: PML4[300] -> ... -> 0x100000 in the shared half (VA 0xffff960000000000 + 0x10) and the
    // direct map (0xffff800000000000 + 0x100010); 0x40000 maps PML4[300] elsewhere.
    const at300 = BigInt.asUintN(64, (0xffffn << 48n) | (300n << 39n));
    expect(results[0]!.hits.map((h) => [h.va, h.roots])).toEqual([
      [0xffff800000100010n, [0x10000n, 0x20000n, 0x30000n, 0x40000n]],
      [at300 + 0x10n, [0x10000n, 0x20000n, 0x30000n]],
    ]);
    expect(results[1]!.hits.map((h) => [h.va, h.roots])).toEqual([
      [0n, [0x20000n]],
      [0xffff800000104000n, [0x10000n, 0x20000n, 0x30000n, 0x40000n]],
    ]);
  });
});
