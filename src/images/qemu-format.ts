/**
 * Pure formatters that print walk results the way QEMU 7.2's monitor does, byte
 * for byte (shared/spec/qemu-listings.md): `info tlb`, `info mem` and `gva2gpa`
 * for x86-64 guests with 4-level or 5-level (LA57) paging.
 *
 * They take the engine's result types only. To match QEMU, the mappings must come
 * from a walk done the way the monitor walks: reserved bits ignored, table and
 * leaf addresses taken from bits 12..49 (maxPhyAddr 50) for `info tlb`/`info mem`,
 * bits 12..51 for `gva2gpa`, every alias listed, ascending VA order.
 *
 * One deliberate difference: under LA57, QEMU 7.2's `info mem` prints nothing
 * (its PDPT and PD present tests are inverted). `infoMemLines(..., la57 = true)`
 * prints what the corrected walk prints: the 4-level algorithm with one more level,
 * closing at 1<<57.
 */
import type { Mapping, TranslateResult } from '../paging/types.js';
import { hex16 } from '../util/numbers.js';

const SIZE_4K = 0x1000;
const SIZE_2M = 0x200000;
const SIZE_1G = 0x40000000;

/** Frame masks of the monitor's `print_pte` calls: physical bits 12..49, minus the page offset. */
const FRAME_MASK: ReadonlyMap<number, bigint> = new Map([
  [SIZE_4K, 0x3fffffffff000n],
  [SIZE_2M, 0x3ffffffe00000n],
  [SIZE_1G, 0x3ffffc0000000n],
]);

/** Leaf-entry bits of the low word, in the order `info tlb` prints them after X (bit 63): G P D A C T U W. */
const FLAG_BITS: readonly [number, string][] = [
  [1 << 8, 'G'],
  [1 << 7, 'P'],
  [1 << 6, 'D'],
  [1 << 5, 'A'],
  [1 << 4, 'C'],
  [1 << 3, 'T'],
  [1 << 2, 'U'],
  [1 << 1, 'W'],
];

const PAT_4K = 1 << 7;

// A listing has tens of thousands of lines: work on 32-bit halves, not BigInt, per line.
const lo32 = (v: bigint) => Number(BigInt.asUintN(32, v));
const hi32 = (v: bigint) => Number(BigInt.asUintN(32, v >> 32n));
/**
 * Four hex digits of every 16-bit value: an 8-digit field is then two shared strings.
 * Made on the first listing, not at load: 64K strings would cost every command's start-up.
 */
let HEX4: readonly string[] | undefined;
const hex4Table = () => (HEX4 ??= Array.from({ length: 65536 }, (_, i) => i.toString(16).padStart(4, '0')));
const hex8 = (n: number) => {
  const t = HEX4 ?? hex4Table();
  return t[(n >>> 16) & 0xffff]! + t[n & 0xffff]!;
};
/** C's %016lx of a 64-bit value. */
const hex64 = (v: bigint) => hex8(hi32(v)) + hex8(lo32(v));

/** Bits of the monitor's linear address: 48 (4-level) or 57 (LA57). */
function addressBits(la57: boolean): bigint {
  return la57 ? 57n : 48n;
}

/**
 * QEMU's `addr_canonical()`: when bit 47 (bit 56 under LA57) is set, set every bit
 * above it. It never clears bits, so 1<<48 stays 0x0001000000000000.
 */
export function addrCanonical(addr: bigint, la57: boolean): bigint {
  const sign = addressBits(la57) - 1n;
  const a = BigInt.asUintN(64, addr);
  if ((a >> sign) & 1n) return a | BigInt.asUintN(64, -(1n << (sign + 1n)));
  return a;
}

/** The monitor's internal (not yet canonical) linear address of a canonical VA. */
function internalAddress(va: bigint, la57: boolean): bigint {
  return BigInt.asUintN(64, va) & ((1n << addressBits(la57)) - 1n);
}

/** `addrCanonical(internalAddress(va))` as [lo, hi]: a canonical VA is its own answer. */
function canonicalHalves(va: bigint, la57: boolean): [number, number] {
  const lo = lo32(va), hi = hi32(va);
  const top = (hi | 0) >> (la57 ? 24 : 15); // bits 63..56 or 63..47, sign-extended
  if (top === 0 || top === -1) return [lo, hi];
  const c = addrCanonical(internalAddress(va, la57), la57);
  return [lo32(c), hi32(c)];
}

function frameMask(m: Mapping): bigint {
  const mask = FRAME_MASK.get(m.size);
  if (mask === undefined) {
    throw new RangeError(`qemu-format: mapping at ${hex16(m.va)} has size ${m.size}; only 4K, 2M and 1G x86 leaves exist`);
  }
  return mask;
}

/** One `info tlb` line (no newline) for one leaf. */
export function infoTlbLine(m: Mapping, la57: boolean): string {
  const mask = frameMask(m);
  let lo = lo32(m.entry);
  const hi = hi32(m.entry);
  if (m.size === SIZE_4K) lo &= ~PAT_4K; // bit 7 of a PTE is PAT, not PS
  let flags = hi & 0x80000000 ? 'X' : '-';
  for (const [bit, letter] of FLAG_BITS) flags += lo & bit ? letter : '-';
  const [vlo, vhi] = canonicalHalves(m.va, la57);
  return `${hex8(vhi)}${hex8(vlo)}: ${hex8(hi & hi32(mask))}${hex8(lo & lo32(mask))} ${flags}`;
}

