// What the browser bundle puts in place of node:fs and node:fs/promises. Only the
// calls that take a path import them (openDump(path), ElfFile.open, the path checks);
// in a browser those answer with this error instead of a missing-module failure.

function noFileSystem(name: string): () => never {
  return () => {
    throw new Error(`memwalk: ${name}: a browser has no file system; read a File with fileSource() and openDumpBytes()`);
  };
}

export const statSync = noFileSystem('statSync');
export const stat = noFileSystem('stat');
export const open = noFileSystem('open');
export const openSync = noFileSystem('openSync');
export const readSync = noFileSystem('readSync');
export const fstatSync = noFileSystem('fstatSync');
export const closeSync = noFileSystem('closeSync');
