// snappyjs ships no type declarations; these are the two functions it exports.
declare module 'snappyjs' {
  const snappy: {
    /** Decompress a raw Snappy block; throws when the length preamble exceeds `maxLength` or a tag is invalid. */
    uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
    compress(uncompressed: Uint8Array): Uint8Array;
  };
  export default snappy;
}
