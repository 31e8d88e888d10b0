// Read 64-bit physical words from a QEMU dump through memwalk's image loader
// (dist build), caching 4 KiB pages. Addresses with no bytes in the dump read 0.
import { closeSync, openSync, readSync } from 'node:fs';

export async function openDumpReader(dumpPath, distRoot) {
  const { openImage } = await import(`${distRoot}/src/images/loader.js`);
  const image = openImage(dumpPath);
  const fd = openSync(dumpPath, 'r');
  const cache = new Map();
  const page = (pa) => {
    const pg = pa & ~0xfffn;
    let b = cache.get(pg);
    if (b === undefined) {
      const off = image.fileOffsetOf(pg);
      b = off === undefined ? null : Buffer.alloc(4096);
      if (b) readSync(fd, b, 0, 4096, Number(off));
      cache.set(pg, b);
    }
    return b;
  };
  return {
    image,
    read: (pa) => {
      const b = page(pa);
      return b ? b.readBigUInt64LE(Number(pa & 0xfffn)) : 0n;
    },
    page,
    close: () => closeSync(fd),
  };
}
