/**
 * One way to open a dump for library users: the format is found by content, the
 * engine's physical memory is a bounded frame cache over the file, and nothing is
 * read until a question needs it (opening reads headers only).
 */
import { createEngine, type Engine } from './engine.js';
import * as V from '../util/validate.js';
import { existingFileSync } from '../util/validate.js';
import type { BackendName } from '../backends/backend.js';
import { openSource, sourceFromBytes, type OpenSourceOptions } from '../dumps/open.js';
import type { ByteSource } from '../dumps/bytes.js';
import { bufferSource } from '../images/elf.js';
import type { PhysicalSource, PhysRange, SourceDescription } from '../memory/source.js';
import type { QemuVcpu } from '../memory/vcpu.js';
import type { FrameCacheStats } from '../memory/frame-cache.js';

export interface OpenDumpOptions extends OpenSourceOptions {
  /** Bytes of frame cache (default 256 MiB): memory stays bounded by it whatever the dump's size. */
  readonly cacheBytes?: number | bigint | string;
  readonly backend?: BackendName;
  /** Frames with Xen metadata (default none). */
  readonly frames?: number;
}

/** An open dump: the engine over it and what the file says about the machine. */
export interface Dump {
  readonly engine: Engine;
  readonly source: PhysicalSource;
  readonly description: SourceDescription;
  /** Each vCPU's paging state (empty when the format records none). */
  readonly vcpus: readonly QemuVcpu[];
  /** Physical ranges the dump holds, ascending. */
  readonly ranges: readonly PhysRange[];
  /** What the frame cache has done so far: frames read from the file, evictions, moves, private frames. */
  statistics(): FrameCacheStats;
  /** Release the file (the engine must not be used afterwards). */
  close(): void;
}

/** Open the dump at `path` (raw, ELF core, kdump, LiME, Xen dump-core). */
export function openDump(path: string, options: OpenDumpOptions = {}): Dump {
  existingFileSync(path, 'dump');
  V.options(options);
  return dumpOver(openSource(path, options), options);
}

/** The same over bytes in memory (a Uint8Array) or any byte source (a browser File read in slices). */
export function openDumpBytes(bytes: ByteSource | Uint8Array, options: OpenDumpOptions = {}): Dump {
  V.options(options);
  return dumpOver(sourceFromBytes(byteSource(bytes), options), options);
}

function byteSource(v: unknown): ByteSource {
  if (v instanceof Uint8Array) return bufferSource(v, 'bytes');
  const b = v as Partial<ByteSource> | null;
  if (b === null || typeof b !== 'object' || typeof b.name !== 'string' || typeof b.read !== 'function' || typeof b.close !== 'function') {
    V.fail('bytes', v, 'is not a Uint8Array or a byte source (an object with name, size, read and close)');
  }
  V.wholeNumber(b.size, 'bytes.size');
  return b as ByteSource;
}

function dumpOver(source: PhysicalSource, options: OpenDumpOptions): Dump {
  try {
    const engine = createEngine({ source, cacheBytes: options.cacheBytes, backend: options.backend, frames: options.frames });
    return {
      engine,
      source,
      description: source.description,
      vcpus: source.description.vcpus,
      ranges: source.ranges,
      statistics: () => engine.backing!.cache.statistics,
      close: () => source.close(),
    };
  } catch (err) {
    source.close();
    throw err;
  }
}
