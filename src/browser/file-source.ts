// A browser File (or any Blob) as a ByteSource: each read is one File.slice read
// synchronously, which only a Web Worker may do (FileReaderSync). Nothing is read
// until the dump readers ask, so a 12 GiB file costs its headers and the frames a
// question touches.
import type { ByteSource } from '../dumps/bytes.js';

interface SyncReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}
declare const FileReaderSync: { new (): SyncReader } | undefined;

/** A ByteSource over `file`, counting the bytes it has read from the file (`bytesRead`). */
export interface FileByteSource extends ByteSource {
  readonly bytesRead: number;
}

/**
 * Reads are served from one window read ahead: every read is a call into the
 * browser's file machinery, dear next to copying bytes, and the dump readers walk
 * some indexes a few bytes at a time. The window starts small (random reads of
 * page tables stay cheap) and doubles while the reads go on where it ended (a
 * flattened kdump's records are read from start to end).
 */
const FIRST_WINDOW = 64 * 1024;
const LAST_WINDOW = 4 * 2 ** 20;

export function fileSource(file: Blob, name = (file as Partial<File>).name ?? 'file'): FileByteSource {
  if (typeof FileReaderSync === 'undefined') {
    throw new Error('memwalk: fileSource reads a File synchronously, which only a Web Worker can do: open the dump in a worker');
  }
  const reader = new FileReaderSync();
  let bytesRead = 0;
  let aheadAt = 0;
  let ahead = new Uint8Array(0);
  let windowBytes = FIRST_WINDOW;
  const readRange = (offset: number, length: number) => {
    const bytes = new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
    if (bytes.length !== length) throw new Error(`memwalk: ${name}: read ${bytes.length} of ${length} bytes at ${offset} (was the file changed?)`);
    bytesRead += length;
    return bytes;
  };
  return {
    name,
    size: file.size,
    get bytesRead() {
      return bytesRead;
    },
    read(offset, length, into) {
      let bytes: Uint8Array;
      if (length > LAST_WINDOW) bytes = readRange(offset, length);
      else {
        if (offset < aheadAt || offset + length > aheadAt + ahead.length) {
          const sequential = offset >= aheadAt && offset <= aheadAt + ahead.length && ahead.length > 0;
          windowBytes = sequential ? Math.min(LAST_WINDOW, windowBytes * 2) : FIRST_WINDOW;
          ahead = readRange(offset, Math.max(length, Math.min(windowBytes, file.size - offset)));
          aheadAt = offset;
        }
        bytes = ahead.subarray(offset - aheadAt, offset - aheadAt + length);
        if (!into) return bytes.slice();
      }
      if (!into) return bytes;
      into.set(bytes);
      return into.subarray(0, length);
    },
    close() {},
  };
}
