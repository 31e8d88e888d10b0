/**
 * The per-page compressions of a kdump file, each turned into "decompress exactly
 * one page or say why not". The decoders (synchronous; all but Node's zlib are pure
 * JS, so a browser worker runs them too) check a stream's structure; what they leave
 * unchecked is checked here, so corrupt data is refused rather than read as a page
 * with a wrong or zero tail:
 * - zlib (zlib-page.ts: Node's zlib; in a browser, fflate): the output length, and
 *   that the stream fills the page data exactly;
 * - snappy (snappyjs): that the tags produce exactly the length the preamble
 *   declares (snappyjs drops bytes past its buffer and leaves a short output's
 *   tail zero);
 * - zstd (fzstd): the output length (the frame checksum, when present, is not
 *   verified);
 * - LZO1X (lzo1x.ts): bounds, end marker and length are checked by the decoder.
 */
import { decompress as zstdDecompress } from 'fzstd';
import snappy from 'snappyjs';
import { lzo1xDecompress } from './lzo1x.js';
import { inflatePage } from './zlib-page.js';

export type PageCompression = 'zlib' | 'lzo' | 'snappy' | 'zstd';

/** Decompress one page of `out.length` bytes into `out`; returns undefined, or what is wrong with the data. */
export function decompressPage(kind: PageCompression, data: Uint8Array, out: Uint8Array): string | undefined {
  try {
    switch (kind) {
      case 'zlib':
        return inflatePage(data, out);
      case 'zstd':
        return exact(zstdDecompress(data), out, 'zstd');
      case 'snappy': {
        const declared = snappyOutputLength(data);
        if (typeof declared === 'string') return declared;
        if (declared !== out.length) return `snappy block decodes to ${declared} bytes, not ${out.length}`;
        return exact(snappy.uncompress(data, out.length), out, 'snappy');
      }
      case 'lzo': {
        const n = lzo1xDecompress(data, out);
        return n === out.length ? undefined : `lzo1x stream decodes to ${n} bytes, not ${out.length}`;
      }
    }
  } catch (err) {
    return `${kind} data is corrupt (${err instanceof Error ? err.message : String(err)})`;
  }
}

function exact(result: Uint8Array, out: Uint8Array, kind: string): string | undefined {
  if (result.length !== out.length) return `${kind} stream decodes to ${result.length} bytes, not ${out.length}`;
  out.set(result);
  return undefined;
}

/**
 * Walk a raw Snappy block's tags without copying: the number of bytes they
 * produce when that equals the varint preamble, else what is wrong.
 */
export function snappyOutputLength(block: Uint8Array): number | string {
  let pos = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= block.length || shift > 28) return 'snappy length preamble is truncated or too long';
    const c = block[pos++]!;
    declared += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  let produced = 0;
  while (pos < block.length) {
    const tag = block[pos++]!;
    let len: number;
    let extra: number;
    if ((tag & 3) === 0) {
      len = (tag >> 2) + 1;
      if (len > 60) {
        const bytes = len - 60;
        if (pos + bytes > block.length) return `snappy literal length at ${pos - 1} is truncated`;
        len = 1;
        for (let i = 0; i < bytes; i++) len += block[pos + i]! * 2 ** (8 * i);
        pos += bytes;
      }
      extra = len;
    } else {
      len = (tag & 3) === 1 ? ((tag >> 2) & 7) + 4 : (tag >> 2) + 1;
      extra = (tag & 3) === 1 ? 1 : (tag & 3) === 2 ? 2 : 4;
    }
    if (pos + extra > block.length) return `snappy tag at ${pos - 1} runs past the block's end`;
    pos += extra;
    produced += len;
    if (produced > declared) return `snappy tags produce more than the ${declared} bytes the preamble declares`;
  }
  return produced === declared ? declared : `snappy tags produce ${produced} bytes, the preamble declares ${declared}`;
}
