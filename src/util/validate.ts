// The public surface's argument checks (this file, and src/paging/arguments.ts for
// the paging calls' own: formats, walk options, address lists, allocators): the engine, the physical
// memory, the Xen and frame models and the CLI call these before anything reaches
// a kernel, so the kernels can assume valid input and every refusal is a typed
// error naming the argument as the caller wrote it. Messages never serialise the
// value (a bigint has no JSON form); `describe` says what it is in a few words.
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { parseSize, quote } from './numbers.js';

const TWO_64 = 1n << 64n;

/** A value in a few words for a one-line message: its type and, for scalars, its value. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'bigint':
      return `${v}n`;
    case 'number':
      return `the number ${v}`;
    case 'string':
      return quote(v);
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length}`;
      return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  }
}

export function fail(what: string, value: unknown, rule: string): never {
  throw new InvalidInputError(`${what}: ${describe(value)} ${rule}`, { input: what });
}

/** A 64-bit unsigned value given as a bigint in [0, 2^64): roots, addresses, sizes. Never wrapped. */
export function u64(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) fail(what, v, `is a number; pass a bigint (${v}n)`);
  if (typeof v !== 'bigint') fail(what, v, 'is not a bigint');
  if (v < 0n || v >= TWO_64) fail(what, v, 'is outside [0, 2^64)');
  return v;
}

/** A whole number in [min, max] given as a number (counts, pages, frame numbers). */
export function wholeNumber(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(what, v, `must be a whole number from ${min} to ${max}`);
  }
  return v;
}

/** A byte count given as a number, a bigint or a size string ('512M'); a safe integer >= 0. */
export function byteCount(v: unknown, what: string): number {
  let b: bigint;
  if (typeof v === 'string') b = parseSize(v, what);
  else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else fail(what, v, 'must be a whole number of bytes (a number, a bigint or a size such as \'512M\')');
  if (b < 0n || b > BigInt(Number.MAX_SAFE_INTEGER)) fail(what, v, `must be from 0 to ${Number.MAX_SAFE_INTEGER} bytes`);
  return Number(b);
}

/** A physical address or offset given as a number or a bigint, as a safe integer >= 0. */
export function offset(v: unknown, what: string): number {
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(what, v, `is outside [0, 2^53)`);
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(what, v, 'must be a whole number >= 0 (a number or a bigint)');
  return v;
}

/** An optional boolean. */
export function flag(v: unknown, what: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') fail(what, v, 'must be true or false');
  return v;
}

/** An options object: undefined is {}; null, arrays and scalars are refused. */
export function options<T extends object>(v: unknown, what = 'options'): Partial<T> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(what, v, 'must be an object');
  return v as Partial<T>;
}

/** `v` as one of the keys of `table` (own keys only: 'constructor' is no key). */
export function oneOf<T>(table: Readonly<Record<string, T>>, v: unknown, what: string): T {
  if (typeof v !== 'string' || !Object.prototype.hasOwnProperty.call(table, v)) {
    fail(what, v, `is not one of ${Object.keys(table).join(', ')}`);
  }
  return table[v]!;
}

/** Bytes: a Uint8Array (a Buffer is one). */
export function byteArray(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(what, v, 'must be a Uint8Array');
  return v;
}

/** A 32-bit value given as a number: unsigned, or signed as JS bit operators give it; returned unsigned. */
export function u32(v: unknown, what: string): number {
  return wholeNumber(v, what, -0x80000000, 0xffffffff) >>> 0;
}

/** A path given as a non-empty string. */
export function pathText(v: unknown, what = 'path'): string {
  if (typeof v !== 'string' || v.length === 0) fail(what, v, 'must be a non-empty path string');
  return v;
}

function fileRefusal(path: string, what: string, err: unknown, isDir: boolean): never {
  if (isDir) throw new InvalidInputError(`${what}: ${quote(path)} is a directory, not a file`, { input: what, file: path });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${what}: ${quote(path)} does not exist`, { input: what, file: path });
  throw new InvalidInputError(`${what}: ${quote(path)} cannot be read (${code ?? 'error'})`, { input: what, file: path });
}

/** An existing regular file (or device); a missing path is a NotFoundError, a directory an InvalidInputError. */
export function existingFileSync(v: unknown, what = 'path'): string {
  const path = pathText(v, what);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    fileRefusal(path, what, err, false);
  }
  if (isDir) fileRefusal(path, what, undefined, true);
  return path;
}

export async function existingFile(v: unknown, what = 'path'): Promise<string> {
  const path = pathText(v, what);
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    fileRefusal(path, what, err, false);
  }
  if (isDir) fileRefusal(path, what, undefined, true);
  return path;
}

/** A path a file can be written to: not a directory, in a directory that exists. */
export async function writablePath(v: unknown, what = 'path', notOnto?: string): Promise<string> {
  const path = pathText(v, what);
  try {
    if ((await stat(path)).isDirectory()) fileRefusal(path, what, undefined, true);
    if (notOnto !== undefined) notTheDump(path, notOnto, what);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') fileRefusal(path, what, err, false);
    // ENOENT: the file is made by the write; a missing directory fails there, mapped below.
  }
  return path;
}

/**
 * Refuse to write `path` when it is the dump `dump` under any of its names (the same
 * path, a symbolic or a hard link: the same device and inode): a dump is only read.
 */
export function notTheDump(path: string, dump: string, what: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  const of = statSync(dump, { throwIfNoEntry: false });
  if (st && of && st.dev === of.dev && st.ino === of.ino) {
    throw new InvalidInputError(`${what}: ${quote(path)} is the dump ${quote(dump)} being read; a dump is never written to`, { input: what, file: path });
  }
}

/** Map an fs error of an open/read/write on `path` to a typed error. */
export function fileError(err: unknown, path: string, what = 'path'): never {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EISDIR') fileRefusal(path, what, err, true);
  if (code === 'ENOENT' || code === 'ENOTDIR') fileRefusal(path, what, err, false);
  if (typeof code === 'string') throw new InvalidInputError(`${what}: ${quote(path)}: ${code}`, { input: what, file: path });
  throw err;
}
