// Random x86-64 page-table images for the differential tests: valid trees mixed
// with garbage entries, self-references and cycles, reserved bits, large leaves,
// and tables that point outside the image. Entries sit at a small pool of
// indices and the addresses are built from the same pool, so walks go deep.
import fc from 'fast-check';

export const RAM_FRAMES = 64;
export const RAM_BYTES = RAM_FRAMES * 4096;
const INDEX_POOL = [0, 1, 2, 255, 256, 258, 510, 511];

export interface TableImage {
  depth: 4 | 5;
  /** CR3 value, with stray low/high bits that the walk must mask off. */
  cr3: bigint;
  /** [physical address, value] of every entry written (RAM starts zeroed). */
  writes: Array<[bigint, bigint]>;
  vas: bigint[];
}

const P = 1n, RW = 2n, US = 4n, PS = 0x80n, XD = 1n << 63n;

const flagsArb = fc.record({ rw: fc.boolean(), us: fc.boolean(), xd: fc.boolean(), a: fc.boolean(), g: fc.boolean() }).map(
  (f) => (f.rw ? RW : 0n) | (f.us ? US : 0n) | (f.xd ? XD : 0n) | (f.a ? 0x20n : 0n) | (f.g ? 0x100n : 0n),
);

/** One entry value, given the number of table frames (frames 1..tables). */
function entryArb(tables: number): fc.Arbitrary<bigint> {
  const frame = fc.integer({ min: 1, max: tables }).map((f) => BigInt(f) * 4096n);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(0n) },
    // A pointer to one of the tables: trees, shared tables, self-maps and cycles.
    { weight: 12, arbitrary: fc.tuple(frame, flagsArb).map(([a, f]) => a | f | P) },
    // A large leaf (PS): 2 MiB / 1 GiB aligned address, sometimes with reserved low bits.
    {
      weight: 3,
      arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: (1n << 21n) - 1n }), fc.boolean(), flagsArb).map(([n, junk, f]) =>
        ((n << 21n) | (junk ? 1n << 13n : 0n) | f | PS | P),
      ),
    },
    // A pointer or page outside the 256 KiB image.
    { weight: 2, arbitrary: fc.tuple(fc.bigInt({ min: 64n, max: (1n << 40n) - 1n }), flagsArb).map(([n, f]) => (n << 12n) | f | P) },
    // Not present, other bits garbage.
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => v & ~1n) },
    // Present garbage: reserved bits, PS where it is reserved, address bits above MAXPHYADDR.
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => v | 1n) },
  );
}

function vaArb(depth: 4 | 5): fc.Arbitrary<bigint> {
  const idx = fc.oneof(fc.constantFrom(...INDEX_POOL), fc.integer({ min: 0, max: 511 }));
  const vaBits = depth === 5 ? 57 : 48;
  const built = fc.tuple(fc.array(idx, { minLength: depth, maxLength: depth }), fc.integer({ min: 0, max: 4095 })).map(([ix, off]) => {
    let va = BigInt(off);
    ix.forEach((v, i) => (va |= BigInt(v) << BigInt(12 + 9 * (depth - 1 - i))));
    // Sign-extend: canonical form.
    return BigInt.asUintN(64, BigInt.asIntN(vaBits, va));
  });
  return fc.oneof({ weight: 9, arbitrary: built }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) });
}

/**
 * Addresses that follow the written entries: at each level pick one of the
 * slots written in the current table (else a random index) and go where that
 * entry points, so most walks reach deep levels, leaves and faults alike.
 */
function guidedVa(depth: 4 | 5, cr3: bigint, writes: Array<[bigint, bigint]>, picks: number[], off: number): bigint {
  const slots = new Map<bigint, bigint[]>();
  for (const [pa, v] of writes) {
    const t = pa & ~0xfffn;
    slots.set(t, [...(slots.get(t) ?? []), (pa & 0xfffn) / 8n]);
    void v;
  }
  const value = new Map(writes.map(([pa, v]) => [pa, v] as const));
  let table = cr3 & 0xffffffffff000n;
  let va = BigInt(off);
  for (let l = 0; l < depth; l++) {
    const here = slots.get(table) ?? [];
    const pick = picks[l]!;
    const idx = here.length && pick % 5 !== 0 ? here[pick % here.length]! : BigInt(pick % 512);
    va |= idx << BigInt(12 + 9 * (depth - 1 - l));
    table = (value.get(table + idx * 8n) ?? 0n) & 0xffffffffff000n;
  }
  return BigInt.asUintN(64, BigInt.asIntN(depth === 5 ? 57 : 48, va));
}

export function tableImageArb(depth: 4 | 5): fc.Arbitrary<TableImage> {
  return fc.integer({ min: 1, max: 10 }).chain((tables) => {
    const slot = fc.tuple(fc.integer({ min: 1, max: tables }), fc.oneof(fc.constantFrom(...INDEX_POOL), fc.integer({ min: 0, max: 511 })), entryArb(tables));
    const guided = fc.tuple(fc.array(fc.nat(), { minLength: depth, maxLength: depth }), fc.integer({ min: 0, max: 4095 }));
    return fc
      .record({
        // The root is frame 1 (plus PCID / bit-63 noise the walk must mask off), with a few entries for sure.
        cr3: fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.boolean()).map(([low, b63]) => 0x1000n | BigInt(low) | (b63 ? 1n << 63n : 0n)),
        writes: fc
          .tuple(fc.array(slot, { minLength: 1, maxLength: 60 }), fc.array(fc.tuple(fc.constant(1), fc.constantFrom(...INDEX_POOL), entryArb(tables)), { minLength: 2, maxLength: 6 }))
          .map(([ws, root]) => [...root, ...ws].map(([f, i, v]) => [BigInt(f) * 4096n + BigInt(i) * 8n, v] as [bigint, bigint])),
        guided: fc.array(guided, { minLength: 1, maxLength: 20 }),
        random: fc.array(vaArb(depth), { maxLength: 4 }),
      })
      .map(({ cr3, writes, guided, random }) => ({
        depth,
        cr3,
        writes,
        vas: [...guided.map(([picks, off]) => guidedVa(depth, cr3, writes, picks, off)), ...random],
      }));
  });
}

export const walkOptionsArb = fc.record({
  access: fc.constantFrom('read' as const, 'write' as const, 'execute' as const),
  user: fc.boolean(),
  wp: fc.boolean(),
  nxe: fc.boolean(),
  smep: fc.boolean(),
  smap: fc.boolean(),
  maxPhyAddr: fc.constantFrom(36, 39, 46, 52),
  ignoreReserved: fc.boolean(),
});
