// The paging calls' argument checks, over the common ones of src/util/validate.ts
// (re-exported: a paging call needs one import).
import type { PagingFormat } from './format.js';
import type { PagingOptions } from './prepare.js';
import type { FrameAllocator } from './allocator.js';
import { x86_64, x86_64_la57 } from './formats/x86.js';
import { x86_pae, x86_32 } from './formats/x86-legacy.js';
import { aarch64_4k, aarch64_16k, aarch64_64k } from './formats/aarch64.js';
import { fail, flag, oneOf, options, u64, wholeNumber } from '../util/validate.js';

export * from '../util/validate.js';

/** The paging formats by name. */
export const FORMATS: Readonly<Record<string, PagingFormat>> = Object.freeze({
  x86_64, x86_64_la57, x86_pae, x86_32, aarch64_4k, aarch64_16k, aarch64_64k,
});

/** A paging format given as the object (`x86_64`) or by name (`'x86_64'`); default x86_64. */
export function pagingFormat(v: unknown, what = 'format'): PagingFormat {
  if (v === undefined) return x86_64;
  if (typeof v === 'string') return oneOf(FORMATS, v, what);
  const f = v as Partial<PagingFormat> | null;
  if (f === null || typeof f !== 'object' || typeof f.name !== 'string' || typeof f.params !== 'function' || typeof f.leafBits !== 'function') {
    fail(what, v, `is not a paging format (pass one of the exported formats, or its name: ${Object.keys(FORMATS).join(', ')})`);
  }
  return f as PagingFormat;
}

const WALK_FLAGS = ['user', 'nxe', 'wp', 'smep', 'smap', 'ignoreReserved', 'hardwareAccessFlag'] as const;

/**
 * The walk options of a paging call, checked and copied: the format resolved to
 * its object, and only the walk's own fields kept (other fields of the caller's
 * object are the operation's to check).
 */
export function pagingOptions(v: unknown, what = 'options'): PagingOptions {
  const o = options<PagingOptions & Record<string, unknown>>(v, what);
  const out: Record<string, unknown> = { format: pagingFormat(o.format, `${what}.format`) };
  for (const k of WALK_FLAGS) if (o[k] !== undefined) out[k] = flag(o[k], `${what}.${k}`);
  if (o.maxPhyAddr !== undefined) out.maxPhyAddr = wholeNumber(o.maxPhyAddr, `${what}.maxPhyAddr`, 0, 64);
  if (o.access !== undefined) {
    if (o.access !== 'read' && o.access !== 'write' && o.access !== 'execute') fail(`${what}.access`, o.access, 'is not one of read, write, execute');
    out.access = o.access;
  }
  return out as PagingOptions;
}

/** Addresses for a batch: a BigUint64Array as is, or an array of bigints each in [0, 2^64). */
export function addressList(v: unknown, what: string): BigUint64Array {
  if (v instanceof BigUint64Array) return v;
  if (!Array.isArray(v)) fail(what, v, 'must be a BigUint64Array or an array of bigints');
  const out = new BigUint64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = u64(v[i], `${what}[${i}]`);
  return out;
}

/** A frame allocator: an object with an `allocate` function (and an optional `free`). */
export function frameAllocator(v: unknown, what = 'allocator'): FrameAllocator {
  const a = v as Partial<FrameAllocator> | null;
  if (a === null || typeof a !== 'object' || typeof a.allocate !== 'function') fail(what, v, 'is not a frame allocator (an object with allocate(frames))');
  if (a.free !== undefined && typeof a.free !== 'function') fail(`${what}.free`, a.free, 'must be a function');
  return a as FrameAllocator;
}

