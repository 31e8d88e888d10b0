/**
 * A source over bytes already in memory: physical address = offset into `bytes`.
 * What a browser page or a test hands the engine when it has the whole image; a
 * resident engine (createEngine({ ramBytes })) is the same idea with the bytes
 * inside the engine's own memory.
 */
import { InvalidInputError } from '../errors.js';
import { FRAME_SIZE, FrameState, type PhysicalSource, type PhysRange } from './source.js';

export function memorySource(bytes: Uint8Array, name = 'memory', ranges?: readonly PhysRange[]): PhysicalSource {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError(`${name}: bytes must be a Uint8Array`, { input: 'bytes' });
  const end = BigInt(Math.ceil(bytes.length / FRAME_SIZE) * FRAME_SIZE);
  const have = ranges ?? (end > 0n ? [{ start: 0n, end }] : []);
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
