// A browser File (or any Blob) as a ByteSource: each read is one File.slice read
// synchronously, which only a Web Worker may do (FileReaderSync). Nothing is read
// until the dump readers ask, so a 12 GiB file costs its headers and the frames a
// question touches.
import type { ByteSource } from '../dumps/bytes.js';

interface SyncReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}
declare const FileReaderSync: { new (): SyncReader } | undefined;

/** A ByteSource over `file`, counting the bytes it has read (`bytesRead`). */
export interface FileByteSource extends ByteSource {
  readonly bytesRead: number;
}

export function fileSource(file: Blob, name = (file as Partial<File>).name ?? 'file'): FileByteSource {
  if (typeof FileReaderSync === 'undefined') {
    throw new Error('memwalk: fileSource reads a File synchronously, which only a Web Worker can do: open the dump in a worker');
  }
  const reader = new FileReaderSync();
  let bytesRead = 0;
  return {
    name,
    size: file.size,
    get bytesRead() {
      return bytesRead;
    },
    read(offset, length, into) {
      const bytes = new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
      if (bytes.length !== length) throw new Error(`memwalk: ${name}: read ${bytes.length} of ${length} bytes at ${offset} (was the file changed?)`);
      bytesRead += length;
      if (!into) return bytes;
      into.set(bytes);
      return into.subarray(0, length);
    },
    close() {},
  };
}
