// The address-space workloads: reading virtual memory (resident, and through a
// warm frame cache) against a C memcpy of the same bytes, searching a 4 GiB
// address space for a 16-byte pattern against C memmem over the pages the C walker
// translates, and a reverse lookup of 1,000 physical addresses over real Linux
// tables (the QEMU fixture). The scenario: 256 MiB of pseudo-random data mapped
// contiguously with 4 KiB pages, and under a second root the same 256 MiB mapped
// 16 times over (4 GiB of address space, every page a 4 KiB leaf).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { createEngine, type Engine } from '../engine/engine.js';
import { memorySource } from '../memory/memory-source.js';
import { BumpAllocator } from '../paging/allocator.js';
import { x86_64 } from '../paging/formats/x86.js';
import { readVirtual } from '../address/virtual-memory.js';
import { searchVirtual } from '../address/search.js';
import { reverseLookup } from '../address/reverse.js';
import { Checksum } from './checksum.js';
import { buildWalkScenario, PAGE, type WalkScenario } from './scenario.js';
import { Rng } from '../util/rng.js';
import type { Workload } from './workload.js';

const MiB = 2 ** 20;
export const READ_BYTES = 256 * MiB;
/** Where the second root maps its 4 GiB (the vmalloc area of a Linux guest). */
export const SEARCH_VA = 0xffff_c900_0000_0000n;
export const SEARCH_BYTES = 4 * 2 ** 30;
/** The 16-byte pattern, and the physical places it is planted (each seen 16 times in the 4 GiB). */
export const PATTERN = new TextEncoder().encode('memwalk-pattern!');
const PLANTS = 8;

export interface AddressScenario {
  readonly scn: WalkScenario;
  /** Root of the 4 GiB aliased address space. */
  readonly searchRoot: bigint;
  /** Physical addresses of the planted patterns. */
  readonly planted: bigint[];
  readonly buildMs: number;
}

