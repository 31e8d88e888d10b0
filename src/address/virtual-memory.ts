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
  /**
   * Read into this buffer (at least `len` bytes) instead of a new one, so a
   * caller reading much memory reuses one: `bytes` is then a view of it.
   */
  readonly into?: Uint8Array;
}

/**
 * Bytes that cannot be read or written: either the walk faulted (`fault`, as
 * `translate` reports it) or it succeeded and physical memory has no contents at
 * `pa` (beyond the RAM image, in no range of the dump, or `excluded`).
 */
export interface Hole {
  readonly va: bigint;
  readonly length: number;
  readonly fault?: Fault;
  readonly pa?: bigint;
  /**
   * The frames are in the machine's RAM but the dump left them out (pages
   * makedumpfile excluded, not in a kdump's dumpable bitmap). QEMU reads them as
   * zero, and so do translations and listings; a read names them.
   */
  readonly excluded?: boolean;
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

function intoBuffer(into: Uint8Array | undefined, len: number, what: string): Uint8Array {
  if (into === undefined) return new Uint8Array(len);
  if (!(into instanceof Uint8Array) || into.length < len) {
    throw new InvalidInputError(`${what}: options.into must be a Uint8Array of at least ${len} bytes`, { input: 'options.into' });
  }
  return into.subarray(0, len);
}

/**
 * Copy physical [pa, pa+len) into `out` at `at`, straight from the RAM image or
 * the frame cache, up to the first byte physical memory has no contents for.
 * Returns the bytes copied and, when it stopped short, whether the frame it
 * stopped at is one the dump left out.
 */
function copyPhysical(engine: Engine, mem: Uint8Array, pa: bigint, out: Uint8Array, at: number, len: number): { n: number; excluded: boolean } {
  const cache = engine.backing?.cache;
  if (!cache) return { n: engine.phys.readInto(pa, out, at, len), excluded: false };
  if (pa >= BigInt(engine.phys.size)) return { n: 0, excluded: false };
  const p = Number(pa);
  const n = Math.min(len, engine.phys.size - p);
  // Frames in adjacent slots (faulted in one after another) are copied as one piece.
  // A miss may evict a slot of the piece not yet copied: copy it before faulting.
  let from = 0, to = 0, dst = at;
  const flush = () => {
    if (to > from) out.set(mem.subarray(from, to), dst);
    from = to = 0;
  };
  for (let done = 0; done < n; ) {
    const a = p + done;
    const off = a % 4096;
    const k = Math.min(n - done, 4096 - off);
    const pfn = Math.floor(a / 4096);
    let slot = cache.peek(pfn);
    if (slot === 0) {
      flush();
      slot = cache.fetch(pfn, false);
    }
    if (slot === 0 || cache.excluded(slot)) {
      flush();
      return { n: done, excluded: slot !== 0 };
    }
    if (slot + off === to) to += k;
    else {
      flush();
      [from, to, dst] = [slot + off, slot + off + k, at + done];
    }
    done += k;
  }
  flush();
  return { n, excluded: false };
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
  const { partial = false, into, ...walk } = options;
  const out = intoBuffer(into, len, 'readVirtual');
  const mem = new Uint8Array(engine.memory.buffer);
  const holes: Hole[] = [];
  const hole = (h: Hole) => {
    if (into) out.fill(0, Number(h.va - start), Number(h.va - start) + h.length);
    const last = holes.at(-1);
    // A hole that goes on where the last one ended, for the same reason, is one hole.
    if (last && last.va + BigInt(last.length) === h.va && last.fault?.kind === h.fault?.kind && (last.pa === undefined) === (h.pa === undefined) && (h.pa === undefined || last.pa! + BigInt(last.length) === h.pa) && last.excluded === h.excluded) {
      holes[holes.length - 1] = { ...last, length: last.length + h.length };
    } else holes.push(h);
  };
  for (const piece of pieces(engine, root, start, len, { ...walk, access: 'read' })) {
    const at = start + BigInt(piece.offset);
    if (piece.fault) hole({ va: at, length: piece.length, fault: piece.fault });
    else {
      // One copy for the whole run; where physical memory has no contents, go on frame by frame to find where it resumes.
      for (let k = 0; k < piece.length; ) {
        const pa = piece.pa! + BigInt(k);
        const { n, excluded } = copyPhysical(engine, mem, pa, out, piece.offset + k, piece.length - k);
        k += n;
        if (k === piece.length) break;
        const step = Math.min(piece.length - k, 4096 - Number((pa + BigInt(n)) % 4096n));
        hole({ va: at + BigInt(k), length: step, pa: pa + BigInt(n), ...(excluded ? { excluded } : {}) });
        k += step;
      }
    }
    if (!partial && holes.length) {
      const h = holes[0]!;
      const end = Number(h.va - start);
      return { complete: false, bytes: into ? out.subarray(0, end) : out.slice(0, end), holes: [h] };
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
export function readPhysical(engine: Engine, pa: bigint, len: number, options: { partial?: boolean; into?: Uint8Array } = {}): VirtualRead {
  const start = checkSpan(pa, len, 'readPhysical');
  const out = intoBuffer(options.into, len, 'readPhysical');
  const mem = new Uint8Array(engine.memory.buffer);
  const holes: Hole[] = [];
  let k = 0;
  while (k < len) {
    const { n, excluded } = copyPhysical(engine, mem, start + BigInt(k), out, k, len - k);
    k += n;
    if (k === len) break;
    const va = start + BigInt(k);
    const step = Math.min(len - k, 4096 - Number(va % 4096n));
    if (options.into) out.fill(0, k, k + step);
    const last = holes.at(-1);
    if (last && last.va + BigInt(last.length) === va && last.excluded === (excluded || undefined)) holes[holes.length - 1] = { ...last, length: last.length + step };
    else holes.push({ va, length: step, pa: va, ...(excluded ? { excluded } : {}) });
    if (!options.partial) return { complete: false, bytes: options.into ? out.subarray(0, k) : out.slice(0, k), holes: [holes[0]!] };
    k += step;
  }
  return { complete: holes.length === 0, bytes: out, holes };
}
