/**
 * Linux x86's boot_params ("zero page", xen-mm.md §6): the 4 KiB structure a
 * boot loader or hypervisor hands the kernel. The engine reads the fields that
 * say which platform booted the kernel and what the physical memory map is:
 *
 *   0x1E8  u8   e820_entries
 *   0x23C  u32  hardware_subarch   (0 PC, 1 lguest, 2 Xen, 3 Intel MID, 4 CE4100)
 *   0x240  u64  hardware_subarch_data
 *   0x2D0  e820_table: up to 128 entries of 20 bytes { u64 addr, u64 size, u32 type }
 *
 * and turns the e820 map into RAM banks and reserved regions for setupDirectMap.
 */
import * as V from '../util/validate.js';
import type { Engine } from '../engine/engine.js';
import type { MemRange, ReservedRange } from './direct-map.js';
import { InvalidInputError, MalformedFileError } from '../errors.js';
import { hex } from '../util/numbers.js';

export const BOOT_PARAMS_BYTES = 4096;
export const BP_E820_ENTRIES = 0x1e8;
export const BP_HARDWARE_SUBARCH = 0x23c;
export const BP_HARDWARE_SUBARCH_DATA = 0x240;
export const BP_E820_TABLE = 0x2d0;
export const E820_ENTRY_BYTES = 20;
/** Slots of the zero page's e820 table (E820_MAX_ENTRIES_ZEROPAGE). */
export const E820_MAX_ENTRIES = 128;

const SUBARCHES = ['PC', 'lguest', 'Xen', 'Intel MID', 'CE4100'] as const;

/** The name of a hardware_subarch value, or `unknown (n)`. */
export function subarchName(value: number): string {
  return SUBARCHES[value] ?? `unknown (${value})`;
}

const E820_TYPES: Record<number, string> = {
  1: 'RAM',
  2: 'reserved',
  3: 'ACPI',
  4: 'NVS',
  5: 'unusable',
  7: 'persistent memory',
  12: 'persistent memory (legacy)',
};

export function e820TypeName(type: number): string {
  return E820_TYPES[type] ?? `type ${type}`;
}

export interface E820Entry {
  readonly addr: bigint;
  readonly size: bigint;
  readonly type: number;
  readonly typeName: string;
}

export interface BootParams {
  readonly hardwareSubarch: number;
  readonly hardwareSubarchName: string;
  readonly hardwareSubarchData: bigint;
  readonly e820: E820Entry[];
}

/** Parse a zero page. `where` names it in messages (a file and offset, an address...). */
export function parseBootParams(bytes: Uint8Array, where = 'boot_params'): BootParams {
  V.byteArray(bytes, 'boot_params');
  if (typeof where !== 'string') V.pathText(where, 'where');
  if (bytes.length < BOOT_PARAMS_BYTES) {
    throw new MalformedFileError(`${where}: boot_params is ${BOOT_PARAMS_BYTES} bytes, only ${bytes.length} were given`, { offset: bytes.length });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, BOOT_PARAMS_BYTES);
  const n = v.getUint8(BP_E820_ENTRIES);
  if (n > E820_MAX_ENTRIES) {
    throw new MalformedFileError(
      `${where}: e820_entries (offset ${hex(BP_E820_ENTRIES)}) is ${n}, more than the ${E820_MAX_ENTRIES} slots of the zero page's e820 table`,
      { offset: BP_E820_ENTRIES, value: n },
    );
  }
  const e820: E820Entry[] = [];
  for (let i = 0; i < n; i++) {
    const o = BP_E820_TABLE + i * E820_ENTRY_BYTES;
    const type = v.getUint32(o + 16, true);
    e820.push({ addr: v.getBigUint64(o, true), size: v.getBigUint64(o + 8, true), type, typeName: e820TypeName(type) });
  }
  const sub = v.getUint32(BP_HARDWARE_SUBARCH, true);
  return {
    hardwareSubarch: sub,
    hardwareSubarchName: subarchName(sub),
    hardwareSubarchData: v.getBigUint64(BP_HARDWARE_SUBARCH_DATA, true),
    e820,
  };
}

/** Read and parse the zero page at physical address `pa` of the engine's RAM image. */
export function readBootParams(engine: Engine, pa: bigint): BootParams {
  return parseBootParams(engine.phys.read(pa, BOOT_PARAMS_BYTES), `boot_params at ${hex(pa)}`);
}

/** Fields to put in a zero page (everything else zero). */
export interface BootParamsFields {
  readonly hardwareSubarch?: number;
  readonly hardwareSubarchData?: bigint;
  readonly e820?: ReadonlyArray<{ addr: bigint; size: bigint; type: number }>;
  /** Store this e820_entries value instead of the table's length (to make malformed pages). */
  readonly e820Entries?: number;
}

/** Build a zero page: for tests, and for users who make boot images. */
export function buildBootParams(f: BootParamsFields): Uint8Array {
  const bytes = new Uint8Array(BOOT_PARAMS_BYTES);
  const v = new DataView(bytes.buffer);
  const table = f.e820 ?? [];
  if (table.length > E820_MAX_ENTRIES) throw new RangeError(`buildBootParams: ${table.length} e820 entries do not fit the ${E820_MAX_ENTRIES} slots`);
  v.setUint8(BP_E820_ENTRIES, f.e820Entries ?? table.length);
  v.setUint32(BP_HARDWARE_SUBARCH, f.hardwareSubarch ?? 0, true);
  v.setBigUint64(BP_HARDWARE_SUBARCH_DATA, f.hardwareSubarchData ?? 0n, true);
  table.forEach((e, i) => {
    const o = BP_E820_TABLE + i * E820_ENTRY_BYTES;
    v.setBigUint64(o, e.addr, true);
    v.setBigUint64(o + 8, e.size, true);
    v.setUint32(o + 16, e.type, true);
  });
  return bytes;
}

/**
 * The e820 map as the direct map's input: RAM entries (type 1) become banks,
 * shrunk to whole pages and merged when they touch or overlap; every other entry
 * becomes a reserved region marked no-map (the kernel's direct map covers RAM
 * only; where firmware lists a range as both, the reservation wins).
 */
export function e820ToBanks(e820: readonly E820Entry[]): { banks: MemRange[]; reserved: ReservedRange[] } {
  if (!Array.isArray(e820)) throw new InvalidInputError(`e820: ${V.describe(e820)} must be an array of entries`, { input: 'e820' });
  e820.forEach((e: unknown, i) => {
    const x = V.options<E820Entry>(e, `e820[${i}]`);
    V.u64(x.addr, `e820[${i}].addr`);
    V.u64(x.size, `e820[${i}].size`);
    V.u32(x.type, `e820[${i}].type`);
  });
  const page = 4096n;
  const ram = e820
    .filter((e) => e.type === 1 && e.size > 0n)
    .map((e) => ({ start: ((e.addr + page - 1n) / page) * page, end: ((e.addr + e.size) / page) * page }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Array<{ start: bigint; end: bigint }> = [];
  for (const r of ram) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = r.end > last.end ? r.end : last.end;
    else merged.push({ ...r });
  }
  return {
    banks: merged.map((r) => ({ start: r.start, size: r.end - r.start })),
    reserved: e820
      .filter((e) => e.type !== 1 && e.size > 0n)
      .map((e) => ({ start: e.addr, size: e.size, noMap: true, name: `e820 ${e.typeName}` })),
  };
}
