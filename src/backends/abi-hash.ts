// The fingerprint of the ABI: a hash of every name=value pair of src/abi.ts. The
// build compiles it into each kernel module (scripts/build-wasm.mjs, which runs
// this same function over the same file); the loader computes it again from the
// abi module it imports and refuses a module whose fingerprint differs.

/** 32-bit hash of the numeric exports of an abi module, independent of their order. */
export function abiHash(values: Readonly<Record<string, unknown>>): number {
  const text = Object.keys(values)
    .filter((k) => typeof values[k] === 'number')
    .sort()
    .map((k) => `${k}=${values[k] as number}`)
    .join('\n');
  // FNV-1a: a fingerprint that catches a stale build, not a defence against forgery,
  // and the same number in Node, in a browser bundle and in the build script.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const hashHex = (h: number): string => `0x${(h >>> 0).toString(16).padStart(8, '0')}`;
