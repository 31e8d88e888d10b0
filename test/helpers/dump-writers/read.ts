/** Small helpers for the dump tests: read a frame, check a one-line MalformedFileError. */
import { expect } from 'vitest';
import { MalformedFileError } from '../../../src/errors.js';
import type { PhysicalSource } from '../../../src/memory/source.js';
import { FrameState } from '../../../src/memory/source.js';

export function frame(src: PhysicalSource, pfn: number): { state: FrameState; bytes: Uint8Array } {
  const out = new Uint8Array(4096).fill(0xee);
  const state = src.readFrame(pfn, out);
  return { state, bytes: out };
}

export function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export const ZERO = new Uint8Array(4096);

/** `fn` throws a one-line MalformedFileError naming `file`, matching `structure`, at `offset`. */
export function expectMalformed(fn: () => unknown, file: string, structure: RegExp, offset?: number | bigint): MalformedFileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a MalformedFileError').toBeInstanceOf(MalformedFileError);
  const err = caught as MalformedFileError;
  expect(err.message).not.toContain('\n');
  expect(err.message.startsWith(`${file}: `), err.message).toBe(true);
  expect(err.message).toMatch(structure);
  if (offset !== undefined) expect(err.details['offset'], err.message).toBe(BigInt(offset));
  return err;
}