/** Build the scenario in one resident engine (about 272 MiB). */
export function buildAddressScenario(): AddressScenario {
  const t0 = performance.now();
  const scn = buildWalkScenario({ bytes: READ_BYTES, spareBytes: READ_BYTES });
  const e = scn.engine;
  const alloc = new BumpAllocator(scn.nextFreeFrame, e.layout.ramBytes / PAGE);
  const root = BigInt(alloc.allocate()!) * BigInt(PAGE);
  e.phys.fill(root, PAGE, 0);
  for (let k = 0n; k < BigInt(SEARCH_BYTES / READ_BYTES); k++) {
    e.map(root, SEARCH_VA + k * BigInt(READ_BYTES), 0n, BigInt(READ_BYTES), { write: true, execute: false, global: true }, alloc, { format: x86_64, largestLeaf: PAGE });
  }
  // Pseudo-random data in every frame after the tables (first and last bytes of the pattern are rare there).
  const first = (alloc.end - alloc.remaining) * PAGE;
  const words = new Uint32Array(e.memory.buffer, e.layout.ramBase + first, (READ_BYTES - first) / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  const rng = new Rng(11);
  const planted: bigint[] = [];
  for (let i = 0; i < PLANTS; i++) {
    const pa = BigInt(first + rng.below(READ_BYTES - first - 64));
    e.phys.write(pa, PATTERN);
    planted.push(pa);
  }
  planted.sort((a, b) => (a < b ? -1 : 1));
  return { scn, searchRoot: root, planted, buildMs: performance.now() - t0 };
}

/** 64 bytes of every 64 KiB of `bytes`: what the C program checksums of its copy too. */
export function sampledSum(bytes: Uint8Array): string {
  const c = new Checksum();
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  for (let o = 0; o + 64 <= bytes.length; o += 65536) c.words(u32, o, 64);
  return c.hex();
}

export function readWorkloads(a: AddressScenario): Workload[] {
  const { scn } = a;
  const buf = new Uint8Array(READ_BYTES);
  const small = new Uint8Array(MiB);
  const opts = { format: x86_64, into: buf };
  let paged: Engine | undefined;
  const overSource = (e: Engine): Engine => {
    if (!paged) {
      const r = scn.engine;
      const bytes = new Uint8Array(r.memory.buffer, r.layout.ramBase, r.layout.ramBytes).slice();
      paged = createEngine({ source: memorySource(bytes, 'scenario'), cacheBytes: bytes.length + 16 * MiB });
    }
    return e.backend.name === paged.backend.name ? paged : paged.withBackend(e.backend.name);
  };
  const read = (e: Engine) => {
    const r = readVirtual(e, scn.root, scn.va, READ_BYTES, opts);
    if (!r.complete) throw new Error('read workload: the read has holes');
    return buf[READ_BYTES - 1]!;
  };
  const common = { family: 'read', items: READ_BYTES / MiB, unit: 'MiB' } as const;
  return [
    {
      ...common,
      name: 'read 256 MiB of virtual memory (4 KiB pages) into one buffer',
      prepare() {},
      warm: (e) => (readVirtual(e, scn.root, scn.va + 12345n, small.length, { format: x86_64, into: small }), small[7]!),
      run: read,
      checksum: () => sampledSum(buf),
      native: { spec: `memcpy:${0}:${READ_BYTES.toString(16)}` },
    },
    {
      ...common,
      name: 'read 256 MiB of virtual memory (4 KiB pages) over a source, warm cache',
      backends: ['wasm', 'reference'],
      // The first read faults every frame in, untimed.
      prepare: (e) => void read(overSource(e)),
      warm: (e) => (readVirtual(overSource(e), scn.root, scn.va + 12345n, small.length, { format: x86_64, into: small }), small[7]!),
      run: (e) => read(overSource(e)),
      checksum: () => sampledSum(buf),
    },
  ];
}

export function searchWorkloads(a: AddressScenario): Workload[] {
  let matches: bigint[] = [];
  const sum = () => new Checksum().array(BigUint64Array.from(matches)).hex();
  return [
    {
      name: 'search a 4 GiB address space (4 KiB pages) for a 16-byte pattern',
      family: 'search',
      // The TS twin scans a byte at a time: minutes for 4 GiB (the tests hold it equal to the kernel).
      backends: ['wasm', 'native'],
      items: SEARCH_BYTES / MiB,
      unit: 'MiB',
      prepare() {},
      warm: (e) => searchVirtual(e, a.searchRoot, PATTERN, { format: x86_64, limit: 0, from: SEARCH_VA, to: SEARCH_VA + 64n * BigInt(MiB) }).matches.length,
      run(e) {
        const r = searchVirtual(e, a.searchRoot, PATTERN, { format: x86_64, limit: 0 });
        matches = r.matches.map((m) => m.va);
        return matches.length;
      },
      checksum: sum,
      native: { spec: `memmem:${SEARCH_VA.toString(16)}:${SEARCH_BYTES / PAGE}:${Buffer.from(PATTERN).toString('hex')}:${a.searchRoot.toString(16)}` },
    },
  ];
}

/** The QEMU fixture's tables (a 512 MiB Linux 6.1 guest, 74,769 leaves) in a resident engine. */
export async function reverseWorkloads(root: string): Promise<{ workloads: Workload[]; engine: Engine; leaves: number }> {
  const dir = join(root, 'test', 'fixtures', 'qemu', '4level');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { mem: number; vcpu0: { cr3: string } };
  const { decodePages } = (await import(join(root, 'scripts', 'qemu-e2e', 'monitor-walk.mjs'))) as { decodePages(b: Uint8Array): Map<bigint, Uint8Array> };
  const pages = decodePages(brotliDecompressSync(readFileSync(join(dir, 'tables.bin.br'))));
  const engine = createEngine({ ramBytes: meta.mem * MiB, ioBytes: MiB });
  for (const [pa, bytes] of pages) engine.phys.write(pa, bytes);
  const cr3 = BigInt(meta.vcpu0.cr3);
  const walk = { format: x86_64, ignoreReserved: true, maxPhyAddr: 50 };
  const leaves = engine.mappings(cr3, walk).mappings;
  // 1,000 physical addresses drawn uniformly from the guest's RAM ("who maps this frame?"). Drawn from
  // the leaves instead, many land on the few frames mapped thousands of times over (10,000 hits each).
  const rng = new Rng(5);
  const pas = Array.from({ length: 1000 }, () => BigInt(rng.below(meta.mem * MiB)));
  let hits = 0;
  let vaSum = 0n;
  return {
    engine,
    leaves: leaves.length,
    workloads: [
      {
        name: `reverse lookup of 1,000 PAs over real Linux tables (${leaves.length} leaves)`,
        family: 'reverse',
        items: 1000,
        unit: 'addresses',
        prepare() {},
        warm: (e) => reverseLookup(e, [cr3], pas.slice(0, 10), walk).results.length,
        run(e) {
          const r = reverseLookup(e, [cr3], pas, walk);
          hits = 0;
          vaSum = 0n;
          for (const x of r.results) for (const h of x.hits) (hits++, (vaSum = BigInt.asUintN(64, vaSum + h.va)));
          return hits;
        },
        checksum: () => `${hits}:${vaSum.toString(16)}`,
      },
    ],
  };
}
