/**
 * Opening a dump as a PhysicalSource: the format is found by content (detect.ts)
 * unless the caller forces a reader.
 */
import { InvalidInputError, NotFoundError } from '../errors.js';
import * as V from '../util/validate.js';
import { fileSource } from '../images/elf.js';
import type { PhysicalSource } from '../memory/source.js';
import type { ByteSource } from './bytes.js';
import { DUMP_FORMATS, detectFormat } from './detect.js';
import type { DumpFormat } from './detect.js';
import { openElfCore } from './elf-core.js';
import { openKdump } from './kdump.js';
import { openLime } from './lime.js';
import { openRaw } from './raw.js';
import { openXenDumpCore } from './xen-dump-core.js';
import type { XenFrames } from './xen-dump-core.js';

export interface OpenSourceOptions {
  /** Use this reader whatever the content says (`--image-format`). */
  readonly format?: DumpFormat;
  /** Xen dump-core only: number frames as the guest does (default) or by machine frame (PV). */
  readonly xenFrames?: XenFrames;
}

/** Open the dump at `path`; close the source when done. */
export function openSource(path: string, options: OpenSourceOptions = {}): PhysicalSource {
  return sourceFromBytes(openFile(path), options);
}

/** Open a dump from any ByteSource (a buffer, a browser File); the source takes ownership of it. */
export function sourceFromBytes(bytes: ByteSource, options: OpenSourceOptions = {}): PhysicalSource {
  try {
    const o = V.options<OpenSourceOptions>(options);
    if (o.format !== undefined && !DUMP_FORMATS.includes(o.format)) {
      throw new InvalidInputError(`image format ${V.describe(o.format)} is not one of ${DUMP_FORMATS.join(', ')}`, { input: 'format' });
    }
    if (o.xenFrames !== undefined && o.xenFrames !== 'guest' && o.xenFrames !== 'machine') V.fail('xenFrames', o.xenFrames, 'is not one of guest, machine');
    const format = o.format ?? detectFormat(bytes);
    switch (format) {
      case 'raw':
        return openRaw(bytes);
      case 'elf-core':
        return openElfCore(bytes);
      case 'kdump':
        return openKdump(bytes, false);
      case 'kdump-flat':
        return openKdump(bytes, true);
      case 'lime':
        return openLime(bytes);
      case 'xen-dump-core':
        return openXenDumpCore(bytes, o.xenFrames);
    }
  } catch (err) {
    bytes.close();
    throw err;
  }
}

function openFile(path: string): ByteSource {
  try {
    return fileSource(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${path}: no such file`, { file: path });
    if (code === 'EISDIR') throw new InvalidInputError(`${path}: is a directory, not a dump file`, { file: path });
    if (code === 'EACCES') throw new InvalidInputError(`${path}: permission denied`, { file: path });
    throw err;
  }
}
