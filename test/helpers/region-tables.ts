// A small x86-64 image for the tests of walks over a source that evict their own
// tables: region j is the 2 MiB at VA + j GiB, mapped with 4 KiB pages to PA + j * 2 MiB,
// each with its own level-2 and leaf table. Expected answers follow from that rule
// (`va` and `pa` below), not from the engine.
import { createEngine, x86_64, BumpAllocator, type Engine } from '../../src/index.js';

const VA = 0xffff_8880_0000_0000n;
const PA = 0x4000_0000n;

export const regionVa = (j: number, page: number) => VA + (BigInt(j) << 30n) + BigInt(page) * 4096n + 0x123n;
export const regionPa = (j: number, page: number) => PA + (BigInt(j) << 21n) + BigInt(page) * 4096n + 0x123n;

/** A resident engine holding the tables of `regions` regions, its root, and its 1 MiB image. */
export function regionTables(regions: number): { resident: Engine; root: bigint; bytes: Uint8Array } {
  const res = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  const frames = new BumpAllocator(1, 256);
  const root = BigInt(frames.allocate() * 4096);
  for (let j = 0; j < regions; j++) {
    res.map(root, regionVa(j, 0) - 0x123n, regionPa(j, 0) - 0x123n, 1n << 21n, { write: true }, frames, { format: x86_64, largestLeaf: 4096 });
  }
  return { resident: res, root, bytes: res.phys.read(0, 1 << 20) };
}
