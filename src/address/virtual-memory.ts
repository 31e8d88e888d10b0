// Reading and writing memory by virtual address through a root table: one walk
// per run of pages (translateRuns), bytes copied straight from the RAM image or
// the frame cache. What cannot be read is named, never filled in.
import type { Engine, PagingOptions } from '../engine/engine.js';
import type { Fault } from '../paging/types.js';
import { InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';

/** The longest single read or write (a Uint8Array of this is always allocatable). */
export const MAX_VIRTUAL_BYTES = 2 ** 31;

export interface VirtualAccessOptions extends PagingOptions {
  /**
   * Read what is readable and list the holes (default false: stop at the first
   * unreadable byte). The bytes of a hole are left zero in `bytes`.
   */
  readonly partial?: boolean;
}

/**
 * Bytes that cannot be read or written: either the walk faulted (`fault`, as
 * `translate` reports it) or it succeeded and physical memory has no contents at
 * `pa` (beyond the RAM image, or in no range of the dump).
 */
export interface Hole {
  readonly va: bigint;
  readonly length: number;
  readonly fault?: Fault;
  readonly pa?: bigint;
}

export interface VirtualRead {
  /** Every byte was read. */
  readonly complete: boolean;
  /**
   * Without `partial`: the readable prefix (up to the first unreadable byte).
   * With `partial`: all `len` bytes, holes zero (see `holes`).
   */
  readonly bytes: Uint8Array;
  /** The unreadable ranges in address order: at most one (the first) without `partial`. */
  readonly holes: readonly Hole[];
}

export interface VirtualWrite {
  /** Bytes written: all of them, or none when any page faults (nothing is written then). */
  readonly written: number;
  /** The first unwritable range, when there is one. */
  readonly hole?: Hole;
}

/** One stretch of [va, va+len): readable at `pa`, or a hole. */
interface Piece {
  readonly offset: number;
  readonly length: number;
  readonly pa?: bigint;
  readonly fault?: Fault;
}

function checkSpan(va: bigint, len: number, what: string): bigint {
  if (!Number.isSafeInteger(len) || len < 0 || len > MAX_VIRTUAL_BYTES) {
    throw new InvalidInputError(`${what}: length ${len} must be a whole number from 0 to ${MAX_VIRTUAL_BYTES}`, { input: 'length', value: len });
  }
  const start = BigInt.asUintN(64, va);
  if (start + BigInt(len) > 1n << 64n) {
    throw new InvalidInputError(`${what}: [${hex(start)}, +${hex(len)}) runs past the top of the 64-bit address space`, { input: 'va', va: start });
  }
  return start;
}

/** [va, va+len) as pieces, one walk per run of pages of the same status. */
function* pieces(engine: Engine, root: bigint, va: bigint, len: number, options: PagingOptions & { access?: 'read' | 'write' }): Generator<Piece> {
  if (len === 0) return;
  const p = engine.prepare(options);
  const page = BigInt(2 ** p.levels[p.levels.length - 1]!.shift);
  const first = va & ~(page - 1n);
  const pages = Number((va + BigInt(len) - 1n - first) / page) + 1;
  const runs = engine.translateRuns(root, va, pages, options);
  for (let i = 0; i < runs.length; i++) {
    const run = runs.get(i);
    // The run's bytes that fall inside [va, va+len).
    const lo = run.va > va ? run.va : va;
    const runEnd = BigInt.asUintN(64, run.va) + BigInt(run.pages) * page;
    const hi = runEnd < va + BigInt(len) ? runEnd : va + BigInt(len);
    if (hi <= lo) continue;
    const offset = Number(lo - va), length = Number(hi - lo);
    if (run.result.ok) yield { offset, length, pa: run.pa + (lo - run.va) };
    else yield { offset, length, fault: { ...run.result.fault, entryAddress: runs.addrOf(i, Number((lo - run.va) / page)) } };
  }
}

/**
 * Read `len` bytes at virtual `va` through `root`. Without `partial` the read
 * stops at the first byte that cannot be read, and `holes[0]` says where and why;
 * with it, every readable byte is read and each hole listed.
 */
export function readVirtual(engine: Engine, root: bigint, va: bigint, len: number, options: VirtualAccessOptions = {}): VirtualRead {
  const start = checkSpan(va, len, 'readVirtual');
  const { partial = false, ...walk } = options;
  const out = new Uint8Array(len);
  const holes: Hole[] = [];
  const hole = (h: Hole) => {
    const last = holes.at(-1);
    // A hole that goes on where the last one ended, for the same reason, is one hole.
    if (last && last.va + BigInt(last.length) === h.va && last.fault?.kind === h.fault?.kind && (last.pa === undefined) === (h.pa === undefined) && (h.pa === undefined || last.pa! + BigInt(last.length) === h.pa)) {
      holes[holes.length - 1] = { ...last, length: last.length + h.length };
    } else holes.push(h);
  };
  for (const piece of pieces(engine, root, start, len, { ...walk, access: 'read' })) {
    const at = start + BigInt(piece.offset);
    if (piece.fault) hole({ va: at, length: piece.length, fault: piece.fault });
    else {
      const got = engine.phys.readInto(piece.pa!, out, piece.offset, piece.length);
      // Physical memory has no contents from pa+got on: go on frame by frame to find where it resumes.
      for (let k = got; k < piece.length; ) {
        const pa = piece.pa! + BigInt(k);
        const step = Math.min(piece.length - k, 4096 - Number(pa % 4096n));
        const n = engine.phys.readInto(pa, out, piece.offset + k, step);
        if (n < step) hole({ va: at + BigInt(k + n), length: step - n, pa: pa + BigInt(n) });
        k += step;
      }
    }
    if (!partial && holes.length) {
      const h = holes[0]!;
      return { complete: false, bytes: out.slice(0, Number(h.va - start)), holes: [h] };
    }
  }
  return { complete: holes.length === 0, bytes: out, holes };
}

/**
 * Write `bytes` at virtual `va` through `root` with write access checked as the
 * walk options say. Nothing is written when any byte cannot be: `hole` names the
 * first. On an engine over a dump the write lands in the engine's private copy.
 */
export function writeVirtual(engine: Engine, root: bigint, va: bigint, bytes: Uint8Array, options: PagingOptions = {}): VirtualWrite {
  const start = checkSpan(va, bytes.length, 'writeVirtual');
  const list = [...pieces(engine, root, start, bytes.length, { ...options, access: 'write' })];
  for (const piece of list) {
    const at = start + BigInt(piece.offset);
    if (piece.fault) return { written: 0, hole: { va: at, length: piece.length, fault: piece.fault } };
    const end = piece.pa! + BigInt(piece.length);
    if (end > BigInt(engine.phys.size) && !engine.source) {
      const from = piece.pa! > BigInt(engine.phys.size) ? piece.pa! : BigInt(engine.phys.size);
      return { written: 0, hole: { va: at + (from - piece.pa!), length: Number(end - from), pa: from } };
    }
  }
  for (const piece of list) engine.phys.write(piece.pa!, bytes.subarray(piece.offset, piece.offset + piece.length));
  return { written: bytes.length };
}

/**
 * Read physical [pa, pa+len): the same answer as readVirtual for physical memory
 * (holes are ranges with no contents).
 */
export function readPhysical(engine: Engine, pa: bigint, len: number, options: { partial?: boolean } = {}): VirtualRead {
  const start = checkSpan(pa, len, 'readPhysical');
  const out = new Uint8Array(len);
  const holes: Hole[] = [];
  let k = 0;
  while (k < len) {
    const step = Math.min(len - k, 4096 - Number((start + BigInt(k)) % 4096n));
    const n = engine.phys.readInto(start + BigInt(k), out, k, step);
    if (n < step) {
      const last = holes.at(-1);
      const va = start + BigInt(k + n);
      if (last && last.va + BigInt(last.length) === va) holes[holes.length - 1] = { ...last, length: last.length + step - n };
      else holes.push({ va, length: step - n, pa: va });
      if (!options.partial) return { complete: false, bytes: out.slice(0, k + n), holes: [holes[0]!] };
    }
    k += step;
  }
  return { complete: holes.length === 0, bytes: out, holes };
}
