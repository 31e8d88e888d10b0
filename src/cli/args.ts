import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';
import { notTheDump } from '../util/validate.js';
import { hex, parseAddress, parseNumber, parseSize, quote } from '../util/numbers.js';
import { note } from './output.js';

/**
 * The CLI's option values, read by the one number grammar of util/numbers.ts.
 * Each names the option as the user typed it in its error.
 */

/**
 * An address: 0x hex or decimal. A long bare decimal is what someone who copied a
 * hex value without its 0x would type, so it gets a note with the value it was read
 * as (once per option).
 */
export function address(text: string, option: string, bits = 64): bigint {
  const v = parseAddress(text, option, bits);
  if (/^[1-9][0-9]{5,}$/.test(text)) {
    note(`${option} ${text} is read as decimal (${hex(v)}); for hex write 0x${text}`, option);
  }
  return v;
}

/** A size in bytes, with an optional K/M/G/T suffix. */
export function size(text: string, option: string, bits = 64): bigint {
  return parseSize(text, option, bits);
}

/** A whole number from `min` to `max`, without suffix. */
export function integer(text: string, option: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseNumber(text, option, 'count');
  if (v < BigInt(min) || v > BigInt(max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidInputError(`${option}: ${quote(text)} must be ${range}`, { input: option, value: text });
  }
  return Number(v);
}

/** Pick one of `allowed`, or fail naming the option and the choices. */
export function choice<T extends string>(value: string, option: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidInputError(`${option}: ${quote(value)} is not one of ${allowed.join(', ')}`, { input: option, value });
}

/** A 0/1 switch. */
export function bit(value: string, option: string): boolean {
  if (value === '0' || value === '1') return value === '1';
  throw new InvalidInputError(`${option}: ${quote(value)} must be 0 or 1`, { input: option, value });
}

/** A file to read: it must exist and be a regular file (or a block device, for raw images). */
export function inputFile(path: string, option: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : String(code);
    throw new InvalidInputError(`${option}: ${quote(path)}: ${why}`, { input: option, value: path });
  }
  if (st.isDirectory()) throw new InvalidInputError(`${option}: ${quote(path)} is a directory, not a file`, { input: option, value: path });
  if (!st.isFile() && !st.isBlockDevice()) throw new InvalidInputError(`${option}: ${quote(path)} is not a regular file`, { input: option, value: path });
  return path;
}

/**
 * Write `bytes` to the file an option names, whole or not at all (a temporary file
 * beside it, renamed over it), and never onto one of the command's inputs: a dump
 * is only read, and `--out` naming it (or a link to it) would destroy it.
 */
export function writeOutputFile(path: string, option: string, bytes: Uint8Array, inputs: readonly string[]): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined; // a new file
  }
  if (st?.isDirectory()) throw new InvalidInputError(`${option}: ${quote(path)} is a directory, not a file`, { input: option, value: path });
  for (const input of inputs) notTheDump(path, input, option);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidInputError(`${option}: ${quote(path)} cannot be written: ${code ?? String(e)}`, { input: option, value: path });
  }
}