/** `info tlb`: one line per present leaf, in the order given (ascending VA). */
export function* infoTlbLines(mappings: Iterable<Mapping>, la57: boolean): Generator<string> {
  for (const m of mappings) yield infoTlbLine(m, la57);
}

/** The whole `info tlb` output, each line ending in "\n" as QEMU prints it. */
export function formatInfoTlb(mappings: Iterable<Mapping>, la57: boolean): string {
  let out = '';
  for (const line of infoTlbLines(mappings, la57)) out += line + '\n';
  return out;
}

/** Effective protection the way `info mem` computes it: P=1, W=2, U=4. */
function memProt(m: Mapping): number {
  return 1 | (m.rights.write ? 2 : 0) | (m.rights.user ? 4 : 0);
}

/**
 * `info mem`: ranges of equal effective (user, write) permission, derived from the
 * leaf list. It replays QEMU's `mem_print` state machine on the events the leaves
 * imply: a present leaf is an event (start, prot); the first unmapped byte after a
 * leaf is an event (end, 0); the walk ends with (1<<48, 0) or (1<<57, 0).
 * Contiguity is judged on the monitor's internal address, where the top of the
 * user half touches the bottom of the kernel half (1<<47 under 4-level).
 */
export function* infoMemLines(mappings: Iterable<Mapping>, la57: boolean): Generator<string> {
  const bits = Number(addressBits(la57));
  const lines: string[] = [];
  const mem = new InfoMemPrinter(la57, (start, end, prot) => {
    lines.push(`${hexCanonical(start, bits)}-${hexCanonical(end, bits)} ${hexCanonical(end - start, bits)} ${prot & 4 ? 'u' : '-'}r${prot & 2 ? 'w' : '-'}`);
  });
  for (const m of mappings) {
    if (!mem.leaf(Number(internalAddress(m.va, la57)), m.size, memProt(m))) {
      throw new RangeError(`qemu-format: mappings are not in ascending VA order or overlap at ${hex16(m.va)}`);
    }
    yield* lines;
    lines.length = 0;
  }
  mem.end();
  yield* lines;
}

/**
 * QEMU's `mem_print` over leaves given as numbers (the monitor's internal address,
 * the size, the effective protection P=1 W=2 U=4), in ascending address order;
 * each line it prints is handed to `line` as its range [start, end) and protection
 * (printed as `%016lx-%016lx %016lx %cr%c` of the canonical start, end and size).
 * Every address here is page-aligned and at most 2^57: at most 45 significant
 * bits, exact as a double.
 */
export class InfoMemPrinter {
  /** Bits of the monitor's linear address: 48 or 57. */
  readonly bits: number;
  private start = -1; // "none" in QEMU is all ones
  private lastProt = 0;
  private cursor = 0; // first address not covered by the leaves seen so far

  constructor(la57: boolean, private readonly line: (start: number, end: number, prot: number) => void) {
    this.bits = Number(addressBits(la57));
  }

  /** One leaf at internal address `a`; false (nothing done) when it is below the leaves before it. */
  leaf(a: number, size: number, prot: number): boolean {
    if (a < this.cursor) return false;
    if (a !== this.cursor) this.event(this.cursor, 0);
    this.event(a, prot);
    this.cursor = a + size;
    return true;
  }

  /** The walk is over: the unmapped rest closes the last range, then QEMU's final flush at the very top. */
  end(): void {
    const top = 2 ** this.bits;
    if (this.cursor !== top) this.event(this.cursor, 0);
    this.event(top, 0);
  }

  private event(end: number, prot: number): void {
    if (prot === this.lastProt) return;
    if (this.start >= 0) this.line(this.start, end, this.lastProt);
    this.start = prot !== 0 ? end : -1;
    this.lastProt = prot;
  }
}

/** %016lx of addr_canonical(x) for an exact double x < 2^58: bit bits-1 copied into every bit above. */
function hexCanonical(x: number, bits: number): string {
  let hi = Math.floor(x / 2 ** 32);
  const lo = x - hi * 2 ** 32;
  const sign = bits - 1 - 32; // the sign bit's position in the high word
  if ((hi >>> sign) & 1) hi |= ~((2 ** (sign + 1)) - 1);
  return hex8(hi) + hex8(lo);
}

/** The whole `info mem` output, each line ending in "\n". */
export function formatInfoMem(mappings: Iterable<Mapping>, la57: boolean): string {
  let out = '';
  for (const line of infoMemLines(mappings, la57)) out += line + '\n';
  return out;
}

/**
 * `gva2gpa ADDR`: `gpa: %#x` of the translated address (byte offset included),
 * `gpa: 0` for physical address 0 (C's `#` flag adds no 0x to zero), `Unmapped` for
 * any fault. No newline.
 */
export function formatGva2gpa(result: TranslateResult): string {
  if (!result.ok) return 'Unmapped';
  const pa = BigInt.asUintN(64, result.pa);
  return pa === 0n ? 'gpa: 0' : `gpa: 0x${pa.toString(16)}`;
}
