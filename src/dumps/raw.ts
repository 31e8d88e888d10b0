/** A raw image: byte N of the file is physical address N; one range [0, size). */
import type { PhysicalSource } from '../memory/source.js';
import { malformedFile } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { ExtentSource, checkExtents } from './extents.js';

export function openRaw(bytes: ByteSource): PhysicalSource {
  if (bytes.size === 0) throw malformedFile(bytes.name, 'raw image', 0, 'the file is empty');
  const extents = checkExtents(bytes, [
    { start: 0, memBytes: bytes.size, fileBytes: bytes.size, fileOffset: 0, structure: 'raw image', structureOffset: 0 },
  ]);
  return new ExtentSource({ format: 'raw', name: bytes.name, fileSize: BigInt(bytes.size), compression: ['none'], vcpus: [] }, bytes, extents);
}
