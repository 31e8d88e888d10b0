// One zlib-compressed kdump page, inflated by Node's own zlib: native code that
// checks the Adler-32 trailer itself and leaves no JavaScript loop hot enough for
// V8 to optimise in the background. A process that opens a dump to read a few pages
// would otherwise wait at exit for those optimisations to finish (40 ms and more on
// two busy cores). A browser bundle replaces this file with zlib-page.browser.ts.
import { inflateSync } from 'node:zlib';

/** Inflate the zlib stream `data` into exactly `out`; undefined, or what is wrong with the data. */
export function inflatePage(data: Uint8Array, out: Uint8Array): string | undefined {
  let result: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    result = inflateSync(data, { maxOutputLength: out.length, info: true }) as unknown as typeof result;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') return `zlib stream decodes to more than ${out.length} bytes`;
    if (e.code === 'Z_DATA_ERROR' && /data check/.test(e.message)) return 'zlib Adler-32 does not match the data';
    return `zlib data is corrupt (${e.message})`;
  }
  const { buffer, engine } = result;
  if (buffer.length !== out.length) return `zlib stream decodes to ${buffer.length} bytes, not ${out.length}`;
  // Bytes after the stream's end: the descriptor's size is not the stream's.
  if (engine.bytesWritten !== data.length) return `zlib stream ends after ${engine.bytesWritten} of its ${data.length} bytes`;
  out.set(buffer);
  return undefined;
}
