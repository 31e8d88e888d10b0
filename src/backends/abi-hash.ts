// The fingerprint of the ABI: a hash of every name=value pair of src/abi.ts. The
// build compiles it into each kernel module (scripts/build-wasm.mjs, which runs
// this same function over the same file); the loader computes it again from the
// abi module it imports and refuses a module whose fingerprint differs.
import { sha256 } from '../util/sha256.js';

/** 32-bit hash of the numeric exports of an abi module, independent of their order. */
export function abiHash(values: Readonly<Record<string, unknown>>): number {
  const text = Object.keys(values)
    .filter((k) => typeof values[k] === 'number')
    .sort()
    .map((k) => `${k}=${values[k] as number}`)
    .join('\n');
  const digest = sha256(new TextEncoder().encode(text));
  return new DataView(digest.buffer).getUint32(0, true);
}

export const hashHex = (h: number): string => `0x${(h >>> 0).toString(16).padStart(8, '0')}`;
