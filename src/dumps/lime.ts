/**
 * LiME: a sequence of ranges, each a 32-byte header (magic `EMiL`, version 1,
 * inclusive start and end physical addresses) followed by the range's bytes.
 * Only the headers are read at open.
 */
import type { PhysicalSource } from '../memory/source.js';
import { hex } from '../util/numbers.js';
import { field, malformedFile, readStructure } from './bytes.js';
import type { ByteSource } from './bytes.js';
import { ExtentSource, checkExtents } from './extents.js';
import type { Extent } from './extents.js';

export const LIME_MAGIC = 0x4c694d45;
const HEADER = 32;

export function openLime(bytes: ByteSource): PhysicalSource {
  const extents: Extent[] = [];
  let pos = 0;
  while (pos < bytes.size) {
    const k = extents.length;
    const what = `LiME range header ${k}`;
    const h = readStructure(bytes, what, pos, HEADER);
    const magic = field.u32(h, 0);
    if (magic !== LIME_MAGIC) {
      throw malformedFile(bytes.name, what, pos, `magic is ${hex(magic)}, expected ${hex(LIME_MAGIC)} ("EMiL")`);
    }
    const version = field.u32(h, 4);
    if (version !== 1) throw malformedFile(bytes.name, what, pos + 4, `version is ${version}, only 1 is known`);
    const s = field.u64(h, 8);
    const e = field.u64(h, 16);
    if (e < s) throw malformedFile(bytes.name, what, pos + 8, `end address ${hex(e)} is below start address ${hex(s)}`);
    if (e >= 1n << 52n) throw malformedFile(bytes.name, what, pos + 16, `end address ${hex(e)} is beyond the 52-bit physical address space`);
    const size = Number(e - s + 1n);
    extents.push({ start: Number(s), memBytes: size, fileBytes: size, fileOffset: pos + HEADER, structure: what, structureOffset: pos });
    pos += HEADER + size;
  }
  if (extents.length === 0) throw malformedFile(bytes.name, 'LiME range header 0', 0, 'the file is empty');
  const checked = checkExtents(bytes, extents);
  return new ExtentSource(
    { format: 'lime', name: bytes.name, fileSize: BigInt(bytes.size), compression: ['none'], vcpus: [], details: { ranges: checked.length } },
    bytes,
    checked,
  );
}
