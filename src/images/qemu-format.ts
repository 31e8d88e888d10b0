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

/** Leaf-entry bits, in the order `info tlb` prints them: X G P D A C T U W. */
const FLAG_BITS: readonly [bigint, string][] = [
  [1n << 63n, 'X'],
  [1n << 8n, 'G'],
  [1n << 7n, 'P'],
  [1n << 6n, 'D'],
  [1n << 5n, 'A'],
  [1n << 4n, 'C'],
  [1n << 3n, 'T'],
  [1n << 2n, 'U'],
  [1n << 1n, 'W'],
];

const PAT_4K = 1n << 7n;

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

function frameMask(m: Mapping): bigint {
  const mask = FRAME_MASK.get(m.size);
  if (mask === undefined) {
    throw new RangeError(`qemu-format: mapping at ${hex16(m.va)} has size ${m.size}; only 4K, 2M and 1G x86 leaves exist`);
  }
  return mask;
}

/** One `info tlb` line (no newline) for one leaf. */
export function infoTlbLine(m: Mapping, la57: boolean): string {
  let entry = BigInt.asUintN(64, m.entry);
  if (m.size === SIZE_4K) entry &= ~PAT_4K; // bit 7 of a PTE is PAT, not PS
  let flags = '';
  for (const [bit, letter] of FLAG_BITS) flags += entry & bit ? letter : '-';
  return `${hex16(addrCanonical(internalAddress(m.va, la57), la57))}: ${hex16(entry & frameMask(m))} ${flags}`;
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
  let start: bigint | null = null; // "none" in QEMU is all ones
  let lastProt = 0;
  let cursor = 0n; // first address not covered by the leaves seen so far

  const event = function* (end: bigint, prot: number): Generator<string> {
    if (prot === lastProt) return;
    if (start !== null) {
      const u = lastProt & 4 ? 'u' : '-';
      const w = lastProt & 2 ? 'w' : '-';
      yield `${hex16(addrCanonical(start, la57))}-${hex16(addrCanonical(end, la57))} ${hex16(addrCanonical(end - start, la57))} ${u}r${w}`;
    }
    start = prot !== 0 ? end : null;
    lastProt = prot;
  };

  for (const m of mappings) {
    const a = internalAddress(m.va, la57);
    if (a < cursor) {
      throw new RangeError(`qemu-format: mappings are not in ascending VA order or overlap at ${hex16(m.va)}`);
    }
    if (a !== cursor) yield* event(cursor, 0);
    yield* event(a, memProt(m));
    cursor = a + BigInt(m.size);
  }
  const top = 1n << addressBits(la57);
  if (cursor !== top) yield* event(cursor, 0); // the unmapped rest closes the last range
  yield* event(top, 0); // QEMU's final flush: closes a range that reaches the very top
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
