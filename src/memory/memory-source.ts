/**
 * A source over bytes already in memory: physical address = offset into `bytes`.
 * What a browser page or a test hands the engine when it has the whole image; a
 * resident engine (createEngine({ ramBytes })) is the same idea with the bytes
 * inside the engine's own memory.
 */
import { InvalidInputError } from '../errors.js';
import { hex } from '../util/numbers.js';
import * as V from '../util/validate.js';
import { FRAME_SIZE, FrameState, type PhysicalSource, type PhysRange } from './source.js';

export function memorySource(bytes: Uint8Array, name = 'memory', ranges?: readonly PhysRange[]): PhysicalSource {
  V.byteArray(bytes, 'bytes');
  if (typeof name !== 'string') V.fail('name', name, 'must be a string');
  const end = BigInt(Math.ceil(bytes.length / FRAME_SIZE) * FRAME_SIZE);
  const have = ranges === undefined ? (end > 0n ? [{ start: 0n, end }] : []) : physRanges(ranges, 'ranges');
  const holds = (pfn: number) => {
    const pa = BigInt(pfn) * BigInt(FRAME_SIZE);
    return have.some((r) => pa >= r.start && pa < r.end);
  };
  return {
    description: { format: 'memory', name, vcpus: [] },
    ranges: have,
    end: have.length ? have[have.length - 1]!.end : 0n,
    readFrame(pfn, out) {
      const at = pfn * FRAME_SIZE;
      if (!holds(pfn) || at >= bytes.length) {
        out.fill(0, 0, FRAME_SIZE);
        return FrameState.Absent;
      }
      const part = bytes.subarray(at, at + FRAME_SIZE);
      out.set(part);
      if (part.length < FRAME_SIZE) out.fill(0, part.length, FRAME_SIZE);
      return FrameState.Present;
    },
    close() {},
  };
}

/** Ranges as a source lists them: frame-aligned [start, end) bigints, ascending, apart, below 2^52. */
function physRanges(v: unknown, what: string): PhysRange[] {
  if (!Array.isArray(v)) V.fail(what, v, 'must be an array of { start, end }');
  let last = 0n;
  return v.map((r: Partial<PhysRange> | null, i) => {
    if (r === null || typeof r !== 'object') V.fail(`${what}[${i}]`, r, 'must be an object { start, end }');
    const start = V.u64(r.start, `${what}[${i}].start`), end = V.u64(r.end, `${what}[${i}].end`);
    if (start % 4096n || end % 4096n || start >= end || start < last || end > 1n << 52n) {
      const text = `[${hex(start)}, ${hex(end)})`;
      throw new InvalidInputError(`${what}[${i}]: ${text} must be frame-aligned, non-empty, above the range before it and below 2^52`, { input: `${what}[${i}]` });
    }
    last = end;
    return { start, end };
  });
}
