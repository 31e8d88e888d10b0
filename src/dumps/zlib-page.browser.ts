// One zlib-compressed kdump page in a browser, where there is no node:zlib: fflate
// (pure JS, synchronous, so it runs in a worker too). fflate skips the Adler-32
// trailer, so it is checked here; the page is inflated into one spare byte more
// than a page, so that a longer stream shows as length + 1.
import { unzlibSync } from 'fflate';

/** Inflate the zlib stream `data` into exactly `out`; undefined, or what is wrong with the data. */
export function inflatePage(data: Uint8Array, out: Uint8Array): string | undefined {
  let page: Uint8Array;
  try {
    page = unzlibSync(data, { out: scratchFor(out.length) });
  } catch (err) {
    return `zlib data is corrupt (${err instanceof Error ? err.message : String(err)})`;
  }
  if (page.length > out.length) return `zlib stream decodes to more than ${out.length} bytes`;
  if (page.length < out.length) return `zlib stream decodes to ${page.length} bytes, not ${out.length}`;
  out.set(page);
  return adler32Mismatch(data, out);
}

let scratch = new Uint8Array(0);
function scratchFor(length: number): Uint8Array {
  if (scratch.length !== length + 1) scratch = new Uint8Array(length + 1);
  return scratch;
}

function adler32Mismatch(stream: Uint8Array, page: Uint8Array): string | undefined {
  if (stream.length < 6) return 'zlib stream too short for its header and Adler-32 trailer';
  // Sums of a page stay far below 2^53, so reduce once at the end.
  let a = 1;
  let b = 0;
  for (let i = 0; i < page.length; i++) {
    a += page[i]!;
    b += a;
  }
  const want = ((b % 65521) * 65536 + (a % 65521)) >>> 0;
  const t = stream.length - 4;
  const got = ((stream[t]! << 24) | (stream[t + 1]! << 16) | (stream[t + 2]! << 8) | stream[t + 3]!) >>> 0;
  return got === want ? undefined : `zlib Adler-32 is 0x${got.toString(16)}, the data sums to 0x${want.toString(16)}`;
}
